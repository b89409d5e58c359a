//! The model over every committed report and the reports of other machine classes
//! (tests/data/reports): what it must never say, whatever machine the report comes from and
//! whatever CPU runs the test.

mod common;

use common::fixtures::files_under;
use poie::bench::model::{sanity_violations, Machine};
use poie::bench::report::analysis::{BIG, REFERENCE};
use poie::bench::report::{verdict, Report};
use poie::proof::Simd;
use std::path::{Path, PathBuf};

/// A report: a report.json, or any JSON file in a folder named `reports`.
fn is_report(p: &Path) -> bool {
    p.file_name().is_some_and(|n| {
        n == "report.json"
            || p.parent().is_some_and(|d| d.ends_with("reports"))
                && n.to_string_lossy().ends_with(".json")
    })
}

/// Every committed report and every report of tests/data/reports, loaded.
fn all_reports() -> Vec<(PathBuf, Report)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = [root.join("results"), root.join("tests/data/reports")]
        .iter()
        .flat_map(|dir| files_under(dir))
        .filter(|p| is_report(p))
        .collect();
    paths.sort();
    assert!(paths.len() >= 13, "{paths:?}");
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            let r = Report::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, r)
        })
        .collect()
}

#[test]
fn no_fitted_model_of_any_report_models_a_bigger_machine_slower() {
    for (path, r) in all_reports() {
        assert!(!r.models.is_empty(), "{}", path.display());
        for ms in &r.models {
            let v = sanity_violations(&ms.model, REFERENCE, &BIG);
            assert!(v.is_empty(), "{} {}: {v:#?}", path.display(), ms.hash);
        }
        let t = r.tuning.as_ref().expect("tuning");
        for row in &t.rows {
            for (c, g) in &row.big_gains {
                assert!(
                    *g >= 1.0,
                    "{}: L={} {c} cores {g}",
                    path.display(),
                    row.lanes
                );
            }
        }
        for (c, g) in &t.unbounded_gains {
            assert!(*g >= 1.0, "{}: unchained {c} cores {g}", path.display());
        }
    }
}

#[test]
fn the_modelled_machines_and_the_tuning_of_a_report_agree() {
    for (path, r) in all_reports() {
        let t = r.tuning.as_ref().expect("tuning");
        let blake3: Vec<_> = r
            .predictions
            .iter()
            .filter(|p| p.hash == poie::proof::HashId::Blake3)
            .collect();
        let find = |m: Machine, lanes: u32, chained: bool| {
            blake3
                .iter()
                .find(|p| p.machine == m && p.lanes == lanes && p.chained == chained)
                .map(|p| p.chunks_per_sec)
                .unwrap_or_else(|| panic!("{}: {m:?} L={lanes}", path.display()))
        };
        for row in t.rows.iter().filter(|x| [4, 16, 64].contains(&x.lanes)) {
            let reference = find(REFERENCE, row.lanes, true);
            let keeps = reference / find(REFERENCE, 1, false);
            assert!(
                (row.reference_keeps - keeps).abs() < 1e-9,
                "{}",
                path.display()
            );
            for (b, (_, g)) in BIG.iter().zip(&row.big_gains) {
                assert!((g - find(*b, row.lanes, true) / reference).abs() < 1e-9);
            }
        }
        // More cores at the same backend, and a wider backend at the same cores, never lower
        // in the table itself.
        for p in &blake3 {
            for q in &blake3 {
                let more = q.machine.cores >= p.machine.cores
                    && p.machine.simd.at_most(q.machine.simd)
                    && (p.lanes, p.chained) == (q.lanes, q.chained);
                if more {
                    assert!(
                        q.chunks_per_sec >= p.chunks_per_sec,
                        "{}: {:?} {} < {:?} {}",
                        path.display(),
                        q.machine,
                        q.chunks_per_sec,
                        p.machine,
                        p.chunks_per_sec
                    );
                }
            }
        }
    }
}

#[test]
fn an_avx2_only_report_gets_a_sane_and_labelled_verdict() {
    let (path, r) = all_reports()
        .into_iter()
        .find(|(_, r)| r.fingerprint.blake3_detected == Simd::Avx2)
        .expect("the AVX2-only report of tests/data/reports");
    let t = r.tuning.as_ref().expect("tuning");
    assert!(
        t.extrapolated,
        "AVX-512 is extrapolated on an AVX2-only machine"
    );
    let v = verdict(&r).join("\n");
    assert!(
        v.contains("SIMD backends this machine lacks extrapolated from its avx2 by nominal degree (an upper bound)"),
        "{}: {v}",
        path.display()
    );
    assert!(
        v.contains("cores extrapolated from this machine's 2"),
        "{v}"
    );
    // The 32- and 64-core AVX-512 machines gain at least what the 32-core AVX2 one does over
    // the reference, at every L.
    let avx2_32 = Machine {
        cores: 32,
        simd: Simd::Avx2,
    };
    let ms = &r.models[0];
    for row in &t.rows {
        let reference = ms.model.capability(REFERENCE, row.lanes, true).rate;
        let floor = ms.model.capability(avx2_32, row.lanes, true).rate / reference;
        for (_, g) in &row.big_gains {
            assert!(*g >= floor - 1e-12, "L={}: {g} < {floor}", row.lanes);
        }
    }
}
