//! Whether the model carries from one machine to another, and whether one machine's runs
//! agree with each other: the two checks `poie report` publishes beside the reports.
//!
//! The cross-machine check answers a buyer's question, "what would that 64-core box do?",
//! the only honest way: fit the model on one machine's points, give it another machine's
//! primitives alone ([`transfer`]), and compare what it predicts with what that machine
//! measured. The error is published per (source machine, target machine) pair, since a
//! median over all pairs would be decided by whichever class has the most reports.

use super::model::Machine;
use super::report::analysis::{point_model, transfer};
use super::report::fairness::Recommendation;
use super::report::{measured_recommendation, Mode, Report, SourceKind};
use poie_proof::HashId;

/// The model of one machine predicting another machine's points.
#[derive(Clone, Debug, PartialEq)]
pub struct PairError {
    /// Machine ids, and the reports of each that took part.
    pub source: String,
    pub target: String,
    pub source_reports: usize,
    pub target_reports: usize,
    /// Points predicted (each target point once per source report), and the median and worst
    /// relative error.
    pub points: usize,
    pub median: f64,
    pub worst: f64,
}

/// Errors of `source`'s fitted models, carried to `target`'s primitives and cores, on
/// `target`'s measured points (oversubscribed ones excepted, the VM included).
pub fn errors(source: &Report, target: &Report) -> Vec<f64> {
    let mut out = Vec::new();
    let cores = target.cores();
    for ms in &source.models {
        let model = transfer(&ms.model, &source.primitives, &target.primitives);
        for p in target
            .points
            .iter()
            .filter(|p| p.hash == ms.hash && !p.oversubscribed && p.median > 0.0)
        {
            let predicted = point_model(&model, &target.primitives, p.source).predict(
                Machine {
                    cores,
                    simd: p.simd,
                },
                p.config(),
            );
            let e = ((predicted - p.median) / p.median).abs();
            if e.is_finite() {
                out.push(e);
            }
        }
    }
    out
}

/// The machines of `reports` in order of first appearance, with the indices of their reports.
fn machines(reports: &[Report]) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let id = &r.fingerprint.machine_id;
        match out.iter_mut().find(|(m, _)| m == id) {
            Some((_, v)) => v.push(i),
            None => out.push((id.clone(), vec![i])),
        }
    }
    out
}

/// Every ordered pair of machines, the same machine included (each report predicting the
/// machine's other reports): the pooled errors of every source report on every target report.
pub fn cross_check(reports: &[Report]) -> Vec<PairError> {
    let ms = machines(reports);
    let mut out = Vec::new();
    for (a, ra) in &ms {
        for (b, rb) in &ms {
            let mut e = Vec::new();
            for &i in ra {
                for &j in rb.iter().filter(|&&j| j != i) {
                    if let (Some(s), Some(t)) = (reports.get(i), reports.get(j)) {
                        e.extend(errors(s, t));
                    }
                }
            }
            if e.is_empty() {
                continue;
            }
            e.sort_by(f64::total_cmp);
            out.push(PairError {
                source: a.clone(),
                target: b.clone(),
                source_reports: ra.len(),
                target_reports: rb.len(),
                points: e.len(),
                median: e.get(e.len() / 2).copied().unwrap_or(0.0),
                worst: e.last().copied().unwrap_or(0.0),
            });
        }
    }
    out
}

/// What two runs of one machine said, side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    pub first: usize,
    pub second: usize,
    /// The largest relative difference of the unbounded gain, and of the gain at any L both
    /// measured.
    pub unbounded: f64,
    pub worst_l: Option<(u32, f64)>,
    /// The recommended L for the machine (0: none) and for the reference, in each run.
    pub here: (u32, u32),
    pub reference: (Option<u32>, Option<u32>),
    /// The share of points flagged, in each.
    pub flagged: (f64, f64),
}

impl Agreement {
    /// The bar for two consecutive default runs: within 10% on the unbounded gain
    /// and at every L, the same recommendations, at most 20% of points flagged.
    pub fn agrees(&self) -> bool {
        self.unbounded <= 0.10
            && self.worst_l.is_none_or(|(_, d)| d <= 0.10)
            && self.here.0 == self.here.1
            && self.reference.0 == self.reference.1
            && self.flagged.0 <= 0.20
            && self.flagged.1 <= 0.20
    }
}

fn relative(a: f64, b: f64) -> f64 {
    let m = a.abs().max(b.abs());
    if m > 0.0 {
        (a - b).abs() / m
    } else {
        0.0
    }
}

/// Compares two reports' verdict figures.
pub fn agreement(reports: &[Report], first: usize, second: usize) -> Option<Agreement> {
    let (a, b) = (reports.get(first)?, reports.get(second)?);
    let rows = |r: &Report| -> Vec<(Option<u32>, f64)> {
        r.fairness
            .iter()
            .filter(|f| f.hash == HashId::Blake3)
            .map(|f| (f.lanes, f.best_speedup))
            .collect()
    };
    let (ra, rb) = (rows(a), rows(b));
    let unchained = |v: &[(Option<u32>, f64)]| v.iter().find(|x| x.0.is_none()).map(|x| x.1);
    let unbounded = relative(unchained(&ra)?, unchained(&rb)?);
    let worst_l = ra
        .iter()
        .filter_map(|(l, g)| {
            let l = (*l)?;
            let h = rb.iter().find(|x| x.0 == Some(l))?.1;
            Some((l, relative(*g, h)))
        })
        .max_by(|x, y| x.1.total_cmp(&y.1));
    let here = |r: &Report| match measured_recommendation(r, HashId::Blake3) {
        Some(Recommendation::Supported { lanes, .. })
        | Some(Recommendation::Undecided { lanes, .. }) => lanes,
        _ => 0,
    };
    let reference = |r: &Report| r.tuning.as_ref().and_then(|t| t.recommended);
    let flagged =
        |r: &Report| super::report::flagged(r).len() as f64 / r.points.len().max(1) as f64;
    Some(Agreement {
        first,
        second,
        unbounded,
        worst_l,
        here: (here(a), here(b)),
        reference: (reference(a), reference(b)),
        flagged: (flagged(a), flagged(b)),
    })
}

/// Consecutive default runs of the same machine and the same poie (git commit): each with the
/// next, in the order they ran.
pub fn consecutive_runs(reports: &[Report]) -> Vec<Agreement> {
    let mut idx: Vec<usize> = (0..reports.len())
        .filter(|&i| {
            reports.get(i).is_some_and(|r| {
                r.mode == Mode::Default
                    && r.points.iter().any(|p| p.source == SourceKind::Synthetic)
            })
        })
        .collect();
    idx.sort_by(|&i, &j| {
        let key = |k: usize| {
            reports
                .get(k)
                .map(|r| (r.fingerprint.machine_id.clone(), r.created_utc.clone()))
        };
        key(i).cmp(&key(j))
    });
    idx.windows(2)
        .filter_map(|w| {
            let (a, b) = (reports.get(w[0])?, reports.get(w[1])?);
            let same = a.fingerprint.machine_id == b.fingerprint.machine_id
                && a.fingerprint.git_commit == b.fingerprint.git_commit
                && !a.fingerprint.git_commit.ends_with("-dirty");
            if same {
                agreement(reports, w[0], w[1])
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_report;

    #[test]
    fn a_model_carried_to_its_own_primitives_predicts_its_own_points() {
        let r = sample_report();
        let own: Vec<f64> = r
            .points
            .iter()
            .filter(|p| !p.oversubscribed)
            .map(|p| ((p.predicted - p.median) / p.median).abs())
            .collect();
        let mut carried = errors(&r, &r);
        let mut own = own;
        own.sort_by(f64::total_cmp);
        carried.sort_by(f64::total_cmp);
        assert_eq!(own.len(), carried.len());
        for (a, b) in own.iter().zip(&carried) {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
    }

    #[test]
    fn a_faster_machines_primitives_predict_faster_points() {
        let slow = sample_report();
        let mut fast = sample_report();
        fast.fingerprint.machine_id = "fast".into();
        for t in fast
            .primitives
            .blake3_by_width
            .iter_mut()
            .chain(fast.primitives.blake3_chained_by_width.iter_mut())
        {
            t.by_width.iter_mut().for_each(|w| w.per_second *= 2.0);
        }
        fast.primitives.producer *= 2.0;
        for p in &mut fast.points {
            p.median *= 2.0;
        }
        // The slow machine's model on the fast machine's primitives (its scalar speed twice
        // the slow one's, so its fixed costs half): the fast points as the slow machine's
        // own fit predicts its own.
        let mut e = errors(&slow, &fast);
        e.sort_by(f64::total_cmp);
        let mut own = errors(&slow, &slow);
        own.sort_by(f64::total_cmp);
        for (a, b) in e.iter().zip(&own) {
            assert!((a - b).abs() < 1e-9, "{e:?} {own:?}");
        }
        let pairs = cross_check(&[slow.clone(), fast.clone()]);
        assert_eq!(pairs.len(), 2, "{pairs:?}");
        assert!(pairs.iter().all(|p| p.source != p.target));
    }

    #[test]
    fn runs_agree_when_their_verdict_figures_do() {
        let a = sample_report();
        let mut b = sample_report();
        b.created_utc = "2026-11-27T07:00:00Z".into();
        let runs = consecutive_runs(&[a.clone(), b.clone()]);
        assert_eq!(runs.len(), 1);
        assert!(runs[0].agrees(), "{:?}", runs[0]);
        // A gain off by more than 10% at one L breaks the agreement.
        if let Some(row) = b.fairness.iter_mut().find(|f| f.lanes == Some(4)) {
            row.best_speedup *= 1.2;
        }
        let runs = consecutive_runs(&[a.clone(), b.clone()]);
        assert!(!runs[0].agrees());
        assert_eq!(runs[0].worst_l.map(|x| x.0), Some(4));
        // Another commit is not a repeat.
        b.fingerprint.git_commit = "other".into();
        assert!(consecutive_runs(&[a, b]).is_empty());
    }
}
