//! `poie report`: several machines' reports side by side.

use super::report::{Report, SourceKind};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Markdown comparison: for every configuration measured on at least one machine, each
/// machine's throughput and its advantage over the slowest machine that measured it.
pub fn markdown(reports: &[Report]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# poie: comparison of {} machines\n", reports.len());
    let _ = writeln!(s, "| # | machine id | CPU | cores (logical/physical) | best blake3 backend | run |\n|---|---|---|---|---|---|");
    for (i, r) in reports.iter().enumerate() {
        let f = &r.fingerprint;
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {}/{} | {} | {} |",
            i + 1,
            f.machine_id,
            f.cpu_model,
            f.logical_cores,
            f.physical_cores,
            f.blake3_detected,
            r.created_utc
        );
    }
    let _ = writeln!(s, "\nThroughput in M chunks/s (median); in brackets the advantage over the slowest machine for that configuration. Configurations use each machine's own backend name; `best` rows compare each machine at its best backend.\n");
    let key = |p: &super::report::Point, best: bool| {
        let simd = if best {
            "best".to_string()
        } else {
            p.simd.to_string()
        };
        let src = if p.source == SourceKind::Vm {
            "vm"
        } else {
            "synthetic"
        };
        (
            p.hash.to_string(),
            simd,
            p.chained,
            p.lanes,
            p.threads,
            src.to_string(),
        )
    };
    let mut keys = BTreeSet::new();
    for r in reports {
        for p in &r.points {
            keys.insert(key(
                p,
                p.simd == r.fingerprint.blake3_detected || p.hash == crate::proof::HashId::Keccak,
            ));
        }
    }
    let _ = write!(s, "| hash | simd | layout | threads | source |");
    for i in 0..reports.len() {
        let _ = write!(s, " #{} |", i + 1);
    }
    let _ = writeln!(s, "\n|---|---|---|---|---|{}", "---|".repeat(reports.len()));
    for k in keys {
        let vals: Vec<Option<f64>> = reports
            .iter()
            .map(|r| {
                r.points
                    .iter()
                    .find(|p| {
                        key(
                            p,
                            p.simd == r.fingerprint.blake3_detected
                                || p.hash == crate::proof::HashId::Keccak,
                        ) == k
                    })
                    .map(|p| p.median)
            })
            .collect();
        let slowest = vals.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let layout = if k.2 {
            format!("L={} chained", k.3)
        } else {
            format!("L={} unchained", k.3)
        };
        let _ = write!(s, "| {} | {} | {layout} | {} | {} |", k.0, k.1, k.4, k.5);
        for v in vals {
            match v {
                Some(v) => {
                    let _ = write!(s, " {:.1} ({:.2}x) |", v / 1e6, v / slowest);
                }
                None => {
                    let _ = write!(s, " - |");
                }
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "\n## Fairness per machine\n\n| machine | hash | lanes | best speedup over 1 lane, 1 core |\n|---|---|---|---|");
    for (i, r) in reports.iter().enumerate() {
        for row in &r.fairness {
            let lanes = row.lanes.map_or("unchained".into(), |l| l.to_string());
            let _ = writeln!(
                s,
                "| #{} | {} | {lanes} | {:.2}x |",
                i + 1,
                row.hash,
                row.best_speedup
            );
        }
    }
    let _ = writeln!(s, "\n![machines](machines.svg)");
    s
}
