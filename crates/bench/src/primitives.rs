//! The primitives phase of `poie bench`: what one core (and, for memory, all of them) does
//! with each primitive the prover is made of, and the hash ceilings the points are held to.
//!
//! Every rate here is a capability, so each is the best of several windows: anything else on
//! the machine only ever slows a window down.

use super::report::{Ceiling, CeilingShape, Primitives};
use super::{model, Backends};
use crate::progress::Progress;
use poie_guests as guests;
use poie_proof::{HashId, Hasher, Simd};
use poie_trace::{NoTrace, NullSink};
use poie_vm::Vm;
use std::time::Instant;

/// Runs `f` (which returns units of work done) for `secs` seconds, at least once, and returns
/// its units/s.
pub(super) fn window(secs: f64, mut f: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut units = 0u64;
    while start.elapsed().as_secs_f64() < secs || units == 0 {
        units += f();
    }
    units as f64 / start.elapsed().as_secs_f64()
}

/// Runs `f` for `target` seconds in three windows and returns the best window's units/s: a
/// primitive is a capability, and the best window is the one least disturbed by anything else
/// on the machine.
fn rate(target: f64, mut f: impl FnMut() -> u64) -> f64 {
    (0..3)
        .map(|_| window(target / 3.0, &mut f))
        .fold(0.0, f64::max)
}

pub(super) fn hasher(hash: HashId, simd: Simd) -> Hasher {
    Hasher::new(hash, [0x5a; 32], simd).expect("only available backends are benchmarked")
}

/// Passes over the by-width tables; each pass gives every width one window.
const WIDTH_PASSES: u64 = 3;

/// How many steps [`measure`] reports to its progress bar: the ceilings (two shapes per
/// backend and hash), a step per by-width table per pass (independent and chained, per
/// backend and hash), the VM twice, the producer and the two memory copies.
pub(super) fn steps(backends: &Backends) -> u64 {
    let b = backends.blake3.len() as u64;
    let k = backends.keccak().len() as u64;
    2 * (b + k) + WIDTH_PASSES * 2 * (b + k) + 5
}

/// One by-width table being measured: a hash on a backend, independent or chained calls.
struct WidthTable {
    hash: HashId,
    simd: Simd,
    chained: bool,
    h: Hasher,
    /// Inputs per call, and the best window so far at each.
    widths: Vec<usize>,
    best: Vec<f64>,
}

impl WidthTable {
    fn new(hash: HashId, simd: Simd, chained: bool) -> WidthTable {
        let h = hasher(hash, simd);
        let degree = model::nominal_degree(hash, simd);
        let widths: Vec<usize> = [1usize, 2, 4, 8, 16]
            .into_iter()
            .filter(|&w| w <= degree.max(1))
            .collect();
        WidthTable {
            hash,
            simd,
            chained,
            h,
            best: vec![0.0; widths.len()],
            widths,
        }
    }

    fn label(&self) -> String {
        let how = if self.chained { ", chained" } else { "" };
        format!("{} {} by inputs per call{how}", self.hash, self.simd)
    }

    /// Calls per unit of work: keccak is some ten times slower, so fewer.
    fn calls(&self) -> usize {
        match self.hash {
            HashId::Blake3 => 256,
            HashId::Keccak => 64,
        }
    }

    fn rates(&self) -> model::Rates {
        model::Rates {
            simd: self.simd,
            by_width: self
                .widths
                .iter()
                .zip(&self.best)
                .map(|(&width, &per_second)| model::Rate { width, per_second })
                .collect(),
        }
    }
}

/// `calls` calls of `w = row.len()` inputs each as a dependent chain, as the prover hashes a
/// chained lane group row by row: each input is the next chunk (from `inputs`) and the
/// previous call's output for its lane. Returns the inputs hashed.
pub(super) fn chain(
    h: &Hasher,
    inputs: &[[u8; 64]],
    row: &mut [[u8; 64]],
    out: &mut [u8],
    calls: usize,
) -> u64 {
    let w = row.len();
    for chunks in inputs.chunks_exact(w).take(calls) {
        for ((inp, c), link) in row.iter_mut().zip(chunks).zip(out.chunks_exact(32)) {
            inp[..32].copy_from_slice(&c[..32]);
            inp[32..].copy_from_slice(link);
        }
        h.leaves(row, &mut out[..32 * w]);
    }
    (calls.min(inputs.len() / w.max(1)) * w) as u64
}

/// The by-width tables of both hashes on every backend, independent and chained calls: each
/// entry the best of [`WIDTH_PASSES`] windows of `target / 3` seconds. The passes go over every
/// entry in turn, so that an entry's windows lie seconds apart and a slow spell of the machine
/// spoils at most one of them, not a whole entry (it did: a backend's narrow widths once came
/// out at half their usual rate, and the model with them).
fn width_tables(
    target: f64,
    inputs: &[[u8; 64]],
    backends: &Backends,
    pb: &dyn Progress,
) -> Vec<WidthTable> {
    let mut tables = Vec::new();
    for chained in [false, true] {
        for &simd in &backends.blake3 {
            tables.push(WidthTable::new(HashId::Blake3, simd, chained));
        }
        for simd in backends.keccak() {
            tables.push(WidthTable::new(HashId::Keccak, simd, chained));
        }
    }
    let mut row = [[0u8; 64]; 16];
    let mut out = vec![0u8; 32 * 16];
    for _ in 0..WIDTH_PASSES {
        for t in &mut tables {
            pb.message(&t.label());
            let calls = t.calls();
            for (&w, best) in t.widths.iter().zip(&mut t.best) {
                let r = if t.chained {
                    window(target / 3.0, || {
                        chain(&t.h, inputs, &mut row[..w], &mut out, calls)
                    })
                } else {
                    window(target / 3.0, || {
                        for chunk in inputs.chunks_exact(w).take(calls) {
                            t.h.leaves(chunk, &mut out[..32 * w]);
                        }
                        (calls * w) as u64
                    })
                };
                *best = best.max(r);
            }
            pb.advance();
        }
    }
    tables
}

/// The inputs the primitives hash: 4096 of 64 bytes, 256 KiB, which stays in a core's L2.
pub(super) fn inputs() -> Vec<[u8; 64]> {
    (0..4096).map(|i| [(i % 251) as u8; 64]).collect()
}

/// Inputs per call of the [`CeilingShape::Cached`] shape: the widest SIMD degree, so one call
/// fills every backend's registers, and a call's outputs (512 bytes) never leave L1.
const CACHED_CALL: usize = 16;

/// The inputs the [`CeilingShape::Cached`] shape cycles over: 128 KiB, resident in L2 on every
/// core this harness has met.
const CACHED_SET: usize = 2048;

/// One ceiling primitive: a hash on a backend, and where in the input set the cached shape
/// stands.
pub(super) struct CeilingProbe {
    pub simd: Simd,
    hash: HashId,
    h: Hasher,
    next: usize,
}

impl CeilingProbe {
    pub fn new(hash: HashId, simd: Simd) -> CeilingProbe {
        CeilingProbe {
            simd,
            hash,
            h: hasher(hash, simd),
            next: 0,
        }
    }

    /// Calls per unit of work: keccak is some ten times slower.
    fn calls(&self) -> usize {
        match self.hash {
            HashId::Blake3 => 64,
            HashId::Keccak => 8,
        }
    }

    /// One unit of `shape`: hashes into `out` and returns the inputs hashed.
    pub fn run(&mut self, shape: CeilingShape, inputs: &[[u8; 64]], out: &mut [u8]) -> u64 {
        match shape {
            CeilingShape::Cached => {
                let mut n = 0;
                for _ in 0..self.calls() {
                    let end = (self.next + CACHED_CALL).min(CACHED_SET).min(inputs.len());
                    let batch = inputs.get(self.next..end).unwrap_or(&[]);
                    self.h.leaves(batch, &mut out[..32 * batch.len()]);
                    n += batch.len() as u64;
                    self.next = if end >= CACHED_SET.min(inputs.len()) {
                        0
                    } else {
                        end
                    };
                }
                n
            }
            CeilingShape::Streamed => {
                // keccak: 512 inputs per call, keccak being some ten times slower.
                let n = match self.hash {
                    HashId::Blake3 => inputs.len(),
                    HashId::Keccak => inputs.len().min(512),
                };
                self.h.leaves(&inputs[..n], &mut out[..32 * n]);
                n as u64
            }
        }
    }
}

/// The ceilings of one hash on every backend given: both shapes, each the best of three
/// windows of `target / 3`; the best shape's rate is the ceiling, the streamed one is the
/// prover-shaped figure shown beside it.
fn ceilings(
    hash: HashId,
    backends: &[Simd],
    target: f64,
    inputs: &[[u8; 64]],
    pb: &dyn Progress,
) -> Vec<Ceiling> {
    let mut out = vec![0u8; 32 * inputs.len()];
    backends
        .iter()
        .map(|&simd| {
            let mut probe = CeilingProbe::new(hash, simd);
            let mut by_shape = Vec::new();
            for shape in [CeilingShape::Cached, CeilingShape::Streamed] {
                pb.message(&format!("{hash} {simd} ceiling, {}", shape.name()));
                by_shape.push((shape, rate(target, || probe.run(shape, inputs, &mut out))));
                pb.advance();
            }
            let streamed = by_shape
                .iter()
                .find(|(s, _)| *s == CeilingShape::Streamed)
                .map_or(0.0, |r| r.1);
            let (shape, best) = by_shape
                .into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((CeilingShape::Streamed, 0.0));
            Ceiling {
                simd,
                best,
                shape,
                streamed,
                phase: best,
                rounds_median: 0.0,
            }
        })
        .collect()
}

/// Memory copy bandwidth with `threads` threads at once, each copying its own buffers (64 MiB
/// each, 16 MiB past four threads, so that the copies stay far beyond any cache without
/// gigabytes on a big machine), bytes per second in all. Every thread runs three windows of
/// `target / 3` side by side; the best window's sum over the threads is the bandwidth.
fn memcpy(threads: usize, target: f64) -> f64 {
    let threads = threads.max(1);
    let bytes = if threads > 4 { 16 << 20 } else { 64 << 20 };
    let per_thread: Vec<[f64; 3]> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let src = vec![1u8; bytes];
                    let mut dst = vec![0u8; bytes];
                    let mut w = [0.0; 3];
                    for r in &mut w {
                        *r = window(target / 3.0, || {
                            dst.copy_from_slice(&src);
                            std::hint::black_box(&dst);
                            src.len() as u64
                        });
                    }
                    w
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or([0.0; 3]))
            .collect()
    });
    (0..3)
        .map(|i| per_thread.iter().map(|w| w[i]).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Measures every primitive on `backends`: ceilings, by-width tables, the VM, the synthetic
/// producer and memory copies (one core, then `cores` at once).
pub(super) fn measure(
    target: f64,
    vm_input: &[u8],
    backends: &Backends,
    cores: usize,
    pb: &dyn Progress,
) -> Primitives {
    let inputs = inputs();
    // The ceilings decide every `% of ceiling`: twice the time of the other primitives.
    let blake3_ceilings = ceilings(HashId::Blake3, &backends.blake3, 2.0 * target, &inputs, pb);
    let keccak_ceilings = ceilings(
        HashId::Keccak,
        &backends.keccak(),
        2.0 * target,
        &inputs,
        pb,
    );
    let tables = width_tables(target / 2.0, &inputs, backends, pb);
    let pick = |hash: HashId, chained: bool| -> Vec<model::Rates> {
        tables
            .iter()
            .filter(|t| t.hash == hash && t.chained == chained)
            .map(WidthTable::rates)
            .collect()
    };
    let sort = guests::find("sort").expect("sort guest").elf;
    pb.message("VM, no trace");
    let vm_untraced = rate(target, || {
        let mut vm = Vm::new(sort, vm_input.to_vec()).expect("guest loads");
        vm.run(&mut NoTrace, u64::MAX).map_or(0, |r| r.steps)
    });
    pb.step("VM, trace built");
    let vm_traced = rate(target, || {
        let mut vm = Vm::new(sort, vm_input.to_vec()).expect("guest loads");
        vm.run(&mut NullSink, u64::MAX).map_or(0, |r| r.steps)
    });
    pb.step("synthetic trace producer");
    // The synthetic source as the workers run it: generated straight into a block.
    let mut block = vec![[0u8; 32]; poie_proof::pipeline::DEFAULT_BATCH];
    let mut first = 0u64;
    let producer = rate(target, || {
        poie_trace::synthetic::fill(3, first, &mut block);
        std::hint::black_box(&block);
        first += block.len() as u64;
        block.len() as u64
    });
    pb.step("memory copy, one core");
    let memcpy_one = memcpy(1, target);
    pb.step(&format!("memory copy, {cores} cores at once"));
    let memcpy_all = memcpy(cores, target);
    pb.advance();
    let many = |c: &[Ceiling]| c.iter().map(|c| (c.simd, c.streamed)).collect();
    Primitives {
        blake3: many(&blake3_ceilings),
        blake3_by_width: pick(HashId::Blake3, false),
        producer,
        keccak: keccak_ceilings
            .iter()
            .find(|c| c.simd == Simd::Portable)
            .map_or(0.0, |c| c.streamed),
        keccak_by_simd: many(&keccak_ceilings),
        keccak_by_width: pick(HashId::Keccak, false),
        blake3_chained_by_width: pick(HashId::Blake3, true),
        keccak_chained_by_width: pick(HashId::Keccak, true),
        blake3_in_rounds: vec![],
        keccak_in_rounds: vec![],
        blake3_ceilings,
        keccak_ceilings,
        vm_untraced,
        vm_traced,
        memcpy: memcpy_one,
        memcpy_all,
        memcpy_threads: cores.max(1),
    }
}

/// The ceilings' best shapes sampled once per sampling round: their maximum raises a ceiling
/// the primitives phase measured low, and their median over the phase's rate is how far the
/// machine drifted between the phase and the sweep.
pub(super) struct RoundCeilings {
    inputs: Vec<[u8; 64]>,
    out: Vec<u8>,
    probes: Vec<(HashId, CeilingShape, CeilingProbe, Vec<f64>)>,
}

impl RoundCeilings {
    pub fn new(p: &Primitives) -> RoundCeilings {
        let inputs = inputs();
        let mut probes = Vec::new();
        for (hash, list) in [
            (HashId::Blake3, &p.blake3_ceilings),
            (HashId::Keccak, &p.keccak_ceilings),
        ] {
            for c in list {
                probes.push((hash, c.shape, CeilingProbe::new(hash, c.simd), Vec::new()));
            }
        }
        RoundCeilings {
            out: vec![0u8; 32 * inputs.len()],
            inputs,
            probes,
        }
    }

    /// One window of `secs` of each ceiling's best shape.
    pub fn sample(&mut self, secs: f64) {
        let (inputs, out) = (&self.inputs, &mut self.out);
        for (_, shape, probe, samples) in &mut self.probes {
            samples.push(window(secs, || probe.run(*shape, inputs, out)));
        }
    }

    /// Folds the samples into `p`'s ceilings: `best` is raised to the largest sample, and
    /// `rounds_median` is their median.
    pub fn fold_into(&self, p: &mut Primitives) {
        for (hash, _, probe, samples) in &self.probes {
            let list = match hash {
                HashId::Blake3 => &mut p.blake3_ceilings,
                HashId::Keccak => &mut p.keccak_ceilings,
            };
            let Some(c) = list.iter_mut().find(|c| c.simd == probe.simd) else {
                continue;
            };
            let mut s = samples.clone();
            s.sort_by(f64::total_cmp);
            c.rounds_median = super::stats::median(&s);
            c.best = s.last().copied().unwrap_or(0.0).max(c.best);
        }
    }
}

/// A ceiling sample's window: short beside the plan's samples, since it runs once per round
/// for every backend of both hashes.
pub(super) fn round_window(target: f64) -> f64 {
    (target / 4.0).clamp(0.01, 0.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_primitive_feeds_each_call_the_previous_outputs() {
        let inputs = inputs();
        for simd in Simd::available() {
            let h = hasher(HashId::Blake3, simd);
            let w = simd.degree().clamp(1, 4);
            let mut row = vec![[0u8; 64]; w];
            let mut out = vec![0u8; 32 * 16];
            out[..32 * w].fill(7);
            assert_eq!(chain(&h, &inputs, &mut row, &mut out, 3), 3 * w as u64);
            // Lane k's chain: leaf(chunk, link) three times over, from the link it started with.
            for k in 0..w {
                let mut link = [7u8; 32];
                for r in 0..3 {
                    let mut chunk = [0u8; 32];
                    chunk.copy_from_slice(&inputs[r * w + k][..32]);
                    link = h.leaf(&chunk, &link);
                }
                assert_eq!(out[32 * k..32 * k + 32], link, "{simd} lane {k}");
            }
        }
    }

    #[test]
    fn both_ceiling_shapes_hash_what_they_count() {
        let inputs = inputs();
        let mut out = vec![0u8; 32 * inputs.len()];
        for hash in HashId::ALL {
            let mut probe = CeilingProbe::new(hash, Simd::Portable);
            let h = hasher(hash, Simd::Portable);
            // The cached shape walks the cached set 16 inputs at a time and wraps.
            let n = probe.run(CeilingShape::Cached, &inputs, &mut out);
            assert_eq!(n, (probe.calls() * CACHED_CALL) as u64);
            let last = (probe.calls() - 1) * CACHED_CALL % CACHED_SET;
            let mut want = vec![0u8; 32 * CACHED_CALL];
            h.leaves(&inputs[last..last + CACHED_CALL], &mut want);
            assert_eq!(out[..32 * CACHED_CALL], want[..], "{hash}");
            for _ in 0..(CACHED_SET / CACHED_CALL) {
                probe.run(CeilingShape::Cached, &inputs, &mut out);
            }
            assert!(probe.next < CACHED_SET);
            let n = probe.run(CeilingShape::Streamed, &inputs, &mut out) as usize;
            let mut want = vec![0u8; 32 * n];
            h.leaves(&inputs[..n], &mut want);
            assert_eq!(out[..32 * n], want[..], "{hash}");
        }
    }

    #[test]
    fn primitives_measure_every_table_on_the_backends_given_and_count_their_steps() {
        // Whatever this CPU has: the portable backend alone, then every backend it has.
        for backends in [
            Backends::capped(Some(Simd::Portable)),
            Backends::capped(None),
        ] {
            let pb = crate::progress::tests::Steps::default();
            let p = measure(0.003, b"2000 1", &backends, 2, &pb);
            assert_eq!(pb.0.get(), steps(&backends));
            let b = &backends.blake3;
            let k = backends.keccak();
            for (tables, want) in [
                (&p.blake3_by_width, b),
                (&p.blake3_chained_by_width, b),
                (&p.keccak_by_width, &k),
                (&p.keccak_chained_by_width, &k),
            ] {
                let simds: Vec<Simd> = tables.iter().map(|t| t.simd).collect();
                assert_eq!(&simds, want);
                for t in tables {
                    assert_eq!(t.by_width.first().map(|r| r.width), Some(1));
                    assert!(t.by_width.iter().all(|r| r.per_second > 0.0), "{t:?}");
                }
            }
            assert_eq!(
                p.blake3_by_width
                    .iter()
                    .map(|t| t.degree())
                    .collect::<Vec<_>>(),
                b.iter().map(|s| s.degree()).collect::<Vec<_>>()
            );
            let ceiling_simds: Vec<Simd> = p.blake3_ceilings.iter().map(|c| c.simd).collect();
            assert_eq!(&ceiling_simds, b);
            for c in p.blake3_ceilings.iter().chain(&p.keccak_ceilings) {
                assert!(c.best >= c.streamed && c.streamed > 0.0, "{c:?}");
            }
            assert!(p.memcpy > 0.0 && p.memcpy_all > 0.0 && p.memcpy_threads == 2);
        }
    }

    #[test]
    fn round_samples_raise_the_ceiling_and_give_the_drift() {
        let backends = Backends::capped(Some(Simd::Portable));
        let mut p = measure(0.003, b"2000 1", &backends, 1, &crate::progress::Quiet);
        let phase: Vec<f64> = p.blake3_ceilings.iter().map(|c| c.best).collect();
        let mut rounds = RoundCeilings::new(&p);
        for _ in 0..3 {
            rounds.sample(0.001);
        }
        rounds.fold_into(&mut p);
        for ((c, before), (_, _, _, samples)) in
            p.blake3_ceilings.iter().zip(&phase).zip(&rounds.probes)
        {
            let mut s = samples.clone();
            s.sort_by(f64::total_cmp);
            assert_eq!(c.rounds_median, s[1]);
            assert_eq!(c.best, before.max(s[2]));
            assert_eq!(c.phase, *before);
        }
    }
}
