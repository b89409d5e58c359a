//! Refits the bench's performance model on reports' own points and prints how far it is off:
//! per report and hash, the error recorded in the report (the model of the poie that wrote
//! it) beside the error of this poie's fit (`poie::bench::report::fit_models`, as `poie bench`
//! fits it). Reports from before a primitive was measured (the chained rates) get the model's
//! fallback for it. No timing runs: the figures come from the reports.
//!
//! usage: cargo run --release --example model_fit [-v] [REPORT.json ...]
//!        (default: every results/*/*/report.json; -v: every point's error as well)

use anyhow::{Context, Result};
use poie::bench::report::{fit_models, Report, SourceKind};
use std::path::{Path, PathBuf};

fn reports_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            reports_under(&p, out)?;
        } else if p.file_name().is_some_and(|n| n == "report.json") {
            out.push(p);
        }
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn refit(path: &Path, verbose: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let r = Report::from_json(&text).map_err(anyhow::Error::msg)?;
    let mut points = r.points.clone();
    let models = fit_models(&r.primitives, &mut points, r.cores());
    let chained = if r.primitives.blake3_chained_by_width.is_empty() {
        "no chained rates: independent ones stand in"
    } else {
        "chained rates measured"
    };
    println!(
        "{} ({} cores, {}, {chained})",
        path.display(),
        r.cores(),
        r.fingerprint.blake3_detected
    );
    for ms in &models {
        let recorded = r
            .models
            .iter()
            .find(|m| m.hash == ms.hash)
            .map_or("-".to_string(), |m| {
                format!("{} median, {} worst", pct(m.median_error), pct(m.max_error))
            });
        println!(
            "  {}: recorded {recorded}; refit {} median, {} worst (eff {:.3}, fixed {:.1} ns per chunk, {:.1} ns per chained row, par {:.3})",
            ms.hash,
            pct(ms.median_error),
            pct(ms.max_error),
            ms.model.eff,
            1e9 * ms.model.fixed_secs,
            1e9 * ms.model.row_secs,
            ms.model.par
        );
    }
    if verbose {
        for p in points
            .iter()
            .filter(|p| !p.oversubscribed && p.median > 0.0)
        {
            let src = if p.source == SourceKind::Vm {
                " vm"
            } else {
                ""
            };
            println!(
                "    {} {} {} t={}{src}: measured {:.2}, modelled {:.2} M chunks/s, {:+.0}%",
                p.hash,
                p.simd,
                p.layout_name(),
                p.threads,
                p.median / 1e6,
                p.predicted / 1e6,
                100.0 * (p.predicted - p.median) / p.median
            );
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    args.retain(|a| a != "-v");
    let mut paths: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        reports_under(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("results"),
            &mut paths,
        )?;
        paths.sort();
    }
    let mut failed = 0;
    for p in &paths {
        // One unreadable report does not hide the others' figures.
        if let Err(e) = refit(p, verbose) {
            eprintln!("{}: {e:#}", p.display());
            failed += 1;
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} reports could not be refitted", paths.len());
    }
    Ok(())
}
