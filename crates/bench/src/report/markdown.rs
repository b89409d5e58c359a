//! report.md: the verdict and warnings first, then every table the verdict rests on.
//!
//! Strings that come from the report file (CPU names, device names) are escaped: a report is
//! a file like any other, and its Markdown must not carry someone else's HTML.

use super::{
    m, thr, verdict, warnings, FairnessRow, Mode, Point, Report, SourceKind, LOAD_WARN, MODEL_WARN,
    STEAL_WARN, TOLERANCE,
};
use crate::fingerprint::LoadAvg;
use crate::model::{Limit, Tuning};
use crate::stats::Estimate;
use poie_proof::{HashId, Simd};
use std::fmt::Write as _;

/// `s` with the characters Markdown renderers treat as HTML or table syntax escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '`' => out.push('\''),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Plain text (a verdict line) as Markdown prose: only what a renderer would take for HTML is
/// escaped, so the line reads the same in the terminal and in report.md.
pub fn esc_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `" !"` after a flagged point's figure.
fn mark(p: &Point, cores: usize) -> &'static str {
    if p.flags(cores).is_empty() {
        ""
    } else {
        " !"
    }
}

/// A rate's 95% interval in M chunks/s, `-` without one.
fn interval(e: &Estimate) -> String {
    e.interval
        .map_or("-".into(), |(lo, hi)| format!("{}-{}", m(lo), m(hi)))
}

/// The human report.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    head(r, &mut s);
    machine(r, &mut s);
    primitives(r, &mut s);
    fairness(r, &mut s);
    speedups(r, &mut s);
    simd_gains(r, &mut s);
    all_points(r, &mut s);
    model(r, &mut s);
    let _ = writeln!(s, "\n## Self-pooling: one execution, one more identity\n\nOne owner running two identities executes once and hashes twice. The marginal cost of each extra identity, relative to a full independent execution, is hash / (execution + hash): execution is the traced VM run, hashing the Merkleisation alone of as many chunks (one thread, L=16 chained; timed on a prefix of the chunks and scaled linearly).\n\n| hash | guest | steps | execution s | hashing s | marginal cost |\n|---|---|---|---|---|---|");
    for sp in &r.self_pooling {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.0}% |",
            sp.hash,
            esc(&sp.guest),
            sp.steps,
            sp.exec_secs,
            sp.hash_secs,
            100.0 * sp.marginal_cost
        );
    }
    if cfg!(feature = "plots") {
        let _ = writeln!(
            s,
            "\n## Plots\n\n![speedup](speedup.svg)\n![simd](simd.svg)\n![lanes](lanes.svg)\n![lane tuning](tuning.svg)"
        );
    }
    s
}

fn head(r: &Report, s: &mut String) {
    let f = &r.fingerprint;
    let _ = writeln!(
        s,
        "# poie benchmark: {} ({} logical / {} physical cores)\n",
        esc(&f.cpu_model),
        f.logical_cores,
        f.physical_cores
    );
    if r.mode == Mode::Quick {
        let _ = writeln!(
            s,
            "**Indicative only:** a `--quick` run (few, short samples).\n"
        );
    }
    let _ = writeln!(s, "## Verdict\n");
    for line in verdict(r) {
        let _ = writeln!(s, "- {}", esc_html(&line));
    }
    let warns = warnings(r);
    if !warns.is_empty() {
        let _ = writeln!(s, "\n## Warnings\n");
        for w in warns {
            let _ = writeln!(s, "- {}", esc_html(&w));
        }
    }
}

fn machine(r: &Report, s: &mut String) {
    let f = &r.fingerprint;
    let _ = writeln!(s, "\n## Machine\n");
    let capped = f.simd_cap.map_or(String::new(), |c| {
        format!(" Backends capped at {c} (`--max-simd`).")
    });
    let _ = writeln!(
        s,
        "Machine id `{}`, {} run of {} UTC. poie {} ({}), {}. {}, kernel {}. Memory {:.1} GiB. \
         Caches: {}. SIMD: {}. blake3 picks {}.{capped}\n",
        esc(&f.machine_id),
        r.mode.name(),
        esc(&r.created_utc),
        esc(&f.poie_version),
        esc(&f.git_commit),
        esc(&f.rustc),
        esc(&f.os),
        esc(&f.kernel),
        f.memory_bytes as f64 / (1u64 << 30) as f64,
        esc(&f.caches.join(", ")),
        esc(&f.simd_features.join(" ")),
        f.blake3_detected
    );
    let load = |l: &Option<LoadAvg>| {
        l.map_or("not recorded".to_string(), |l| {
            format!("{:.2} {:.2} {:.2}", l.one, l.five, l.fifteen)
        })
    };
    let _ = writeln!(
        s,
        "Load average (1, 5, 15 min) before the run: {}; after the sweep: {}.\n",
        load(&r.load_before),
        load(&r.load_after)
    );
    if let Some(sm) = &r.sampling {
        let _ = writeln!(
            s,
            "Sampling: every point {} to {} samples of about {:.2} s, in rounds (each round samples every point still sampled once, a layout's thread counts back to back, the layouts in a shuffled order), until its median was known to within ±{:.0}% or the rounds had taken {:.0} s: {} rounds in {:.0} s; the whole run {:.0} s.\n",
            sm.min_samples,
            sm.max_samples,
            sm.sample_secs,
            100.0 * sm.tolerance,
            sm.budget_secs,
            sm.rounds,
            sm.rounds_secs,
            sm.total_secs
        );
    }
    let _ = writeln!(s, "All throughputs are medians in millions of chunks (steps) per second; one chunk = one 32-byte trace step. Intervals are 95% confidence intervals of a median (distribution-free: order statistics of the samples; of the per-round ratios for gains). `(o)` marks oversubscribed points (more workers than logical cores), which are shown but never picked as a best. `!` marks points whose median is not known to within ±{:.0}% after sampling, with what was seen around them: load (more than {LOAD_WARN} other runnable tasks per logical core, from `/proc/loadavg` before and after each sample, this process excepted), steal (over {:.0}% of CPU time taken by the hypervisor, from `/proc/stat`), or neither (unexplained spread). Modelled figures are labelled as such.\n", 100.0 * TOLERANCE, 100.0 * STEAL_WARN);
}

fn primitives(r: &Report, s: &mut String) {
    let p = &r.primitives;
    let _ = writeln!(
        s,
        "## Primitives (one core)\n\n| primitive | rate |\n|---|---|"
    );
    for (hash, list) in [
        (HashId::Blake3, &p.blake3_ceilings),
        (HashId::Keccak, &p.keccak_ceilings),
    ] {
        for c in list {
            let _ = writeln!(
                s,
                "| {hash} {} ceiling | **{} M/s** best ({}; proof ceiling {} M chunks/s); prover-shaped {} M/s ({:.0}% of best); best shape's median in the rounds {} M/s |",
                c.simd,
                m(c.best),
                c.shape.name(),
                m(c.best / 2.0),
                m(c.streamed),
                100.0 * c.streamed / c.best.max(1e-12),
                m(c.rounds_median)
            );
        }
    }
    if p.blake3_ceilings.is_empty() {
        // Reports from before the ceilings: the many-input rates they had.
        for (simd, rate) in &p.blake3 {
            let _ = writeln!(
                s,
                "| blake3 {simd} compressions | {} M/s (proof ceiling {} M chunks/s) |",
                m(*rate),
                m(p.ceiling(HashId::Blake3, *simd))
            );
        }
    }
    if p.keccak_ceilings.is_empty() {
        let _ = writeln!(
            s,
            "| keccak256 permutations | {} M/s (ceiling {} M chunks/s) |",
            m(p.keccak),
            m(p.ceiling(HashId::Keccak, Simd::Portable))
        );
    }
    let _ = writeln!(s, "| VM, no trace | {} M steps/s |", m(p.vm_untraced));
    let _ = writeln!(
        s,
        "| VM, trace built (null sink) | {} M steps/s |",
        m(p.vm_traced)
    );
    let _ = writeln!(s, "| memory copy, one core | {:.1} GB/s |", p.memcpy / 1e9);
    if p.memcpy_all > 0.0 {
        let _ = writeln!(
            s,
            "| memory copy, {} cores at once | {:.1} GB/s ({:.1} GB/s per core) |",
            p.memcpy_threads,
            p.memcpy_all / 1e9,
            p.memcpy_per_core() / 1e9
        );
    }
    let _ = writeln!(
        s,
        "| synthetic trace producer (generated into a block, one core) | {} M chunks/s |",
        m(p.producer)
    );
    for (hash, all, how) in [
        (HashId::Blake3, &p.blake3_by_width, ""),
        (HashId::Keccak, &p.keccak_by_width, ""),
        (HashId::Blake3, &p.blake3_chained_by_width, ", chained"),
        (HashId::Keccak, &p.keccak_chained_by_width, ", chained"),
    ] {
        for rates in all {
            let by: Vec<String> = rates
                .by_width
                .iter()
                .map(|w| format!("{}: {}", w.width, m(w.per_second)))
                .collect();
            let _ = writeln!(
                s,
                "| {hash} {} by inputs per call{how} | {} M/s |",
                rates.simd,
                by.join(", ")
            );
        }
    }
    let _ = writeln!(s);
    if p.blake3_ceilings.is_empty() {
        let _ = writeln!(s, "Each point's ceiling (its `% of ceiling`) is the proof ceiling above times the cores its workers use, from the many-input rates this report recorded.\n");
    } else {
        let _ = writeln!(s, "A ceiling is the best the hash does on one core: the faster of two shapes of its many-input call (16 inputs per call from an L2-resident set with outputs kept in L1, and 4096 inputs per call with outputs streamed as the prover does), each the best of three windows, raised by any faster sample of the best shape taken in the sampling rounds. Each point's `% of ceiling` is its median over half that rate (a leaf and a node per chunk) times the cores its workers use. The by-width tables feed the model, each backend's scaled by its drift between this phase and the rounds (the best shape's median in the rounds over its rate here). Chained: each call's inputs hold the previous call's outputs, as in a chained lane.\n");
    }
}

fn fairness(r: &Report, s: &mut String) {
    let _ = writeln!(
        s,
        "## Fairness: what more hardware buys at each lane count\n"
    );
    let _ = writeln!(s, "Each layout's best point (oversubscribed ones excepted) on its hash's main backend, against three baselines: **one lane on one core** (the L=1 chained proof on one thread: what the poorest prover manages), **the same L on one core** (what more cores buy at a fixed layout), and the best **unchained** point (what the layout keeps of the unbounded rate). Every gain is the median of the per-round ratios of the two points, with its 95% interval. The bound: chained lanes leave L-way parallelism to the leaf hashing (the sequential part); internal nodes are not lane-bound, so up to about 2L is possible for the whole proof (docs/SPEC.md, 3.6). Unchained proofs have no bound.\n");
    let mut hashes: Vec<HashId> = r.fairness.iter().map(|x| x.hash).collect();
    hashes.dedup();
    for hash in hashes {
        let rows: Vec<&FairnessRow> = r.fairness.iter().filter(|x| x.hash == hash).collect();
        if let Some(first) = rows.first() {
            let _ = writeln!(
                s,
                "**{hash}**, baseline one lane on one core = {}: **{} M chunks/s**.\n",
                first.baseline,
                m(first.baseline_rate)
            );
        }
        let _ = writeln!(s, "| layout | bound | best M chunks/s | reached with | gain over one lane on one core | same L on one core, M chunks/s | gain over the same L on one core | keeps of unbounded |\n|---|---|---|---|---|---|---|---|");
        for row in &rows {
            let (layout, bound) = match row.lanes {
                Some(l) => (
                    format!("L={l} chained"),
                    format!("L={l} (about {} whole proof)", 2 * l),
                ),
                None => ("L=1 unchained".into(), "none".into()),
            };
            let over = if row.bound().is_some_and(|b| row.best_speedup > b) {
                " !"
            } else {
                ""
            };
            let (same, gain) = if row.same_layout_one_core > 0.0 {
                let e = Estimate {
                    median: row.gain_over_same_layout,
                    interval: row.same_layout_interval,
                    samples: 0,
                };
                (m(row.same_layout_one_core), e.ratio_text())
            } else {
                ("-".into(), "-".into())
            };
            let keep = row.keeps();
            let keep = match keep.interval {
                Some((lo, hi)) if row.lanes.is_some() => format!(
                    "{:.0}% ({:.0}-{:.0}%)",
                    100.0 * keep.median,
                    100.0 * lo,
                    100.0 * hi
                ),
                _ => format!("{:.0}%", 100.0 * keep.median),
            };
            let _ = writeln!(
                s,
                "| {layout} | {bound} | {} | {} | {}{over} | {same} | {gain} | {keep} |",
                m(row.best_rate),
                row.best_config,
                row.speedup().ratio_text()
            );
        }
        if hash == HashId::Blake3 {
            super::gpu::fairness_rows(r, &rows, s);
        }
        let _ = writeln!(s);
    }
    if let Some(g) = &r.gpu {
        let _ = writeln!(s, "{}", crate::gpu::markdown(g));
    }
}

fn speedups(r: &Report, s: &mut String) {
    let f = &r.fingerprint;
    let _ = writeln!(
        s,
        "\n## Speedup versus threads (blake3 {}, synthetic trace)\n\nEach speedup is the median over the sampling rounds of the round's ratio to one thread, with its 95% interval (each round samples a layout's thread counts back to back, so a slow spell of the machine cancels out of a ratio); every gain in this report, and the speedup plot, is taken the same way. A `pinned` row is the same layout with its workers pinned to cores, measured beside it, over the same one-thread point.\n",
        f.blake3_detected
    );
    let mut threads: Vec<usize> = r.main_points().map(|p| p.threads).collect();
    threads.sort();
    threads.dedup();
    let _ = write!(s, "| layout |");
    for t in &threads {
        let o = if *t > f.logical_cores { " (o)" } else { "" };
        let _ = write!(s, " {t} thr{o} |");
    }
    let _ = writeln!(s, "\n|---|{}", "---|".repeat(threads.len()));
    let mut layouts: Vec<(bool, u32)> = r.main_points().map(|p| (p.chained, p.lanes)).collect();
    layouts.sort();
    layouts.dedup();
    let twins: Vec<&Point> = r.pinned_twins().collect();
    for (chained, lanes) in &layouts {
        let one = r.find(HashId::Blake3, f.blake3_detected, *lanes, *chained, 1);
        let kind = if *chained { "chained" } else { "unchained" };
        let of_layout = |p: &&Point| p.lanes == *lanes && p.chained == *chained;
        let row: Vec<Option<&Point>> = threads
            .iter()
            .map(|t| r.main_points().filter(of_layout).find(|p| p.threads == *t))
            .collect();
        speedup_row(r, s, &format!("L={lanes} {kind}"), &row, one);
        if twins.iter().any(of_layout) {
            let row: Vec<Option<&Point>> = threads
                .iter()
                .map(|t| {
                    twins
                        .iter()
                        .copied()
                        .filter(of_layout)
                        .find(|p| p.threads == *t)
                })
                .collect();
            speedup_row(r, s, &format!("L={lanes} {kind}, pinned"), &row, one);
        }
    }
}

/// One row of the speedup table: each point's rate, its speedup over `one` and its share of
/// the ceiling.
fn speedup_row(
    r: &Report,
    s: &mut String,
    name: &str,
    row: &[Option<&Point>],
    one: Option<&Point>,
) {
    let _ = write!(s, "| {name} |");
    for p in row {
        match (p, one) {
            (Some(p), Some(one)) => {
                let ratio = if std::ptr::eq(*p, one) {
                    "1.00x".to_string()
                } else {
                    p.ratio(one).ratio_text()
                };
                let _ = write!(
                    s,
                    " {}{} ({ratio}, {:.0}% of ceiling) |",
                    m(p.median),
                    mark(p, r.cores()),
                    100.0 * p.median / p.ceiling
                );
            }
            _ => {
                let _ = write!(s, " - |");
            }
        }
    }
    let _ = writeln!(s);
}

fn simd_gains(r: &Report, s: &mut String) {
    let f = &r.fingerprint;
    let mut layouts: Vec<(bool, u32)> = r.main_points().map(|p| (p.chained, p.lanes)).collect();
    layouts.sort();
    layouts.dedup();
    let _ = writeln!(s, "\n## SIMD gain per backend (blake3, one thread)\n\n| layout | backend | M chunks/s | gain over portable | % of backend ceiling |\n|---|---|---|---|---|");
    for (chained, lanes) in &layouts {
        let Some(portable) = r.find(HashId::Blake3, Simd::Portable, *lanes, *chained, 1) else {
            continue;
        };
        for simd in &f.blake3_backends {
            if let Some(p) = r.find(HashId::Blake3, *simd, *lanes, *chained, 1) {
                let gain = if std::ptr::eq(p, portable) {
                    "1.00x".to_string()
                } else {
                    p.ratio(portable).ratio_text()
                };
                let _ = writeln!(
                    s,
                    "| {} | {simd} | {}{} | {gain} | {:.0}% |",
                    p.layout_name(),
                    m(p.median),
                    mark(p, r.cores()),
                    100.0 * p.median / p.ceiling
                );
            }
        }
    }
    // keccak: one state per call (portable) against 4 (avx2) and 8 (avx512).
    let mut keccak: Vec<&Point> = r
        .points
        .iter()
        .filter(|p| p.hash == HashId::Keccak && p.source == SourceKind::Synthetic && p.threads == 1)
        .collect();
    keccak.sort_by_key(|p| (p.chained, p.lanes, p.simd.degree()));
    if keccak.iter().any(|p| p.simd != Simd::Portable) {
        let _ = writeln!(s, "\n## SIMD gain per backend (keccak, one thread)\n\n| layout | backend | M chunks/s | gain over portable | % of backend ceiling |\n|---|---|---|---|---|");
        for p in keccak {
            if let Some(base) = r.find(HashId::Keccak, Simd::Portable, p.lanes, p.chained, 1) {
                let gain = if std::ptr::eq(p, base) {
                    "1.00x".to_string()
                } else {
                    p.ratio(base).ratio_text()
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {}{} | {gain} | {:.0}% |",
                    p.layout_name(),
                    p.simd,
                    m(p.median),
                    mark(p, r.cores()),
                    100.0 * p.median / p.ceiling
                );
            }
        }
    }
}

fn all_points(r: &Report, s: &mut String) {
    let _ = writeln!(s, "\n## All points: measured and modelled\n\n| hash | simd | layout | threads | source | median | 95% interval | samples | load per core | steal | flags | % of ceiling | modelled | model error |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for p in &r.points {
        let o = if p.oversubscribed { " (o)" } else { "" };
        let src = match p.source {
            SourceKind::Synthetic => "synthetic",
            SourceKind::Vm => "VM end to end",
        };
        let load = p
            .load_per_core(r.cores())
            .map_or("-".into(), |l| format!("{l:.2}"));
        let steal = p.steal.map_or("-".into(), |x| format!("{:.1}%", 100.0 * x));
        let flags = p.flags(r.cores());
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("! {}", flags.join(", "))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {}{o} | {src} | {} | {} | {} | {load} | {steal} | {flags} | {:.0}% | {} | {:+.0}% |",
            p.hash,
            p.simd,
            p.layout_name(),
            p.threads,
            m(p.median),
            interval(&p.estimate()),
            p.samples_secs.len(),
            100.0 * p.median / p.ceiling,
            m(p.predicted),
            100.0 * (p.predicted - p.median) / p.median
        );
    }
}

fn model(r: &Report, s: &mut String) {
    let _ = writeln!(s, "\n## Model\n\nThe bounds (docs/ARCHITECTURE.md, `bench::model`): workers' hashing and chunk generation plus a fixed cost per chunk and one per chained leaf call (row), the chains' per-input latency, a sequential producer (the VM) and memory bandwidth; `eff` (the primitives' speed in the prover) and the two costs are fitted together on the one-worker points, and `par` (each worker's efficiency beside the others) on the rest.\n");
    for ms in &r.models {
        let _ = writeln!(
            s,
            "- {}: eff {:.3}, fixed {:.1} ns per chunk, {:.1} ns per chained row, par {:.3}, a VM step in the prover {:.1}x its cost alone; over this machine's points (oversubscribed ones excepted, the VM included) the model is off by {:.1}% (median) and {:.1}% (worst).",
            ms.hash,
            ms.model.eff,
            1e9 * ms.model.fixed_secs,
            1e9 * ms.model.row_secs,
            ms.model.par,
            ms.model.producer_factor,
            100.0 * ms.median_error,
            100.0 * ms.max_error
        );
    }
    let untrusted: Vec<String> = r
        .models
        .iter()
        .filter(|m| m.max_error > MODEL_WARN)
        .map(|m| format!("{} (worst {:.0}%)", m.hash, 100.0 * m.max_error))
        .collect();
    let warning = if untrusted.is_empty() {
        String::new()
    } else {
        format!(
            "\n**Warning:** the model's worst error on this machine exceeds {:.0}% for {}: treat the modelled machines and the lane recommendation below as rough.\n",
            100.0 * MODEL_WARN,
            untrusted.join(", ")
        )
    };
    let p = &r.primitives;
    let _ = writeln!(s, "\n### Modelled machines (not measured)\n{warning}\nEach machine's best over every thread count up to its cores and every backend it has (those no wider than its own), from this machine's per-core rates. A machine with more cores than this one's {} is extrapolated; so is a backend this machine lacks (`*`: extrapolated from the widest measured backend by nominal SIMD degree, an upper bound: some CPUs run AVX-512 on 256-bit units). Memory bandwidth is assumed to grow with cores at this machine's per-core rate ({:.1} GB/s: {}), so a 64-core machine is assumed {:.0} GB/s; servers often have less per core, which matters only where the memory bound decides (the `bound` column).\n\n| hash | cores | SIMD | layout | modelled M chunks/s | reached with | bound |\n|---|---|---|---|---|---|---|",
        r.cores(),
        p.memcpy_per_core() / 1e9,
        if p.memcpy_all > 0.0 {
            format!("{} cores copying at once, per core", p.memcpy_threads)
        } else {
            "one core copying alone, as this report measured".into()
        },
        64.0 * p.memcpy_per_core() / 1e9
    );
    for x in &r.predictions {
        let layout = if x.chained {
            format!("L={} chained", x.lanes)
        } else {
            format!("L={} unchained", x.lanes)
        };
        let star = if x.extrapolated_simd { "*" } else { "" };
        let with = x.simd.map_or("-".to_string(), |simd| {
            format!("{}, {simd}{star}", thr(x.threads))
        });
        let bound = match x.limit {
            Some(Limit::Work) => "work",
            Some(Limit::Chains) => "chains",
            Some(Limit::Producer) => "producer",
            Some(Limit::Memory) => "memory",
            None => "-",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {layout} | {} | {with} | {bound} |",
            x.hash,
            x.machine.cores,
            x.machine.simd,
            m(x.chunks_per_sec)
        );
    }
    if let Some(t) = &r.tuning {
        let _ = writeln!(
            s,
            "\n### Lane count tuning (modelled)\n{warning}\n{}",
            tuning_markdown(t)
        );
    }
}

pub fn tuning_markdown(t: &Tuning) -> String {
    let mut s = String::new();
    let mut notes = Vec::new();
    if let (true, Some(c)) = (t.extrapolated_cores(), t.measured_cores) {
        notes.push(format!(
            " Core counts beyond the measured machine's {c} are extrapolated from its per-core rates."
        ));
    }
    if t.extrapolated {
        notes.push(" Rates of a backend the measured machine lacks are extrapolated by nominal SIMD degree: an upper bound.".to_string());
    }
    let _ = writeln!(
        s,
        "Reference machine: {} cores, {}. Goal: keep at least {:.0}% of its unbounded (unchained) throughput. Every machine runs its best thread count and backend.{}\n",
        t.reference.cores,
        t.reference.simd,
        100.0 * t.keep,
        notes.concat()
    );
    let _ = write!(s, "| lanes | reference keeps |");
    for b in &t.big {
        let _ = write!(s, " {}-core {} gain over reference |", b.cores, b.simd);
    }
    let _ = writeln!(s, "\n|---|---|{}", "---|".repeat(t.big.len()));
    for row in &t.rows {
        let mark = if Some(row.lanes) == t.recommended {
            " **<-**"
        } else {
            ""
        };
        let _ = write!(
            s,
            "| {}{mark} | {:.0}% |",
            row.lanes,
            100.0 * row.reference_keeps
        );
        for (_, g) in &row.big_gains {
            let _ = write!(s, " {g:.2}x |");
        }
        let _ = writeln!(s);
    }
    let _ = write!(s, "| unchained | 100% |");
    for (_, g) in &t.unbounded_gains {
        let _ = write!(s, " {g:.2}x |");
    }
    let _ = writeln!(s);
    match t
        .recommended
        .and_then(|l| t.rows.iter().find(|r| r.lanes == l))
    {
        Some(row) => {
            let gains: Vec<String> = row
                .big_gains
                .iter()
                .map(|(c, g)| format!("{g:.2}x ({c} cores)"))
                .collect();
            let _ = writeln!(
                s,
                "\nRecommended: **L = {}**. The reference machine keeps {:.0}% of its unbounded throughput; the modelled big machines gain at most {} over it.",
                row.lanes,
                100.0 * row.reference_keeps,
                gains.join(" and ")
            );
        }
        None => {
            let _ = writeln!(
                s,
                "\nNo lane count up to 256 keeps {:.0}% on the reference machine.",
                100.0 * t.keep
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::fixture::sample_report;
    use super::*;

    #[test]
    fn report_fields_cannot_inject_html_or_break_tables() {
        let mut r = sample_report();
        r.fingerprint.cpu_model = "<script>alert(1)</script> | x".into();
        let md = markdown(&r);
        assert!(!md.contains("<script>"), "{md}");
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\| x"));
    }

    #[test]
    fn the_tables_show_intervals_and_the_memory_assumption() {
        let r = sample_report();
        let md = markdown(&r);
        assert!(md.contains("| L=4 chained | L=4 (about 8 whole proof) | 40.0 | L=4 chained, 4 threads, avx2 | 4.00x ("), "{md}");
        assert!(md.contains("| 95% interval | samples |"));
        assert!(md.contains("Memory bandwidth is assumed to grow with cores at this machine's per-core rate (10.0 GB/s: 4 cores copying at once, per core), so a 64-core machine is assumed 640 GB/s"), "{md}");
        assert!(md.contains("| blake3 | 32 | avx512 | L=1 unchained |"));
        assert!(md.contains("avx512* |"), "extrapolated backends are marked");
    }
}
