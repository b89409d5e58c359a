//! The fairness table (what more hardware buys at each lane count, from paired ratios with
//! their intervals) and the lane count recommended for the measured machine.

use super::{FairnessRow, Point, Report, SourceKind, KEEP, KEEP_RESOLUTION};
use crate::stats::Estimate;
use poie_proof::{HashId, Simd};
use std::collections::{BTreeMap, HashMap};

/// The backend a hash was swept on: that of its synthetic points with the most threads (the
/// other backends are measured on one thread only); the widest on a tie.
pub fn main_simd(points: &[Point], hash: HashId) -> Option<Simd> {
    points
        .iter()
        .filter(|p| p.hash == hash && p.source == SourceKind::Synthetic)
        .max_by_key(|p| (p.threads, p.simd.degree()))
        .map(|p| p.simd)
}

/// The point with the highest median among `candidates`, oversubscribed ones excepted (they
/// are measured to show what oversubscription does, never to be crowned); all of them where
/// every one is oversubscribed.
pub fn best_point<'a>(candidates: impl Iterator<Item = &'a Point> + Clone) -> Option<&'a Point> {
    let by_median = |a: &&Point, b: &&Point| a.median.total_cmp(&b.median);
    candidates
        .clone()
        .filter(|p| !p.oversubscribed)
        .max_by(by_median)
        .or_else(|| candidates.max_by(by_median))
}

/// The fairness table from the measured points: per hash, on its main backend, each layout's
/// best point over one lane on one core (the L=1 chained, 1-thread point), over the same
/// layout on one core, and over the best unchained point (what the layout keeps). Every gain
/// is a median of paired ratios ([`Point::ratio`]), with its interval.
pub fn fairness(points: &[Point]) -> Vec<FairnessRow> {
    let mut rows = Vec::new();
    for hash in HashId::ALL {
        let Some(simd) = main_simd(points, hash) else {
            continue;
        };
        // The points indexed once, in their order: by layout (every unchained point is one
        // layout), and the first one-thread point of each layout and pinning. A scan of every
        // point per layout made the table quadratic in the points.
        let mut by_layout: BTreeMap<(bool, u32), Vec<&Point>> = BTreeMap::new();
        let mut one_thread: HashMap<(u32, bool, bool), &Point> = HashMap::new();
        for p in points
            .iter()
            .filter(|p| p.hash == hash && p.simd == simd && p.source == SourceKind::Synthetic)
        {
            let layout = (p.chained, if p.chained { p.lanes } else { 1 });
            by_layout.entry(layout).or_default().push(p);
            if p.threads == 1 {
                one_thread
                    .entry((p.lanes, p.chained, p.pinned))
                    .or_insert(p);
            }
        }
        // One core: the unpinned point where there is one (a single worker is not pinned
        // twice).
        let one_core = |lanes: u32, chained: bool| {
            let at = |pinned: bool| one_thread.get(&(lanes, chained, pinned)).copied();
            at(false).or_else(|| at(true)).filter(|p| p.median > 0.0)
        };
        let Some(base) = one_core(1, true) else {
            continue;
        };
        let unchained = by_layout
            .get(&(false, 1))
            .and_then(|v| best_point(v.iter().copied()));
        let baseline = format!("{hash} {simd}, L=1 chained, 1 thread");
        for (&(chained, lanes), of_layout) in &by_layout {
            let Some(b) = best_point(of_layout.iter().copied()) else {
                continue;
            };
            let speedup = b.ratio(base);
            let same = one_core(b.lanes, chained).map(|p| (p.median, b.ratio(p)));
            let keep = match unchained {
                Some(u) if chained => u.median.gt(&0.0).then(|| b.ratio(u)),
                _ => Some(Estimate {
                    median: 1.0,
                    interval: Some((1.0, 1.0)),
                    samples: 0,
                }),
            };
            rows.push(FairnessRow {
                hash,
                lanes: chained.then_some(lanes),
                best_speedup: speedup.median,
                best_config: format!(
                    "{}, {}{}, {}",
                    b.layout_name(),
                    super::thr(b.threads),
                    if b.pinned { " pinned" } else { "" },
                    b.simd
                ),
                best_rate: b.median,
                baseline: baseline.clone(),
                baseline_rate: base.median,
                same_layout_one_core: same.map_or(0.0, |s| s.0),
                gain_over_same_layout: same.map_or(0.0, |s| s.1.median),
                speedup_interval: speedup.interval,
                same_layout_interval: same.and_then(|s| s.1.interval),
                keep: keep.map_or(0.0, |k| k.median),
                keep_interval: keep.and_then(|k| k.interval),
            });
        }
    }
    rows
}

/// Whether a keep ratio's interval decides it keeps [`KEEP`]: `Some(true)` when its lower
/// end does, `Some(false)` when its upper end falls short of the line by more than
/// [`KEEP_RESOLUTION`], `None` (the data cannot tell) otherwise.
pub fn keeps_the_line(keep: &Estimate) -> Option<bool> {
    if keep.lo() >= KEEP {
        Some(true)
    } else if keep.hi() < KEEP - KEEP_RESOLUTION {
        Some(false)
    } else {
        None
    }
}

/// The lane count recommended for the measured machine, from what each chained L keeps of the
/// unbounded rate (paired ratios with their intervals).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Recommendation {
    /// The smallest L whose interval's lower end keeps [`KEEP`].
    Supported { lanes: u32, keep: Estimate },
    /// No L is shown to keep [`KEEP`]; this one's interval reaches it, or falls short of it
    /// by less than [`KEEP_RESOLUTION`] (the data cannot tell).
    Undecided { lanes: u32, keep: Estimate },
    /// Every L falls short; this one keeps the most.
    Short { lanes: u32, keep: Estimate },
}

impl Recommendation {
    pub fn lanes(&self) -> u32 {
        match self {
            Recommendation::Supported { lanes, .. }
            | Recommendation::Undecided { lanes, .. }
            | Recommendation::Short { lanes, .. } => *lanes,
        }
    }
}

/// The smallest measured chained L whose keep's interval lies at or above [`KEEP`]; else the
/// smallest the data cannot tell from it ([`keeps_the_line`]); else the one that keeps the
/// most.
pub fn measured_recommendation(r: &Report, hash: HashId) -> Option<Recommendation> {
    let rows: Vec<(u32, Estimate)> = r
        .fairness
        .iter()
        .filter(|f| f.hash == hash)
        .filter_map(|f| Some((f.lanes?, f.keeps())))
        .filter(|(_, k)| k.median > 0.0)
        .collect();
    if let Some(&(lanes, keep)) = rows.iter().find(|(_, k)| keeps_the_line(k) == Some(true)) {
        return Some(Recommendation::Supported { lanes, keep });
    }
    if let Some(&(lanes, keep)) = rows.iter().find(|(_, k)| keeps_the_line(k).is_none()) {
        return Some(Recommendation::Undecided { lanes, keep });
    }
    rows.iter()
        .max_by(|a, b| a.1.median.total_cmp(&b.1.median))
        .map(|&(lanes, keep)| Recommendation::Short { lanes, keep })
}

/// Pairs of measured L where the larger L's gain lies below the smaller L's (a layout with
/// more lanes allows at least what one with fewer does, so the prover, or noise, is to
/// blame), each with whether their intervals overlap (the data cannot tell them apart).
pub fn not_monotone(rows: &[&FairnessRow]) -> Vec<(u32, u32, bool)> {
    let chained: Vec<&&FairnessRow> = rows.iter().filter(|f| f.lanes.is_some()).collect();
    let mut out = Vec::new();
    // The smaller L with the highest gain, carried along (the last of equal gains, as
    // `max_by`): a scan of every smaller L per row was quadratic.
    let mut best: Option<&&FairnessRow> = None;
    for big in chained.iter().copied() {
        let Some(small) = best else {
            best = Some(big);
            continue;
        };
        if !small.best_speedup.total_cmp(&big.best_speedup).is_gt() {
            best = Some(big);
        }
        if big.best_speedup < small.best_speedup {
            let (b, s) = (big.speedup(), small.speedup());
            let overlap = b.hi() >= s.lo();
            if let (Some(bl), Some(sl)) = (big.lanes, small.lanes) {
                out.push((sl, bl, overlap));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{point_mut, sample_report, with_rates};
    use super::*;

    /// The table as it was computed before the points were indexed: a scan of every point per
    /// layout and per one-core lookup (quadratic), kept as the reference.
    fn naive_fairness(points: &[Point]) -> Vec<(HashId, Option<u32>, String, f64, f64, f64)> {
        let mut rows = Vec::new();
        for hash in HashId::ALL {
            let Some(simd) = main_simd(points, hash) else {
                continue;
            };
            let synth: Vec<&Point> = points
                .iter()
                .filter(|p| p.hash == hash && p.simd == simd && p.source == SourceKind::Synthetic)
                .collect();
            let one_core = |lanes: u32, chained: bool| {
                let at = |pinned: bool| {
                    synth.iter().copied().find(|p| {
                        p.lanes == lanes
                            && p.chained == chained
                            && p.threads == 1
                            && p.pinned == pinned
                    })
                };
                at(false).or_else(|| at(true)).filter(|p| p.median > 0.0)
            };
            let Some(base) = one_core(1, true) else {
                continue;
            };
            let layout_best = |chained: bool, lanes: u32| {
                best_point(
                    synth
                        .iter()
                        .copied()
                        .filter(move |p| p.chained == chained && (!chained || p.lanes == lanes)),
                )
            };
            let unchained = layout_best(false, 1);
            let mut layouts: Vec<(bool, u32)> = synth
                .iter()
                .map(|p| (p.chained, if p.chained { p.lanes } else { 1 }))
                .collect();
            layouts.sort();
            layouts.dedup();
            for (chained, lanes) in layouts {
                let Some(b) = layout_best(chained, lanes) else {
                    continue;
                };
                let same = one_core(b.lanes, chained).map_or(0.0, |p| b.ratio(p).median);
                let keep = match unchained {
                    Some(u) if chained => u.median.gt(&0.0).then(|| b.ratio(u).median),
                    _ => Some(1.0),
                };
                rows.push((
                    hash,
                    chained.then_some(lanes),
                    format!(
                        "{}, {}{}, {}",
                        b.layout_name(),
                        super::super::thr(b.threads),
                        if b.pinned { " pinned" } else { "" },
                        b.simd
                    ),
                    b.ratio(base).median,
                    same,
                    keep.unwrap_or(0.0),
                ));
            }
        }
        rows
    }

    #[test]
    fn the_indexed_table_is_the_naive_one() {
        let template = sample_report().points[0].clone();
        let mut state: u64 = 0x5eed;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for _ in 0..200 {
            let mut points = Vec::new();
            for _ in 0..1 + next(40) {
                let mut p = template.clone();
                p.hash = if next(4) == 0 {
                    HashId::Keccak
                } else {
                    HashId::Blake3
                };
                p.simd = if next(5) == 0 {
                    Simd::Sse41
                } else {
                    Simd::Avx2
                };
                p.lanes = [1, 2, 4, 16][next(4) as usize];
                p.chained = next(3) != 0;
                p.threads = 1 + next(3) as usize;
                p.pinned = next(3) == 0;
                p.oversubscribed = next(6) == 0;
                // Ties on purpose: the same medians recur, and the first point must win.
                let m = 1.0 + next(5) as f64;
                with_rates(&mut p, &[m, m * 1.01, m * 0.99]);
                points.push(p);
            }
            let rows: Vec<_> = fairness(&points)
                .into_iter()
                .map(|r| {
                    (
                        r.hash,
                        r.lanes,
                        r.best_config,
                        r.best_speedup,
                        r.gain_over_same_layout,
                        r.keep,
                    )
                })
                .collect();
            assert_eq!(rows, naive_fairness(&points), "{points:?}");
        }
    }

    #[test]
    fn fairness_names_its_baseline_and_both_gains() {
        let r = sample_report();
        let rows: Vec<&FairnessRow> = r.fairness.iter().collect();
        assert_eq!(rows.len(), 4, "unchained, L=1, 4, 16");
        for row in &rows {
            assert_eq!(row.baseline, "blake3 avx2, L=1 chained, 1 thread");
            assert_eq!(row.baseline_rate, 10e6);
        }
        let l4 = rows.iter().find(|x| x.lanes == Some(4)).expect("L=4");
        assert_eq!(l4.best_rate, 40e6);
        assert!((l4.best_speedup - 4.0).abs() < 1e-9);
        assert_eq!(l4.same_layout_one_core, 18e6);
        assert!((l4.gain_over_same_layout - 40.0 / 18.0).abs() < 1e-9);
        assert!((l4.keep - 40.0 / 90.0).abs() < 1e-9);
        assert_eq!(l4.bound(), Some(8.0));
        let u = rows.iter().find(|x| x.lanes.is_none()).expect("unchained");
        assert!((u.best_speedup - 9.0).abs() < 1e-9);
        assert!((u.gain_over_same_layout - 3.6).abs() < 1e-9);
        assert_eq!(u.keep, 1.0);
        // sse41 measured at one thread only: not the main backend, not a row.
        assert!(rows.iter().all(|x| x.best_config.contains("avx2")));
    }

    #[test]
    fn an_oversubscribed_point_is_never_crowned() {
        let mut r = sample_report();
        // 8 threads on 4 cores measured fastest: the best stays the 4-thread point.
        point_mut(&mut r, 1, false, 8).median = 120e6;
        let rows = fairness(&r.points);
        let u = rows.iter().find(|x| x.lanes.is_none()).expect("unchained");
        assert_eq!(u.best_rate, 90e6);
        assert!(u.best_config.contains("4 threads"), "{}", u.best_config);
    }

    #[test]
    fn gains_and_keeps_carry_the_intervals_of_their_paired_rounds() {
        let mut r = sample_report();
        // Twelve rounds; a slow spell in rounds 2 and 5 hits both points of each ratio.
        let slow = |i: usize| if i == 2 || i == 5 { 0.6 } else { 1.0 };
        let base: Vec<f64> = (0..12).map(|i| 10.0 * slow(i)).collect();
        let l16: Vec<f64> = (0..12).map(|i| (85.0 + (i % 3) as f64) * slow(i)).collect();
        let unchained: Vec<f64> = (0..12).map(|i| 90.0 * slow(i)).collect();
        with_rates(point_mut(&mut r, 1, true, 1), &base);
        with_rates(point_mut(&mut r, 16, true, 4), &l16);
        with_rates(point_mut(&mut r, 1, false, 4), &unchained);
        let rows = fairness(&r.points);
        let row = rows.iter().find(|x| x.lanes == Some(16)).expect("L=16");
        // Every round's ratio is 8.5, 8.6 or 8.7, whatever the spell did.
        let (lo, hi) = row.speedup_interval.expect("an interval");
        assert!(lo >= 8.5 - 1e-9 && hi <= 8.7 + 1e-9, "{lo} {hi}");
        let (klo, khi) = row.keep_interval.expect("an interval");
        assert!(klo >= 85.0 / 90.0 - 1e-9 && khi <= 87.0 / 90.0 + 1e-9);
        r.fairness = rows;
        match measured_recommendation(&r, HashId::Blake3) {
            Some(Recommendation::Supported { lanes: 16, keep }) => assert!(keep.lo() >= KEEP),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_recommendation_needs_the_interval_and_says_when_the_data_cannot_tell() {
        let mut r = sample_report();
        fn set_keep(r: &mut Report, lanes: u32, lo: f64, median: f64, hi: f64) {
            let row = r
                .fairness
                .iter_mut()
                .find(|f| f.lanes == Some(lanes))
                .expect("row");
            row.keep = median;
            row.keep_interval = Some((lo, hi));
        }
        set_keep(&mut r, 4, 0.40, 0.44, 0.48);
        set_keep(&mut r, 16, 0.86, 0.92, 0.97);
        assert!(matches!(
            measured_recommendation(&r, HashId::Blake3),
            Some(Recommendation::Undecided { lanes: 16, .. })
        ));
        // Just short of the line, within the instrument's resolution: still undecided, so
        // that a machine keeping exactly 90% does not flip between runs.
        set_keep(&mut r, 16, 0.885, 0.89, 0.899);
        assert!(matches!(
            measured_recommendation(&r, HashId::Blake3),
            Some(Recommendation::Undecided { lanes: 16, .. })
        ));
        set_keep(&mut r, 16, 0.80, 0.84, 0.875);
        assert!(matches!(
            measured_recommendation(&r, HashId::Blake3),
            Some(Recommendation::Short { lanes: 16, .. })
        ));
    }

    #[test]
    fn a_larger_l_below_a_smaller_one_is_named_with_whether_the_data_can_tell() {
        let mut r = sample_report();
        fn set(r: &mut Report, lanes: u32, lo: f64, median: f64, hi: f64) {
            let row = r
                .fairness
                .iter_mut()
                .find(|f| f.lanes == Some(lanes))
                .expect("row");
            row.best_speedup = median;
            row.speedup_interval = Some((lo, hi));
        }
        set(&mut r, 1, 1.0, 1.05, 1.1);
        set(&mut r, 4, 4.0, 4.2, 4.4);
        set(&mut r, 16, 4.1, 4.15, 4.3);
        let rows: Vec<&FairnessRow> = r.fairness.iter().collect();
        assert_eq!(not_monotone(&rows), vec![(4, 16, true)]);
        let mut r2 = r.clone();
        if let Some(row) = r2.fairness.iter_mut().find(|f| f.lanes == Some(16)) {
            row.best_speedup = 3.0;
            row.speedup_interval = Some((2.9, 3.1));
        }
        let rows: Vec<&FairnessRow> = r2.fairness.iter().collect();
        assert_eq!(not_monotone(&rows), vec![(4, 16, false)]);
    }
}
