//! The hardware benchmark harness behind `poie bench`: primitives, a sweep over hash, SIMD
//! backend, lanes, threads and trace source, a fitted performance model, and reports.
//!
//! - [`fingerprint`]: the machine a report comes from.
//! - [`model`]: the performance model and lane-count tuning.
//! - [`report`]: the report schema, derived tables and Markdown.
//! - [`plot`]: SVG plots.
//! - [`compare`]: merging reports from several machines.

pub mod compare;
pub mod fingerprint;
pub mod gpu;
pub mod model;
pub mod plot;
pub mod report;

use crate::guests;
use crate::proof::{HashId, Hasher, Layout, Params, ProverConfig, Simd};
use crate::source::Source;
use crate::trace::{NoTrace, NullSink};
use crate::vm::Vm;
use fingerprint::Fingerprint;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{Config, Machine};
use report::{
    Mode, Point, Prediction, Primitives, Report, SelfPooling, SourceKind, SCHEMA_VERSION,
};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to run and what to show.
#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub pin: bool,
    /// Draw progress bars (only when stderr is a terminal).
    pub progress: bool,
    /// The thread axis of the blake3 sweep; `None`: [`thread_axis`] of the logical cores.
    pub threads: Option<Vec<usize>>,
}

struct Plan {
    target: f64,
    samples: usize,
    lanes: Vec<u32>,
    simd_layouts: Vec<(u32, bool)>,
    keccak_layouts: Vec<(u32, bool)>,
    vm_layouts: Vec<(u32, bool)>,
    vm_input: &'static [u8],
}

impl Plan {
    fn for_mode(mode: Mode) -> Plan {
        match mode {
            Mode::Quick => Plan {
                target: 0.03,
                samples: 2,
                lanes: vec![1, 4, 16, 64],
                simd_layouts: vec![(16, true)],
                keccak_layouts: vec![(1, false), (1, true), (16, true)],
                vm_layouts: vec![(16, true)],
                vm_input: b"20000 1",
            },
            Mode::Default => Plan {
                target: 0.3,
                samples: 7,
                lanes: vec![1, 2, 4, 8, 16, 32, 64],
                simd_layouts: vec![(1, false), (1, true), (4, true), (16, true), (64, true)],
                keccak_layouts: vec![(1, false), (1, true), (4, true), (8, true), (16, true)],
                vm_layouts: vec![(1, false), (16, true)],
                vm_input: b"100000 1",
            },
            Mode::Full => Plan {
                target: 0.5,
                samples: 5,
                lanes: vec![1, 2, 4, 8, 16, 32, 64, 128, 256],
                simd_layouts: vec![
                    (1, false),
                    (1, true),
                    (2, true),
                    (4, true),
                    (8, true),
                    (16, true),
                    (32, true),
                    (64, true),
                ],
                keccak_layouts: vec![
                    (1, false),
                    (1, true),
                    (2, true),
                    (4, true),
                    (8, true),
                    (16, true),
                    (64, true),
                ],
                vm_layouts: vec![(1, false), (4, true), (16, true), (64, true)],
                vm_input: b"300000 1",
            },
        }
    }
}

/// 1, 2, 4, ... up to the logical cores, the core count itself, and one oversubscribed point.
pub fn thread_axis(cores: usize) -> Vec<usize> {
    let mut t: Vec<usize> = std::iter::successors(Some(1usize), |x| Some(x * 2))
        .take_while(|&x| x <= cores)
        .collect();
    if t.last() != Some(&cores) {
        t.push(cores);
    }
    t.push(2 * cores);
    t
}

/// Runs `f` (which returns units of work done) for `secs` seconds, at least once, and returns
/// its units/s.
fn window(secs: f64, mut f: impl FnMut() -> u64) -> f64 {
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

fn hasher(hash: HashId, simd: Simd) -> Hasher {
    Hasher::new(hash, [0x5a; 32], simd).expect("only available backends are benchmarked")
}

/// Measures the primitives alone (used by `poie tune` without a report).
pub fn measure_primitives(quick: bool) -> Primitives {
    let plan = Plan::for_mode(if quick { Mode::Quick } else { Mode::Default });
    primitives(
        plan.target.max(0.05),
        plan.vm_input,
        &ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
    )
}

/// Passes over the by-width tables; each pass gives every width one window.
const WIDTH_PASSES: u64 = 3;

/// How many steps [`primitives`] reports to its progress bar: the many-input rates (one per
/// backend and hash), a step per by-width table per pass (independent and chained, per backend
/// and hash), the VM twice, the producer and the memory copy.
fn primitive_steps() -> u64 {
    let b = Simd::available().len() as u64;
    let k = keccak_backends().len() as u64;
    b + k + WIDTH_PASSES * 2 * (b + k) + 4
}

/// Advances `pb` by one step, naming the primitive measured next.
fn step(pb: &ProgressBar, next: String) {
    pb.inc(1);
    pb.set_message(next);
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
        let degree = match hash {
            HashId::Blake3 => simd.degree(),
            HashId::Keccak => h.simd_width(),
        };
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
fn chain(
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
fn width_tables(target: f64, inputs: &[[u8; 64]], pb: &ProgressBar) -> Vec<WidthTable> {
    let mut tables = Vec::new();
    for chained in [false, true] {
        for simd in Simd::available() {
            tables.push(WidthTable::new(HashId::Blake3, simd, chained));
        }
        for simd in keccak_backends() {
            tables.push(WidthTable::new(HashId::Keccak, simd, chained));
        }
    }
    let mut row = [[0u8; 64]; 16];
    let mut out = vec![0u8; 32 * 16];
    for _ in 0..WIDTH_PASSES {
        for t in &mut tables {
            pb.set_message(t.label());
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
            pb.inc(1);
        }
    }
    tables
}

/// The many-input rate of blake3 on `simd` (the proof ceiling's primitive) over `inputs`.
fn blake3_many(h: &Hasher, inputs: &[[u8; 64]], out: &mut [u8]) -> u64 {
    h.leaves(inputs, &mut out[..32 * inputs.len()]);
    inputs.len() as u64
}

/// The same for keccak: 512 inputs per call, keccak being some ten times slower.
fn keccak_many(h: &Hasher, inputs: &[[u8; 64]], out: &mut [u8]) -> u64 {
    let n = inputs.len().min(512);
    h.leaves(&inputs[..n], &mut out[..32 * n]);
    n as u64
}

/// The inputs the primitives hash.
fn primitive_inputs() -> Vec<[u8; 64]> {
    (0..4096).map(|i| [(i % 251) as u8; 64]).collect()
}

fn primitives(target: f64, vm_input: &[u8], pb: &ProgressBar) -> Primitives {
    let inputs = primitive_inputs();
    let mut out = vec![0u8; 32 * inputs.len()];
    let blake3 = Simd::available()
        .into_iter()
        .map(|simd| {
            pb.set_message(format!("blake3 {simd} compressions"));
            let h = hasher(HashId::Blake3, simd);
            let r = rate(target, || blake3_many(&h, &inputs, &mut out));
            pb.inc(1);
            (simd, r)
        })
        .collect();
    // keccak256 leaves, one permutation each, per keccak backend.
    let keccak_by_simd: Vec<(Simd, f64)> = keccak_backends()
        .into_iter()
        .map(|simd| {
            pb.set_message(format!("keccak256 {simd} permutations"));
            let k = hasher(HashId::Keccak, simd);
            let per_second = rate(target, || keccak_many(&k, &inputs, &mut out));
            pb.inc(1);
            (simd, per_second)
        })
        .collect();
    let keccak = keccak_by_simd
        .iter()
        .find(|(s, _)| *s == Simd::Portable)
        .map_or(0.0, |(_, r)| *r);
    let tables = width_tables(target / 2.0, &inputs, pb);
    let pick = |hash: HashId, chained: bool| -> Vec<model::Rates> {
        tables
            .iter()
            .filter(|t| t.hash == hash && t.chained == chained)
            .map(WidthTable::rates)
            .collect()
    };
    let sort = guests::find("sort").expect("sort guest").elf;
    pb.set_message("VM, no trace".to_string());
    let vm_untraced = rate(target, || {
        let mut vm = Vm::new(sort, vm_input.to_vec()).expect("guest loads");
        vm.run(&mut NoTrace, u64::MAX).map_or(0, |r| r.steps)
    });
    step(pb, "VM, trace built".into());
    let vm_traced = rate(target, || {
        let mut vm = Vm::new(sort, vm_input.to_vec()).expect("guest loads");
        vm.run(&mut NullSink, u64::MAX).map_or(0, |r| r.steps)
    });
    step(pb, "synthetic trace producer".into());
    // The synthetic source as the workers run it: generated straight into a block.
    let mut block = vec![[0u8; 32]; crate::proof::pipeline::DEFAULT_BATCH];
    let mut first = 0u64;
    let producer = rate(target, || {
        crate::source::synthetic_fill(3, first, &mut block);
        std::hint::black_box(&block);
        first += block.len() as u64;
        block.len() as u64
    });
    step(pb, "memory copy".into());
    let src = vec![1u8; 64 << 20];
    let mut dst = vec![0u8; 64 << 20];
    let memcpy = rate(target, || {
        dst.copy_from_slice(&src);
        std::hint::black_box(&dst);
        src.len() as u64
    });
    pb.inc(1);
    Primitives {
        blake3,
        blake3_by_width: pick(HashId::Blake3, false),
        producer,
        keccak,
        keccak_by_simd,
        keccak_by_width: pick(HashId::Keccak, false),
        blake3_chained_by_width: pick(HashId::Blake3, true),
        keccak_chained_by_width: pick(HashId::Keccak, true),
        blake3_in_rounds: vec![],
        keccak_in_rounds: vec![],
        vm_untraced,
        vm_traced,
        memcpy,
    }
}

/// The ceilings' primitives sampled once per sampling round, so that the points' ceilings are
/// medians over the same minutes as the points' own figures (the primitives phase is minutes
/// earlier, and the machine drifts).
struct CeilingSamples {
    inputs: Vec<[u8; 64]>,
    out: Vec<u8>,
    blake3: Vec<Sampled>,
    keccak: Vec<Sampled>,
}

/// One backend's many-input rate: its hasher and the samples so far (units/s).
struct Sampled {
    simd: Simd,
    h: Hasher,
    samples: Vec<f64>,
}

/// A many-input rate per backend.
type PerBackend = Vec<(Simd, f64)>;

impl CeilingSamples {
    fn new() -> CeilingSamples {
        let inputs = primitive_inputs();
        let of = |hash, backends: Vec<Simd>| {
            backends
                .into_iter()
                .map(|simd| Sampled {
                    simd,
                    h: hasher(hash, simd),
                    samples: Vec::new(),
                })
                .collect()
        };
        CeilingSamples {
            out: vec![0u8; 32 * inputs.len()],
            inputs,
            blake3: of(HashId::Blake3, Simd::available()),
            keccak: of(HashId::Keccak, keccak_backends()),
        }
    }

    /// One window of `secs` of each many-input rate the ceilings use, as the primitives phase
    /// measures it.
    fn sample(&mut self, secs: f64) {
        let (inputs, out) = (&self.inputs, &mut self.out);
        for b in &mut self.blake3 {
            b.samples
                .push(window(secs, || blake3_many(&b.h, inputs, out)));
        }
        for k in &mut self.keccak {
            k.samples
                .push(window(secs, || keccak_many(&k.h, inputs, out)));
        }
    }

    /// The median sample per backend: blake3's, keccak's.
    fn medians(&self) -> (PerBackend, PerBackend) {
        let of = |v: &[Sampled]| {
            v.iter()
                .filter(|b| !b.samples.is_empty())
                .map(|b| {
                    let mut s = b.samples.clone();
                    s.sort_by(f64::total_cmp);
                    (b.simd, median(&s))
                })
                .collect()
        };
        (of(&self.blake3), of(&self.keccak))
    }
}

/// A ceiling sample's window: short beside the plan's samples, since it runs once per round
/// for every backend of both hashes.
fn ceiling_window(target: f64) -> f64 {
    (target / 4.0).clamp(0.01, 0.1)
}

/// One proof of `source`; returns (seconds, chunks, pinned workers).
fn prove_once(params: Params, cfg: ProverConfig, source: &Source) -> io::Result<(f64, u64, usize)> {
    let start = Instant::now();
    let (proof, fed) = source
        .prove(params, hasher(params.hash, cfg.simd), cfg, &|_| {})
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok((start.elapsed().as_secs_f64(), fed.chunks, proof.pinned))
}

struct Spec {
    hash: HashId,
    simd: Simd,
    lanes: u32,
    chained: bool,
    threads: usize,
    source: SourceKind,
}

fn label(s: &Spec) -> String {
    let kind = if s.chained { "chained" } else { "unchained" };
    let src = if s.source == SourceKind::Vm {
        " vm"
    } else {
        ""
    };
    format!(
        "{} {} L={} {kind} t={}{src}",
        s.hash, s.simd, s.lanes, s.threads
    )
}

fn bar(show: bool, len: u64, msg: String) -> ProgressBar {
    let target = if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let b = ProgressBar::with_draw_target(Some(len), target);
    b.set_style(
        ProgressStyle::with_template("{prefix:>9} [{bar:20}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    b.set_message(msg);
    b
}

/// One point of the sweep while it is being sampled.
struct Pending<'a> {
    spec: &'a Spec,
    params: Params,
    cfg: ProverConfig,
    /// Chunks per sample (the VM: the whole run).
    n: u64,
    samples: Vec<f64>,
    pinned: bool,
    /// Other runnable tasks read just before and after each sample (none without /proc).
    loads: Vec<f64>,
}

impl Pending<'_> {
    fn source(&self, n: u64, vm_elf: &[u8], vm_input: &[u8]) -> Source {
        match self.spec.source {
            SourceKind::Synthetic => Source::Synthetic { n, seed: 1 },
            SourceKind::Vm => Source::Vm {
                elf: vm_elf.to_vec(),
                input: vm_input.to_vec(),
                max_steps: u64::MAX,
            },
        }
    }

    /// One timed proof, recorded as a sample.
    fn sample(&mut self, vm_elf: &[u8], vm_input: &[u8]) -> io::Result<()> {
        let source = self.source(self.n, vm_elf, vm_input);
        self.loads
            .extend(fingerprint::loadavg().map(|l| l.others()));
        let (secs, _, p) = prove_once(self.params, self.cfg, &source)?;
        self.loads
            .extend(fingerprint::loadavg().map(|l| l.others()));
        self.pinned |= p > 0;
        self.samples.push(secs);
        Ok(())
    }

    fn into_point(self) -> Point {
        let n = self.n;
        let mut rates: Vec<f64> = self.samples.iter().map(|s| n as f64 / s).collect();
        rates.sort_by(f64::total_cmp);
        let s = self.spec;
        Point {
            hash: s.hash,
            simd: s.simd,
            lanes: s.lanes,
            chained: s.chained,
            threads: s.threads,
            oversubscribed: false,
            source: s.source,
            pinned: self.pinned,
            chunks_per_sample: n,
            samples_secs: self.samples,
            median: median(&rates),
            min: rates.first().copied().unwrap_or(0.0),
            max: rates.last().copied().unwrap_or(0.0),
            ceiling: 0.0,
            predicted: 0.0,
            load: (!self.loads.is_empty())
                .then(|| self.loads.iter().sum::<f64>() / self.loads.len() as f64),
        }
    }
}

/// The median of sorted `v` (the mean of the middle two for an even count); 0 when empty.
pub(crate) fn median(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The order in which round `round` samples the points of `specs`: the layouts (runs of
/// consecutive specs that differ only in thread count) in a shuffled order, each layout's
/// thread counts back to back, so that its paired ratios (speedups) compare samples taken
/// seconds apart. In a fixed order each point always follows the same one and whatever that
/// one leaves behind (a hot or throttled core, another backend's clock) is a bias of the
/// point; shuffled, it is noise that the median absorbs. Deterministic: a report's rounds can
/// be replayed.
fn round_order(specs: &[Spec], round: usize) -> Vec<usize> {
    let same_layout = |a: &Spec, b: &Spec| {
        (a.hash, a.simd, a.lanes, a.chained, a.source)
            == (b.hash, b.simd, b.lanes, b.chained, b.source)
    };
    let mut layouts: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match layouts.last_mut() {
            Some(last) if specs.get(last.start).is_some_and(|s| same_layout(s, spec)) => {
                last.end = i + 1;
            }
            _ => layouts.push(i..i + 1),
        }
    }
    // Fisher-Yates on a splitmix64 stream seeded by the round.
    let mut state = (round as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..layouts.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        layouts.swap(i, j);
    }
    layouts.into_iter().flatten().collect()
}

/// A warm-up proof of `spec`, which also sizes its samples to the plan's target time.
fn calibrate<'a>(
    spec: &'a Spec,
    plan: &Plan,
    opts: &Options,
    guess: f64,
    vm_elf: &[u8],
) -> io::Result<Pending<'a>> {
    let params = Params {
        hash: spec.hash,
        layout: Layout::new(spec.lanes, spec.chained).map_err(io::Error::other)?,
    };
    let cfg = ProverConfig {
        threads: spec.threads,
        simd: spec.simd,
        pin: opts.pin,
        ..ProverConfig::default()
    };
    let mut p = Pending {
        spec,
        params,
        cfg,
        n: 0,
        samples: Vec::with_capacity(plan.samples),
        pinned: false,
        loads: Vec::with_capacity(2 * plan.samples),
    };
    let n0 = ((guess * plan.target / 4.0) as u64).clamp(4096, 1 << 28);
    let (secs, chunks, _) = prove_once(params, cfg, &p.source(n0, vm_elf, plan.vm_input))?;
    p.n = match spec.source {
        SourceKind::Synthetic => {
            ((chunks as f64 / secs.max(1e-6)) * plan.target).clamp(4096.0, 4e9) as u64
        }
        SourceKind::Vm => chunks,
    };
    Ok(p)
}

/// One core's proof ceiling for `hash` on `simd`: half its many-input rate (a leaf and a node
/// per chunk), from the per-round samples where they were taken, else the primitives phase.
fn ceiling(p: &Primitives, hash: HashId, simd: Simd) -> f64 {
    let find = |v: &[(Simd, f64)], simd: Simd| v.iter().find(|(s, _)| *s == simd).map(|r| r.1);
    match hash {
        HashId::Blake3 => find(&p.blake3_in_rounds, simd)
            .or_else(|| find(&p.blake3, simd))
            .map_or(0.0, |r| r / 2.0),
        HashId::Keccak => {
            let k = keccak_kernel(simd);
            find(&p.keccak_in_rounds, k)
                .or_else(|| find(&p.keccak_by_simd, k))
                .unwrap_or(p.keccak)
                / 2.0
        }
    }
}

/// The keccak backends with a kernel of their own: `sse41` runs the portable one.
pub fn keccak_backends() -> Vec<Simd> {
    Simd::available()
        .into_iter()
        .filter(|s| *s != Simd::Sse41)
        .collect()
}

/// The backend whose kernel keccak runs for `simd`.
fn keccak_kernel(simd: Simd) -> Simd {
    if simd == Simd::Sse41 {
        Simd::Portable
    } else {
        simd
    }
}

/// Runs the whole benchmark.
pub fn run(opts: Options) -> io::Result<Report> {
    let plan = Plan::for_mode(opts.mode);
    let fingerprint = Fingerprint::detect();
    let cores = fingerprint.logical_cores;
    let best = fingerprint.blake3_detected;
    let show = opts.progress;

    let load_before = fingerprint::loadavg();
    let pb = bar(show, primitive_steps(), "primitives".into());
    pb.set_prefix("primitives");
    let mut prims = primitives(plan.target.max(0.05), plan.vm_input, &pb);
    pb.finish_and_clear();

    let mut specs = Vec::new();
    let layouts: Vec<(u32, bool)> = std::iter::once((1, false))
        .chain(plan.lanes.iter().map(|&l| (l, true)))
        .collect();
    let axis = opts.threads.clone().unwrap_or_else(|| thread_axis(cores));
    for &(lanes, chained) in &layouts {
        for &threads in &axis {
            specs.push(Spec {
                hash: HashId::Blake3,
                simd: best,
                lanes,
                chained,
                threads,
                source: SourceKind::Synthetic,
            });
        }
    }
    for simd in Simd::available().into_iter().filter(|s| *s != best) {
        for &(lanes, chained) in &plan.simd_layouts {
            specs.push(Spec {
                hash: HashId::Blake3,
                simd,
                lanes,
                chained,
                threads: 1,
                source: SourceKind::Synthetic,
            });
        }
    }
    // Keccak and the VM end to end: one thread and all cores; keccak on its best backend, and
    // on its other backends on one thread (its SIMD gain).
    let one_and_all: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
    let keccak_best = keccak_kernel(best);
    for &(lanes, chained) in &plan.keccak_layouts {
        for &threads in &one_and_all {
            specs.push(Spec {
                hash: HashId::Keccak,
                simd: keccak_best,
                lanes,
                chained,
                threads,
                source: SourceKind::Synthetic,
            });
        }
    }
    for simd in keccak_backends().into_iter().filter(|s| *s != keccak_best) {
        for &(lanes, chained) in &plan.keccak_layouts {
            specs.push(Spec {
                hash: HashId::Keccak,
                simd,
                lanes,
                chained,
                threads: 1,
                source: SourceKind::Synthetic,
            });
        }
    }
    for &(lanes, chained) in &plan.vm_layouts {
        for &threads in &one_and_all {
            specs.push(Spec {
                hash: HashId::Blake3,
                simd: best,
                lanes,
                chained,
                threads,
                source: SourceKind::Vm,
            });
        }
    }

    // Every point is calibrated first, then sampled in rounds, one sample of each point per
    // round: a slow phase of a shared or throttling machine then lands on every point alike
    // instead of on whichever points it happened to coincide with, so ratios between points
    // (speedups, SIMD gains) stay trustworthy. Each round takes the layouts in its own
    // shuffled order (`round_order`).
    let sort = guests::find("sort").expect("sort guest").elf;
    let total = specs.len();
    // A step per calibration and per sample, and one per round for the ceiling samples.
    let pb = bar(
        show,
        (total * (plan.samples + 1) + plan.samples) as u64,
        "calibrating".into(),
    );
    pb.set_prefix("sweep");
    let mut pending = Vec::with_capacity(total);
    for spec in &specs {
        pb.set_message(label(spec));
        let guess = ceiling(&prims, spec.hash, spec.simd) * 0.5 * spec.threads.min(cores) as f64;
        pending.push(calibrate(spec, &plan, &opts, guess.max(1e5), sort)?);
        pb.inc(1);
    }
    let mut ceilings = CeilingSamples::new();
    for round in 0..plan.samples {
        pb.set_message(format!(
            "round {}/{}: hash ceilings",
            round + 1,
            plan.samples
        ));
        ceilings.sample(ceiling_window(plan.target));
        pb.inc(1);
        for i in round_order(&specs, round) {
            let Some(p) = pending.get_mut(i) else {
                continue;
            };
            pb.set_message(format!(
                "round {}/{}: {}",
                round + 1,
                plan.samples,
                label(p.spec)
            ));
            p.sample(sort, plan.vm_input)?;
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let load_after = fingerprint::loadavg();
    (prims.blake3_in_rounds, prims.keccak_in_rounds) = ceilings.medians();
    let mut points: Vec<Point> = pending
        .into_iter()
        .map(|p| {
            let mut point = p.into_point();
            point.oversubscribed = point.threads > cores;
            point.ceiling =
                ceiling(&prims, point.hash, point.simd) * point.threads.min(cores).max(1) as f64;
            point
        })
        .collect();

    let models = report::fit_models(&prims, &mut points, cores);
    let mut predictions = Vec::new();
    for ms in &models {
        for c in [4, 8, 32, 64] {
            for (lanes, chained) in [(1, false), (4, true), (16, true), (64, true)] {
                let machine = Machine {
                    cores: c,
                    simd: best,
                };
                predictions.push(Prediction {
                    hash: ms.hash,
                    machine,
                    lanes,
                    chained,
                    chunks_per_sec: ms.model.predict(
                        machine,
                        Config {
                            lanes,
                            chained,
                            threads: c,
                        },
                    ),
                });
            }
        }
    }
    let tuning = models.iter().find(|m| m.hash == HashId::Blake3).map(|ms| {
        let big = [
            Machine {
                cores: 32,
                simd: Simd::Avx512,
            },
            Machine {
                cores: 64,
                simd: Simd::Avx512,
            },
        ];
        model::tune(
            &ms.model,
            Machine {
                cores: 4,
                simd: Simd::Avx2,
            },
            &big,
            0.9,
        )
    });

    let pb = bar(show, 2, "self-pooling".into());
    let self_pooling = self_pooling(&plan, &prims, best, &pb)?;
    pb.finish_and_clear();

    Ok(Report {
        schema_version: SCHEMA_VERSION,
        created_utc: utc_now(),
        mode: opts.mode,
        fairness: report::fairness(&points),
        fingerprint,
        primitives: prims,
        points,
        models,
        predictions,
        self_pooling,
        tuning,
        load_before,
        load_after,
        gpu: None,
    })
}

/// Execution once versus hashing once more, per hash, on the ledger guest's sample block.
fn self_pooling(
    plan: &Plan,
    prims: &Primitives,
    best: Simd,
    pb: &ProgressBar,
) -> io::Result<Vec<SelfPooling>> {
    let g = guests::find("ledger").expect("ledger guest");
    let runs = plan.samples.max(1);
    let mut exec = Vec::new();
    let mut steps = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let mut vm = Vm::new(g.elf, g.sample_input.to_vec()).map_err(io::Error::other)?;
        steps = vm.run(&mut NullSink, u64::MAX)?.steps;
        exec.push(start.elapsed().as_secs_f64());
    }
    exec.sort_by(f64::total_cmp);
    let exec_secs = exec[exec.len() / 2];
    let mut out = Vec::new();
    for hash in HashId::ALL {
        let params = Params {
            hash,
            layout: Layout {
                lanes: 16,
                chained: true,
            },
        };
        let cfg = ProverConfig {
            threads: 1,
            simd: best,
            ..ProverConfig::default()
        };
        // Hashing time is linear in the chunk count: time a prefix sized to the plan's sample
        // time and scale it, so slow hashes do not dominate the run.
        let per_sec = ceiling(prims, hash, best).max(1e5);
        let n = steps.min(((per_sec * plan.target * 2.0) as u64).max(1 << 16));
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(
                prove_once(params, cfg, &Source::Synthetic { n, seed: 2 })?.0 * steps as f64
                    / n as f64,
            );
        }
        times.sort_by(f64::total_cmp);
        let hash_secs = times[times.len() / 2];
        out.push(SelfPooling {
            hash,
            guest: g.name.into(),
            steps,
            exec_secs,
            hash_secs,
            marginal_cost: hash_secs / (exec_secs + hash_secs),
        });
        pb.inc(1);
    }
    Ok(out)
}

/// `YYYY-MM-DDTHH:MM:SSZ` from the system clock (civil-from-days, proleptic Gregorian).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    utc_string(secs)
}

pub fn utc_string(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Writes report.json, report.md and the plots into `dir` (created), each file atomically.
pub fn write_report(r: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("report.json", r.to_json()),
        ("report.md", report::markdown(r)),
        ("speedup.svg", plot::speedup(r)),
        ("simd.svg", plot::simd(r)),
        ("lanes.svg", plot::lanes(r)),
        ("tuning.svg", plot::tuning(r)),
    ];
    let mut out = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        crate::atomic::write(&p, text.as_bytes(), false)?;
        out.push(p);
    }
    Ok(out)
}

/// `results/<machine id>/<timestamp>`.
pub fn report_dir(root: &Path, r: &Report) -> PathBuf {
    root.join(&r.fingerprint.machine_id)
        .join(r.created_utc.replace([':', '-'], ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_shuffle_the_layouts_and_keep_each_layouts_threads_together() {
        let spec = |lanes, chained, threads, source| Spec {
            hash: HashId::Blake3,
            simd: Simd::Portable,
            lanes,
            chained,
            threads,
            source,
        };
        let mut specs = Vec::new();
        for (lanes, chained, source) in [
            (1, false, SourceKind::Synthetic),
            (1, true, SourceKind::Synthetic),
            (4, true, SourceKind::Synthetic),
            (16, true, SourceKind::Synthetic),
            (64, true, SourceKind::Synthetic),
            (16, true, SourceKind::Vm),
        ] {
            for threads in [1, 2, 4] {
                specs.push(spec(lanes, chained, threads, source));
            }
        }
        let orders: Vec<Vec<usize>> = (0..8).map(|r| round_order(&specs, r)).collect();
        for order in &orders {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(
                sorted,
                (0..specs.len()).collect::<Vec<_>>(),
                "a permutation"
            );
            // Each layout's three thread counts, back to back and in their own order.
            for run in order.chunks(3) {
                assert_eq!(run[0] % 3, 0, "{order:?}");
                assert_eq!(run, [run[0], run[0] + 1, run[0] + 2], "{order:?}");
            }
        }
        assert_eq!(orders[3], round_order(&specs, 3), "deterministic");
        // The rounds do not all share one order, and the first layout does not always lead.
        assert!(orders.iter().any(|o| *o != orders[0]));
        assert!(orders.iter().any(|o| o[0] != 0));
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_string(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_string(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_string(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn median_of_an_even_count_is_the_middle_mean() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[1.0, 3.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
    }

    #[test]
    fn chained_primitive_feeds_each_call_the_previous_outputs() {
        let inputs = primitive_inputs();
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
    fn primitives_measure_every_table_and_count_their_steps() {
        let pb =
            ProgressBar::with_draw_target(Some(primitive_steps()), ProgressDrawTarget::hidden());
        let p = primitives(0.003, b"2000 1", &pb);
        assert_eq!(pb.position(), primitive_steps());
        let b = Simd::available();
        let k = keccak_backends();
        for (tables, backends) in [
            (&p.blake3_by_width, &b),
            (&p.blake3_chained_by_width, &b),
            (&p.keccak_by_width, &k),
            (&p.keccak_chained_by_width, &k),
        ] {
            let simds: Vec<Simd> = tables.iter().map(|t| t.simd).collect();
            assert_eq!(&simds, backends);
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
            b.iter().map(|s| s.degree().max(1)).collect::<Vec<_>>()
        );
        assert!(p.blake3_in_rounds.is_empty() && p.keccak_in_rounds.is_empty());
    }

    #[test]
    fn ceilings_are_the_median_of_the_round_samples() {
        let mut c = CeilingSamples::new();
        for _ in 0..3 {
            c.sample(0.001);
        }
        let (blake3, keccak) = c.medians();
        assert_eq!(blake3.len(), Simd::available().len());
        assert_eq!(keccak.len(), keccak_backends().len());
        for b in &c.blake3 {
            let mut v = b.samples.clone();
            v.sort_by(f64::total_cmp);
            assert_eq!(v.len(), 3);
            assert!(blake3.contains(&(b.simd, v[1])));
        }
        let mut p = primitives_of_every_backend();
        (p.blake3_in_rounds, p.keccak_in_rounds) = (blake3.clone(), keccak.clone());
        let (simd, rate) = blake3[0];
        assert_eq!(ceiling(&p, HashId::Blake3, simd), rate / 2.0);
        p.blake3_in_rounds.clear();
        let phase = p.blake3.iter().find(|(s, _)| *s == simd).map(|r| r.1);
        assert_eq!(
            Some(ceiling(&p, HashId::Blake3, simd)),
            phase.map(|r| r / 2.0)
        );
        // sse41 runs keccak's portable kernel, and its ceiling.
        assert_eq!(
            ceiling(&p, HashId::Keccak, Simd::Sse41),
            ceiling(&p, HashId::Keccak, Simd::Portable)
        );
    }

    /// Primitives with every backend of this machine (figures made up).
    fn primitives_of_every_backend() -> Primitives {
        let mut p = report::sample_report().primitives;
        p.blake3 = Simd::available().into_iter().map(|s| (s, 1e7)).collect();
        p.keccak_by_simd = keccak_backends().into_iter().map(|s| (s, 1e6)).collect();
        p
    }

    #[test]
    fn thread_axis_includes_cores_and_one_oversubscribed_point() {
        assert_eq!(thread_axis(2), vec![1, 2, 4]);
        assert_eq!(thread_axis(6), vec![1, 2, 4, 6, 12]);
        assert_eq!(thread_axis(1), vec![1, 2]);
    }
}
