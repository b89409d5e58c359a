//! What the VM, as the prover's sequential producer, costs per step: its own CPU time
//! (`/proc/thread-self/schedstat`) per step into
//! - a null sink (chunks built in the VM's own small batch buffer, then dropped);
//! - one lent block, reused (the writes stay in this core's caches);
//! - lent blocks handed to a reader thread that reads every chunk and hands them back, 1 or 4
//!   in flight (the hand-over without the hashing);
//! - the prover (blake3 avx512 where the CPU has it, L = 16 chained) with 1 and 2 workers.
//!
//! On a machine whose cores outrun the VM, the VM end to end runs at the producer's rate in
//! the prover, so the ratio of the last rows to the first is what it can reach of the VM's
//! traced rate. Interleaved repetitions, medians.
//!
//! usage: cargo run --release --example producer_cost [REPS] [BLOCK]   (default 10, 8192)

use anyhow::{anyhow, Context, Result};
use poie::proof::{HashId, Hasher, Layout, Params, Prover, ProverConfig, Simd};
use poie::trace::{Chunk, NullSink, TraceSink};
use poie::vm::Vm;
use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::{channel, Receiver, Sender};

/// Lends one block over and over.
struct LendOne {
    buf: Vec<Chunk>,
    filled: usize,
}

impl TraceSink for LendOne {
    fn consume(&mut self, c: &[Chunk]) -> io::Result<()> {
        std::hint::black_box(c);
        Ok(())
    }
    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        if self.filled == self.buf.len() {
            std::hint::black_box(&self.buf);
            self.filled = 0;
        }
        let end = self.buf.len().min(self.filled + max);
        self.buf.get_mut(self.filled..end)
    }
    fn commit(&mut self, written: usize) -> io::Result<()> {
        self.filled += written;
        Ok(())
    }
}

/// Lends blocks that, once full, go to a reader thread and come back.
struct HandOver {
    cur: Vec<Chunk>,
    filled: usize,
    to: Sender<Vec<Chunk>>,
    back: Receiver<Vec<Chunk>>,
}

impl TraceSink for HandOver {
    fn consume(&mut self, c: &[Chunk]) -> io::Result<()> {
        std::hint::black_box(c);
        Ok(())
    }
    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        if self.filled == self.cur.len() {
            let next = self.back.recv().ok()?;
            let full = std::mem::replace(&mut self.cur, next);
            self.to.send(full).ok()?;
            self.filled = 0;
        }
        let end = self.cur.len().min(self.filled + max);
        self.cur.get_mut(self.filled..end)
    }
    fn commit(&mut self, written: usize) -> io::Result<()> {
        self.filled += written;
        Ok(())
    }
}

/// This thread's CPU time so far, in nanoseconds.
fn cpu_ns() -> Result<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat")
        .context("reading /proc/thread-self/schedstat")?;
    s.split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| anyhow!("unexpected schedstat: {s}"))
}

/// This thread's CPU nanoseconds per step of the guest into `sink` (the VM's run only, not a
/// prover's finish).
fn per_step<S: TraceSink>(elf: &[u8], input: &[u8], sink: &mut S) -> Result<f64> {
    let mut vm = Vm::new(elf, input.to_vec()).context("loading the guest")?;
    let start = cpu_ns()?;
    let steps = vm.run(sink, u64::MAX).context("running the guest")?.steps;
    Ok((cpu_ns()? - start) / steps.max(1) as f64)
}

fn hand_over(elf: &[u8], input: &[u8], block: usize, in_flight: usize) -> Result<f64> {
    let (to, rx) = channel::<Vec<Chunk>>();
    let (tx_back, back) = channel::<Vec<Chunk>>();
    for _ in 0..in_flight {
        tx_back.send(vec![[0; 32]; block])?;
    }
    let reader = std::thread::spawn(move || {
        let mut x = 0u8;
        while let Ok(b) = rx.recv() {
            for c in &b {
                x ^= c[0] ^ c[31];
            }
            if tx_back.send(b).is_err() {
                break;
            }
        }
        x
    });
    let mut sink = HandOver {
        cur: vec![[0; 32]; block],
        filled: 0,
        to,
        back,
    };
    let r = per_step(elf, input, &mut sink);
    drop(sink);
    reader
        .join()
        .map_err(|_| anyhow!("the reader thread panicked"))?;
    r
}

fn prover(elf: &[u8], input: &[u8], block: usize, threads: usize) -> Result<f64> {
    let simd = Simd::detect();
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout::new(16, true).map_err(|e| anyhow!("{e}"))?,
    };
    let cfg = ProverConfig {
        threads,
        simd,
        batch: block,
        ..ProverConfig::default()
    };
    let h = Hasher::new(HashId::Blake3, [1; 32], simd)?;
    let mut p = Prover::new(params, h, cfg);
    let r = per_step(elf, input, &mut p);
    p.into_proof()?;
    r
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let reps: usize = args.next().map_or(Ok(10), |s| s.parse())?;
    let block: usize = args.next().map_or(Ok(8192), |s| s.parse())?;
    let elf = poie::guests::find("sort")
        .ok_or_else(|| anyhow!("no sort guest"))?
        .elf;
    let input = b"1000000 1";
    let mut rows: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for _ in 0..reps {
        let mut add = |name, v: Result<f64>| -> Result<()> {
            rows.entry(name).or_default().push(v?);
            Ok(())
        };
        add("1 null sink", per_step(elf, input, &mut NullSink))?;
        let mut one = LendOne {
            buf: vec![[0; 32]; block],
            filled: 0,
        };
        add("2 one block, reused", per_step(elf, input, &mut one))?;
        add(
            "3 handed over, 1 in flight",
            hand_over(elf, input, block, 1),
        )?;
        add(
            "4 handed over, 4 in flight",
            hand_over(elf, input, block, 4),
        )?;
        add("5 prover, 1 worker", prover(elf, input, block, 1))?;
        add("6 prover, 2 workers", prover(elf, input, block, 2))?;
    }
    println!("sort \"1000000 1\", producer CPU ns per step, median of {reps} (min-max):");
    for (name, mut v) in rows {
        v.sort_by(f64::total_cmp);
        let mid = v.get(v.len() / 2).copied().unwrap_or(f64::NAN);
        let (lo, hi) = (v.first().copied(), v.last().copied());
        println!(
            "  {:28} {mid:.2}  ({:.2}-{:.2})",
            &name[2..],
            lo.unwrap_or(f64::NAN),
            hi.unwrap_or(f64::NAN)
        );
    }
    Ok(())
}
