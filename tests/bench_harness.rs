//! `poie bench --quick` as a smoke test, and the report, compare and tune commands on its
//! output. No timing is asserted.

mod common;

use common::cli::{assert_ok, poie, stderr, stdout};
use common::fixtures::files_under;
use poie::bench::report::{Report, SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The report.json `poie bench --out-dir` wrote below `out`.
fn report_json(out: &Path) -> PathBuf {
    files_under(out)
        .into_iter()
        .find(|p| p.ends_with("report.json"))
        .expect("report.json written")
}

/// The report in `json`.
fn load(json: &Path) -> Report {
    Report::from_json(&std::fs::read_to_string(json).expect("json")).expect("parses")
}

/// A plot at `path`: a valid SVG with the `plots` feature; without it, no file at all (the
/// Markdown then links none).
fn assert_plot(path: &Path) {
    let what = path.display();
    if cfg!(feature = "plots") {
        assert_svg(
            &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{what}: {e}")),
            &what.to_string(),
        );
    } else {
        assert!(!path.exists(), "{what} written without the plots feature");
    }
}

fn assert_svg(text: &str, what: &str) {
    let doc =
        roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{what} is not valid XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg", "{what}");
    assert!(
        doc.descendants().any(|n| n.has_tag_name("text")),
        "{what} has no text"
    );
}

#[test]
fn quick_bench_writes_a_complete_report_that_report_and_tune_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let o = poie(d, &["bench", "--quick", "--out-dir", "out"]);
    assert_ok(&o);
    let json = report_json(&d.join("out"));
    let folder = json.parent().expect("folder");
    assert!(folder.join("report.md").exists(), "report.md missing");
    for name in ["speedup.svg", "simd.svg", "lanes.svg", "tuning.svg"] {
        assert_plot(&folder.join(name));
    }
    // results/<machine id>/<timestamp>/
    let machine = folder
        .parent()
        .expect("machine dir")
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();

    let text = std::fs::read_to_string(&json).expect("json");
    let r = Report::from_json(&text).expect("report parses");
    assert_eq!(r.schema_version, SCHEMA_VERSION);
    assert_eq!(r.fingerprint.machine_id, machine);
    assert_eq!(Report::from_json(&r.to_json()).expect("round trip"), r);
    the_points_are_complete(&r);
    the_fairness_rows_name_their_baseline(&r);
    the_phases_and_the_sampling_are_reported(&r, &o);
    let verdict = the_verdict_and_the_plots_are_written(&r, &o, folder);

    // A schema change is refused with a clear message.
    let old = text.replacen(
        &format!("\"schema_version\": {SCHEMA_VERSION}"),
        "\"schema_version\": 999",
        1,
    );
    std::fs::write(d.join("old.json"), old).expect("write");
    let o = poie(d, &["report", "old.json"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("schema version 999"));

    two_reports_merge_into_one_comparison(d, &json, &r, &machine, &verdict);
    tune_reads_the_report(d, &json);
}

fn the_points_are_complete(r: &Report) {
    assert!(
        r.points.iter().any(|p| p.oversubscribed),
        "an oversubscribed point is measured"
    );
    assert!(r
        .points
        .iter()
        .all(|p| p.median > 0.0 && p.min <= p.median && p.median <= p.max));
    assert!(r
        .points
        .iter()
        .all(|p| p.ceiling > 0.0 && p.predicted > 0.0));
    assert!(!r.fairness.is_empty());
    assert_eq!(r.self_pooling.len(), 2);
    assert!(r.tuning.is_some());
    if std::path::Path::new("/proc/loadavg").exists() {
        assert!(r.load_before.is_some() && r.load_after.is_some());
        assert!(
            r.points.iter().all(|p| p.load.is_some_and(|l| l >= 0.0)),
            "the load around every point is recorded"
        );
    }
}

/// The fairness rows name their baseline: one lane on one core of the main backend.
fn the_fairness_rows_name_their_baseline(r: &Report) {
    let base = r
        .points
        .iter()
        .find(|p| {
            p.hash == poie::proof::HashId::Blake3
                && p.simd == r.fingerprint.blake3_detected
                && p.lanes == 1
                && p.chained
                && p.threads == 1
                && p.source == poie::bench::report::SourceKind::Synthetic
        })
        .expect("one lane on one core is measured");
    for row in r
        .fairness
        .iter()
        .filter(|f| f.hash == poie::proof::HashId::Blake3)
    {
        assert_eq!(row.baseline_rate, base.median);
        // The gain is the median of the paired rounds of the best point, never an
        // oversubscribed one, over the baseline: the same figure the tables and plots show.
        let best = r
            .points
            .iter()
            .find(|p| {
                p.hash == poie::proof::HashId::Blake3
                    && p.simd == r.fingerprint.blake3_detected
                    && p.source == poie::bench::report::SourceKind::Synthetic
                    && p.chained == row.lanes.is_some()
                    && row.lanes.is_none_or(|l| p.lanes == l)
                    && p.median == row.best_rate
            })
            .expect("the best point");
        assert!(!best.oversubscribed, "{row:?}");
        assert_eq!(row.best_speedup, best.ratio(base).median);
        assert!(row.gain_over_same_layout > 0.0);
    }
}

/// A plain line per phase on a stderr that is not a terminal, and the samples of every point
/// within the recorded sampling rule.
fn the_phases_and_the_sampling_are_reported(r: &Report, o: &Output) {
    let err = stderr(o);
    for phase in [
        "poie: measuring the primitives",
        "poie: calibrating ",
        "poie: sampling ",
        "poie: round 1: sampling ",
        "poie: self-pooling",
    ] {
        assert!(err.contains(phase), "{phase}: {err}");
    }
    let sampling = r.sampling.as_ref().expect("the sampling rule is recorded");
    assert!(r
        .points
        .iter()
        .all(|p| p.samples_secs.len() >= sampling.min_samples
            && p.samples_secs.len() <= sampling.max_samples
            && p.rounds.len() == p.samples_secs.len()));
}

/// report.md opens with the verdict, which `poie bench` also prints, and has every section;
/// the plots are SVG with text. Returns the verdict.
fn the_verdict_and_the_plots_are_written(r: &Report, o: &Output, folder: &Path) -> Vec<String> {
    let md = std::fs::read_to_string(folder.join("report.md")).expect("md");
    let verdict = poie::bench::report::verdict(r);
    assert!((3..=6).contains(&verdict.len()), "{verdict:?}");
    assert!(
        md.lines().take(8).any(|l| l == "## Verdict"),
        "report.md opens with the verdict"
    );
    let (out, err) = (stdout(o), stderr(o));
    for line in &verdict {
        assert!(md.contains(&format!("- {line}\n")), "{line}");
        assert!(
            out.contains(&format!("- {line}\n")),
            "poie bench prints the verdict: {line}"
        );
    }
    assert!(out.contains("Verdict:"));
    assert!(verdict[0].contains("indicative only"));
    assert!(err.contains("blake3 baseline, one lane on one core (blake3 "));
    assert!(err.contains("over the baseline"));
    for heading in [
        "**Indicative only:**",
        "## Verdict",
        "baseline one lane on one core",
        "gain over the same L on one core",
        "| 95% interval | samples | load per core | steal | flags |",
        "## Primitives",
        "## Fairness",
        "## Speedup versus threads",
        "## SIMD gain per backend",
        "## Self-pooling",
        "Modelled machines (not measured)",
        "(o)",
    ] {
        assert!(md.contains(heading), "report.md lacks {heading}");
    }
    assert_eq!(
        md.contains("![lane tuning](tuning.svg)"),
        cfg!(feature = "plots"),
        "report.md links the plots when, and only when, it has them"
    );
    if cfg!(feature = "plots") {
        let speedup = std::fs::read_to_string(folder.join("speedup.svg")).expect("svg");
        assert!(speedup.contains("ideal: linear to") && speedup.contains("paired ratios"));
    }
    verdict
}

/// The report and a copy from a twice-as-fast "other" machine merge into one comparison.
fn two_reports_merge_into_one_comparison(
    d: &Path,
    json: &Path,
    r: &Report,
    machine: &str,
    verdict: &[String],
) {
    let mut other = r.clone();
    other.fingerprint.machine_id = "000000000000".into();
    other.fingerprint.cpu_model = "Other CPU".into();
    other.points.iter_mut().for_each(|p| p.median *= 2.0);
    std::fs::write(d.join("other.json"), other.to_json()).expect("write");
    let o = poie(
        d,
        &[
            "report",
            json.to_str().expect("utf8"),
            "other.json",
            "--out-dir",
            "cmp",
        ],
    );
    assert_ok(&o);
    let cmp = std::fs::read_to_string(d.join("cmp/README.md")).expect("comparison");
    assert!(cmp.contains("Other CPU") && cmp.contains(machine));
    assert!(cmp.contains("## Verdicts") && cmp.contains(&format!("- {}\n", verdict[1])));
    assert!(
        cmp.contains("(2.00x)"),
        "the faster machine's advantage is shown"
    );
    assert_plot(&d.join("cmp/machines.svg"));
}

/// `poie tune` models a reference machine from the report, and refuses an unknown backend.
fn tune_reads_the_report(d: &Path, json: &Path) {
    let tune = |extra: &[&str]| {
        let report = ["tune", "--report", json.to_str().expect("utf8")];
        poie(d, &[&report[..], extra].concat())
    };
    let o = tune(&["--reference-cores", "4", "--reference-simd", "avx2"]);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("| lanes | reference keeps |") && out.contains("Modelled"),
        "{out}"
    );
    let o = tune(&["--reference-simd", "neon"]);
    assert!(!o.status.success());
}

#[test]
fn the_thread_axis_is_chosen_with_threads_and_bad_lists_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for bad in ["0", "1,x", "5000", ""] {
        let o = poie(
            d,
            &["bench", "--quick", "--threads", bad, "--out-dir", "out"],
        );
        assert_eq!(o.status.code(), Some(2), "--threads {bad:?} is refused");
        assert!(stderr(&o).contains("--threads"));
    }
    assert!(!d.join("out").exists(), "nothing written for bad arguments");
    let o = poie(
        d,
        &["bench", "--quick", "--threads", "3,1,3", "--out-dir", "out"],
    );
    assert_ok(&o);
    let json = report_json(&d.join("out"));
    let r = load(&json);
    let mut axis: Vec<usize> = r
        .points
        .iter()
        .filter(|p| {
            p.hash == poie::proof::HashId::Blake3 && p.simd == r.fingerprint.blake3_detected
        })
        .filter(|p| p.source == poie::bench::report::SourceKind::Synthetic)
        .map(|p| p.threads)
        .collect();
    axis.sort_unstable();
    axis.dedup();
    assert_eq!(axis, vec![1, 3]);
}

/// The committed reports (written by older versions of poie, without load readings or a
/// named baseline) still load, get a verdict, and `poie report` gathers them into a README
/// with links to each report.
#[test]
fn committed_reports_load_and_report_gathers_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let mut jsons: Vec<PathBuf> = files_under(&root)
        .into_iter()
        .filter(|p| p.ends_with("report.json"))
        .collect();
    jsons.sort();
    assert!(!jsons.is_empty(), "results/ holds reports");
    for j in &jsons {
        let r = Report::from_json(&std::fs::read_to_string(j).expect("read"))
            .unwrap_or_else(|e| panic!("{}: {e}", j.display()));
        assert!(r
            .fairness
            .iter()
            .all(|f| !f.baseline.is_empty() && f.baseline_rate > 0.0));
        let v = poie::bench::report::verdict(&r);
        assert!(
            v[1].starts_with("Unbounded gain: "),
            "{}: {v:?}",
            j.display()
        );
        // This poie's model refits on the report's own points (`examples/model_fit.rs` prints
        // how well): reports from before the chained rates fall back to the independent ones.
        let mut points = r.points.clone();
        let models = poie::bench::report::fit_models(&r.primitives, &mut points, r.cores());
        assert_eq!(models.len(), r.models.len(), "{}", j.display());
        for ms in &models {
            let m = &ms.model;
            assert!(m.eff.is_finite() && m.eff > 0.0, "{}: {m:?}", j.display());
            assert!(m.fixed_secs.is_finite() && m.fixed_secs >= 0.0);
            assert!(m.par.is_finite() && m.par > 0.0);
            assert!(ms.median_error.is_finite() && ms.median_error <= ms.max_error);
        }
        assert!(points
            .iter()
            .all(|p| p.predicted.is_finite() && p.predicted > 0.0));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Copy them so the links are relative to the output folder, as in results/.
    let mut args = vec!["report".to_string()];
    for j in &jsons {
        let rel = j.strip_prefix(&root).expect("under results");
        let to = d.join("results").join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(j, &to).expect("copy");
        let md = j.with_file_name("report.md");
        if md.is_file() {
            std::fs::copy(&md, to.with_file_name("report.md")).expect("copy");
        }
        args.push(to.to_string_lossy().into_owned());
    }
    args.extend([
        "--out-dir".into(),
        d.join("results").to_string_lossy().into_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = poie(d, &args);
    assert_ok(&o);
    let md = std::fs::read_to_string(d.join("results/README.md")).expect("README.md");
    assert_eq!(
        md.matches("\n- Unbounded gain: ").count(),
        jsons.len(),
        "{md}"
    );
    for j in &jsons {
        let rel = j.strip_prefix(&root).expect("under results");
        let link = if j.with_file_name("report.md").is_file() {
            rel.with_file_name("report.md")
        } else {
            rel.to_path_buf()
        };
        let name = link
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            md.contains(&format!("[{name}]({})", link.to_string_lossy())),
            "{md}"
        );
    }
    assert_plot(&d.join("results/machines.svg"));
}

/// A forced backend set: `--max-simd` makes any CPU measure as a machine without the wider
/// backends (portable everywhere; AVX2-only where the CPU has AVX2), and the report it writes
/// is sane and says what it extrapolated.
#[test]
fn a_capped_backend_set_measures_like_a_narrower_machine() {
    let mut caps = vec![poie::proof::Simd::Portable];
    if poie::proof::Simd::available().contains(&poie::proof::Simd::Avx2) {
        caps.push(poie::proof::Simd::Avx2);
    }
    for cap in caps {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let o = poie(
            d,
            &[
                "bench",
                "--quick",
                "--threads",
                "1,2",
                "--max-simd",
                cap.name(),
                "--out-dir",
                "out",
            ],
        );
        assert_ok(&o);
        let json = report_json(&d.join("out"));
        let r = load(&json);
        assert_eq!(r.fingerprint.simd_cap, Some(cap));
        assert_eq!(r.fingerprint.blake3_detected, cap);
        assert!(r.fingerprint.blake3_backends.iter().all(|s| s.at_most(cap)));
        assert!(r.points.iter().all(|p| p.simd.at_most(cap)), "{cap}");
        for ms in &r.models {
            let v = poie::bench::model::sanity_violations(
                &ms.model,
                poie::bench::report::analysis::REFERENCE,
                &poie::bench::report::analysis::BIG,
            );
            assert!(v.is_empty(), "{cap} {}: {v:#?}", ms.hash);
        }
        let t = r.tuning.as_ref().expect("tuning");
        assert!(
            t.extrapolated,
            "AVX-512 is extrapolated under a cap of {cap}"
        );
        assert!(t
            .rows
            .iter()
            .flat_map(|row| row.big_gains.iter())
            .all(|(_, g)| *g >= 1.0));
        let v = poie::bench::report::verdict(&r).join("\n");
        assert!(
            v.contains(&format!("(backends capped at {cap} by --max-simd)")),
            "{v}"
        );
        assert!(v.contains(&format!(
            "SIMD backends this machine lacks extrapolated from its {cap} by nominal degree"
        )));
    }
    // A backend the CPU cannot run is simply not measured; an unknown name is refused.
    let dir = tempfile::tempdir().expect("tempdir");
    let o = poie(
        dir.path(),
        &["bench", "--quick", "--max-simd", "neon", "--out-dir", "out"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown SIMD backend 'neon'"));
}

/// "Predict my machine from a short primitives run": `--primitives-only` writes a report
/// without a sweep, and `tune --primitives` models that machine with another machine's fit.
#[test]
fn a_primitives_run_is_enough_to_model_this_machine_from_another_fit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let o = poie(
        d,
        &["bench", "--quick", "--primitives-only", "--out-dir", "out"],
    );
    assert_ok(&o);
    let json = report_json(&d.join("out"));
    let r = load(&json);
    assert!(r.points.is_empty() && r.models.is_empty() && r.tuning.is_none());
    assert!(!r.primitives.blake3_ceilings.is_empty() && r.primitives.memcpy_all > 0.0);
    let fitted = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reports/epyc-avx2-2core-003d6274276f.json");
    let o = poie(
        d,
        &[
            "tune",
            "--report",
            fitted.to_str().expect("utf8"),
            "--primitives",
            json.to_str().expect("utf8"),
        ],
    );
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("| lanes | reference keeps |"), "{out}");
    assert!(
        stderr(&o).contains("with its own primitives and the costs fitted on AMD EPYC (2 cores)")
    );
    // --primitives needs the fit it carries.
    let o = poie(d, &["tune", "--primitives", json.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
}
