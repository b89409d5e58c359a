//! The benchmark report: its JSON schema, and the analysis and rendering derived from it.
//!
//! A report holds what was measured (the fingerprint, the primitives, every point's samples)
//! and what is derived from it (models, predictions, tuning, the fairness table). Loading a
//! report derives the latter again ([`Report::analyse`]), so that every report, old ones
//! included, is read by this poie's analysis; a report written now loads back equal.
//!
//! - [`analysis`]: the models fitted on the points, modelled machines and lane tuning;
//! - [`fairness`]: the fairness table and the measured recommendation, from paired ratios;
//! - [`warnings`]: flags on points and warnings on the run;
//! - [`verdict`]: the few lines that answer the user's question;
//! - [`markdown`]: report.md, verdict and warnings first.

pub mod analysis;
pub mod fairness;
pub mod gpu;
pub mod markdown;
pub mod verdict;
pub mod warnings;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod scale;

pub use analysis::{fit_models, model_for};
pub use fairness::{fairness, main_simd, measured_recommendation, Recommendation};
pub use markdown::{markdown, tuning_markdown};
pub use verdict::verdict;
pub use warnings::{flagged, warnings};

use super::fingerprint::{Fingerprint, LoadAvg};
use super::model::{Limit, Machine, Model, Rates, Tuning};
use super::stats::{self, Estimate};
use poie_files::json::{FileError, VersionedFile};
use poie_proof::{HashId, Simd};
use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// Most points a report may hold; a report with more is refused before its analysis. A full
/// sweep of a large machine measures a few hundred (layouts by thread counts by backends, with
/// pinned twins and the VM); the cap keeps what a corrupt or hostile report costs to analyse
/// and render in proportion (some tables are layouts by thread counts).
pub const MAX_POINTS: usize = 10_000;

/// A model whose worst error on the measured points exceeds this marks its modelled machines
/// and lane recommendation as rough.
pub const MODEL_WARN: f64 = 0.25;

/// A point is sampled until its median is known to within this (the half-width of its
/// confidence interval, relative to the median), and flagged when it is not.
pub const TOLERANCE: f64 = 0.05;

/// A point measured while more than this many other tasks per logical core wanted a core is
/// said to have been loaded.
pub const LOAD_WARN: f64 = 0.5;

/// A point around whose samples the hypervisor stole more than this share of CPU time is said
/// to have been robbed.
pub const STEAL_WARN: f64 = 0.02;

/// More threads slower than fewer by more than this is warned about (less is within noise).
pub const SLOWER_WARN: f64 = 0.05;

/// The share of its unbounded throughput a machine should keep at the recommended L.
pub const KEEP: f64 = 0.9;

/// How close to [`KEEP`] a keep ratio is a tie the instrument cannot break. A sampled keep
/// ratio comes with an interval of a point or two (89-90%, 88-91% in consecutive runs of one
/// machine), so a machine whose true keep sits on the line would be read as keeping it in
/// one run and not in the next: within this margin below the line, a layout is "undecided",
/// never "short".
pub const KEEP_RESOLUTION: f64 = 0.02;

/// The prover-shaped hash rate (outputs streamed to memory) below this share of the best
/// shape is warned about: the prover pays for where its outputs go.
pub const STREAMED_WARN: f64 = 0.85;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Quick,
    Default,
    Full,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Default => "default",
            Mode::Full => "full",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Synthetic,
    Vm,
}

/// How a ceiling primitive calls the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CeilingShape {
    /// 16 inputs per call from a 128 KiB input set (in L2), outputs into one 512-byte buffer
    /// (in L1): the hash's own speed, with nothing in the way.
    Cached,
    /// 4096 inputs per call (256 KiB), outputs streamed into 128 KiB: as the prover calls it.
    Streamed,
}

impl CeilingShape {
    pub fn name(self) -> &'static str {
        match self {
            CeilingShape::Cached => "16 inputs per call, outputs in L1",
            CeilingShape::Streamed => "4096 inputs per call, outputs streamed",
        }
    }
}

/// One backend's hash ceiling: the most one core does with the hash's many-input primitive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    pub simd: Simd,
    /// Compressions (blake3) or permutations (keccak) per second on one core: the best of
    /// the primitives phase's windows over both shapes, raised by any faster sample of the
    /// best shape taken in the sampling rounds.
    pub best: f64,
    /// The shape that reached it in the primitives phase.
    pub shape: CeilingShape,
    /// The prover-shaped rate ([`CeilingShape::Streamed`]), best of the phase's windows.
    pub streamed: f64,
    /// The best shape's rate in the primitives phase.
    pub phase: f64,
    /// The median of the best shape's one sample per round: over `phase`, how far the
    /// machine drifted between the primitives phase and the sweep (0 where no round ran).
    pub rounds_median: f64,
}

/// Rates measured with one primitive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Primitives {
    /// 64-byte blake3 compressions per second on one core, per backend, prover-shaped (many
    /// inputs per call, outputs streamed). The ceilings are `blake3_ceilings`.
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
    /// Reports from before the ceilings were measured in two shapes: the many-input rates
    /// again, as the median of one short sample taken in each sampling round. Empty since.
    #[serde(default)]
    pub blake3_in_rounds: Vec<(Simd, f64)>,
    #[serde(default)]
    pub keccak_in_rounds: Vec<(Simd, f64)>,
    /// The hash ceilings per backend (empty in reports from before: their ceilings are the
    /// rates above).
    #[serde(default)]
    pub blake3_ceilings: Vec<Ceiling>,
    #[serde(default)]
    pub keccak_ceilings: Vec<Ceiling>,
    /// VM steps per second, no trace and trace built into the null sink.
    pub vm_untraced: f64,
    pub vm_traced: f64,
    /// Memory copy bandwidth, bytes per second, one thread.
    pub memcpy: f64,
    /// The same with every logical core copying its own buffers at once (`memcpy_threads`
    /// of them), bytes per second in all: the machine's memory bandwidth, from which the
    /// model takes a per-core figure. 0 in reports from before it was measured.
    #[serde(default)]
    pub memcpy_all: f64,
    #[serde(default)]
    pub memcpy_threads: usize,
}

impl Primitives {
    /// Memory bandwidth per core, bytes per second: all cores copying at once, per core; in
    /// reports from before that was measured, the one-core copy rate.
    pub fn memcpy_per_core(&self) -> f64 {
        if self.memcpy_all > 0.0 && self.memcpy_threads > 0 {
            self.memcpy_all / self.memcpy_threads as f64
        } else {
            self.memcpy
        }
    }

    /// The ceilings of `hash`.
    pub fn ceilings(&self, hash: HashId) -> &[Ceiling] {
        match hash {
            HashId::Blake3 => &self.blake3_ceilings,
            HashId::Keccak => &self.keccak_ceilings,
        }
    }

    /// One core's proof ceiling for `hash` on `simd`, chunks per second: half the best
    /// many-input rate (a leaf and a node per chunk). Reports from before the ceilings: the
    /// rates they had (sampled in the rounds, else the phase's).
    pub fn ceiling(&self, hash: HashId, simd: Simd) -> f64 {
        // keccak's sse41 setting runs the portable kernel.
        let simd = if hash == HashId::Keccak && simd == Simd::Sse41 {
            Simd::Portable
        } else {
            simd
        };
        if let Some(c) = self.ceilings(hash).iter().find(|c| c.simd == simd) {
            return c.best / 2.0;
        }
        let find = |v: &[(Simd, f64)]| v.iter().find(|(s, _)| *s == simd).map(|r| r.1);
        let old = match hash {
            HashId::Blake3 => find(&self.blake3_in_rounds).or_else(|| find(&self.blake3)),
            HashId::Keccak => find(&self.keccak_in_rounds)
                .or_else(|| find(&self.keccak_by_simd))
                .or(Some(self.keccak)),
        };
        old.unwrap_or(0.0) / 2.0
    }
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
    /// The sampling round of each sample: `samples_secs[i]` was taken in round `rounds[i]`.
    /// Ratios between points pair samples of the same round. Empty in reports from before
    /// sampling stopped early for some points: there, sample `i` is round `i`.
    #[serde(default)]
    pub rounds: Vec<u32>,
    /// Derived, chunks per second.
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The hash ceiling for this point: half the best many-input compression rate of its
    /// backend ([`Primitives::ceiling`]) times the cores its workers can use.
    pub ceiling: f64,
    pub predicted: f64,
    /// Load around the point: the mean number of other tasks runnable (from `/proc/loadavg`,
    /// this process excepted) read just before and just after each of its samples. `None`
    /// where `/proc/loadavg` is absent, and in reports from before it was recorded.
    #[serde(default)]
    pub load: Option<f64>,
    /// The share of CPU time the hypervisor stole over the point's samples (`/proc/stat`).
    /// `None` where that file is absent, and in reports from before it was recorded.
    #[serde(default)]
    pub steal: Option<f64>,
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

    /// The sample rates (chunks per second), in sampling order.
    pub fn rates(&self) -> Vec<f64> {
        let n = self.chunks_per_sample as f64;
        self.samples_secs.iter().map(|s| n / s).collect()
    }

    /// The median rate with its confidence interval.
    pub fn estimate(&self) -> Estimate {
        let e = Estimate::of(&self.rates());
        // A report edited by hand keeps the median it says.
        if (e.median - self.median).abs() > 1e-9 * self.median.abs().max(1.0) {
            return Estimate {
                median: self.median,
                interval: None,
                samples: e.samples,
            };
        }
        e
    }

    /// `(round, rate)` of each sample, where the samples give the recorded median (a report
    /// edited by hand does not).
    fn round_rates(&self) -> Option<Vec<(u32, f64)>> {
        let rates = self.rates();
        if rates.is_empty() || rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
            return None;
        }
        let mut sorted = rates.clone();
        sorted.sort_by(f64::total_cmp);
        let m = stats::median(&sorted);
        if (m - self.median).abs() > 1e-9 * self.median.abs().max(1.0) {
            return None;
        }
        let rounds: Vec<u32> = if self.rounds.len() == rates.len() {
            self.rounds.clone()
        } else {
            (0..rates.len() as u32).collect()
        };
        Some(rounds.into_iter().zip(rates).collect())
    }

    /// This point's rate over `other`'s: the median of the ratios of the samples the two took
    /// in the same round, with its interval. Each round samples every point once, a layout's
    /// thread counts back to back, so a slow spell of the machine lands on both samples of a
    /// ratio and cancels, where it would skew a ratio of medians taken minutes apart. The
    /// ratio of the medians, with no interval, where no rounds pair (a report edited by hand).
    pub fn ratio(&self, other: &Point) -> Estimate {
        if let (Some(a), Some(b)) = (self.round_rates(), other.round_rates()) {
            let r = stats::paired(&a, &b);
            if !r.is_empty() {
                return Estimate::of(&r);
            }
        }
        Estimate {
            median: if other.median > 0.0 {
                self.median / other.median
            } else {
                0.0
            },
            interval: None,
            samples: 0,
        }
    }

    /// The median of [`Point::ratio`].
    pub fn ratio_to(&self, other: &Point) -> f64 {
        self.ratio(other).median
    }

    /// `(max - min) / median` of the sample rates; 0 with fewer than two samples.
    pub fn spread(&self) -> f64 {
        if self.samples_secs.len() < 2 || self.median <= 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median
        }
    }

    /// The point's mean load per logical core.
    pub fn load_per_core(&self, cores: usize) -> Option<f64> {
        self.load.map(|l| l / cores.max(1) as f64)
    }

    /// Why this point's figure is not to be trusted (empty when it is): its median is not
    /// known to within [`TOLERANCE`], and what was seen around it: load over [`LOAD_WARN`]
    /// per core, steal over [`STEAL_WARN`], or neither ("unexplained").
    pub fn flags(&self, cores: usize) -> Vec<String> {
        let e = self.estimate();
        let hw = e.half_width();
        if hw <= TOLERANCE {
            return Vec::new();
        }
        let mut f = vec![if hw.is_finite() {
            format!("±{:.1}%", 100.0 * hw)
        } else {
            format!("{} samples", e.samples)
        }];
        let mut why = false;
        if let Some(per_core) = self.load_per_core(cores).filter(|l| *l > LOAD_WARN) {
            f.push(format!("load {per_core:.2}/core"));
            why = true;
        }
        if let Some(steal) = self.steal.filter(|s| *s > STEAL_WARN) {
            f.push(format!("steal {:.0}%", 100.0 * steal));
            why = true;
        }
        if !why {
            f.push("unexplained spread".into());
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
    /// The best point's rate over the baseline's: the median of their paired ratios.
    pub best_speedup: f64,
    pub best_config: String,
    /// The best rate itself (the highest median of the layout's points, oversubscribed ones
    /// excepted), chunks per second.
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
    /// The intervals of `best_speedup` and `gain_over_same_layout` (`None` where the rounds
    /// could not be paired or were too few).
    #[serde(default)]
    pub speedup_interval: Option<(f64, f64)>,
    #[serde(default)]
    pub same_layout_interval: Option<(f64, f64)>,
    /// The best point's rate over the best unchained one (paired), with its interval: the
    /// share of the unbounded rate this layout keeps (1 for the unchained row itself).
    #[serde(default)]
    pub keep: f64,
    #[serde(default)]
    pub keep_interval: Option<(f64, f64)>,
}

impl FairnessRow {
    /// The most chained lanes allow over one lane on one core: L for the leaf hashing, about
    /// 2L for the whole proof (internal nodes are not lane-bound; docs/SPEC.md, 3.6).
    pub fn bound(&self) -> Option<f64> {
        self.lanes.map(|l| 2.0 * f64::from(l))
    }

    pub fn speedup(&self) -> Estimate {
        Estimate {
            median: self.best_speedup,
            interval: self.speedup_interval,
            samples: 0,
        }
    }

    pub fn keeps(&self) -> Estimate {
        Estimate {
            median: self.keep,
            interval: self.keep_interval,
            samples: 0,
        }
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

/// Modelled throughput of a hypothetical machine: its capability (the best over its thread
/// counts and backends) at one layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub hash: HashId,
    pub machine: Machine,
    pub lanes: u32,
    pub chained: bool,
    pub chunks_per_sec: f64,
    /// Where the best was reached, and the bound that decides it (absent in old reports).
    #[serde(default)]
    pub threads: usize,
    #[serde(default)]
    pub simd: Option<Simd>,
    #[serde(default)]
    pub limit: Option<Limit>,
    /// Whether it rests on a backend the measured machine lacks (an upper bound).
    #[serde(default)]
    pub extrapolated_simd: bool,
}

/// How the sweep sampled: the stopping rule and what it took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Every point got at least `min_samples`, at most `max_samples`, and was sampled until
    /// its median was known to within `tolerance` or the rounds used up `budget_secs`.
    pub tolerance: f64,
    pub min_samples: usize,
    pub max_samples: usize,
    pub budget_secs: f64,
    pub sample_secs: f64,
    /// Rounds run and the seconds they took; the whole run's seconds (build excluded).
    pub rounds: usize,
    pub rounds_secs: f64,
    pub total_secs: f64,
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
    /// The sampling rule and its cost (`None` in reports from before it was adaptive).
    #[serde(default)]
    pub sampling: Option<Sampling>,
}

impl VersionedFile for Report {
    const WHAT: &'static str = "benchmark report";
    const VERSION: u32 = SCHEMA_VERSION;
    const VERSION_FIELD: &'static str = "schema_version";
    fn version(&self) -> u32 {
        self.schema_version
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises") + "\n"
    }

    /// Parses a report and derives its analysis again ([`Report::analyse`]).
    pub fn from_json(text: &str) -> Result<Report, FileError> {
        let mut r = <Report as VersionedFile>::from_text(text, "report")?;
        r.check_points("report")?;
        r.analyse();
        Ok(r)
    }

    /// Reads a report file (a regular file of at most 64 MiB, like every document) and
    /// derives its analysis again.
    pub fn read(path: &std::path::Path) -> Result<Report, FileError> {
        let mut r = <Report as VersionedFile>::load(path)?;
        r.check_points(&path.display().to_string())?;
        r.analyse();
        Ok(r)
    }

    /// Refuses a report of more than [`MAX_POINTS`] points, read from `origin`.
    fn check_points(&self, origin: &str) -> Result<(), FileError> {
        if self.points.len() > MAX_POINTS {
            return Err(FileError::Invalid {
                path: origin.into(),
                msg: format!(
                    "{} points, more than the {MAX_POINTS} a benchmark report may hold",
                    self.points.len()
                ),
            });
        }
        Ok(())
    }

    /// Derives everything that is not a measurement from the measurements: each point's
    /// ceiling and oversubscription, the models fitted on the points (and each point's
    /// prediction), the modelled machines, the lane tuning and the fairness table.
    pub fn analyse(&mut self) {
        let cores = self.cores();
        for p in &mut self.points {
            p.oversubscribed = p.threads > cores;
            p.ceiling =
                self.primitives.ceiling(p.hash, p.simd) * p.threads.min(cores).max(1) as f64;
        }
        self.models = fit_models(&self.primitives, &mut self.points, cores);
        let best = self.fingerprint.blake3_detected;
        self.predictions = analysis::predictions(&self.models, best);
        self.tuning = analysis::tuning(&self.models, cores);
        self.fairness = fairness(&self.points);
    }

    pub fn cores(&self) -> usize {
        self.fingerprint.logical_cores.max(1)
    }

    /// How noisy the machine was: the interquartile range of every sample's rate relative to
    /// its point's median, over all points (0.05: half the samples within a 5% band). Where it
    /// is large, no budget gets every median to ±5%, and the flags say so. `None` without
    /// samples.
    pub fn sample_noise(&self) -> Option<f64> {
        let mut d: Vec<f64> = self
            .points
            .iter()
            .flat_map(|p| {
                let m = p.median;
                p.rates()
                    .into_iter()
                    .filter(move |_| m > 0.0)
                    .map(move |x| x / m - 1.0)
            })
            .filter(|x| x.is_finite())
            .collect();
        if d.len() < 4 {
            return None;
        }
        d.sort_by(f64::total_cmp);
        let q = |f: f64| d.get(((d.len() - 1) as f64 * f) as usize).copied();
        Some(q(0.75)? - q(0.25)?)
    }

    /// Whether the sweep measured unpinned points (a `--pin` run did not): then its pinned
    /// points are twins, measured beside them.
    fn has_unpinned(&self) -> bool {
        self.points.iter().any(|p| !p.pinned)
    }

    /// Whether `p` is a pinned twin of an unpinned point.
    pub fn is_twin(&self, p: &Point) -> bool {
        p.pinned && self.has_unpinned()
    }

    /// Synthetic blake3 points of the best backend: the main sweep, without pinned twins.
    pub fn main_points(&self) -> impl Iterator<Item = &Point> {
        let best = self.fingerprint.blake3_detected;
        let twins = self.has_unpinned();
        self.points.iter().filter(move |p| {
            p.source == SourceKind::Synthetic
                && p.hash == HashId::Blake3
                && p.simd == best
                && !(twins && p.pinned)
        })
    }

    /// The main sweep's pinned twins (none in a `--pin` run, where every point is pinned).
    pub fn pinned_twins(&self) -> impl Iterator<Item = &Point> {
        let best = self.fingerprint.blake3_detected;
        let twins = self.has_unpinned();
        self.points.iter().filter(move |p| {
            twins
                && p.pinned
                && p.source == SourceKind::Synthetic
                && p.hash == HashId::Blake3
                && p.simd == best
        })
    }

    /// The synthetic point of a configuration (not a pinned twin).
    pub fn find(
        &self,
        hash: HashId,
        simd: Simd,
        lanes: u32,
        chained: bool,
        threads: usize,
    ) -> Option<&Point> {
        // Once, not per point: asked of each point it made every lookup quadratic.
        let twins = self.has_unpinned();
        self.points.iter().find(|p| {
            p.source == SourceKind::Synthetic
                && p.hash == hash
                && p.simd == simd
                && p.lanes == lanes
                && p.chained == chained
                && p.threads == threads
                && !(twins && p.pinned)
        })
    }

    /// [`Report::find`] at one thread for every configuration at once, keyed by hash, backend,
    /// lanes and chaining: for a lookup per point, which one [`Report::find`] each would make
    /// quadratic in the points.
    pub fn one_thread_points(
        &self,
    ) -> std::collections::HashMap<(HashId, Simd, u32, bool), &Point> {
        let twins = self.has_unpinned();
        let mut at_one = std::collections::HashMap::new();
        for p in self
            .points
            .iter()
            .filter(|p| p.source == SourceKind::Synthetic && p.threads == 1 && !(twins && p.pinned))
        {
            at_one
                .entry((p.hash, p.simd, p.lanes, p.chained))
                .or_insert(p);
        }
        at_one
    }
}

/// "1 thread", "4 threads".
pub fn thr(t: usize) -> String {
    if t == 1 {
        "1 thread".into()
    } else {
        format!("{t} threads")
    }
}

/// Millions, one decimal.
pub(crate) fn m(v: f64) -> String {
    format!("{:.1}", v / 1e6)
}

/// "1 report", "3 reports".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
