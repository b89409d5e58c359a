//! Figures of a dispute's second phase (docs/PROTOCOL.md), measured on one job that holds
//! 256 MiB resident (65,530 pages written, then a compute loop) for about `STEPS` steps:
//! - a player's answer to one state query at step 10^6 and at the job's end, with `JobReplay`
//!   (it replays from the job's start: no checkpoints yet), and the player's peak RSS;
//! - the referee's ruling from one step proof (`judge`) at step 10^6 and near the end: the same
//!   work whatever the step's index;
//! - step proof sizes over the built-in guests: typical and largest.
//!
//! usage: cargo run --release --example dispute_figures [STEPS]   (default 10^9)

#[path = "../tests/common/rv32.rs"]
#[allow(dead_code)]
mod rv32;

use anyhow::{anyhow, Context, Result};
use poie::protocol::dispute::JobReplay;
use poie::protocol::windback::Job;
use poie::referee::{judge, Claim, Header, StepProof};
use rv32::*;
use std::time::Instant;

const HEAP: u32 = 0x1000_0000;
/// Pages the job writes: with its text and stack pages, 65,532 of the 65,536 allowed.
const PAGES: u32 = 65_530;

/// The job: write one word into each of `PAGES` pages (4 steps a page), then loop `iters` times
/// over 3 instructions, then exit.
fn job(iters: u32) -> Vec<u8> {
    let code = [
        li(8, HEAP),
        li(6, PAGES),
        li(9, 4096),
        vec![sw(6, 8, 0), r(0, 9, 8, 0, 8, 0x33), addi(6, 6, -1)],
        vec![b(-12, 0, 6, 1)],
        li(29, iters),
        vec![addi(7, 7, 1), r(0, 7, 28, 4, 28, 0x33), b(-8, 29, 7, 1)],
        vec![addi(10, 0, 0)],
        exit(),
    ]
    .concat();
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(HEAP, PAGES * 4096, PF_R | PF_W),
        ],
    )
}

fn peak_rss_mib() -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc")?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM in /proc/self/status"))?;
    Ok(kb / 1024.0)
}

fn proof_bytes(p: &StepProof) -> usize {
    let leaves = [&p.data, &p.data_pages, &p.input, &p.page_memory]
        .into_iter()
        .flatten()
        .chain([&p.fetch, &p.fetch_page]);
    p.header.len()
        + leaves
            .map(|l| 8 + 32 + 32 * l.siblings.len())
            .sum::<usize>()
}

/// The state after `step` chunks, timed; then the ruling on the true next state, timed.
fn query_and_rule(replay: &mut JobReplay, step: u64) -> Result<(f64, f64)> {
    let t = Instant::now();
    let pre = replay
        .state(step)?
        .ok_or_else(|| anyhow!("no state {step}"))?;
    let query = t.elapsed().as_secs_f64();
    let post = replay
        .state(step + 1)?
        .ok_or_else(|| anyhow!("no state {}", step + 1))?;
    let proof = replay
        .step_proof(step)?
        .ok_or_else(|| anyhow!("no proof at {step}"))?;
    // Best of several rulings: one is tens of microseconds.
    let mut best = f64::MAX;
    for _ in 0..50 {
        let t = Instant::now();
        let r = judge(&pre, &Claim::State(post), &proof)?;
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(r);
    }
    Ok((query, best))
}

fn main() -> Result<()> {
    let steps: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse().context("STEPS must be a number")?,
        None => 1_000_000_000,
    };
    let iters =
        u32::try_from(steps.saturating_sub(4 * u64::from(PAGES)) / 3).context("STEPS too large")?;
    let elf = job(iters);
    let the_job = Job {
        program: "heap-then-loop".into(),
        elf: elf.clone().into(),
        input: Vec::new().into(),
    };
    let mut replay = JobReplay::new(&the_job, 0, u64::MAX)?;
    let t = Instant::now();
    let (_, n) = replay.end()?;
    let whole = t.elapsed().as_secs_f64();
    println!("job: {n} steps, run to its end in {whole:.2} s");
    for step in [1_000_000, n - 10] {
        let (query, rule) = query_and_rule(&mut replay, step)?;
        let header = Header::decode(&replay.step_proof(step)?.map_or(Vec::new(), |p| p.header))?;
        println!(
            "step {step}: the player's state query {query:.2} s (replayed from the job's start); the referee's ruling {:.1} us; {} pages resident",
            rule * 1e6,
            header.resident_pages
        );
    }
    println!("player's peak RSS: {:.0} MiB", peak_rss_mib()?);

    // Step proof sizes over the built-in guests' first 5,000 steps each.
    let mut sizes: Vec<usize> = Vec::new();
    for (name, input) in [
        ("hello", &b""[..]),
        ("sort", b"100 7"),
        ("sieve", b"1000"),
        ("sha256", b"abc"),
        ("ledger", b"1 2 30\n2 3 5\n7 1 9\n"),
    ] {
        let g = poie::guests::find(name).ok_or_else(|| anyhow!("no guest {name}"))?;
        let guest = Job {
            program: name.into(),
            elf: g.elf.into(),
            input: input.to_vec().into(),
        };
        let mut replay = JobReplay::new(&guest, 0, u64::MAX)?;
        for k in 0..5_000 {
            match replay.step_proof(k)? {
                Some(p) => sizes.push(proof_bytes(&p)),
                None => break,
            }
        }
    }
    sizes.sort_unstable();
    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    println!(
        "step proofs over {} guest steps: median {} bytes, mean {mean:.0}, largest {}",
        sizes.len(),
        sizes.get(sizes.len() / 2).copied().unwrap_or(0),
        sizes.last().copied().unwrap_or(0)
    );
    Ok(())
}
