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
    Mode, ModelSummary, Point, Prediction, Primitives, Report, SelfPooling, SourceKind,
    SCHEMA_VERSION,
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

/// Runs `f` (which returns units of work done) for `target` seconds in three windows and
/// returns the best window's units/s: a primitive is a capability, and the best window is the
/// one least disturbed by anything else on the machine.
fn rate(target: f64, mut f: impl FnMut() -> u64) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let mut units = 0u64;
            while start.elapsed().as_secs_f64() < target / 3.0 || units == 0 {
                units += f();
            }
            units as f64 / start.elapsed().as_secs_f64()
        })
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

/// How many steps [`primitives`] reports to its progress bar.
fn primitive_steps() -> u64 {
    let b = Simd::available().len() as u64;
    let k = keccak_backends().len() as u64;
    2 * b + 2 * k + 4
}

/// Advances `pb` by one step, naming the primitive measured next.
fn step(pb: &ProgressBar, next: String) {
    pb.inc(1);
    pb.set_message(next);
}

fn primitives(target: f64, vm_input: &[u8], pb: &ProgressBar) -> Primitives {
    let inputs: Vec<[u8; 64]> = (0..4096).map(|i| [(i % 251) as u8; 64]).collect();
    let mut out = vec![0u8; 32 * inputs.len()];
    let blake3 = Simd::available()
        .into_iter()
        .map(|simd| {
            pb.set_message(format!("blake3 {simd} compressions"));
            let h = hasher(HashId::Blake3, simd);
            let r = rate(target, || {
                h.leaves(&inputs, &mut out);
                inputs.len() as u64
            });
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
            let per_second = rate(target, || {
                k.leaves(&inputs[..512], &mut out[..512 * 32]);
                512
            });
            pb.inc(1);
            (simd, per_second)
        })
        .collect();
    let keccak = keccak_by_simd
        .iter()
        .find(|(s, _)| *s == Simd::Portable)
        .map_or(0.0, |(_, r)| *r);
    let keccak_by_width = keccak_backends()
        .into_iter()
        .map(|simd| {
            pb.set_message(format!("keccak256 {simd} by inputs per call"));
            let k = hasher(HashId::Keccak, simd);
            let by_width = [1usize, 2, 4, 8]
                .into_iter()
                .filter(|&w| w <= k.simd_width())
                .map(|w| {
                    let per_second = rate(target / 2.0, || {
                        for chunk in inputs.chunks_exact(w).take(64) {
                            k.leaves(chunk, &mut out[..32 * w]);
                        }
                        (64 * w) as u64
                    });
                    model::Rate {
                        width: w,
                        per_second,
                    }
                })
                .collect();
            pb.inc(1);
            model::Rates { simd, by_width }
        })
        .collect();
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
    pb.inc(1);
    let blake3_by_width = Simd::available()
        .into_iter()
        .map(|simd| {
            pb.set_message(format!("blake3 {simd} by inputs per call"));
            let h = hasher(HashId::Blake3, simd);
            let widths = [1usize, 2, 4, 8, 16]
                .into_iter()
                .filter(|&w| w <= simd.degree().max(1));
            let by_width = widths
                .map(|w| {
                    let per_second = rate(target / 2.0, || {
                        for chunk in inputs.chunks_exact(w).take(256) {
                            h.leaves(chunk, &mut out[..32 * w]);
                        }
                        (256 * w) as u64
                    });
                    model::Rate {
                        width: w,
                        per_second,
                    }
                })
                .collect();
            pb.inc(1);
            model::Rates { simd, by_width }
        })
        .collect();
    pb.set_message("synthetic trace producer".to_string());
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
        blake3_by_width,
        producer,
        keccak,
        keccak_by_simd,
        keccak_by_width,
        vm_untraced,
        vm_traced,
        memcpy,
    }
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
fn median(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
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

fn ceiling(p: &Primitives, hash: HashId, simd: Simd) -> f64 {
    match hash {
        HashId::Blake3 => p
            .blake3
            .iter()
            .find(|(s, _)| *s == simd)
            .map_or(0.0, |(_, r)| r / 2.0),
        HashId::Keccak => {
            p.keccak_by_simd
                .iter()
                .find(|(s, _)| *s == keccak_kernel(simd))
                .map_or(p.keccak, |(_, r)| *r)
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
    let prims = primitives(plan.target.max(0.05), plan.vm_input, &pb);
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
    // (speedups, SIMD gains) stay trustworthy.
    let sort = guests::find("sort").expect("sort guest").elf;
    let total = specs.len();
    let pb = bar(
        show,
        (total * (plan.samples + 1)) as u64,
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
    for round in 0..plan.samples {
        for p in &mut pending {
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

    // Fit one model per hash on the synthetic, not oversubscribed points.
    let mut models = Vec::new();
    for hash in HashId::ALL {
        let fit_points: Vec<(Machine, Config, f64)> = points
            .iter()
            .filter(|p| p.hash == hash && p.source == SourceKind::Synthetic && !p.oversubscribed)
            .map(|p| {
                (
                    Machine {
                        cores,
                        simd: p.simd,
                    },
                    p.config(),
                    p.median,
                )
            })
            .collect();
        if fit_points.is_empty() {
            continue;
        }
        let model = report::model_for(&prims, hash).fit(&fit_points);
        models.push(ModelSummary {
            hash,
            median_error: 0.0,
            max_error: 0.0,
            model,
        });
    }
    for p in &mut points {
        if let Some(ms) = models.iter().find(|m| m.hash == p.hash) {
            let mut model = ms.model.clone();
            if p.source == SourceKind::Vm {
                // The VM is a sequential producer, writing straight into the blocks.
                model.producer_secs = 1.0 / prims.vm_traced.max(1.0);
                model.gen_secs = 0.0;
            }
            p.predicted = model.predict(
                Machine {
                    cores,
                    simd: p.simd,
                },
                p.config(),
            );
        }
    }
    // The model's error over every point it should predict: all but the oversubscribed ones,
    // the VM end to end included.
    for ms in &mut models {
        let mut errors: Vec<f64> = points
            .iter()
            .filter(|p| p.hash == ms.hash && !p.oversubscribed && p.median > 0.0)
            .map(|p| ((p.predicted - p.median) / p.median).abs())
            .collect();
        errors.sort_by(f64::total_cmp);
        ms.median_error = errors.get(errors.len() / 2).copied().unwrap_or(0.0);
        ms.max_error = errors.last().copied().unwrap_or(0.0);
    }
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
    fn thread_axis_includes_cores_and_one_oversubscribed_point() {
        assert_eq!(thread_axis(2), vec![1, 2, 4]);
        assert_eq!(thread_axis(6), vec![1, 2, 4, 6, 12]);
        assert_eq!(thread_axis(1), vec![1, 2]);
    }
}
