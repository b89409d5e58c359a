//! Flags on points and warnings on the whole run: figures that cannot all be right, a busy
//! machine, an instrument that flatters, a rough model.

use super::{
    m, thr, FairnessRow, Mode, Point, Report, SourceKind, LOAD_WARN, MODEL_WARN, SLOWER_WARN,
    STEAL_WARN, STREAMED_WARN, TOLERANCE,
};
use poie_proof::HashId;
use std::collections::BTreeMap;

/// The points flagged by [`Point::flags`], with their flags.
pub fn flagged(r: &Report) -> Vec<(&Point, Vec<String>)> {
    r.points
        .iter()
        .map(|p| (p, p.flags(r.cores())))
        .filter(|(_, f)| !f.is_empty())
        .collect()
}

/// Run-level warnings, most basic first.
pub fn warnings(r: &Report) -> Vec<String> {
    let mut w = Vec::new();
    let cores = r.cores();
    if r.mode == Mode::Quick {
        w.push(
            "A --quick run: few, short samples. Indicative only; run `poie bench` for figures to quote."
                .into(),
        );
    }
    if let Some(l) = r.load_before {
        if l.one / cores as f64 > LOAD_WARN {
            w.push(format!(
                "The machine was busy before the run: load average {:.2} on {cores} logical cores.",
                l.one
            ));
        }
    }
    w.extend(slower_with_more_threads(r));
    w.extend(beyond_the_ideal(r));
    w.extend(instrument(r));
    w.extend(bounds(r));
    let flagged = flagged(r);
    if !flagged.is_empty() {
        w.push(format!(
            "{} of {} points are still uncertain after sampling (their median is not known to within ±{:.0}%): marked `!` in the tables, with what was seen around them (load over {LOAD_WARN} per core, steal over {:.0}%, or neither: unexplained).",
            flagged.len(),
            r.points.len(),
            100.0 * TOLERANCE,
            100.0 * STEAL_WARN
        ));
    }
    for ms in r.models.iter().filter(|m| m.max_error > MODEL_WARN) {
        w.push(format!(
            "The {} model is off by up to {:.0}% (median {:.0}%) on this machine's points: modelled figures are rough.",
            ms.hash,
            100.0 * ms.max_error,
            100.0 * ms.median_error
        ));
    }
    w
}

/// More threads measurably slower than fewer, per hash, backend and layout (oversubscription
/// aside): the median paired ratio below `1 - SLOWER_WARN` and its interval below 1.
fn slower_with_more_threads(r: &Report) -> Option<String> {
    let mut slower = Vec::new();
    // The points grouped once, in their order (a scan of every point per group was
    // quadratic), in the order the groups are named.
    let mut groups: BTreeMap<(String, usize, bool, u32), Vec<&Point>> = BTreeMap::new();
    for p in r
        .points
        .iter()
        .filter(|p| p.source == SourceKind::Synthetic)
    {
        let group = groups
            .entry((p.hash.to_string(), p.simd.degree(), p.chained, p.lanes))
            .or_default();
        if !p.oversubscribed {
            group.push(p);
        }
    }
    for mut line in groups.into_values() {
        line.sort_by_key(|p| p.threads);
        // The fastest point with fewer threads than the current one: the best of the runs of
        // thread counts before it, carried along (the last of equal medians, as `max_by`).
        let mut fewer: Option<&Point> = None;
        let mut run_best: Option<&Point> = None;
        for (i, &more) in line.iter().enumerate() {
            if i > 0
                && line
                    .get(i - 1)
                    .is_some_and(|prev| prev.threads < more.threads)
            {
                fewer = later_max(fewer, run_best.take());
            }
            run_best = later_max(run_best, Some(more));
            let Some(fewer) = fewer else {
                continue;
            };
            let (hash, simd) = (more.hash, more.simd);
            let q = more.ratio(fewer);
            if q.median < 1.0 - SLOWER_WARN && q.hi() < 1.0 {
                slower.push(format!(
                    "{hash} {simd} {}: {} {} < {} {}",
                    more.layout_name(),
                    thr(more.threads),
                    m(more.median),
                    thr(fewer.threads),
                    m(fewer.median)
                ));
            }
        }
    }
    (!slower.is_empty()).then(|| format!(
        "More threads were slower than fewer (by over {:.0}%, their interval below 1; M chunks/s), which only contention explains: {}.",
        100.0 * SLOWER_WARN,
        slower.join("; ")
    ))
}

/// Of two points, the one with the higher median; `b` on a tie, as `max_by` keeps the last.
fn later_max<'a>(a: Option<&'a Point>, b: Option<&'a Point>) -> Option<&'a Point> {
    match (a, b) {
        (Some(a), Some(b)) if a.median.total_cmp(&b.median).is_gt() => Some(a),
        (a, None) => a,
        (_, b) => b,
    }
}

/// Speedups over one thread shown beyond the ideal (linear up to the logical cores).
fn beyond_the_ideal(r: &Report) -> Option<String> {
    let cores = r.cores();
    let mut beyond = Vec::new();
    let at_one = r.one_thread_points();
    for p in r
        .points
        .iter()
        .filter(|p| p.source == SourceKind::Synthetic && p.threads > 1)
    {
        let Some(one) = at_one
            .get(&(p.hash, p.simd, p.lanes, p.chained))
            .copied()
            .filter(|o| o.median > 0.0)
        else {
            continue;
        };
        let ideal = p.threads.min(cores) as f64;
        let speedup = p.ratio(one);
        if speedup.median > ideal * (1.0 + SLOWER_WARN) && speedup.lo() > ideal {
            beyond.push(format!(
                "{} {} {}, {}: {:.2}x (ideal {ideal:.0}x)",
                p.hash,
                p.simd,
                p.layout_name(),
                thr(p.threads),
                speedup.median,
            ));
        }
    }
    (!beyond.is_empty()).then(|| {
        format!(
            "Speedups over one thread beyond the ideal (by over {:.0}%): the one-thread figure was measured slow. {}.",
            100.0 * SLOWER_WARN,
            beyond.join("; ")
        )
    })
}

/// The instrument's own figures: points above their ceiling, and a prover-shaped hash rate
/// far below the best one (the ceiling would flatter the prover if it were measured that way).
fn instrument(r: &Report) -> Vec<String> {
    let mut w = Vec::new();
    let over: Vec<String> = r
        .points
        .iter()
        .filter(|p| p.ceiling > 0.0 && p.median > p.ceiling)
        .map(|p| {
            format!(
                "{} {} {}, {} ({:.0}%)",
                p.hash,
                p.simd,
                p.layout_name(),
                thr(p.threads),
                100.0 * p.median / p.ceiling
            )
        })
        .collect();
    if !over.is_empty() {
        w.push(format!(
            "Figures above their hash ceiling (the best many-input rate measured; the ceiling was measured slow, or the point fast by chance): {}.",
            over.join("; ")
        ));
    }
    let p = &r.primitives;
    for (hash, list) in [
        (HashId::Blake3, &p.blake3_ceilings),
        (HashId::Keccak, &p.keccak_ceilings),
    ] {
        for c in list
            .iter()
            .filter(|c| c.best > 0.0 && c.streamed < STREAMED_WARN * c.best)
        {
            w.push(format!(
                "{hash} {}: the prover-shaped rate ({} M/s, outputs streamed to memory) is {:.0}% of the best ({} M/s, {}); the ceilings use the best, so the prover's `% of ceiling` includes what streaming costs.",
                c.simd,
                m(c.streamed),
                100.0 * c.streamed / c.best,
                m(c.best),
                c.shape.name()
            ));
        }
    }
    w
}

/// Bounds the construction guarantees, shown broken: a chained layout above unchained, a gain
/// beyond 2L.
fn bounds(r: &Report) -> Vec<String> {
    let mut w = Vec::new();
    for hash in HashId::ALL {
        let rows: Vec<&FairnessRow> = r.fairness.iter().filter(|f| f.hash == hash).collect();
        let Some(unchained) = rows.iter().find(|f| f.lanes.is_none()) else {
            continue;
        };
        for f in &rows {
            let Some(l) = f.lanes else { continue };
            if f.keep > 1.005 && unchained.best_rate > 0.0 {
                w.push(format!(
                    "{hash} L={l} chained ({:.2}x) beats unchained ({:.2}x), which bounds it: noise, or a cost of the unchained path worth a look.",
                    f.best_speedup, unchained.best_speedup
                ));
            }
            if f.bound().is_some_and(|b| f.speedup().lo() > b) {
                w.push(format!(
                    "{hash} L={l} gains {:.2}x over one lane on one core, beyond its bound of about 2L = {}.",
                    f.best_speedup,
                    2 * l
                ));
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{point_mut, sample_report, with_rates};
    use super::super::{fairness, markdown, verdict};
    use super::*;

    #[test]
    fn a_point_is_flagged_only_while_its_median_is_uncertain_and_says_why() {
        let mut r = sample_report();
        assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
        assert!(flagged(&r).is_empty());
        // A wide spread of one slow sample in nine: the interval (the second smallest to the
        // second largest) still holds the median to within ±5%, so no flag (the old rule,
        // max - min over the median, fired here).
        let p = point_mut(&mut r, 4, true, 2);
        with_rates(p, &[30.0, 30.3, 29.7, 30.2, 29.9, 30.1, 30.0, 18.0, 30.0]);
        assert!(
            p.spread() > 0.3 && p.flags(4).is_empty(),
            "{:?}",
            p.flags(4)
        );
        // Samples all over the place: flagged, and with nothing seen around them,
        // unexplained.
        with_rates(p, &[30.0, 24.0, 36.0, 27.0, 33.0, 22.0, 38.0, 30.0]);
        assert_eq!(p.flags(4), vec!["±26.7%", "unexplained spread"]);
        p.load = Some(3.0);
        p.steal = Some(0.07);
        assert_eq!(p.flags(4), vec!["±26.7%", "load 0.75/core", "steal 7%"]);
        let w = warnings(&r).join("\n");
        assert!(w.contains("1 of 17 points are still uncertain"), "{w}");
        let md = markdown(&r);
        assert!(md.contains("! ±26.7%, load 0.75/core, steal 7%"), "{md}");
        let v = verdict(&r);
        assert!(
            v.iter().any(|l| l.contains("1 of 17 points uncertain")),
            "{v:?}"
        );
    }

    #[test]
    fn contradictions_are_warned_about_only_where_the_intervals_show_them() {
        let mut r = sample_report();
        // More threads slower than fewer: L=16 on 2 threads below 1 thread, every round.
        with_rates(point_mut(&mut r, 16, true, 2), &[20.0; 8]);
        // Above the ceiling, and chained above unchained.
        with_rates(point_mut(&mut r, 1, true, 1), &[31.0; 8]);
        r.fairness = fairness(&r.points);
        let w = warnings(&r).join("\n");
        assert!(w.contains("More threads were slower than fewer"), "{w}");
        assert!(
            w.contains("blake3 avx2 L=16 chained: 2 threads 20.0 < 1 thread 25.0"),
            "{w}"
        );
        assert!(w.contains("above their hash ceiling"), "{w}");
        assert!(
            w.contains("blake3 avx2 L=1 chained, 1 thread (103%)"),
            "{w}"
        );

        // A one-thread figure measured slow: the others' speedups pass the ideal.
        let mut r = sample_report();
        with_rates(point_mut(&mut r, 4, true, 1), &[5.0; 8]);
        let w = warnings(&r).join("\n");
        assert!(
            w.contains("blake3 avx2 L=4 chained, 4 threads: 8.00x (ideal 4x)")
                && w.contains("blake3 avx2 L=4 chained, 2 threads: 6.00x (ideal 2x)")
                && !w.contains("L=16 chained, 2 threads:"),
            "{w}"
        );

        // Chained beating unchained.
        let mut r = sample_report();
        with_rates(point_mut(&mut r, 16, true, 4), &[95.0; 8]);
        r.fairness = fairness(&r.points);
        let w = warnings(&r).join("\n");
        assert!(
            w.contains("L=16 chained (9.50x) beats unchained (9.00x)"),
            "{w}"
        );
    }

    #[test]
    fn a_prover_shaped_rate_far_below_the_best_is_warned_about() {
        let mut r = sample_report();
        r.primitives.blake3_ceilings[1].streamed = 0.7 * r.primitives.blake3_ceilings[1].best;
        let w = warnings(&r).join("\n");
        assert!(
            w.contains("blake3 avx2: the prover-shaped rate (42.0 M/s, outputs streamed to memory) is 70% of the best (60.0 M/s"),
            "{w}"
        );
    }

    #[test]
    fn a_busy_machine_and_a_quick_run_are_said() {
        let mut r = sample_report();
        r.load_before = Some(crate::fingerprint::LoadAvg {
            one: 3.0,
            five: 1.0,
            fifteen: 1.0,
            runnable: 3,
        });
        assert!(warnings(&r)[0].contains("busy before the run: load average 3.00"));
        r.mode = Mode::Quick;
        assert!(warnings(&r)[0].contains("Indicative only"));
    }
}
