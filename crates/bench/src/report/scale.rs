//! Reports far beyond a real sweep's size: refused past [`MAX_POINTS`], and analysed and
//! rendered in proportion to their points below it (the tables once scanned every point per
//! layout, per configuration: quadratic).

use super::fixture::{sample_report, with_rates};
use super::*;

/// The fixture with `n` synthetic points of distinct layouts (each layout at one and two
/// threads), the shape that made every per-layout scan quadratic.
fn report_with(n: usize) -> Report {
    let mut r = sample_report();
    let template = r.points[0].clone();
    r.points = (0..n)
        .map(|i| {
            let mut p = template.clone();
            p.lanes = 1 + (i / 4) as u32;
            p.chained = i % 4 < 2;
            p.threads = 1 + i % 2;
            with_rates(&mut p, &[10.0 + (i % 7) as f64, 10.1, 9.9]);
            p
        })
        .collect();
    r
}

#[test]
fn a_report_over_the_point_cap_is_refused_by_name() {
    let at_cap = report_with(MAX_POINTS).to_json();
    let r = Report::from_json(&at_cap).expect("the cap itself loads");
    assert_eq!(r.points.len(), MAX_POINTS);
    let over = report_with(MAX_POINTS + 1).to_json();
    let e = Report::from_json(&over).expect_err("refused");
    assert!(matches!(e, FileError::Invalid { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("10001 points, more than the 10000 a benchmark report may hold"),
        "{e}"
    );
    let path = std::env::temp_dir().join(format!("poie-scale-{}.json", std::process::id()));
    std::fs::write(&path, over).expect("write");
    let e = Report::read(&path);
    let _ = std::fs::remove_file(&path);
    let e = e.expect_err("refused");
    assert!(e.to_string().contains("more than the 10000"), "{e}");
}

/// 100 000 points, ten times the cap (analysed directly, as the cap is the loader's): the old
/// tables took minutes here (6.4 s at 20 000 points, over 150 s at 102 000); in proportion
/// they take a few seconds, far inside the bound below.
#[test]
fn a_hundred_thousand_points_are_analysed_and_rendered_in_proportion() {
    let mut r = report_with(100_000);
    let start = std::time::Instant::now();
    r.analyse();
    // Every layout's row, the unchained one included.
    assert_eq!(r.fairness.len(), 25_000 + 1);
    let md = crate::compare::markdown(std::slice::from_ref(&r), &[]);
    assert!(md.contains("| blake3 | best | L=25000 chained | 2 | synthetic |"));
    assert!(!verdict(&r).is_empty());
    let took = start.elapsed();
    assert!(
        took < std::time::Duration::from_secs(60),
        "{took:?}: quadratic again?"
    );
}
