//! `poie bench --quick` as a smoke test, and the report, compare and tune commands on its
//! output. No timing is asserted.

use poie::bench::report::{Report, SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn poie(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poie"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("poie runs")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
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
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = files_under(&d.join("out"));
    let json = files
        .iter()
        .find(|p| p.ends_with("report.json"))
        .expect("report.json written");
    let folder = json.parent().expect("folder");
    for name in ["report.md", "speedup.svg", "simd.svg", "lanes.svg"] {
        assert!(folder.join(name).exists(), "{name} missing");
    }
    // results/<machine id>/<timestamp>/
    let machine = folder
        .parent()
        .expect("machine dir")
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();

    let text = std::fs::read_to_string(json).expect("json");
    let r = Report::from_json(&text).expect("report parses");
    assert_eq!(r.schema_version, SCHEMA_VERSION);
    assert_eq!(r.fingerprint.machine_id, machine);
    assert_eq!(Report::from_json(&r.to_json()).expect("round trip"), r);
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

    let md = std::fs::read_to_string(folder.join("report.md")).expect("md");
    for heading in [
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
    for name in ["speedup.svg", "simd.svg", "lanes.svg"] {
        assert_svg(
            &std::fs::read_to_string(folder.join(name)).expect("svg"),
            name,
        );
    }

    // A schema change is refused with a clear message.
    let old = text.replacen(
        &format!("\"schema_version\": {SCHEMA_VERSION}"),
        "\"schema_version\": 999",
        1,
    );
    std::fs::write(d.join("old.json"), old).expect("write");
    let o = poie(d, &["report", "old.json"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("schema version 999"));

    // Two reports merge into one comparison.
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
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cmp = std::fs::read_to_string(d.join("cmp/comparison.md")).expect("comparison");
    assert!(cmp.contains("Other CPU") && cmp.contains(&machine));
    assert!(
        cmp.contains("(2.00x)"),
        "the faster machine's advantage is shown"
    );
    assert_svg(
        &std::fs::read_to_string(d.join("cmp/machines.svg")).expect("svg"),
        "machines.svg",
    );

    let o = poie(
        d,
        &[
            "tune",
            "--report",
            json.to_str().expect("utf8"),
            "--reference-cores",
            "4",
            "--reference-simd",
            "avx2",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("| lanes | reference keeps |") && out.contains("Modelled"),
        "{out}"
    );
    let o = poie(
        d,
        &[
            "tune",
            "--report",
            json.to_str().expect("utf8"),
            "--reference-simd",
            "neon",
        ],
    );
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
        assert!(String::from_utf8_lossy(&o.stderr).contains("--threads"));
    }
    assert!(!d.join("out").exists(), "nothing written for bad arguments");
    let o = poie(
        d,
        &["bench", "--quick", "--threads", "3,1,3", "--out-dir", "out"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = files_under(&d.join("out"))
        .into_iter()
        .find(|p| p.ends_with("report.json"))
        .expect("report.json written");
    let r = Report::from_json(&std::fs::read_to_string(json).expect("json")).expect("parses");
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
