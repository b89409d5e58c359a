//! The trace's cost on the VM: traced (`NullSink`) against untraced (`NoTrace`) runs of the
//! `cargo bench --bench vm` guests, interleaved in one process, in CPU time.
//!
//! Criterion's figures on a shared 2-core guest moved 2x between runs, so this interleaves the
//! two modes run by run and keeps each one's best wall-clock run: a capability, like the bench's
//! primitives. (Not the thread's CPU time from `/proc/thread-self/schedstat`: read by the
//! running thread it advances in scheduler ticks, a few per cent of a 0.1 s run, and the best of
//! many runs then picks a lucky rounding.)
//!
//! usage: cargo run --release --example vm_ratio [REPS]   (default 60)

use anyhow::{anyhow, Context, Result};
use poie::trace::{NoTrace, NullSink, TraceSink};
use poie::vm::Vm;
use std::time::Instant;

/// The guests and inputs of benches/vm.rs.
const GUESTS: [(&str, &[u8]); 3] = [
    ("sort", b"200000 1"),
    ("sieve", b"2000000"),
    ("sha256", b""),
];

/// One run: (steps, seconds).
fn run<S: TraceSink>(elf: &[u8], input: &[u8], sink: &mut S) -> Result<(u64, f64)> {
    let mut vm = Vm::new(elf, input.to_vec()).context("loading the guest")?;
    let start = Instant::now();
    let r = vm.run(sink, u64::MAX).context("running the guest")?;
    Ok((r.steps, start.elapsed().as_secs_f64().max(1e-9)))
}

fn main() -> Result<()> {
    let reps: usize = match std::env::args().nth(1) {
        Some(a) => a.parse().map_err(|e| anyhow!("REPS {a:?}: {e}"))?,
        None => 60,
    };
    // Best rate (M steps/s) per guest: [untraced, traced].
    let mut best = [[0.0f64; 2]; GUESTS.len()];
    for rep in 0..reps {
        for (k, (name, input)) in GUESTS.iter().enumerate() {
            let g = poie::guests::find(name).ok_or_else(|| anyhow!("no guest {name}"))?;
            // Alternate which mode runs first, so neither always follows the other.
            for step in 0..2 {
                let traced = (step + rep) % 2 == 1;
                let (steps, secs) = if traced {
                    run(g.elf, input, &mut NullSink)?
                } else {
                    run(g.elf, input, &mut NoTrace)?
                };
                let rate = steps as f64 / secs / 1e6;
                let slot = &mut best[k][usize::from(traced)];
                *slot = slot.max(rate);
            }
        }
    }
    println!("best of {reps} interleaved runs, M steps/s (wall clock):");
    for ((name, _), [untraced, traced]) in GUESTS.iter().zip(best) {
        println!(
            "{name:>7}: untraced {untraced:6.1}  traced {traced:6.1}  traced/untraced {:.3}",
            traced / untraced.max(1e-9)
        );
    }
    Ok(())
}
