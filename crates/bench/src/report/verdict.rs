//! The answer to "how much do cores and SIMD gain here, and which L should I pick?" in a few
//! lines, from the report's own figures. Plain text (no Markdown) so the terminal shows it as
//! is.

use super::fairness::{measured_recommendation, not_monotone, Recommendation};
use super::{
    count, flagged, m, warnings, FairnessRow, Mode, Report, KEEP, KEEP_RESOLUTION, MODEL_WARN,
    TOLERANCE,
};
use crate::model::Tuning;
use crate::stats::Estimate;
use poie_proof::HashId;

/// `12.3%`-style percentage of a share, with its interval where it has one.
fn pct(e: &Estimate) -> String {
    match e.interval {
        Some((lo, hi)) => format!(
            "{:.0}% ({:.0}-{:.0}%)",
            100.0 * e.median,
            100.0 * lo,
            100.0 * hi
        ),
        None => format!("{:.0}% (no interval)", 100.0 * e.median),
    }
}

pub fn verdict(r: &Report) -> Vec<String> {
    let f = &r.fingerprint;
    let mut v = Vec::new();
    let quick = if r.mode == Mode::Quick {
        " (--quick: indicative only)"
    } else {
        ""
    };
    let capped = f.simd_cap.map_or(String::new(), |c| {
        format!(" (backends capped at {c} by --max-simd)")
    });
    // The CPU name comes from the report file: no control characters reach a terminal.
    let cpu: String = f
        .cpu_model
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    v.push(format!(
        "This machine: {cpu}, {} logical / {} physical cores, blake3 {}{capped}; {} run of {}{quick}.",
        f.logical_cores,
        f.physical_cores,
        f.blake3_detected,
        r.mode.name(),
        r.created_utc.chars().filter(|c| !c.is_control()).collect::<String>()
    ));
    let rows: Vec<&FairnessRow> = r
        .fairness
        .iter()
        .filter(|x| x.hash == HashId::Blake3)
        .collect();
    v.push(unbounded(&rows));
    let per_l: Vec<String> = rows
        .iter()
        .filter_map(|x| Some(format!("L={} {}", x.lanes?, x.speedup().ratio_text())))
        .collect();
    if !per_l.is_empty() {
        let mut line = format!(
            "Gain each L allows (blake3, the best point over one lane on one core, median of paired rounds with its 95% interval; at most about 2L): {}.",
            per_l.join(", ")
        );
        let pairs = not_monotone(&rows);
        if !pairs.is_empty() {
            let said: Vec<String> = pairs
                .iter()
                .map(|(small, big, overlap)| {
                    if *overlap {
                        format!("L={big} below L={small}, within their intervals (the data cannot tell them apart)")
                    } else {
                        format!("L={big} below L={small}, their intervals apart (a cost of the prover at more lanes: the layout itself allows at least L={small}'s gain)")
                    }
                })
                .collect();
            line.push_str(&format!(" Not monotone in L: {}.", said.join("; ")));
        }
        v.push(line);
    }
    v.push(format!(
        "Recommended L: {}; {}.",
        here(r),
        reference(r.tuning.as_ref(), r)
    ));
    if let Some(line) = super::gpu::verdict_line(r) {
        v.push(line);
    }
    v.push(trust(r));
    v
}

/// The unbounded gain line: the best unchained point over one lane on one core, and what
/// threads alone give unchained.
fn unbounded(rows: &[&FairnessRow]) -> String {
    match rows.iter().find(|x| x.lanes.is_none()) {
        Some(u) => {
            let threads_only = if u.gain_over_same_layout > 0.0 {
                let e = Estimate {
                    median: u.gain_over_same_layout,
                    interval: u.same_layout_interval,
                    samples: 0,
                };
                format!(
                    "; threads alone give {} over unchained on one core",
                    e.ratio_text()
                )
            } else {
                String::new()
            };
            format!(
                "Unbounded gain: {}. The best unchained proof ({}: {} M chunks/s) over one lane on one core ({}: {} M chunks/s){threads_only}.",
                u.speedup().ratio_text(),
                u.best_config,
                m(u.best_rate),
                u.baseline,
                m(u.baseline_rate)
            )
        }
        None => "Unbounded gain: not measured (no blake3 unchained point).".into(),
    }
}

/// The measured recommendation.
fn here(r: &Report) -> String {
    let keep = 100.0 * KEEP;
    match measured_recommendation(r, HashId::Blake3) {
        Some(Recommendation::Supported { lanes, keep: k }) => format!(
            "L={lanes} for this machine (measured: the smallest L tried whose interval keeps {keep:.0}% of its unbounded rate: {}{})",
            pct(&k),
            if k.median >= 1.005 {
                ", above the unbounded rate that bounds it: noise"
            } else {
                ""
            }
        ),
        Some(Recommendation::Undecided { lanes, keep: k }) => format!(
            "L={lanes} for this machine, undecided (measured: no L tried is shown to keep {keep:.0}% of its unbounded rate; L={lanes} is the smallest the data cannot tell from it, its interval reaching within {:.0} points of the line: {})",
            100.0 * KEEP_RESOLUTION,
            pct(&k)
        ),
        Some(Recommendation::Short { lanes, keep: k }) => format!(
            "none for this machine (measured: every L tried falls short of {keep:.0}% of its unbounded rate by more than {:.0} points, within its interval; the best, L={lanes}, keeps {})",
            100.0 * KEEP_RESOLUTION,
            pct(&k)
        ),
        None => "none for this machine (too few layouts measured)".into(),
    }
}

/// What the modelled figures of `t` rest on beyond this machine's measurements.
pub fn extrapolation(t: &Tuning, r: &Report) -> String {
    let mut parts = Vec::new();
    if t.extrapolated_cores() {
        parts.push(format!(
            "cores extrapolated from this machine's {} (memory bandwidth assumed to grow with cores at its per-core rate)",
            r.cores()
        ));
    }
    if t.extrapolated {
        parts.push(format!(
            "SIMD backends this machine lacks extrapolated from its {} by nominal degree (an upper bound)",
            r.fingerprint.blake3_detected
        ));
    }
    if parts.is_empty() {
        "modelled".into()
    } else {
        format!("modelled, extrapolated: {}", parts.join("; "))
    }
}

/// The modelled recommendation for the reference machine.
fn reference(t: Option<&Tuning>, r: &Report) -> String {
    let Some(t) = t else {
        return "no reference recommendation (no blake3 model)".into();
    };
    let how = extrapolation(t, r);
    let what = format!(
        "the reference is a mainstream {}-core {} machine, the prover a fair L must not hold back",
        t.reference.cores, t.reference.simd
    );
    let big: Vec<String> = t.big.iter().map(|b| b.cores.to_string()).collect();
    let big_simd = t
        .big
        .first()
        .map_or(String::new(), |b| format!(" {}", b.simd));
    let gains = |g: &[(usize, f64)]| {
        g.iter()
            .map(|(_, g)| format!("{g:.2}x"))
            .collect::<Vec<_>>()
            .join("/")
    };
    match t
        .recommended
        .and_then(|l| t.rows.iter().find(|x| x.lanes == l))
    {
        Some(row) => format!(
            "L={} for the reference ({how}; {what}: it keeps {:.0}% of its unbounded rate, while {}-core{big_simd} machines gain {} over it, against {} unchained)",
            row.lanes,
            100.0 * row.reference_keeps,
            big.join("/"),
            gains(&row.big_gains),
            gains(&t.unbounded_gains)
        ),
        None => format!(
            "none for the reference ({how}; {what}: no L up to 256 keeps {:.0}%)",
            100.0 * t.keep
        ),
    }
}

/// The trust line: uncertain points, the model's error, the warnings.
fn trust(r: &Report) -> String {
    let flagged = flagged(r).len();
    let sampling = r.sampling.as_ref().map_or(String::new(), |s| {
        format!(
            ", after sampling each point {} to {} times in {} rounds ({:.0} s)",
            s.min_samples, s.max_samples, s.rounds, s.rounds_secs
        )
    });
    let noise = r.sample_noise().map_or(String::new(), |n| {
        format!(
            "; the machine's sample noise (interquartile range around the medians) was {:.1}%",
            100.0 * n
        )
    });
    let points = format!(
        "{flagged} of {} points uncertain (median not known to within ±{:.0}%{sampling}){noise}",
        r.points.len(),
        100.0 * TOLERANCE
    );
    let model = r
        .models
        .iter()
        .find(|x| x.hash == HashId::Blake3)
        .map_or(String::new(), |ms| {
            format!(
                "; the blake3 model is off by {:.0}% median, {:.0}% worst{}",
                100.0 * ms.median_error,
                100.0 * ms.max_error,
                if ms.max_error > MODEL_WARN {
                    ", so modelled figures are rough"
                } else {
                    ""
                }
            )
        });
    let warns = warnings(r).len();
    format!(
        "Trust: {points}{model}; {}.{}",
        count(warns, "run-level warning", "run-level warnings"),
        if r.mode == Mode::Quick {
            " Indicative only."
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{point_mut, sample_report, with_rates};
    use super::super::markdown;
    use super::*;

    #[test]
    fn verdict_opens_the_report_and_agrees_with_the_numbers() {
        let r = sample_report();
        let v = verdict(&r);
        assert!((3..=6).contains(&v.len()), "{v:?}");
        assert!(
            v[0].starts_with("This machine: Test CPU, 4 logical / 4 physical cores, blake3 avx2")
        );
        assert!(v[1].starts_with("Unbounded gain: 9.00x ("), "{}", v[1]);
        assert!(v[1].contains("(L=1 unchained, 4 threads, avx2: 90.0 M chunks/s)"));
        assert!(v[1].contains("(blake3 avx2, L=1 chained, 1 thread: 10.0 M chunks/s)"));
        assert!(v[1].contains("threads alone give 3.60x ("), "{}", v[1]);
        assert!(v[2].contains("L=1 1.05x ("), "{}", v[2]);
        assert!(v[2].contains("L=4 4.00x (") && v[2].contains("L=16 8.50x ("));
        // L=16 keeps 85/90 = 94% of the unbounded rate within its interval, L=4 only 44%.
        assert!(v[3].contains("L=16 for this machine (measured"), "{}", v[3]);
        assert!(v[3].contains(": 94% ("), "{}", v[3]);
        let t = r.tuning.as_ref().expect("tuning");
        let rec = t.recommended.expect("reference recommendation");
        assert!(
            v[3].contains(&format!("L={rec} for the reference (modelled")),
            "{}",
            v[3]
        );
        assert!(
            v[3].contains("cores extrapolated from this machine's 4"),
            "{}",
            v[3]
        );
        assert!(
            v[3].contains("SIMD backends this machine lacks extrapolated from its avx2 by nominal degree (an upper bound)"),
            "{}",
            v[3]
        );
        assert!(
            v[4].starts_with("Trust: 0 of 17 points uncertain"),
            "{}",
            v[4]
        );
        assert!(v[4].ends_with("0 run-level warnings."), "{}", v[4]);
        // The fixture's samples lie within ±2% of their medians, the middle half within
        // -1% to +0.5%.
        let noise = r.sample_noise().expect("samples");
        assert!((noise - 0.015).abs() < 1e-9, "{noise}");
        assert!(v[4].contains("sample noise (interquartile range around the medians) was 1.5%"));
        assert!(v.iter().all(|l| !l.contains("indicative")));

        let md = markdown(&r);
        let head: Vec<&str> = md.lines().take(4).collect();
        assert_eq!(head[2], "## Verdict", "{md}");
        for line in &v {
            assert!(md.contains(&format!("- {}\n", super::super::markdown::esc_html(line))));
        }
        assert!(md.find("## Verdict") < md.find("## Primitives"));
    }

    #[test]
    fn an_undecided_recommendation_says_the_data_cannot_tell() {
        let mut r = sample_report();
        // L=16 keeps about 90% of unchained, rounds scattered around it.
        let l16: Vec<f64> = [86.0, 79.0, 81.0, 84.0, 77.0, 83.0, 85.0, 80.0, 82.0].to_vec();
        let unchained = vec![90.0; 9];
        with_rates(point_mut(&mut r, 16, true, 4), &l16);
        with_rates(point_mut(&mut r, 1, false, 4), &unchained);
        r.analyse();
        let v = verdict(&r);
        assert!(
            v[3].contains("L=16 for this machine, undecided"),
            "{}",
            v[3]
        );
    }

    #[test]
    fn quick_reports_say_indicative_only() {
        let mut r = sample_report();
        r.mode = Mode::Quick;
        let v = verdict(&r);
        assert!(v[0].contains("(--quick: indicative only)"));
        assert!(v.last().is_some_and(|l| l.ends_with("Indicative only.")));
    }
}
