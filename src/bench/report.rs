//! The benchmark report: its JSON schema, derived tables and the Markdown rendering.

use super::fingerprint::Fingerprint;
use super::model::{Machine, Model, Rates, Tuning};
use crate::proof::Simd as SimdKind;
use crate::proof::{HashId, Simd};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Bumped whenever a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// A model whose worst error on the measured points exceeds this marks its modelled machines
/// and lane recommendation as rough.
pub const MODEL_WARN: f64 = 0.25;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Quick,
    Default,
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Synthetic,
    Vm,
}

/// Rates measured with one primitive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Primitives {
    /// 64-byte blake3 compressions per second on one core, per backend (many inputs per call).
    pub blake3: Vec<(Simd, f64)>,
    /// The same by inputs per call (1, 2, 4, 8, 16 up to each backend's degree): what chained
    /// lanes can feed one SIMD call.
    pub blake3_by_width: Vec<Rates>,
    /// Producing the synthetic trace and copying it into blocks, chunks per second.
    pub producer: f64,
    /// keccak256 leaf permutations per second on one core, portable backend (one state).
    pub keccak: f64,
    /// The same per keccak backend (portable 1 state, avx2 4, avx512 8 per call; `sse41` runs
    /// the portable kernel and is not measured). Empty in reports from before keccak had SIMD.
    #[serde(default)]
    pub keccak_by_simd: Vec<(Simd, f64)>,
    /// keccak by inputs per call (1, 2, 4, 8 up to each backend's degree).
    #[serde(default)]
    pub keccak_by_width: Vec<Rates>,
    /// VM steps per second, no trace and trace built into the null sink.
    pub vm_untraced: f64,
    pub vm_traced: f64,
    /// Memory copy bandwidth, bytes per second, one thread.
    pub memcpy: f64,
}

/// One measured configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub hash: HashId,
    pub simd: Simd,
    pub lanes: u32,
    pub chained: bool,
    pub threads: usize,
    /// More worker threads than logical cores.
    pub oversubscribed: bool,
    pub source: SourceKind,
    pub pinned: bool,
    pub chunks_per_sample: u64,
    pub samples_secs: Vec<f64>,
    /// Derived, chunks per second.
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The hash ceiling for this point: half the compression rate of its backend times the
    /// cores its workers can use.
    pub ceiling: f64,
    pub predicted: f64,
}

impl Point {
    /// The prover configuration, as the model sees it.
    pub fn config(&self) -> super::model::Config {
        super::model::Config {
            lanes: self.lanes,
            chained: self.chained,
            threads: self.threads,
        }
    }

    pub fn layout_name(&self) -> String {
        if self.chained {
            format!("L={} chained", self.lanes)
        } else {
            format!("L={} unchained", self.lanes)
        }
    }
}

/// Best speedup any configuration reached with `lanes` chained lanes over one lane on one core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairnessRow {
    pub hash: HashId,
    /// `None` for the unchained layout (no bound).
    pub lanes: Option<u32>,
    pub best_speedup: f64,
    pub best_config: String,
}

/// The marginal cost of hashing the same execution for one more identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelfPooling {
    pub hash: HashId,
    pub guest: String,
    pub steps: u64,
    pub exec_secs: f64,
    pub hash_secs: f64,
    /// `hash / (exec + hash)`: what an extra identity costs relative to a full independent run.
    pub marginal_cost: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub hash: HashId,
    pub model: Model,
    /// Median and worst |predicted - measured| / measured over the synthetic points.
    pub median_error: f64,
    pub max_error: f64,
}

/// Modelled throughput of a hypothetical machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub hash: HashId,
    pub machine: Machine,
    pub lanes: u32,
    pub chained: bool,
    pub chunks_per_sec: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub created_utc: String,
    pub mode: Mode,
    pub fingerprint: Fingerprint,
    pub primitives: Primitives,
    pub points: Vec<Point>,
    pub models: Vec<ModelSummary>,
    pub predictions: Vec<Prediction>,
    pub fairness: Vec<FairnessRow>,
    pub self_pooling: Vec<SelfPooling>,
    pub tuning: Option<Tuning>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises") + "\n"
    }

    pub fn from_json(text: &str) -> Result<Report, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match v.get("schema_version").and_then(|s| s.as_u64()) {
            Some(s) if s == u64::from(SCHEMA_VERSION) => {}
            Some(s) => {
                return Err(format!(
                    "schema version {s}, this poie reads {SCHEMA_VERSION}"
                ))
            }
            None => return Err("no schema_version: not a poie report".into()),
        }
        serde_json::from_value(v).map_err(|e| format!("not a valid report: {e}"))
    }

    /// Synthetic blake3 points of the best backend: the main sweep.
    pub fn main_points(&self) -> impl Iterator<Item = &Point> {
        let best = self.fingerprint.blake3_detected;
        self.points.iter().filter(move |p| {
            p.source == SourceKind::Synthetic && p.hash == HashId::Blake3 && p.simd == best
        })
    }

    fn find(
        &self,
        hash: HashId,
        simd: Simd,
        lanes: u32,
        chained: bool,
        threads: usize,
    ) -> Option<&Point> {
        self.points.iter().find(|p| {
            p.source == SourceKind::Synthetic
                && p.hash == hash
                && p.simd == simd
                && p.lanes == lanes
                && p.chained == chained
                && p.threads == threads
        })
    }
}

/// The unfitted model (efficiency 1) of `hash` from the primitives.
pub fn model_for(p: &Primitives, hash: HashId) -> Model {
    use super::model::Rate;
    let (rates, scalar) = match hash {
        HashId::Blake3 => (p.blake3_by_width.clone(), false),
        HashId::Keccak if !p.keccak_by_width.is_empty() => {
            // sse41 runs keccak's portable kernel: the same rates under its name.
            let mut rates = p.keccak_by_width.clone();
            if let Some(portable) = rates.iter().find(|r| r.simd == SimdKind::Portable) {
                rates.push(Rates {
                    simd: SimdKind::Sse41,
                    ..portable.clone()
                });
            }
            (rates, false)
        }
        HashId::Keccak => (
            vec![Rates {
                simd: SimdKind::Portable,
                by_width: vec![Rate {
                    width: 1,
                    per_second: p.keccak,
                }],
            }],
            true,
        ),
    };
    Model {
        rates,
        scalar,
        producer_secs: 0.0,
        gen_secs: 1.0 / p.producer.max(1.0),
        mem_chunks: p.memcpy / 64.0,
        eff: 1.0,
        par: 1.0,
    }
}

/// The fairness table from the measured points.
pub fn fairness(points: &[Point]) -> Vec<FairnessRow> {
    let mut rows = Vec::new();
    for hash in HashId::ALL {
        let synth: Vec<&Point> = points
            .iter()
            .filter(|p| p.hash == hash && p.source == SourceKind::Synthetic)
            .collect();
        let base = synth
            .iter()
            .filter(|p| p.lanes == 1 && p.chained && p.threads == 1)
            .map(|p| p.median)
            .fold(0.0, f64::max);
        if base <= 0.0 {
            continue;
        }
        let mut layouts: Vec<(Option<u32>, bool)> = synth
            .iter()
            .map(|p| (p.chained.then_some(p.lanes), p.chained))
            .collect();
        layouts.sort();
        layouts.dedup();
        for (lanes, chained) in layouts {
            let best = synth
                .iter()
                .filter(|p| p.chained == chained && (!chained || Some(p.lanes) == lanes))
                .max_by(|a, b| a.median.total_cmp(&b.median));
            if let Some(b) = best {
                rows.push(FairnessRow {
                    hash,
                    lanes,
                    best_speedup: b.median / base,
                    best_config: format!("{}, {} threads, {}", b.layout_name(), b.threads, b.simd),
                });
            }
        }
    }
    rows
}

fn m(v: f64) -> String {
    format!("{:.1}", v / 1e6)
}

/// The human report.
pub fn markdown(r: &Report) -> String {
    let f = &r.fingerprint;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# poie benchmark: {} ({} logical / {} physical cores)\n",
        f.cpu_model, f.logical_cores, f.physical_cores
    );
    let _ = writeln!(
        s,
        "Machine id `{}`, {} run of {} UTC. poie {} ({}), {}. {}, kernel {}. Memory {:.1} GiB. \
         Caches: {}. SIMD: {}. blake3 picks {}.\n",
        f.machine_id,
        format!("{:?}", r.mode).to_lowercase(),
        r.created_utc,
        f.poie_version,
        f.git_commit,
        f.rustc,
        f.os,
        f.kernel,
        f.memory_bytes as f64 / (1u64 << 30) as f64,
        f.caches.join(", "),
        f.simd_features.join(" "),
        f.blake3_detected
    );
    let _ = writeln!(s, "All throughputs are medians in millions of chunks (steps) per second; one chunk = one 32-byte trace step. `(o)` marks oversubscribed points (more workers than logical cores). Modelled figures are labelled as such.\n");

    let _ = writeln!(
        s,
        "## Primitives (one core)\n\n| primitive | rate |\n|---|---|"
    );
    for (simd, rate) in &r.primitives.blake3 {
        let _ = writeln!(
            s,
            "| blake3 {simd} compressions | {} M/s (proof ceiling {} M chunks/s) |",
            m(*rate),
            m(rate / 2.0)
        );
    }
    if r.primitives.keccak_by_simd.is_empty() {
        let _ = writeln!(
            s,
            "| keccak256 permutations | {} M/s (ceiling {} M chunks/s) |",
            m(r.primitives.keccak),
            m(r.primitives.keccak / 2.0)
        );
    }
    for (simd, rate) in &r.primitives.keccak_by_simd {
        let _ = writeln!(
            s,
            "| keccak256 {simd} permutations | {} M/s (proof ceiling {} M chunks/s) |",
            m(*rate),
            m(rate / 2.0)
        );
    }
    let _ = writeln!(
        s,
        "| VM, no trace | {} M steps/s |",
        m(r.primitives.vm_untraced)
    );
    let _ = writeln!(
        s,
        "| VM, trace built (null sink) | {} M steps/s |",
        m(r.primitives.vm_traced)
    );
    let _ = writeln!(s, "| memory copy | {:.1} GB/s |", r.primitives.memcpy / 1e9);
    let _ = writeln!(
        s,
        "| synthetic trace producer (generated into a block, one core) | {} M chunks/s |",
        m(r.primitives.producer)
    );
    for (hash, all) in [
        (HashId::Blake3, &r.primitives.blake3_by_width),
        (HashId::Keccak, &r.primitives.keccak_by_width),
    ] {
        for rates in all {
            let by: Vec<String> = rates
                .by_width
                .iter()
                .map(|w| format!("{}: {}", w.width, m(w.per_second)))
                .collect();
            let _ = writeln!(
                s,
                "| {hash} {} by inputs per call | {} M/s |",
                rates.simd,
                by.join(", ")
            );
        }
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Fairness: best speedup over one lane on one core\n");
    let _ = writeln!(s, "The bound is L for the leaf hashing (the sequential part); internal nodes are not lane-bound, so up to about 2L is possible for the whole proof (see docs/SPEC.md, 3.6).\n");
    let _ = writeln!(
        s,
        "| hash | lanes | bound L | best speedup | reached with |\n|---|---|---|---|---|"
    );
    for row in &r.fairness {
        let (lanes, bound) = match row.lanes {
            Some(l) => (l.to_string(), l.to_string()),
            None => ("1 unchained".into(), "none".into()),
        };
        let _ = writeln!(
            s,
            "| {} | {lanes} | {bound} | {:.2}x | {} |",
            row.hash, row.best_speedup, row.best_config
        );
    }

    let _ = writeln!(
        s,
        "\n## Speedup versus threads (blake3 {}, synthetic trace)\n",
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
    for (chained, lanes) in &layouts {
        let one = r
            .find(HashId::Blake3, f.blake3_detected, *lanes, *chained, 1)
            .map(|p| p.median);
        let name = if *chained {
            format!("L={lanes} chained")
        } else {
            format!("L={lanes} unchained")
        };
        let _ = write!(s, "| {name} |");
        for t in &threads {
            match (
                r.find(HashId::Blake3, f.blake3_detected, *lanes, *chained, *t),
                one,
            ) {
                (Some(p), Some(one)) => {
                    let _ = write!(
                        s,
                        " {} ({:.2}x, {:.0}% of ceiling) |",
                        m(p.median),
                        p.median / one,
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

    let _ = writeln!(s, "\n## SIMD gain per backend (blake3, one thread)\n\n| layout | backend | M chunks/s | gain over portable | % of backend ceiling |\n|---|---|---|---|---|");
    for (chained, lanes) in &layouts {
        let portable = r
            .find(HashId::Blake3, Simd::Portable, *lanes, *chained, 1)
            .map(|p| p.median);
        for simd in &f.blake3_backends {
            if let (Some(p), Some(base)) =
                (r.find(HashId::Blake3, *simd, *lanes, *chained, 1), portable)
            {
                let _ = writeln!(
                    s,
                    "| {} | {simd} | {} | {:.2}x | {:.0}% |",
                    p.layout_name(),
                    m(p.median),
                    p.median / base,
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
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.2}x | {:.0}% |",
                    p.layout_name(),
                    p.simd,
                    m(p.median),
                    p.median / base.median,
                    100.0 * p.median / p.ceiling
                );
            }
        }
    }

    let _ = writeln!(s, "\n## All points: measured and modelled\n\n| hash | simd | layout | threads | source | median | min | max | % of ceiling | modelled | model error |\n|---|---|---|---|---|---|---|---|---|---|---|");
    for p in &r.points {
        let o = if p.oversubscribed { " (o)" } else { "" };
        let src = match p.source {
            SourceKind::Synthetic => "synthetic",
            SourceKind::Vm => "VM end to end",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {}{o} | {src} | {} | {} | {} | {:.0}% | {} | {:+.0}% |",
            p.hash,
            p.simd,
            p.layout_name(),
            p.threads,
            m(p.median),
            m(p.min),
            m(p.max),
            100.0 * p.median / p.ceiling,
            m(p.predicted),
            100.0 * (p.predicted - p.median) / p.median
        );
    }
    let _ = writeln!(s, "\n## Model\n\nThe bounds (docs/ARCHITECTURE.md, `bench::model`): workers' hashing and chunk generation, the chains' per-input latency, a sequential producer (the VM) and memory bandwidth; `eff` is fitted on the one-worker points and `par` (each worker's efficiency beside the others) on the rest.\n");
    for ms in &r.models {
        let _ = writeln!(
            s,
            "- {}: eff {:.3}, par {:.3}; over this machine's points (oversubscribed ones excepted, the VM included) the model is off by {:.1}% (median) and {:.1}% (worst).",
            ms.hash, ms.model.eff, ms.model.par, 100.0 * ms.median_error, 100.0 * ms.max_error
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
    let _ = writeln!(s, "\n### Modelled machines (not measured)\n{warning}\nPer-core rates of this machine, all cores used.\n\n| hash | cores | SIMD | layout | modelled M chunks/s |\n|---|---|---|---|---|");
    for p in &r.predictions {
        let layout = if p.chained {
            format!("L={} chained", p.lanes)
        } else {
            format!("L={} unchained", p.lanes)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {layout} | {} |",
            p.hash,
            p.machine.cores,
            p.machine.simd,
            m(p.chunks_per_sec)
        );
    }
    if let Some(t) = &r.tuning {
        let _ = writeln!(
            s,
            "\n### Lane count tuning (modelled)\n{warning}\n{}",
            tuning_markdown(t)
        );
    }
    let _ = writeln!(s, "\n## Self-pooling: one execution, one more identity\n\nOne owner running two identities executes once and hashes twice. The marginal cost of each extra identity, relative to a full independent execution, is hash / (execution + hash): execution is the traced VM run, hashing the Merkleisation alone of as many chunks (one thread, L=16 chained; timed on a prefix of the chunks and scaled linearly).\n\n| hash | guest | steps | execution s | hashing s | marginal cost |\n|---|---|---|---|---|---|");
    for sp in &r.self_pooling {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.0}% |",
            sp.hash,
            sp.guest,
            sp.steps,
            sp.exec_secs,
            sp.hash_secs,
            100.0 * sp.marginal_cost
        );
    }
    let _ = writeln!(
        s,
        "\n## Plots\n\n![speedup](speedup.svg)\n![simd](simd.svg)\n![lanes](lanes.svg)"
    );
    s
}

pub fn tuning_markdown(t: &Tuning) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Reference machine: {} cores, {}. Goal: keep at least {:.0}% of its unbounded (unchained) throughput.{}\n",
        t.reference.cores,
        t.reference.simd,
        100.0 * t.keep,
        if t.extrapolated { " Rates of a backend this machine lacks are extrapolated by SIMD degree." } else { "" }
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
