//! The benchmark report: its JSON schema, derived tables and the Markdown rendering.

use super::fingerprint::{Fingerprint, LoadAvg};
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

/// A point whose samples spread more than this ((max - min) / median) is flagged as noisy.
pub const SPREAD_WARN: f64 = 0.15;

/// A point measured while more than this many other tasks per logical core wanted a core is
/// flagged as loaded.
pub const LOAD_WARN: f64 = 0.5;

/// More threads slower than fewer by more than this is warned about (less is within noise).
pub const SLOWER_WARN: f64 = 0.05;

/// The share of its unbounded throughput a machine should keep at the recommended L.
pub const KEEP: f64 = 0.9;

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
    /// blake3 by inputs per call as a dependent chain: before each call, the previous call's
    /// outputs are copied into the second half of its inputs, as the prover does row by row
    /// in a chained lane group. Empty in reports from before it was measured.
    #[serde(default)]
    pub blake3_chained_by_width: Vec<Rates>,
    /// The same for keccak.
    #[serde(default)]
    pub keccak_chained_by_width: Vec<Rates>,
    /// The many-input rates of `blake3` and `keccak_by_simd` again, as the median of one short
    /// sample taken in each sampling round of the sweep: the points' ceilings, comparable with
    /// the points' medians. Empty in reports from before, whose ceilings came from the rates
    /// above, and where no sweep ran.
    #[serde(default)]
    pub blake3_in_rounds: Vec<(Simd, f64)>,
    #[serde(default)]
    pub keccak_in_rounds: Vec<(Simd, f64)>,
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
    /// The hash ceiling for this point: half the many-input compression rate of its backend
    /// times the cores its workers can use. The rate is the median of the per-round samples
    /// (`Primitives::blake3_in_rounds`, `keccak_in_rounds`); in reports from before they were
    /// taken, the primitives phase's.
    pub ceiling: f64,
    pub predicted: f64,
    /// Load around the point: the mean number of other tasks runnable (from `/proc/loadavg`,
    /// this process excepted) read just before and just after each of its samples. `None`
    /// where `/proc/loadavg` is absent, and in reports from before it was recorded.
    #[serde(default)]
    pub load: Option<f64>,
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

    /// This point's rate over `other`'s, from samples taken in the same rounds: the median
    /// of the per-round ratios. Each round samples every point once, a layout's thread
    /// counts back to back, so a slow spell of the machine lands on both samples of a ratio
    /// and cancels, where it would skew a ratio of medians taken minutes apart. The ratio of
    /// the medians where the rounds cannot be paired: different sample counts, or samples that
    /// do not give the point's recorded median (a report edited by hand).
    pub fn ratio_to(&self, other: &Point) -> f64 {
        let paired = match (self.round_rates(), other.round_rates()) {
            (Some(a), Some(b)) if a.len() == b.len() => {
                let mut r: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x / y).collect();
                r.sort_by(f64::total_cmp);
                Some(super::median(&r)).filter(|m| m.is_finite() && *m > 0.0)
            }
            _ => None,
        };
        paired.unwrap_or(if other.median > 0.0 {
            self.median / other.median
        } else {
            0.0
        })
    }

    /// The rate of each sample in round order, where they give the recorded median.
    fn round_rates(&self) -> Option<Vec<f64>> {
        let n = self.chunks_per_sample as f64;
        let rates: Vec<f64> = self.samples_secs.iter().map(|s| n / s).collect();
        if rates.is_empty() || rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
            return None;
        }
        let mut sorted = rates.clone();
        sorted.sort_by(f64::total_cmp);
        let m = super::median(&sorted);
        ((m - self.median).abs() <= 1e-9 * self.median.abs().max(1.0)).then_some(rates)
    }

    /// `(max - min) / median` of the sample rates; 0 with fewer than two samples.
    pub fn spread(&self) -> f64 {
        if self.samples_secs.len() < 2 || self.median <= 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median
        }
    }

    /// Why this point's figure is not to be trusted (empty when it is): its samples spread
    /// more than [`SPREAD_WARN`], or other tasks wanted more than [`LOAD_WARN`] per core.
    pub fn flags(&self, cores: usize) -> Vec<String> {
        let mut f = Vec::new();
        if self.spread() > SPREAD_WARN {
            f.push(format!("spread {:.0}%", 100.0 * self.spread()));
        }
        if let Some(load) = self.load {
            let per_core = load / cores.max(1) as f64;
            if per_core > LOAD_WARN {
                f.push(format!("load {per_core:.2}/core"));
            }
        }
        f
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
    /// The best rate over the baseline's.
    pub best_speedup: f64,
    pub best_config: String,
    /// The best rate itself, chunks per second.
    #[serde(default)]
    pub best_rate: f64,
    /// The baseline, one lane on one core: the L=1 chained, 1-thread point of the backend
    /// the rows are measured on, e.g. "blake3 avx512, L=1 chained, 1 thread".
    #[serde(default)]
    pub baseline: String,
    #[serde(default)]
    pub baseline_rate: f64,
    /// The same layout on one thread (0 when not measured), and the best rate over it: what
    /// more hardware buys at this layout.
    #[serde(default)]
    pub same_layout_one_core: f64,
    #[serde(default)]
    pub gain_over_same_layout: f64,
}

impl FairnessRow {
    /// The most chained lanes allow over one lane on one core: L for the leaf hashing, about
    /// 2L for the whole proof (internal nodes are not lane-bound; docs/SPEC.md, 3.6).
    pub fn bound(&self) -> Option<f64> {
        self.lanes.map(|l| 2.0 * f64::from(l))
    }
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
    /// `/proc/loadavg` just before the run and just after the sweep (`None` where absent, and
    /// in reports from before it was recorded).
    #[serde(default)]
    pub load_before: Option<LoadAvg>,
    #[serde(default)]
    pub load_after: Option<LoadAvg>,
    /// `poie bench --gpu`: the CUDA device's figures (`None` without `--gpu`).
    #[serde(default)]
    pub gpu: Option<super::gpu::GpuReport>,
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
        let mut r: Report =
            serde_json::from_value(v).map_err(|e| format!("not a valid report: {e}"))?;
        // Reports from before the fairness table named its baseline: derive it again from the
        // points, which carry everything it needs.
        if r.fairness.is_empty() || r.fairness.iter().any(|f| f.baseline.is_empty()) {
            r.fairness = fairness(&r.points);
        }
        Ok(r)
    }

    pub fn cores(&self) -> usize {
        self.fingerprint.logical_cores.max(1)
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

/// The unfitted model (efficiency 1, no fixed cost) of `hash` from the primitives.
pub fn model_for(p: &Primitives, hash: HashId) -> Model {
    use super::model::Rate;
    // sse41 runs keccak's portable kernel: the same rates under its name.
    let with_sse41 = |tables: &[Rates]| {
        let mut rates = tables.to_vec();
        if let Some(portable) = rates.iter().find(|r| r.simd == SimdKind::Portable) {
            rates.push(Rates {
                simd: SimdKind::Sse41,
                ..portable.clone()
            });
        }
        rates
    };
    let (rates, chained_rates, scalar) = match hash {
        HashId::Blake3 => (
            p.blake3_by_width.clone(),
            p.blake3_chained_by_width.clone(),
            false,
        ),
        HashId::Keccak if !p.keccak_by_width.is_empty() => (
            p.keccak_by_width.clone(),
            p.keccak_chained_by_width.clone(),
            false,
        ),
        HashId::Keccak => (
            vec![Rates {
                simd: SimdKind::Portable,
                by_width: vec![Rate {
                    width: 1,
                    per_second: p.keccak,
                }],
            }],
            vec![],
            true,
        ),
    };
    let in_rounds = match hash {
        HashId::Blake3 => &p.blake3_in_rounds,
        HashId::Keccak => &p.keccak_in_rounds,
    };
    let (mut rates, mut chained_rates, drift) = to_the_sweep(rates, chained_rates, in_rounds);
    if hash == HashId::Keccak && !scalar {
        (rates, chained_rates) = (with_sse41(&rates), with_sse41(&chained_rates));
    }
    Model {
        rates,
        chained_rates,
        scalar,
        producer_secs: 0.0,
        producer_factor: 1.0,
        gen_secs: 1.0 / (p.producer * drift).max(1.0),
        mem_chunks: p.memcpy / 64.0,
        eff: 1.0,
        fixed_secs: 0.0,
        row_secs: 0.0,
        par: 1.0,
    }
}

/// The by-width tables brought to the sweep's minutes: each backend's tables scaled by its
/// full-width rate sampled in the rounds over the table's own full-width rate. The tables
/// are measured minutes before the sweep and this host drifts by a third over minutes, and
/// not evenly over the backends (one report's avx512 table came out 30% below its rounds,
/// its portable one 5% above), which the fit would read as a fixed cost. Also returns the
/// median factor, for the primitives that were not sampled in the rounds. Reports from before
/// the rounds sampled anything are left as they are (factor 1).
fn to_the_sweep(
    mut rates: Vec<Rates>,
    mut chained: Vec<Rates>,
    in_rounds: &[(SimdKind, f64)],
) -> (Vec<Rates>, Vec<Rates>, f64) {
    let mut factors = Vec::new();
    for r in rates.iter_mut().filter(|r| !r.by_width.is_empty()) {
        let full = r.at(r.degree());
        let sampled = in_rounds
            .iter()
            .find(|(s, _)| *s == r.simd)
            .map(|(_, v)| *v);
        let Some(f) = sampled
            .map(|v| v / full)
            .filter(|f| f.is_finite() && *f > 0.0)
        else {
            continue;
        };
        factors.push(f);
        let scale = |t: &mut Rates| t.by_width.iter_mut().for_each(|w| w.per_second *= f);
        scale(r);
        chained
            .iter_mut()
            .filter(|c| c.simd == r.simd)
            .for_each(scale);
    }
    factors.sort_by(f64::total_cmp);
    let drift = factors.get(factors.len() / 2).copied().unwrap_or(1.0);
    (rates, chained, drift)
}

/// Fits one model per hash (`model_for`, then `Model::fit` on its synthetic, not
/// oversubscribed points), sets every point's `predicted` (the VM's points with its traced rate
/// as a sequential producer) and each model's median and worst error over every point it
/// should predict: all but the oversubscribed ones, the VM end to end included.
pub fn fit_models(prims: &Primitives, points: &mut [Point], cores: usize) -> Vec<ModelSummary> {
    // The points that pass `keep`, as the model's observations.
    let observed = |points: &[Point], keep: &dyn Fn(&Point) -> bool| {
        points
            .iter()
            .filter(|p| keep(p))
            .map(|p| {
                let m = Machine {
                    cores,
                    simd: p.simd,
                };
                (m, p.config(), p.median)
            })
            .collect::<Vec<(Machine, super::model::Config, f64)>>()
    };
    let mut models = Vec::new();
    for hash in HashId::ALL {
        let fit_points = observed(points, &|p| {
            p.hash == hash && p.source == SourceKind::Synthetic && !p.oversubscribed
        });
        if fit_points.is_empty() {
            continue;
        }
        models.push(ModelSummary {
            hash,
            median_error: 0.0,
            max_error: 0.0,
            model: model_for(prims, hash).fit(&fit_points),
        });
    }
    // The VM is a sequential producer, writing straight into the blocks: its cost in the
    // prover is fitted on its points with several workers (one worker has a core to itself
    // and the producer another, so those points test the rest of the model instead).
    let as_producer = |m: &Model| Model {
        producer_secs: 1.0 / prims.vm_traced.max(1.0),
        gen_secs: 0.0,
        ..m.clone()
    };
    for ms in &mut models {
        let vm_points = observed(points, &|p| {
            p.hash == ms.hash && p.source == SourceKind::Vm && p.threads > 1 && !p.oversubscribed
        });
        ms.model.producer_factor = as_producer(&ms.model)
            .fit_producer(&vm_points)
            .producer_factor;
    }
    for p in points.iter_mut() {
        if let Some(ms) = models.iter().find(|m| m.hash == p.hash) {
            let mut model = ms.model.clone();
            if p.source == SourceKind::Vm {
                model = as_producer(&model);
            }
            p.predicted = model.predict(
                Machine {
                    cores,
                    simd: p.simd,
                },
                p.config(),
            );
        }
    }
    for ms in &mut models {
        let mut errors: Vec<f64> = points
            .iter()
            .filter(|p| p.hash == ms.hash && !p.oversubscribed && p.median > 0.0)
            .map(|p| ((p.predicted - p.median) / p.median).abs())
            .collect();
        errors.sort_by(f64::total_cmp);
        ms.median_error = errors.get(errors.len() / 2).copied().unwrap_or(0.0);
        ms.max_error = errors.last().copied().unwrap_or(0.0);
    }
    models
}

/// The backend a hash was swept on: that of its synthetic points with the most threads (the
/// other backends are measured on one thread only); the widest on a tie.
pub fn main_simd(points: &[Point], hash: HashId) -> Option<Simd> {
    points
        .iter()
        .filter(|p| p.hash == hash && p.source == SourceKind::Synthetic)
        .max_by_key(|p| (p.threads, p.simd.degree()))
        .map(|p| p.simd)
}

/// The fairness table from the measured points: per hash, on its main backend, each layout's
/// best rate over one lane on one core (the L=1 chained, 1-thread point) and over the same
/// layout on one core.
pub fn fairness(points: &[Point]) -> Vec<FairnessRow> {
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
            synth
                .iter()
                .find(|p| p.lanes == lanes && p.chained == chained && p.threads == 1)
                .filter(|p| p.median > 0.0)
        };
        let Some(base) = one_core(1, true).map(|p| p.median) else {
            continue;
        };
        let baseline = format!("{hash} {simd}, L=1 chained, 1 thread");
        let mut layouts: Vec<(bool, u32)> = synth
            .iter()
            .map(|p| (p.chained, if p.chained { p.lanes } else { 1 }))
            .collect();
        layouts.sort();
        layouts.dedup();
        for (chained, lanes) in layouts {
            let best = synth
                .iter()
                .filter(|p| p.chained == chained && (!chained || p.lanes == lanes))
                .max_by(|a, b| a.median.total_cmp(&b.median));
            if let Some(b) = best {
                let same_point = one_core(b.lanes, chained);
                let same = same_point.map_or(0.0, |p| p.median);
                rows.push(FairnessRow {
                    hash,
                    lanes: chained.then_some(lanes),
                    best_speedup: b.median / base,
                    best_config: format!("{}, {}, {}", b.layout_name(), thr(b.threads), b.simd),
                    best_rate: b.median,
                    baseline: baseline.clone(),
                    baseline_rate: base,
                    same_layout_one_core: same,
                    gain_over_same_layout: same_point.map_or(0.0, |p| b.ratio_to(p)),
                });
            }
        }
    }
    rows
}

/// The points flagged by [`Point::flags`], with their flags.
pub fn flagged(r: &Report) -> Vec<(&Point, Vec<String>)> {
    r.points
        .iter()
        .map(|p| (p, p.flags(r.cores())))
        .filter(|(_, f)| !f.is_empty())
        .collect()
}

/// "1 thread", "4 threads".
pub fn thr(t: usize) -> String {
    if t == 1 {
        "1 thread".into()
    } else {
        format!("{t} threads")
    }
}

/// Run-level warnings: figures that cannot all be right, a busy machine, a rough model.
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
    // More threads slower than fewer, per hash, backend and layout (oversubscription aside).
    let mut slower = Vec::new();
    let mut groups: Vec<(HashId, Simd, bool, u32)> = r
        .points
        .iter()
        .filter(|p| p.source == SourceKind::Synthetic)
        .map(|p| (p.hash, p.simd, p.chained, p.lanes))
        .collect();
    groups.sort_by_key(|g| (g.0.to_string(), g.1.degree(), g.2, g.3));
    groups.dedup();
    for (hash, simd, chained, lanes) in groups {
        let mut line: Vec<&Point> = r
            .points
            .iter()
            .filter(|p| {
                p.source == SourceKind::Synthetic
                    && (p.hash, p.simd, p.chained, p.lanes) == (hash, simd, chained, lanes)
                    && !p.oversubscribed
            })
            .collect();
        line.sort_by_key(|p| p.threads);
        for (i, more) in line.iter().enumerate() {
            if let Some(fewer) = line[..i]
                .iter()
                .filter(|f| f.threads < more.threads)
                .max_by(|a, b| a.median.total_cmp(&b.median))
            {
                if more.ratio_to(fewer) < 1.0 - SLOWER_WARN {
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
    }
    if !slower.is_empty() {
        w.push(format!(
            "More threads were slower than fewer (by over {:.0}%, M chunks/s), which only noise or contention explains: {}.",
            100.0 * SLOWER_WARN,
            slower.join("; ")
        ));
    }
    // Speedups over one thread beyond the ideal (linear up to the logical cores).
    let mut beyond = Vec::new();
    for p in r
        .points
        .iter()
        .filter(|p| p.source == SourceKind::Synthetic && p.threads > 1)
    {
        let Some(one) = r
            .find(p.hash, p.simd, p.lanes, p.chained, 1)
            .filter(|o| o.median > 0.0)
        else {
            continue;
        };
        let ideal = p.threads.min(cores) as f64;
        let speedup = p.ratio_to(one);
        if speedup > ideal * (1.0 + SLOWER_WARN) {
            beyond.push(format!(
                "{} {} {}, {}: {speedup:.2}x (ideal {ideal:.0}x)",
                p.hash,
                p.simd,
                p.layout_name(),
                thr(p.threads),
            ));
        }
    }
    if !beyond.is_empty() {
        w.push(format!(
            "Speedups over one thread beyond the ideal (by over {:.0}%): the one-thread figure was measured slow. {}.",
            100.0 * SLOWER_WARN,
            beyond.join("; ")
        ));
    }
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
            "Figures above their hash ceiling (the ceiling was measured slow, or the point fast by chance): {}.",
            over.join("; ")
        ));
    }
    for hash in HashId::ALL {
        let rows: Vec<&FairnessRow> = r.fairness.iter().filter(|f| f.hash == hash).collect();
        let Some(unchained) = rows.iter().find(|f| f.lanes.is_none()) else {
            continue;
        };
        for f in &rows {
            let Some(l) = f.lanes else { continue };
            if f.best_rate > unchained.best_rate && unchained.best_rate > 0.0 {
                w.push(format!(
                    "{hash} L={l} chained ({:.2}x) beats unchained ({:.2}x), which bounds it: noise, or a cost of the unchained path worth a look.",
                    f.best_speedup, unchained.best_speedup
                ));
            }
            if f.bound().is_some_and(|b| f.best_speedup > b) {
                w.push(format!(
                    "{hash} L={l} gains {:.2}x over one lane on one core, beyond its bound of about 2L = {}.",
                    f.best_speedup,
                    2 * l
                ));
            }
        }
    }
    let flagged = flagged(r);
    if !flagged.is_empty() {
        w.push(format!(
            "{} of {} points are flagged (samples spread over {:.0}%, or load over {} per core): marked `!` in the tables.",
            flagged.len(),
            r.points.len(),
            100.0 * SPREAD_WARN,
            LOAD_WARN
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

/// The smallest measured chained L whose best rate keeps [`KEEP`] of the best unchained one,
/// with the share it keeps; or the best-keeping L when none does (`false`).
pub fn measured_recommendation(r: &Report, hash: HashId) -> Option<(u32, f64, bool)> {
    let rows: Vec<&FairnessRow> = r.fairness.iter().filter(|f| f.hash == hash).collect();
    let unbounded = rows.iter().find(|f| f.lanes.is_none())?.best_rate;
    if unbounded <= 0.0 {
        return None;
    }
    let keeps: Vec<(u32, f64)> = rows
        .iter()
        .filter_map(|f| Some((f.lanes?, f.best_rate / unbounded)))
        .collect();
    keeps
        .iter()
        .find(|(_, k)| *k >= KEEP)
        .map(|&(l, k)| (l, k, true))
        .or_else(|| {
            keeps
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|&(l, k)| (l, k, false))
        })
}

/// The answer to "how much do cores and SIMD gain here, and which L should I pick?" in a few
/// lines, from the report's own figures. Plain text (no Markdown) so the terminal shows it as is.
pub fn verdict(r: &Report) -> Vec<String> {
    let f = &r.fingerprint;
    let mut v = Vec::new();
    let quick = if r.mode == Mode::Quick {
        " (--quick: indicative only)"
    } else {
        ""
    };
    v.push(format!(
        "This machine: {}, {} logical / {} physical cores, blake3 {}; {} run of {}{quick}.",
        f.cpu_model,
        f.logical_cores,
        f.physical_cores,
        f.blake3_detected,
        format!("{:?}", r.mode).to_lowercase(),
        r.created_utc
    ));
    let rows: Vec<&FairnessRow> = r
        .fairness
        .iter()
        .filter(|x| x.hash == HashId::Blake3)
        .collect();
    match rows.iter().find(|x| x.lanes.is_none()) {
        Some(u) => {
            let threads_only = if u.gain_over_same_layout > 0.0 {
                format!(
                    "; threads alone give {:.2}x over unchained on one core",
                    u.gain_over_same_layout
                )
            } else {
                String::new()
            };
            v.push(format!(
                "Unbounded gain: {:.2}x. The best unchained proof ({}: {} M chunks/s) over one lane on one core ({}: {} M chunks/s){threads_only}.",
                u.best_speedup,
                u.best_config,
                m(u.best_rate),
                u.baseline,
                m(u.baseline_rate)
            ));
        }
        None => v.push("Unbounded gain: not measured (no blake3 unchained point).".into()),
    }
    let per_l: Vec<String> = rows
        .iter()
        .filter_map(|x| Some(format!("L={} {:.2}x", x.lanes?, x.best_speedup)))
        .collect();
    if !per_l.is_empty() {
        v.push(format!(
            "Gain each L allows (blake3, best over one lane on one core; at most about 2L): {}.",
            per_l.join(", ")
        ));
    }
    let here = match measured_recommendation(r, HashId::Blake3) {
        Some((l, k, true)) => format!(
            "L={l} for this machine (measured: the smallest L tried that keeps {:.0}% of its unbounded rate, here {:.0}%{})",
            100.0 * KEEP,
            100.0 * k,
            // Above 100% as printed: the unbounded rate bounds every chained one.
            if k >= 1.005 {
                ", above the unbounded rate that bounds it: noise"
            } else {
                ""
            }
        ),
        Some((l, k, false)) => format!(
            "none for this machine (no L tried keeps {:.0}% of its unbounded rate; the best, L={l}, keeps {:.0}%)",
            100.0 * KEEP,
            // Rounded down, so that 89.6% does not read as the 90% it missed.
            (100.0 * k).floor()
        ),
        None => "none for this machine (too few layouts measured)".into(),
    };
    let reference = match &r.tuning {
        Some(t) => {
            let big: Vec<String> = t.big.iter().map(|b| b.cores.to_string()).collect();
            let big_simd = t
                .big
                .first()
                .map_or(String::new(), |b| format!(" {}", b.simd));
            let what = format!(
                "the reference is a mainstream {}-core {} machine, the prover a fair L must not hold back",
                t.reference.cores, t.reference.simd
            );
            match t
                .recommended
                .and_then(|l| t.rows.iter().find(|x| x.lanes == l))
            {
                Some(row) => {
                    let gains: Vec<String> = row
                        .big_gains
                        .iter()
                        .map(|(_, g)| format!("{g:.2}x"))
                        .collect();
                    let unb: Vec<String> = t
                        .unbounded_gains
                        .iter()
                        .map(|(_, g)| format!("{g:.2}x"))
                        .collect();
                    format!(
                        "L={} for the reference (modelled; {what}: it keeps {:.0}% of its unbounded rate, while {}-core{big_simd} machines gain {} over it, against {} unchained)",
                        row.lanes,
                        100.0 * row.reference_keeps,
                        big.join("/"),
                        gains.join("/"),
                        unb.join("/")
                    )
                }
                None => format!(
                    "none for the reference (modelled; {what}: no L up to 256 keeps {:.0}%)",
                    100.0 * t.keep
                ),
            }
        }
        None => "no reference recommendation (no blake3 model)".into(),
    };
    v.push(format!("Recommended L: {here}; {reference}."));
    let flagged = flagged(r).len();
    let load = if r.points.iter().any(|p| p.load.is_some()) {
        format!(
            "{flagged} of {} points flagged noisy (spread over {:.0}% or load over {LOAD_WARN} per core)",
            r.points.len(),
            100.0 * SPREAD_WARN
        )
    } else {
        format!(
            "{flagged} of {} points flagged noisy (spread over {:.0}%; load not recorded)",
            r.points.len(),
            100.0 * SPREAD_WARN
        )
    };
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
    if let Some(line) = gpu_verdict(r) {
        v.push(line);
    }
    let warns = warnings(r).len();
    v.push(format!(
        "Trust: {load}{model}; {warns} run-level warning{}.{}",
        if warns == 1 { "" } else { "s" },
        if r.mode == Mode::Quick {
            " Indicative only."
        } else {
            ""
        }
    ));
    v
}

/// The GPU's rate at a fairness row's layout (trace resident), with the row's best CPU rate.
fn gpu_at(g: &super::gpu::GpuReport, row: &FairnessRow) -> Option<f64> {
    match row.lanes {
        Some(l) => g.chained_rate(l),
        None => Some(g.parallel_rate()),
    }
}

/// One verdict line for `--gpu`: the GPU against this machine's best CPU figures, unchained and
/// at the recommended (or else the largest measured) L.
fn gpu_verdict(r: &Report) -> Option<String> {
    let g = r.gpu.as_ref()?;
    let rows: Vec<&FairnessRow> = r
        .fairness
        .iter()
        .filter(|x| x.hash == HashId::Blake3)
        .collect();
    let mut parts = Vec::new();
    for row in &rows {
        let Some(rate) = gpu_at(g, row) else { continue };
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
        g.device.name,
        if parts.is_empty() {
            "no layout of the CPU sweep measured".to_string()
        } else {
            parts.join(", ")
        },
        m(g.per_lane_rate())
    ))
}

/// `" !"` after a flagged point's figure.
fn mark(p: &Point, cores: usize) -> &'static str {
    if p.flags(cores).is_empty() {
        ""
    } else {
        " !"
    }
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
    if r.mode == Mode::Quick {
        let _ = writeln!(
            s,
            "**Indicative only:** a `--quick` run (few, short samples).\n"
        );
    }
    let _ = writeln!(s, "## Verdict\n");
    for line in verdict(r) {
        let _ = writeln!(s, "- {line}");
    }
    let warns = warnings(r);
    if !warns.is_empty() {
        let _ = writeln!(s, "\n## Warnings\n");
        for w in warns {
            let _ = writeln!(s, "- {w}");
        }
    }
    let _ = writeln!(s, "\n## Machine\n");
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
    let _ = writeln!(s, "All throughputs are medians in millions of chunks (steps) per second; one chunk = one 32-byte trace step. `(o)` marks oversubscribed points (more workers than logical cores); `!` marks points flagged as noisy (their samples spread over {:.0}% from slowest to fastest, or more than {LOAD_WARN} other tasks per logical core wanted a core around them: the mean runnable count of `/proc/loadavg` just before and after each sample, this process excepted; the load average itself would count the benchmark's own threads). Modelled figures are labelled as such.\n", 100.0 * SPREAD_WARN);

    let _ = writeln!(
        s,
        "## Primitives (one core)\n\n| primitive | rate |\n|---|---|"
    );
    // A many-input rate, with the median of its per-round samples where they were taken
    // (the ceiling then comes from those).
    let many = |rate: f64, rounds: &[(Simd, f64)], simd: Simd| match rounds
        .iter()
        .find(|(x, _)| *x == simd)
    {
        Some((_, q)) => format!(
            "{} M/s; sampled in the rounds {} M/s (proof ceiling {} M chunks/s)",
            m(rate),
            m(*q),
            m(q / 2.0)
        ),
        None => format!(
            "{} M/s (proof ceiling {} M chunks/s)",
            m(rate),
            m(rate / 2.0)
        ),
    };
    let p = &r.primitives;
    for (simd, rate) in &p.blake3 {
        let _ = writeln!(
            s,
            "| blake3 {simd} compressions | {} |",
            many(*rate, &p.blake3_in_rounds, *simd)
        );
    }
    if p.keccak_by_simd.is_empty() {
        let _ = writeln!(
            s,
            "| keccak256 permutations | {} M/s (ceiling {} M chunks/s) |",
            m(p.keccak),
            m(p.keccak / 2.0)
        );
    }
    for (simd, rate) in &p.keccak_by_simd {
        let _ = writeln!(
            s,
            "| keccak256 {simd} permutations | {} |",
            many(*rate, &p.keccak_in_rounds, *simd)
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
    if p.blake3_in_rounds.is_empty() && p.keccak_in_rounds.is_empty() {
        let _ = writeln!(s, "Each point's ceiling (its `% of ceiling`) is the proof ceiling above times the cores its workers use, from rates measured before the sweep.\n");
    } else {
        let _ = writeln!(s, "Each point's ceiling (its `% of ceiling`) is half the many-input rate of its backend times the cores its workers use, that rate the median of one short sample taken in each sampling round, like the points; the other rates are the best of three windows measured before the sweep; the model uses those, each backend's scaled to its rate in the rounds. Chained: each call's inputs hold the previous call's outputs, as in a chained lane.\n");
    }

    let _ = writeln!(
        s,
        "## Fairness: what more hardware buys at each lane count\n"
    );
    let _ = writeln!(s, "Each layout's best rate on its hash's main backend, against two baselines: **one lane on one core** (the L=1 chained proof on one thread: what the poorest prover manages) and **the same L on one core** (what more cores buy at a fixed layout). The bound: chained lanes leave L-way parallelism to the leaf hashing (the sequential part); internal nodes are not lane-bound, so up to about 2L is possible for the whole proof (docs/SPEC.md, 3.6). Unchained proofs have no bound.\n");
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
        let _ = writeln!(s, "| layout | bound | best M chunks/s | reached with | gain over one lane on one core | same L on one core, M chunks/s | gain over the same L on one core |\n|---|---|---|---|---|---|---|");
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
                (
                    m(row.same_layout_one_core),
                    format!("{:.2}x", row.gain_over_same_layout),
                )
            } else {
                ("-".into(), "-".into())
            };
            let _ = writeln!(
                s,
                "| {layout} | {bound} | {} | {} | {:.2}x{over} | {same} | {gain} |",
                m(row.best_rate),
                row.best_config,
                row.best_speedup
            );
        }
        // The GPU rows: what a GPU buys at the same layouts, against the same baselines.
        if let Some(g) = r.gpu.as_ref().filter(|_| hash == HashId::Blake3) {
            for row in &rows {
                let Some(rate) = gpu_at(g, row) else { continue };
                let layout = row
                    .lanes
                    .map_or("L=1 unchained".to_string(), |l| format!("L={l} chained"));
                let bound = row.lanes.map_or("none".to_string(), |l| format!("L={l}"));
                let _ = writeln!(
                    s,
                    "| {layout}, **GPU** | {bound} | {} | GPU {}, trace resident: {:.2}x this machine's best CPU figure | {:.2}x | - | - |",
                    m(rate),
                    g.device.name,
                    rate / row.best_rate.max(1e-12),
                    rate / row.baseline_rate.max(1e-12)
                );
            }
        }
        let _ = writeln!(s);
    }
    if let Some(g) = &r.gpu {
        let _ = writeln!(s, "{}", super::gpu::markdown(g));
    }
    let _ = writeln!(
        s,
        "\n## Speedup versus threads (blake3 {}, synthetic trace)\n\nEach speedup is the median over the sampling rounds of the round's ratio to one thread (each round samples every point once, a layout's thread counts back to back, so a slow spell of the machine cancels out of a ratio); the gains over the same L on one core above are taken the same way.\n",
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
        let one = r.find(HashId::Blake3, f.blake3_detected, *lanes, *chained, 1);
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
                    let flag = mark(p, r.cores());
                    let _ = write!(
                        s,
                        " {}{flag} ({:.2}x, {:.0}% of ceiling) |",
                        m(p.median),
                        p.ratio_to(one),
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
                    "| {} | {simd} | {}{} | {:.2}x | {:.0}% |",
                    p.layout_name(),
                    m(p.median),
                    mark(p, r.cores()),
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
                    "| {} | {} | {}{} | {:.2}x | {:.0}% |",
                    p.layout_name(),
                    p.simd,
                    m(p.median),
                    mark(p, r.cores()),
                    p.median / base.median,
                    100.0 * p.median / p.ceiling
                );
            }
        }
    }

    let _ = writeln!(s, "\n## All points: measured and modelled\n\n| hash | simd | layout | threads | source | median | min | max | spread | load per core | flags | % of ceiling | modelled | model error |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for p in &r.points {
        let o = if p.oversubscribed { " (o)" } else { "" };
        let src = match p.source {
            SourceKind::Synthetic => "synthetic",
            SourceKind::Vm => "VM end to end",
        };
        let load = p
            .load
            .map_or("-".into(), |l| format!("{:.2}", l / r.cores() as f64));
        let flags = p.flags(r.cores());
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("! {}", flags.join(", "))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {}{o} | {src} | {} | {} | {} | {:.0}% | {load} | {flags} | {:.0}% | {} | {:+.0}% |",
            p.hash,
            p.simd,
            p.layout_name(),
            p.threads,
            m(p.median),
            m(p.min),
            m(p.max),
            100.0 * p.spread(),
            100.0 * p.median / p.ceiling,
            m(p.predicted),
            100.0 * (p.predicted - p.median) / p.median
        );
    }
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
        "\n## Plots\n\n![speedup](speedup.svg)\n![simd](simd.svg)\n![lanes](lanes.svg)\n![lane tuning](tuning.svg)"
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

/// A small synthetic report on a 4-core AVX2 machine (tests only): blake3 avx2 at 1, 2, 4 and
/// 8 (oversubscribed) threads for unchained, L=1, 4 and 16 chained, plus sse41 at one thread.
/// One lane on one core runs at 10 M chunks/s.
#[cfg(test)]
pub(crate) fn sample_report() -> Report {
    use super::model::{Machine, Rate};
    let fingerprint = Fingerprint {
        machine_id: "0123456789ab".into(),
        cpu_model: "Test CPU".into(),
        logical_cores: 4,
        physical_cores: 4,
        simd_features: vec!["avx2".into()],
        blake3_backends: vec![Simd::Portable, Simd::Sse41, Simd::Avx2],
        blake3_detected: Simd::Avx2,
        caches: vec![],
        memory_bytes: 1 << 33,
        os: "test".into(),
        kernel: "test".into(),
        rustc: "test".into(),
        poie_version: "0".into(),
        git_commit: "0".into(),
    };
    let point = |simd, lanes, chained, threads: usize, mcps: f64| {
        let median = mcps * 1e6;
        Point {
            hash: HashId::Blake3,
            simd,
            lanes,
            chained,
            threads,
            oversubscribed: threads > 4,
            source: SourceKind::Synthetic,
            pinned: false,
            chunks_per_sample: 1_000_000,
            samples_secs: vec![0.1, 0.1, 0.1],
            median,
            min: median * 0.98,
            max: median * 1.02,
            ceiling: 30e6 * threads.min(4) as f64,
            predicted: median * 1.1,
            load: Some(0.25),
        }
    };
    let mut points = Vec::new();
    for (chained, lanes, rates) in [
        (false, 1, [25.0, 48.0, 90.0, 85.0]),
        (true, 1, [10.0, 10.5, 10.2, 10.1]),
        (true, 4, [18.0, 30.0, 40.0, 39.0]),
        (true, 16, [25.0, 47.0, 85.0, 80.0]),
    ] {
        for (t, r) in [1, 2, 4, 8].into_iter().zip(rates) {
            points.push(point(Simd::Avx2, lanes, chained, t, r));
        }
    }
    points.push(point(Simd::Sse41, 16, true, 1, 15.0));
    let rates = |simd, w: &[(usize, f64)]| Rates {
        simd,
        by_width: w
            .iter()
            .map(|&(width, per_second)| Rate { width, per_second })
            .collect(),
    };
    let primitives = Primitives {
        blake3: vec![(Simd::Avx2, 60e6)],
        blake3_by_width: vec![rates(
            Simd::Avx2,
            &[(1, 15e6), (2, 24e6), (4, 34e6), (8, 60e6)],
        )],
        producer: 300e6,
        keccak: 2e6,
        keccak_by_simd: vec![],
        keccak_by_width: vec![],
        blake3_chained_by_width: vec![rates(
            Simd::Avx2,
            &[(1, 9e6), (2, 16e6), (4, 28e6), (8, 52e6)],
        )],
        keccak_chained_by_width: vec![],
        blake3_in_rounds: vec![(Simd::Avx2, 60e6)],
        keccak_in_rounds: vec![],
        vm_untraced: 250e6,
        vm_traced: 220e6,
        memcpy: 20e9,
    };
    let model = model_for(&primitives, HashId::Blake3);
    let tuning = super::model::tune(
        &model,
        Machine {
            cores: 4,
            simd: Simd::Avx2,
        },
        &[Machine {
            cores: 32,
            simd: Simd::Avx512,
        }],
        KEEP,
    );
    Report {
        schema_version: SCHEMA_VERSION,
        created_utc: "2026-11-27T06:00:00Z".into(),
        mode: Mode::Default,
        fingerprint,
        primitives,
        fairness: fairness(&points),
        points,
        models: vec![ModelSummary {
            hash: HashId::Blake3,
            model,
            median_error: 0.1,
            max_error: 0.12,
        }],
        predictions: vec![],
        self_pooling: vec![],
        tuning: Some(tuning),
        load_before: Some(LoadAvg {
            one: 0.3,
            five: 0.2,
            fifteen: 0.1,
            runnable: 1,
        }),
        load_after: None,
        gpu: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_rates_are_brought_to_the_sweep_by_the_round_samples() {
        let mut p = sample_report().primitives;
        let at = |m: &Model, w| (m.rates[0].at(w), m.chained_rates[0].at(w));
        // The fixture's rounds sampled the table's own full-width rate: nothing moves.
        let same = model_for(&p, HashId::Blake3);
        assert_eq!(at(&same, 8), (60e6, 52e6));
        assert_eq!(at(&same, 1), (15e6, 9e6));
        // The sweep ran 1.5x faster than the tables: every width of both tables, and the
        // generator (not sampled in the rounds), go up with it.
        p.blake3_in_rounds = vec![(Simd::Avx2, 90e6)];
        let fast = model_for(&p, HashId::Blake3);
        let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-12;
        let (r8, c8) = at(&fast, 8);
        let (r1, c1) = at(&fast, 1);
        assert!(close(r8, 90e6) && close(c8, 78e6) && close(r1, 22.5e6) && close(c1, 13.5e6));
        assert!(close(fast.gen_secs, same.gen_secs / 1.5));
        // A backend the rounds did not sample, and reports from before they sampled
        // anything, keep the tables' rates.
        p.blake3_in_rounds = vec![(Simd::Avx512, 90e6)];
        assert_eq!(model_for(&p, HashId::Blake3), same);
        p.blake3_in_rounds.clear();
        assert_eq!(model_for(&p, HashId::Blake3), same);
    }

    fn point_mut(r: &mut Report, lanes: u32, chained: bool, threads: usize) -> &mut Point {
        r.points
            .iter_mut()
            .find(|p| {
                p.simd == Simd::Avx2
                    && p.lanes == lanes
                    && p.chained == chained
                    && p.threads == threads
            })
            .expect("point")
    }

    #[test]
    fn speedups_pair_the_samples_of_each_round() {
        let mut r = sample_report();
        let with_rates = |p: &mut Point, rates: &[f64]| {
            p.chunks_per_sample = 1_000_000;
            p.samples_secs = rates.iter().map(|x| 1e6 / (x * 1e6)).collect();
            let mut sorted: Vec<f64> = rates.iter().map(|x| x * 1e6).collect();
            sorted.sort_by(f64::total_cmp);
            p.median = crate::bench::median(&sorted);
        };
        // A slow spell hits the one-thread samples of rounds 2, 3 and 5 and the two-thread
        // sample of round 5 only: the medians say 2.71x, each round says 1.9x.
        with_rates(
            point_mut(&mut r, 16, true, 1),
            &[30.0, 21.0, 21.0, 30.0, 21.0],
        );
        with_rates(
            point_mut(&mut r, 16, true, 2),
            &[57.0, 39.9, 39.9, 57.0, 57.0],
        );
        let one = point_mut(&mut r, 16, true, 1).clone();
        let two = point_mut(&mut r, 16, true, 2).clone();
        assert!((two.median / one.median - 57.0 / 21.0).abs() < 1e-9);
        assert!(
            (two.ratio_to(&one) - 1.9).abs() < 1e-9,
            "{}",
            two.ratio_to(&one)
        );
        assert!(
            markdown(&r).contains("(1.90x,"),
            "the speedup table pairs rounds"
        );
        // Samples that do not give the recorded median (edited by hand): the medians.
        let mut edited = two.clone();
        edited.median = 50e6;
        assert!((edited.ratio_to(&one) - 50.0 / 21.0).abs() < 1e-9);
        // Rounds that cannot be paired: the medians.
        let mut short = two.clone();
        short.samples_secs.pop();
        short.median = 48.45e6;
        assert!((short.ratio_to(&one) - 48.45 / 21.0).abs() < 1e-6);
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
        assert_eq!(l4.bound(), Some(8.0));
        let u = rows.iter().find(|x| x.lanes.is_none()).expect("unchained");
        assert!((u.best_speedup - 9.0).abs() < 1e-9);
        assert!((u.gain_over_same_layout - 3.6).abs() < 1e-9);
        // sse41 measured at one thread only: not the main backend, not a row.
        assert!(rows.iter().all(|x| x.best_config.contains("avx2")));

        let md = markdown(&r);
        assert!(md.contains(
            "**blake3**, baseline one lane on one core = blake3 avx2, L=1 chained, 1 thread: **10.0 M chunks/s**"
        ));
        assert!(md.contains("gain over one lane on one core | same L on one core, M chunks/s | gain over the same L on one core"));
        assert!(md.contains("| L=4 chained | L=4 (about 8 whole proof) | 40.0 | L=4 chained, 4 threads, avx2 | 4.00x | 18.0 | 2.22x |"), "{md}");
    }

    #[test]
    fn gpu_rows_join_the_fairness_table_and_the_verdict() {
        let mut r = sample_report();
        let plain = verdict(&r);
        r.gpu = Some(crate::bench::gpu::tests::sample());
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

    #[test]
    fn verdict_opens_the_report_and_agrees_with_the_numbers() {
        let r = sample_report();
        let v = verdict(&r);
        assert!((3..=6).contains(&v.len()), "{v:?}");
        assert!(
            v[0].starts_with("This machine: Test CPU, 4 logical / 4 physical cores, blake3 avx2")
        );
        assert!(v[1].starts_with("Unbounded gain: 9.00x."), "{}", v[1]);
        assert!(v[1].contains("(L=1 unchained, 4 threads, avx2: 90.0 M chunks/s)"));
        assert!(v[1].contains("(blake3 avx2, L=1 chained, 1 thread: 10.0 M chunks/s)"));
        assert!(v[1].contains("threads alone give 3.60x"));
        assert!(
            v[2].contains("L=1 1.05x, L=4 4.00x, L=16 8.50x"),
            "{}",
            v[2]
        );
        // L=16 keeps 85/90 = 94% of the unbounded rate, L=4 only 44%.
        assert!(v[3].contains("L=16 for this machine"), "{}", v[3]);
        assert!(v[3].contains("here 94%"), "{}", v[3]);
        let t = r.tuning.as_ref().expect("tuning");
        let rec = t.recommended.expect("reference recommendation");
        assert!(v[3].contains(&format!("L={rec} for the reference (modelled; the reference is a mainstream 4-core avx2 machine")), "{}", v[3]);
        assert!(
            v[4].starts_with("Trust: 0 of 17 points flagged noisy"),
            "{}",
            v[4]
        );
        assert!(v[4].contains("the blake3 model is off by 10% median, 12% worst"));
        assert!(v.iter().all(|l| !l.contains("indicative")));

        let md = markdown(&r);
        let head: Vec<&str> = md.lines().take(4).collect();
        assert_eq!(head[2], "## Verdict", "{md}");
        for line in &v {
            assert!(md.contains(&format!("- {line}\n")));
        }
        assert!(md.find("## Verdict") < md.find("## Primitives"));
    }

    #[test]
    fn noisy_points_are_flagged_and_run_level_warnings_raised() {
        let mut r = sample_report();
        assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
        assert!(flagged(&r).is_empty());

        let p = point_mut(&mut r, 4, true, 2);
        p.min = p.median * 0.8;
        p.max = p.median * 1.1;
        p.load = Some(3.0);
        assert_eq!(p.flags(4), vec!["spread 30%", "load 0.75/core"]);
        // More threads slower than fewer: L=16 on 2 threads below 1 thread.
        point_mut(&mut r, 16, true, 2).median = 20e6;
        // Above the ceiling, and chained above unchained.
        point_mut(&mut r, 1, true, 1).median = 31e6;
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
        assert!(w.contains("1 of 17 points are flagged"), "{w}");
        assert!(!w.contains("Flat"));
        let md = markdown(&r);
        assert!(md.contains("## Warnings"));
        assert!(md.contains("! spread 30%, load 0.75/core"), "{md}");
        assert!(md.contains("30.0 ! (1.67x"), "the speedup table marks it");
        let v = verdict(&r);
        assert!(
            v[4].starts_with("Trust: 1 of 17 points flagged noisy"),
            "{}",
            v[4]
        );

        // A one-thread figure measured slow: the others' speedups pass the ideal.
        let mut r = sample_report();
        point_mut(&mut r, 4, true, 1).median = 5e6;
        let w = warnings(&r).join("\n");
        assert!(
            w.contains("blake3 avx2 L=4 chained, 4 threads: 8.00x (ideal 4x)")
                && w.contains("blake3 avx2 L=4 chained, 2 threads: 6.00x (ideal 2x)")
                && !w.contains("L=16 chained, 2 threads:"),
            "{w}"
        );

        // Chained beating unchained is noise.
        let mut r = sample_report();
        point_mut(&mut r, 16, true, 4).median = 95e6;
        r.fairness = fairness(&r.points);
        let w = warnings(&r).join("\n");
        assert!(
            w.contains("L=16 chained (9.50x) beats unchained (9.00x)"),
            "{w}"
        );
        let v = verdict(&r);
        assert!(
            v[3].contains("here 106%, above the unbounded rate that bounds it: noise"),
            "{}",
            v[3]
        );

        // A loaded machine: load above half a task per core flags the point; none recorded, no flag.
        let mut r = sample_report();
        point_mut(&mut r, 1, false, 1).load = Some(2.1);
        assert_eq!(flagged(&r).len(), 1);
        point_mut(&mut r, 1, false, 1).load = None;
        assert!(flagged(&r).is_empty());
        r.load_before = Some(LoadAvg {
            one: 3.0,
            five: 1.0,
            fifteen: 1.0,
            runnable: 3,
        });
        assert!(warnings(&r)[0].contains("busy before the run: load average 3.00"));
    }

    #[test]
    fn quick_reports_say_indicative_only() {
        let mut r = sample_report();
        r.mode = Mode::Quick;
        let md = markdown(&r);
        assert!(md.contains("**Indicative only:** a `--quick` run"));
        let v = verdict(&r);
        assert!(v[0].contains("(--quick: indicative only)"));
        assert!(v.last().is_some_and(|l| l.ends_with("Indicative only.")));
        assert!(warnings(&r)[0].contains("Indicative only"));
    }

    #[test]
    fn reports_without_the_new_fields_still_load() {
        let r = sample_report();
        let mut v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("json");
        let obj = v.as_object_mut().expect("object");
        obj.remove("load_before");
        obj.remove("load_after");
        for p in obj["points"].as_array_mut().expect("points") {
            p.as_object_mut().expect("point").remove("load");
        }
        let prims = obj["primitives"].as_object_mut().expect("primitives");
        for k in [
            "blake3_chained_by_width",
            "keccak_chained_by_width",
            "blake3_in_rounds",
            "keccak_in_rounds",
        ] {
            assert!(prims.remove(k).is_some(), "{k}");
        }
        for ms in obj["models"].as_array_mut().expect("models") {
            let model = ms["model"].as_object_mut().expect("model");
            for k in ["chained_rates", "fixed_secs"] {
                assert!(model.remove(k).is_some(), "{k}");
            }
        }
        for f in obj["fairness"].as_array_mut().expect("fairness") {
            let f = f.as_object_mut().expect("row");
            for k in [
                "best_rate",
                "baseline",
                "baseline_rate",
                "same_layout_one_core",
                "gain_over_same_layout",
            ] {
                f.remove(k);
            }
        }
        let old = Report::from_json(&v.to_string()).expect("an old report loads");
        assert_eq!(old.load_before, None);
        assert!(old.primitives.blake3_chained_by_width.is_empty());
        assert!(old.primitives.blake3_in_rounds.is_empty());
        assert!(old.models.iter().all(|m| m.model.fixed_secs == 0.0));
        assert!(markdown(&old).contains("from rates measured before the sweep"));
        assert!(markdown(&r).contains(
            "the median of one short sample taken in each sampling round, like the points"
        ));
        assert!(old.points.iter().all(|p| p.load.is_none()));
        assert_eq!(
            old.fairness, r.fairness,
            "fairness derived again from the points"
        );
        let v = verdict(&old);
        assert!(v[4].contains("load not recorded"), "{}", v[4]);
        assert!(markdown(&old).contains("before the run: not recorded"));

        for bad in [
            "",
            "[]",
            "{\"schema_version\": 1}",
            "{\"schema_version\": \"1\"}",
        ] {
            assert!(Report::from_json(bad).is_err(), "{bad:?}");
        }
    }
}
