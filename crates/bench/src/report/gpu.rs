//! The GPU's place in a CPU report (`poie bench --gpu`): its fairness rows and verdict line.

use super::{m, FairnessRow, Report};
use crate::gpu::GpuReport;
use poie_proof::HashId;
use std::fmt::Write as _;

/// The GPU's rate at a fairness row's layout (trace resident).
fn rate_at(g: &GpuReport, row: &FairnessRow) -> Option<f64> {
    match row.lanes {
        Some(l) => g.chained_rate(l),
        None => Some(g.parallel_rate()),
    }
}

/// One verdict line for `--gpu`: the GPU against this machine's best CPU figures at every
/// layout of the CPU sweep it measured.
pub fn verdict_line(r: &Report) -> Option<String> {
    let g = r.gpu.as_ref()?;
    let mut parts = Vec::new();
    for row in r.fairness.iter().filter(|x| x.hash == HashId::Blake3) {
        let Some(rate) = rate_at(g, row) else {
            continue;
        };
        let name = row
            .lanes
            .map_or("unchained".to_string(), |l| format!("L={l}"));
        parts.push(format!(
            "{name} {} M chunks/s ({:.2}x this machine's best CPU figure)",
            m(rate),
            rate / row.best_rate.max(1e-12)
        ));
    }
    let void = if g.verified {
        ""
    } else {
        " NOT VERIFIED: its roots differed from the CPU's, so these figures are void"
    };
    Some(format!(
        "GPU {} (trace resident): {}; one GPU lane (thread) runs {} M chunks/s in sequence.{void}",
        super::markdown::esc(&g.device.name),
        if parts.is_empty() {
            "no layout of the CPU sweep measured".to_string()
        } else {
            parts.join(", ")
        },
        m(g.per_lane_rate())
    ))
}

/// The GPU rows under a hash's fairness table: what a GPU buys at the same layouts, against
/// the same baselines.
pub fn fairness_rows(r: &Report, rows: &[&FairnessRow], s: &mut String) {
    let Some(g) = r.gpu.as_ref() else { return };
    for row in rows.iter().filter(|x| x.hash == HashId::Blake3) {
        let Some(rate) = rate_at(g, row) else {
            continue;
        };
        let layout = row
            .lanes
            .map_or("L=1 unchained".to_string(), |l| format!("L={l} chained"));
        let bound = row.lanes.map_or("none".to_string(), |l| format!("L={l}"));
        let _ = writeln!(
            s,
            "| {layout}, **GPU** | {bound} | {} | GPU {}, trace resident: {:.2}x this machine's best CPU figure | {:.2}x | - | - |",
            m(rate),
            super::markdown::esc(&g.device.name),
            rate / row.best_rate.max(1e-12),
            rate / row.baseline_rate.max(1e-12)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::sample_report;
    use super::super::{markdown, verdict};
    use super::*;

    #[test]
    fn gpu_rows_join_the_fairness_table_and_the_verdict() {
        let mut r = sample_report();
        let plain = verdict(&r);
        r.gpu = Some(crate::gpu::tests::sample());
        let v = verdict(&r);
        assert_eq!(v.len(), plain.len() + 1, "{v:?}");
        let line = &v[v.len() - 2];
        // Unchained: 2^27 chunks in 10 ms against the best CPU unchained 90 M/s; L=16: 16 M/s
        // (1 M/s a lane) against the CPU's 85 M/s; L=4 has no GPU figure and is left out.
        assert!(
            line.starts_with("GPU Test GPU (trace resident): "),
            "{line}"
        );
        assert!(
            line.contains("unchained 13421.8 M chunks/s (149.13x this machine's best CPU figure)"),
            "{line}"
        );
        assert!(
            line.contains("L=16 16.0 M chunks/s (0.19x this machine's best CPU figure)"),
            "{line}"
        );
        assert!(!line.contains("L=4 "), "{line}");
        assert!(line.contains("one GPU lane (thread) runs 1.0 M chunks/s in sequence."));
        let md = markdown(&r);
        assert!(md.contains("| L=16 chained, **GPU** | L=16 | 16.0 | GPU Test GPU, trace resident: 0.19x this machine's best CPU figure | 1.60x | - | - |"), "{md}");
        assert!(md.contains("## GPU: Test GPU (CUDA device 0)"));
        // The section survives a JSON round trip, and a report without it still loads.
        let back = Report::from_json(&r.to_json()).expect("round trip");
        assert_eq!(back.gpu, r.gpu);
        let mut old: serde_json::Value = serde_json::from_str(&r.to_json()).expect("json");
        old.as_object_mut().expect("object").remove("gpu");
        let back = Report::from_json(&old.to_string()).expect("without gpu");
        assert!(back.gpu.is_none());
        // A GPU whose roots did not match says its figures are void.
        if let Some(g) = r.gpu.as_mut() {
            g.verified = false;
        }
        assert!(verdict(&r).iter().any(|l| l.contains("NOT VERIFIED")));
    }
}
