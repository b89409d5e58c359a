//! The hardware benchmark harness behind `poie bench`: primitives, a sweep over hash, SIMD
//! backend, lanes, threads and trace source, a fitted performance model, and reports.
//!
//! `run` goes through its phases in order: the machine ([`fingerprint`]), the
//! [`primitives`], the [`sweep`] (calibration, then sampling rounds), the analysis
//! ([`report::Report::analyse`]: models, modelled machines, tuning, fairness) and
//! self-pooling.
//!
//! - [`stats`]: medians, their confidence intervals, paired ratios.
//! - [`model`]: the performance model and lane-count tuning.
//! - [`report`]: the report schema, derived tables, verdict and Markdown.
//! - [`plot`]: SVG plots.
//! - [`compare`]: merging reports from several machines.

pub mod compare;
pub mod crosscheck;
pub mod fingerprint;
pub mod gpu;
pub mod model;
#[cfg(feature = "plots")]
pub mod plot;
pub mod primitives;
pub mod progress;
pub mod report;
pub mod stats;
pub mod sweep;

use fingerprint::Fingerprint;
use poie_guests as guests;
use poie_proof::{HashId, Layout, Params, ProverConfig, Simd};
use poie_source::Source;
use poie_trace::NullSink;
use poie_vm::Vm;
use progress::Progress;
use report::{Mode, Point, Primitives, Report, Sampling, SelfPooling, SCHEMA_VERSION};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
pub use sweep::thread_axis;

/// The SIMD backends a run measures: the CPU's, up to an optional cap (`--max-simd`), so a
/// run can measure what a machine without the wider backends would do, and tests can force
/// a backend set whatever CPU they run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backends {
    /// blake3's, narrowest first (never empty: portable is always there).
    pub blake3: Vec<Simd>,
    pub cap: Option<Simd>,
}

impl Backends {
    /// This CPU's backends, no wider than `cap`.
    pub fn capped(cap: Option<Simd>) -> Backends {
        let mut blake3: Vec<Simd> = Simd::available()
            .into_iter()
            .filter(|s| cap.is_none_or(|c| s.at_most(c)))
            .collect();
        if blake3.is_empty() {
            blake3.push(Simd::Portable);
        }
        Backends { blake3, cap }
    }

    /// The widest.
    pub fn best(&self) -> Simd {
        self.blake3.last().copied().unwrap_or(Simd::Portable)
    }

    /// The keccak backends with a kernel of their own: `sse41` runs the portable one.
    pub fn keccak(&self) -> Vec<Simd> {
        self.blake3
            .iter()
            .copied()
            .filter(|s| *s != Simd::Sse41)
            .collect()
    }
}

/// The keccak backends of this CPU with a kernel of their own.
pub fn keccak_backends() -> Vec<Simd> {
    Backends::capped(None).keccak()
}

/// How long to run and what to measure.
#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub pin: bool,
    /// The thread axis of the blake3 sweep; `None`: [`thread_axis`] of the logical cores.
    pub threads: Option<Vec<usize>>,
    pub backends: Backends,
    /// Seconds the sampling rounds may take; `None`: the mode's.
    pub budget: Option<f64>,
    /// Measure the primitives and stop: a report another machine's fitted model can be
    /// carried to (`poie tune --primitives`).
    pub primitives_only: bool,
}

/// Measures the primitives alone (used by `poie tune` without a report).
pub fn measure_primitives(quick: bool, backends: &Backends) -> Primitives {
    let plan = sweep::Plan::for_mode(if quick { Mode::Quick } else { Mode::Default });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    primitives::measure(
        plan.primitive_secs,
        plan.vm_input,
        backends,
        cores,
        &progress::Quiet,
    )
}

/// Runs the whole benchmark, telling `progress` how it advances.
pub fn run(opts: Options, progress: &dyn Progress) -> io::Result<Report> {
    let started = Instant::now();
    let mut plan = sweep::Plan::for_mode(opts.mode);
    if let Some(b) = opts.budget {
        plan.budget = b;
    }
    let backends = &opts.backends;
    let fingerprint = Fingerprint::detect(backends);
    let cores = fingerprint.logical_cores;

    let load_before = fingerprint::loadavg();
    progress.phase(
        "primitives",
        primitives::steps(backends),
        "measuring the primitives (hash ceilings, by-width tables, VM, memory)",
    );
    let mut prims = primitives::measure(
        plan.primitive_secs,
        plan.vm_input,
        backends,
        cores,
        progress,
    );
    if opts.primitives_only {
        progress.finish();
        let mut r = report_of(opts.mode, fingerprint, prims, vec![], vec![], None);
        r.load_before = load_before;
        r.load_after = fingerprint::loadavg();
        r.analyse();
        return Ok(r);
    }

    let axis = opts.threads.clone().unwrap_or_else(|| thread_axis(cores));
    let specs = sweep::specs(&plan, backends, cores, &axis, opts.pin);
    progress.phase(
        "calibrate",
        specs.len() as u64,
        &format!("calibrating {} points", specs.len()),
    );
    let sort = guests::find("sort").expect("sort guest").elf;
    let mut pending = Vec::with_capacity(specs.len());
    for spec in &specs {
        progress.step(&sweep::label(spec));
        let guess = prims.ceiling(spec.hash, spec.simd) * 0.5 * spec.threads.min(cores) as f64;
        pending.push(sweep::calibrate(spec, &plan, guess.max(1e5), sort)?);
    }
    progress.phase(
        "sweep",
        0,
        &format!(
            "sampling {} points in rounds, each to within ±{:.0}% ({} to {} samples, at most {:.0} s of rounds)",
            specs.len(),
            100.0 * report::TOLERANCE,
            plan.min_samples,
            plan.max_samples,
            plan.budget
        ),
    );
    let mut ceilings = primitives::RoundCeilings::new(&prims);
    let rounds = sweep::sample_rounds(&plan, cores, &specs, &mut pending, &mut ceilings, progress)?;
    ceilings.fold_into(&mut prims);
    let load_after = fingerprint::loadavg();
    let points: Vec<Point> = pending.into_iter().map(|p| p.into_point(cores)).collect();

    progress.phase(
        "self-pool",
        2,
        "self-pooling: one execution, one more identity",
    );
    let self_pooling = self_pooling(&plan, &prims, backends.best(), progress)?;
    progress.finish();

    let mut r = report_of(
        opts.mode,
        fingerprint,
        prims,
        points,
        self_pooling,
        Some(Sampling {
            tolerance: report::TOLERANCE,
            min_samples: plan.min_samples,
            max_samples: plan.max_samples,
            budget_secs: plan.budget,
            sample_secs: plan.target,
            rounds: rounds.rounds,
            rounds_secs: rounds.secs,
            total_secs: 0.0,
        }),
    );
    (r.load_before, r.load_after) = (load_before, load_after);
    r.analyse();
    if let Some(s) = r.sampling.as_mut() {
        s.total_secs = started.elapsed().as_secs_f64();
    }
    Ok(r)
}

/// A report of measurements, not yet analysed.
fn report_of(
    mode: Mode,
    fingerprint: Fingerprint,
    primitives: Primitives,
    points: Vec<Point>,
    self_pooling: Vec<SelfPooling>,
    sampling: Option<Sampling>,
) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        created_utc: utc_now(),
        mode,
        fairness: vec![],
        fingerprint,
        primitives,
        points,
        models: vec![],
        predictions: vec![],
        self_pooling,
        tuning: None,
        load_before: None,
        load_after: None,
        gpu: None,
        sampling,
    }
}

/// Execution once versus hashing once more, per hash, on the ledger guest's sample block.
fn self_pooling(
    plan: &sweep::Plan,
    prims: &Primitives,
    best: Simd,
    progress: &dyn Progress,
) -> io::Result<Vec<SelfPooling>> {
    let g = guests::find("ledger").expect("ledger guest");
    let runs = plan.min_samples.max(1);
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
        let per_sec = prims.ceiling(hash, best).max(1e5);
        let n = steps.min(((per_sec * plan.target * 2.0) as u64).max(1 << 16));
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(
                sweep::prove_once(params, cfg, &Source::Synthetic { n, seed: 2 })?.0 * steps as f64
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
        progress.advance();
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

/// Writes report.json, report.md and (with the `plots` feature) the plots into `dir` (created), each file atomically.
pub fn write_report(r: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    #[allow(unused_mut)] // without the plots feature there is nothing to add
    let mut files = vec![
        ("report.json", r.to_json()),
        ("report.md", report::markdown(r)),
    ];
    #[cfg(feature = "plots")]
    files.extend([
        ("speedup.svg", plot::speedup(r)),
        ("simd.svg", plot::simd(r)),
        ("lanes.svg", plot::lanes(r)),
        ("tuning.svg", plot::tuning(r)),
    ]);
    let mut out = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        poie_files::atomic::write(&p, text.as_bytes(), false)?;
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
    fn a_cap_keeps_the_narrower_backends_and_portable_always() {
        let all = Backends::capped(None);
        assert_eq!(all.blake3, Simd::available());
        assert_eq!(all.best(), Simd::detect());
        let portable = Backends::capped(Some(Simd::Portable));
        assert_eq!(portable.blake3, vec![Simd::Portable]);
        assert_eq!(portable.keccak(), vec![Simd::Portable]);
        let avx2 = Backends::capped(Some(Simd::Avx2));
        assert!(avx2.blake3.iter().all(|s| s.at_most(Simd::Avx2)));
        assert!(!avx2.keccak().contains(&Simd::Sse41));
    }
}
