//! `poie bench`, `poie report` and `poie tune`.

use anyhow::{bail, Context, Result};
use poie::bench::model::{self, Machine};
use poie::bench::report::{self, Mode, Report};
use poie::bench::{self as harness, compare};
use poie::proof::{HashId, Simd};
use std::path::PathBuf;
use std::process::ExitCode;

/// Measures the unfair-parallelism bound on this machine and writes a report.
///
/// Sweeps hash (blake3, keccak), blake3 SIMD backend, lanes (chained 1..64 and unchained),
/// worker threads (1, 2, 4, ... cores, plus one oversubscribed point; or --threads) and trace source
/// (synthetic, VM end to end), after measuring the machine's primitives. Writes
/// results/<machine-id>/<timestamp>/{report.json, report.md, *.svg}.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Seconds, not minutes (about 5 s on 2 cores): fewer points and shorter samples; indicative
    /// only.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The long sweep: more lanes, layouts and samples.
    #[arg(long)]
    full: bool,
    /// Pin worker threads to cores.
    #[arg(long)]
    pin: bool,
    /// Worker thread counts to sweep, comma-separated (e.g. 1,2,4,8,16,24). Default: the
    /// powers of two up to the logical cores, the core count, and one oversubscribed point.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<Vec<u64>>,
    /// Directory under which the report folder is created.
    #[arg(long, value_name = "DIR", default_value = "results")]
    out_dir: PathBuf,
    /// Also measure CUDA device 0 (blake3): unchained resident and streamed, the copy
    /// bandwidth and the chained rate per L, as a GPU section, fairness rows and a verdict
    /// line. Fails at once, before the CPU sweep, where CUDA is not usable.
    #[arg(long)]
    gpu: bool,
    /// Measure only the SIMD backends up to this one (portable, sse41, avx2 or avx512), as a
    /// machine without the wider ones would run: e.g. avx2 on an AVX-512 CPU. The report
    /// says so.
    #[arg(long, value_name = "SIMD", value_parser = parse_simd)]
    max_simd: Option<Simd>,
    /// Seconds the sampling rounds may take (default: 420, --quick 10, --full 1800): each
    /// point is sampled until its median is known to within ±5% or this runs out.
    #[arg(long, value_name = "SECS", value_parser = parse_budget)]
    budget: Option<f64>,
    /// Measure the primitives only (about 30 s; with --quick a few seconds) and write a
    /// report without a sweep: enough for `poie tune --report FITTED.json --primitives
    /// THIS.json` to model this machine from another machine's fit.
    #[arg(long, conflicts_with_all = ["threads", "gpu", "budget"])]
    primitives_only: bool,
}

fn parse_budget(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(b) if b.is_finite() && (0.0..=86_400.0).contains(&b) => Ok(b),
        _ => Err(format!("'{s}' is not a number of seconds from 0 to 86400")),
    }
}

fn parse_simd(s: &str) -> Result<Simd, String> {
    match s.parse::<poie::proof::SimdChoice>() {
        Ok(poie::proof::SimdChoice::Fixed(simd)) => Ok(simd),
        Ok(poie::proof::SimdChoice::Auto) => Ok(Simd::detect()),
        Err(e) => Err(e.to_string()),
    }
}

pub fn bench(a: BenchArgs) -> Result<ExitCode> {
    let mode = if a.quick {
        Mode::Quick
    } else if a.full {
        Mode::Full
    } else {
        Mode::Default
    };
    // Open the GPU first: a missing driver should cost a second, not a whole CPU sweep.
    #[cfg(feature = "cuda")]
    let gpu = if a.gpu {
        Some(poie::proof::gpu::Gpu::open(0).context("poie bench --gpu")?)
    } else {
        None
    };
    #[cfg(not(feature = "cuda"))]
    if a.gpu {
        anyhow::bail!("poie bench --gpu: {}", poie::source::DeviceError::NoCuda);
    }
    let backends = harness::Backends::capped(a.max_simd);
    eprintln!(
        "poie: benchmarking this machine, {} sweep ({}); this takes {}",
        mode.name(),
        backends
            .blake3
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", "),
        match mode {
            Mode::Quick => "a few seconds",
            Mode::Default => "3 to 8 minutes on 2 cores, the noisier the machine the longer",
            Mode::Full => "up to an hour",
        }
    );
    let options = harness::Options {
        mode,
        pin: a.pin,
        threads: a.threads.map(|t| {
            let mut t: Vec<usize> = t.into_iter().map(|x| x as usize).collect();
            t.sort_unstable();
            t.dedup();
            t
        }),
        backends,
        budget: a.budget,
        primitives_only: a.primitives_only,
    };
    let r = harness::run(options, &super::progress::Shown::on_stderr())?;
    #[cfg(feature = "cuda")]
    let mut r = r;
    #[cfg(feature = "cuda")]
    if let Some(gpu) = &gpu {
        eprintln!("poie: measuring the GPU ({})", gpu.info().name);
        harness::gpu::attach(&mut r, gpu, mode == Mode::Quick).context("poie bench --gpu")?;
    }
    let dir = harness::report_dir(&a.out_dir, &r);
    let files = harness::write_report(&r, &dir)?;
    let mut named = std::collections::BTreeSet::new();
    for row in &r.fairness {
        if named.insert(row.hash.to_string()) {
            eprintln!(
                "poie: {} baseline, one lane on one core ({}): {:.1} M chunks/s",
                row.hash,
                row.baseline,
                row.baseline_rate / 1e6
            );
        }
        let lanes = row
            .lanes
            .map_or("unchained".to_string(), |l| format!("L={l}"));
        let same = if row.gain_over_same_layout > 0.0 {
            format!(
                ", {:.2}x over {lanes} on one core",
                row.gain_over_same_layout
            )
        } else {
            String::new()
        };
        eprintln!(
            "poie: {} {lanes}: best {:.1} M chunks/s ({}) = {:.2}x over the baseline{same}",
            row.hash,
            row.best_rate / 1e6,
            row.best_config,
            row.best_speedup
        );
    }
    eprintln!(
        "poie: wrote {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("Verdict:");
    for line in report::verdict(&r) {
        println!("- {line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Merges reports from several machines into one comparison (Markdown and SVG).
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// report.json files (two or more to compare; one just re-renders).
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Write README.md (verdicts and comparison) and machines.svg here, with links to each
    /// report.md; otherwise the Markdown goes to stdout. `poie report results/*/*/report.json
    /// --out-dir results` writes results/README.md.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// Reads a report: a regular file of at most SPEC 4's document size, like every other
/// document poie reads.
fn load(path: &std::path::Path) -> Result<Report> {
    Ok(Report::read(path)?)
}

pub fn report(a: ReportArgs) -> Result<ExitCode> {
    let reports = a
        .reports
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>>>()?;
    match a.out_dir {
        Some(dir) => {
            let written = compare::write(&dir, &reports, &a.reports)
                .with_context(|| format!("writing the comparison into {}", dir.display()))?;
            let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            eprintln!("poie: wrote {}", names.join(", "));
        }
        None => print!("{}", compare::markdown(&reports, &[])),
    }
    Ok(ExitCode::SUCCESS)
}

/// Recommends a lane count from the performance model.
///
/// Picks the smallest L at which the reference machine keeps at least --keep of its unbounded
/// (unchained) throughput, and shows how much more the modelled big machines gain with it.
/// Every machine runs its best thread count and backend; figures beyond the measured
/// machine's cores or backends are extrapolated, and say so.
#[derive(clap::Args, Debug)]
pub struct TuneArgs {
    /// A report.json whose fitted model to use; without one, the primitives are measured now
    /// and the model's efficiency is taken as 1.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Another machine's report.json (a `poie bench --primitives-only` run will do): model
    /// that machine, with its own primitives and cores and the costs fitted on --report's
    /// points (the cross-machine prediction of `poie report`).
    #[arg(long, value_name = "FILE", requires = "report")]
    primitives: Option<PathBuf>,
    /// Cores of the reference (mainstream) machine.
    #[arg(long, default_value_t = 4)]
    reference_cores: usize,
    /// SIMD of the reference machine: portable, sse41, avx2 or avx512.
    #[arg(long, default_value = "avx2", value_parser = parse_simd)]
    reference_simd: Simd,
    /// Core counts of the big machines to bound (they are given AVX-512 width).
    #[arg(long, value_delimiter = ',', default_values_t = [32usize, 64],
          value_parser = clap::value_parser!(usize))]
    big_cores: Vec<usize>,
    /// Fraction of unbounded throughput the reference must keep.
    #[arg(long, default_value_t = 0.9)]
    keep: f64,
}

/// The most cores `tune` models: the model tries every thread count up to a machine's cores.
const MAX_TUNE_CORES: usize = 4096;

pub fn tune(a: TuneArgs) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&a.keep) {
        bail!("--keep must be between 0 and 1");
    }
    for &c in a.big_cores.iter().chain([&a.reference_cores]) {
        if !(1..=MAX_TUNE_CORES).contains(&c) {
            bail!("core counts must be between 1 and {MAX_TUNE_CORES} (got {c})");
        }
    }
    let (model, measured_cores) = match (&a.report, &a.primitives) {
        (Some(p), None) => {
            let r = load(p)?;
            let m = r
                .models
                .iter()
                .find(|m| m.hash == HashId::Blake3)
                .map(|m| m.model.clone())
                .context("the report has no blake3 model")?;
            (m, r.cores())
        }
        (Some(p), Some(q)) => {
            let fitted = load(p)?;
            let target = load(q)?;
            let m = fitted
                .models
                .iter()
                .find(|m| m.hash == HashId::Blake3)
                .context("the --report has no blake3 model")?;
            eprintln!(
                "poie: modelling {} ({} cores) with its own primitives and the costs fitted on {} ({} cores)",
                target.fingerprint.cpu_model,
                target.cores(),
                fitted.fingerprint.cpu_model,
                fitted.cores()
            );
            (
                report::analysis::transfer(&m.model, &fitted.primitives, &target.primitives),
                target.cores(),
            )
        }
        (None, _) => {
            eprintln!(
                "poie: no --report given: measuring primitives now (model efficiency taken as 1, no fixed cost per chunk)"
            );
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let prims = harness::measure_primitives(true, &harness::Backends::capped(None));
            (report::model_for(&prims, HashId::Blake3), cores)
        }
    };
    let big: Vec<Machine> = a
        .big_cores
        .iter()
        .map(|&c| Machine {
            cores: c,
            simd: Simd::Avx512,
        })
        .collect();
    let t = model::tune(
        &model,
        Machine {
            cores: a.reference_cores,
            simd: a.reference_simd,
        },
        &big,
        a.keep,
        measured_cores,
    );
    print!(
        "Modelled (not measured).\n\n{}",
        report::tuning_markdown(&t)
    );
    Ok(ExitCode::SUCCESS)
}
