//! Figures of a dispute's second phase (docs/PROTOCOL.md), measured on one job that holds
//! 256 MiB resident (65,530 pages written, then a compute loop) for about `STEPS` steps:
//! - a player's answer to one state query at step 10^6 and at the job's end, and to the state
//!   queries of eight 16-way rounds, with `JobReplay` resuming from the tree's checkpoints, and
//!   the player's peak RSS over both phases;
//! - the referee's ruling from one step proof (`judge`) at step 10^6 and near the end: the same
//!   work whatever the step's index;
//! - step proof sizes over the built-in guests: typical and largest.
//!
//! - the first phase's tree in bounded memory at `LANES` chained lanes: its build, what it
//!   keeps, the answers of one descent from the root to a step and the opening there;
//!
//! usage: cargo run --release --example dispute_figures [STEPS] [LANES]   (default 10^9, 1024)
//!        cargo run --release --example dispute_figures write-elf PATH STEPS   (the job's ELF)

#[path = "../tests/common/rv32.rs"]
#[allow(dead_code)]
mod rv32;

use anyhow::{anyhow, Context, Result};
use poie::proof::{HashId, Hasher, Layout, Params, Salt, Simd};
use poie::protocol::challenge::{Limits, Node, Tree};
use poie::protocol::dispute::JobReplay;
use poie::protocol::keys::Key;
use poie::protocol::windback::Job;
use poie::referee::{judge, Claim, Header, StepProof};
use rv32::*;
use std::time::{Duration, Instant};

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

/// Whether `node` holds position `pos` of lane `lane`.
fn holds(node: Node, lane: u32, pos: u64) -> bool {
    match node {
        Node::Top { lo, hi } => (lo..hi).contains(&lane),
        Node::Lane { lane: l, lo, hi } => l == lane && (lo..hi).contains(&pos),
    }
}

/// The first phase's player: the job's tree at `lanes` chained lanes in bounded memory, built,
/// then the queries of one descent from the root to step `target` (each answer is a node's two
/// children) and the opening of that step, timed.
fn tree_figures(the_job: &Job, n_max: u64, lanes: u32) -> Result<Tree> {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout::new(lanes, true).map_err(|e| anyhow!("{e}"))?,
    };
    let address = Key::from_seed(&[2; 32]).address();
    let h = Hasher::for_executor(params.hash, &Salt::from([1; 32]), &address, Simd::detect())?;
    let t = Instant::now();
    let jobs = std::slice::from_ref(the_job);
    let tree = Tree::for_jobs(params, h, jobs, u64::MAX, n_max, None, Limits::default())?;
    let build = t.elapsed().as_secs_f64();
    let b = tree.bounded().ok_or_else(|| anyhow!("not bounded"))?;
    let kept = b.kept_bytes();
    let mib = |x: u64| x as f64 / f64::from(1 << 20);
    println!(
        "tree, {lanes} lanes chained: built in {build:.1} s; blocks of {} leaves, {} checkpoints; kept {:.1} MiB of digests, {:.1} MiB of links, {:.1} MiB of snapshots",
        1u64 << b.block_bits(),
        b.checkpoints(),
        mib(kept.digests),
        mib(kept.links),
        mib(kept.snapshots)
    );
    let target = tree.n() / 2 + 12_345;
    let (lane, pos) = params.layout.locate(target);
    let mut node = tree.root_node();
    let mut answers: Vec<Duration> = Vec::new();
    while let Some((l, r)) = tree.children(node) {
        let t = Instant::now();
        std::hint::black_box((tree.digest(l)?, tree.digest(r)?));
        answers.push(t.elapsed());
        node = if holds(l, lane, pos) { l } else { r };
    }
    let t = Instant::now();
    tree.leaf_at(target)?
        .ok_or_else(|| anyhow!("no step {target}"))?;
    let open = t.elapsed().as_secs_f64();
    let total: Duration = answers.iter().sum();
    let slowest = answers.iter().max().copied().unwrap_or_default();
    println!(
        "descent to step {target}: {} queries answered in {:.2} s in all, the slowest {:.3} s; the opening {open:.3} s; peak RSS so far {:.0} MiB",
        answers.len(),
        total.as_secs_f64(),
        slowest.as_secs_f64(),
        peak_rss_mib()?
    );
    Ok(tree)
}

/// The second phase's player: `rounds` rounds of an `arity`-way bisection over the job's
/// states, each interval the last of the round (the farthest from the checkpoints' start),
/// every state timed.
fn state_rounds(replay: &mut JobReplay, n: u64, arity: u64, rounds: usize) -> Result<()> {
    let (mut lo, hi) = (0u64, n);
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..rounds {
        if hi - lo < arity {
            break;
        }
        let points: Vec<u64> = (1..arity).map(|i| lo + (hi - lo) / arity * i).collect();
        for &p in &points {
            let t = Instant::now();
            replay.state(p)?.ok_or_else(|| anyhow!("no state {p}"))?;
            times.push(t.elapsed());
        }
        // The round's last interval, from its last point to the round's end.
        lo = points.last().copied().unwrap_or(lo);
    }
    let total: Duration = times.iter().sum();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    println!(
        "{} state queries ({arity}-way rounds from the tree's checkpoints): {:.2} s in all, median {:.3} s, slowest {:.3} s",
        times.len(),
        total.as_secs_f64(),
        sorted.get(sorted.len() / 2).copied().unwrap_or_default().as_secs_f64(),
        sorted.last().copied().unwrap_or_default().as_secs_f64(),
    );
    Ok(())
}

fn main() -> Result<()> {
    // `write-elf PATH STEPS`: the job's ELF alone, for a game played with the command line.
    if std::env::args().nth(1).as_deref() == Some("write-elf") {
        let path = std::env::args().nth(2).context("write-elf PATH STEPS")?;
        let steps: u64 = std::env::args()
            .nth(3)
            .context("write-elf PATH STEPS")?
            .parse()?;
        let iters = u32::try_from(steps.saturating_sub(4 * u64::from(PAGES)) / 3)?;
        std::fs::write(&path, job(iters)).with_context(|| format!("writing {path}"))?;
        return Ok(());
    }
    let steps: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse().context("STEPS must be a number")?,
        None => 1_000_000_000,
    };
    let lanes: u32 = match std::env::args().nth(2) {
        Some(s) => s.parse().context("LANES must be a number")?,
        None => 1024,
    };
    let iters =
        u32::try_from(steps.saturating_sub(4 * u64::from(PAGES)) / 3).context("STEPS too large")?;
    let elf = job(iters);
    let the_job = Job {
        program: "heap-then-loop".into(),
        elf: elf.clone().into(),
        input: Vec::new().into(),
    };
    // The first phase's tree, then the second phase from its checkpoints: one player's work.
    let tree = tree_figures(&the_job, steps + 1_000, lanes)?;
    let mut replay = JobReplay::with_seeds(&the_job, 0, u64::MAX, tree.snapshots_of(0))?;
    let t = Instant::now();
    let (_, n) = replay.end()?;
    let whole = t.elapsed().as_secs_f64();
    println!("job: {n} steps; its end from the last checkpoint in {whole:.2} s");
    for step in [1_000_000, n - 10] {
        let (query, rule) = query_and_rule(&mut replay, step)?;
        let header = Header::decode(&replay.step_proof(step)?.map_or(Vec::new(), |p| p.header))?;
        println!(
            "step {step}: the player's state query {query:.3} s (from the nearest checkpoint); the referee's ruling {:.1} us; {} pages resident",
            rule * 1e6,
            header.resident_pages
        );
    }
    state_rounds(&mut replay, n, 16, 8)?;
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
