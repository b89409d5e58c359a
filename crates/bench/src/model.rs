//! A performance model of the Merkleisation, built from a machine's primitives, that says
//! what limits each configuration.
//!
//! Per chunk, a worker spends one leaf compression at the width its lanes allow, one node
//! compression at full width and, for a splittable source, the generation of the chunk, plus
//! a fixed cost that no primitive measures (gathering the inputs, handing them to the hash,
//! claiming tasks), and for chained leaves a cost per leaf call (one row of a lane group:
//! gathering its chunks and links, the call) shared by the call's `G` inputs:
//!
//! `t = (1 / leaf_rate + 1 / rate(full_width) + t_gen) / eff + fixed (+ row / G chained)`
//! seconds,
//!
//! where `rate(k)` is one core's compressions per second when the backend is handed `k`
//! independent inputs at a time (measured for k = 1, 2, 4, 8, 16 up to the backend's degree;
//! keccak up to 8), and `leaf_rate` is `rate(full_width)` for unchained leaves and
//! `chained_rate(G)` for chained ones: the same calls made as a dependent chain, each call's
//! inputs holding the previous call's outputs, as a chained lane's rows do (a chain's calls
//! cannot overlap in the CPU pipeline; reports from before it was measured fall back to
//! `rate(G)`). Chained lanes go in groups of `G` lanes (the prover's `chain_width`: the SIMD
//! degree, or narrower when there are fewer than one chain per two workers), each group a
//! chain that one worker at a time advances. The throughput is the smallest of:
//! - **work**: `P * par / t` with `P = min(threads, cores)` workers; `par` (1 for one worker)
//!   is what running beside other workers costs each of them: caches, data moving between
//!   cores, the scheduler;
//! - **chains** (chained only): `min(P, ceil(L / G)) / (1 / (chained_rate(G) * eff) + fixed /
//!   2 + row / G)`, the chains' per-input latency: at L = 1 one input per call, whatever the
//!   machine. A chain's worker pays the row cost and the leaf's half of the fixed cost: each
//!   chunk is one input to a leaf call and one to a node call, and the nodes can go to any
//!   worker;
//! - **sequential producer** (the VM): its own rate `1 / t_p`, and its share of the cores,
//!   `cores * par / (t + t_p)`, where `t_p = k / vm_traced`: `k` (`producer_factor`) is what
//!   a VM step costs in the prover over the VM alone into no blocks (writing the blocks,
//!   handing them over, sharing the cores), fitted on the VM points with several workers;
//! - **memory bandwidth**: `memcpy bandwidth / 64` chunks/s (each chunk's 32 bytes and its
//!   32-byte leaf cross the memory system once).
//!
//! Four fitted figures absorb everything else. `eff`, `fixed` and `row` come together from
//! the one-worker points, which the work bound decides: `1 / v = hash / eff + fixed + row / G`
//! is linear in `1 / eff`, `fixed` and `row`, so a closed-form least squares on the relative
//! error fits all three (the backends' different rates tell `eff` from `fixed`: a fixed cost
//! is a larger share of a fast backend's time; the chain widths tell `row` from both). Terms
//! the points cannot tell apart are dropped, and the costs are kept non-negative (the best fit
//! over the subsets of costs left at 0). `par` then comes from the
//! multi-worker points. The rates are the primitives phase's (best of three windows per width,
//! interleaved over all widths so that a slow spell cannot spoil one width's every window),
//! each backend's scaled by its full-width rate sampled in the sweep's rounds over the
//! table's own (`report::model_for`): the tables are measured minutes before the points,
//! and a host that drifts does not drift evenly over its backends. The report gives the
//! median and worst error of the fit.

use poie_proof::pipeline::chain_width;
use poie_proof::{HashId, Simd};
use serde::{Deserialize, Serialize};

/// One core's compression rate when `width` inputs are hashed per call.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub width: usize,
    pub per_second: f64,
}

/// Compression rates of one backend, by inputs per call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub simd: Simd,
    pub by_width: Vec<Rate>,
}

impl Rates {
    /// Rate with `k` inputs per call: the largest measured width not above `k`.
    pub fn at(&self, k: usize) -> f64 {
        let mut best: Option<Rate> = None;
        for r in &self.by_width {
            if r.width <= k.max(1) && best.is_none_or(|b| r.width > b.width) {
                best = Some(*r);
            }
        }
        best.or_else(|| self.by_width.first().copied())
            .map_or(1.0, |r| r.per_second)
    }

    pub fn degree(&self) -> usize {
        self.by_width.iter().map(|r| r.width).max().unwrap_or(1)
    }
}

/// How one backend's rates were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Measured on this machine.
    Measured,
    /// A backend this machine lacks, extrapolated from a measured one by nominal SIMD degree:
    /// an upper bound (a CPU may run the wider instructions on narrower units).
    Extrapolated,
}

/// The table of `simd` in `tables`, or one extrapolated from the measured tables by nominal
/// SIMD degree (`degree`), flagged [`Source::Extrapolated`]; an empty table where there is
/// nothing to extrapolate from.
///
/// Wider than every measured table (the usual case: AVX-512 modelled on an AVX2 machine): at
/// the widths the widest table measured, the same rates (a call of `k` inputs has no more
/// independent work on a wider unit); beyond them, a call of up to `degree(simd)` inputs costs
/// what the widest table's full-width call costs, so the rate grows with the width. Narrower:
/// the narrowest wider table, cut at the narrower degree. Either way the result is at most what
/// the nominal width allows, never less than a measured narrower backend: it is what the
/// widest measured backend would do if the wider unit were as fast per instruction.
fn table(tables: &[Rates], simd: Simd, degree: impl Fn(Simd) -> usize) -> (Rates, Source) {
    if let Some(r) = tables.iter().find(|r| r.simd == simd) {
        return (r.clone(), Source::Measured);
    }
    let want = degree(simd).max(1);
    let measured = tables.iter().filter(|r| !r.by_width.is_empty());
    let narrowest_wider = measured
        .clone()
        .filter(|r| r.degree() >= want)
        .min_by_key(|r| r.degree());
    let by_width = match narrowest_wider {
        Some(wider) => wider
            .by_width
            .iter()
            .filter(|r| r.width <= want)
            .copied()
            .collect(),
        None => match measured.max_by_key(|r| r.degree()) {
            Some(widest) => {
                let d = widest.degree().max(1);
                let full = widest.at(d);
                let mut v = widest.by_width.clone();
                let mut w = d * 2;
                while w <= want {
                    v.push(Rate {
                        width: w,
                        per_second: full * w as f64 / d as f64,
                    });
                    w *= 2;
                }
                v
            }
            None => vec![],
        },
    };
    (Rates { simd, by_width }, Source::Extrapolated)
}

/// The nominal SIMD degree of `hash` on `simd`: blake3's 32-bit words fill 4, 8 or 16 lanes
/// of an SSE, AVX2 or AVX-512 register; keccak's 64-bit states 4 (AVX2) or 8 (AVX-512), and
/// its `sse41` setting runs the one-state portable kernel.
pub fn nominal_degree(hash: HashId, simd: Simd) -> usize {
    match hash {
        HashId::Blake3 => simd.degree(),
        HashId::Keccak => match simd {
            Simd::Portable | Simd::Sse41 => 1,
            Simd::Avx2 => 4,
            Simd::Avx512 => 8,
        },
    }
}

/// A machine as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub simd: Simd,
}

/// A prover configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub lanes: u32,
    pub chained: bool,
    pub threads: usize,
}

/// The model of one hash on one machine's cores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The hash modelled: it decides the nominal SIMD degrees a missing backend is
    /// extrapolated by. Absent in reports from before it was recorded: `Report::from_json`
    /// sets it from the model's summary.
    #[serde(default = "blake3")]
    pub hash: HashId,
    /// Measured backends (keccak: one scalar entry, used for every SIMD setting).
    pub rates: Vec<Rates>,
    /// The same by inputs per call as a dependent chain (each call's inputs hold the previous
    /// call's outputs), for chained leaves. Empty in reports from before it was measured: the
    /// independent rates stand in.
    #[serde(default)]
    pub chained_rates: Vec<Rates>,
    /// Whether the hash is scalar (SIMD does not apply).
    pub scalar: bool,
    /// A sequential producer's cost in seconds per chunk (the VM); 0 for splittable sources.
    pub producer_secs: f64,
    /// What the sequential producer costs per chunk in the prover, relative to
    /// `producer_secs` (measured alone, into no blocks): writing the blocks, handing them
    /// over, sharing the cores with the workers. Fitted on the VM points with several
    /// workers; 1 where none was (and in reports from before it was).
    #[serde(default = "one")]
    pub producer_factor: f64,
    /// Generating a chunk on the workers (splittable sources), seconds per chunk.
    #[serde(default)]
    pub gen_secs: f64,
    /// Memory bandwidth per core as chunks per second (each chunk's 32 bytes and its 32-byte
    /// leaf cross the memory system once); 0 for no bound. A machine of `c` cores is assumed
    /// to have `c` times this: the bandwidth this machine measured with all its cores copying
    /// at once, per core. Reports from before that was measured hold the one-core copy rate
    /// (under its old name, `mem_chunks`), which stands in as the per-core figure.
    #[serde(default, alias = "mem_chunks")]
    pub mem_chunks_per_core: f64,
    /// The primitives' speed in the prover, relative to alone (fitted).
    pub eff: f64,
    /// Seconds per chunk a worker spends besides hashing and generating (fitted; 0 in reports
    /// from before it was).
    #[serde(default)]
    pub fixed_secs: f64,
    /// Seconds per chained leaf call (one row of a lane group) besides its compressions:
    /// gathering the row's chunks and links, the call itself. Per chunk it is `row_secs / G`,
    /// so it weighs on narrow chains (fitted; 0 in reports from before it was).
    #[serde(default)]
    pub row_secs: f64,
    /// Each worker's efficiency beside others, relative to alone.
    #[serde(default = "one")]
    pub par: f64,
}

fn one() -> f64 {
    1.0
}

fn blake3() -> HashId {
    HashId::Blake3
}

/// Which bound decides a prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Limit {
    Work,
    Chains,
    Producer,
    Memory,
}

/// What a machine can do at one layout: its best rate over the thread counts up to its cores
/// and the backends it has, with where that best was reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    pub rate: f64,
    pub threads: usize,
    pub simd: Simd,
    pub limit: Limit,
    /// Whether the rate rests on a backend the measured machine lacks (an upper bound).
    pub extrapolated_simd: bool,
}

impl Model {
    /// The nominal SIMD degree of this model's hash on `simd`.
    pub fn degree(&self, simd: Simd) -> usize {
        nominal_degree(self.hash, simd)
    }

    /// Rates for a backend; one this machine lacks is extrapolated from the measured ones by
    /// nominal SIMD degree (see [`table`]), and says so.
    pub fn rates(&self, simd: Simd) -> (Rates, Source) {
        if self.scalar {
            if let Some(r) = self.rates.first() {
                return (r.clone(), Source::Measured);
            }
        }
        table(&self.rates, simd, |s| self.degree(s))
    }

    /// Dependent-chain rates for a backend: measured, else extrapolated from the measured
    /// chained tables like [`Model::rates`], else (reports from before they were measured) the
    /// independent ones.
    ///
    /// Each width is capped at the independent rate, at that width and at full width: a
    /// chain's calls wait for each other and an unchained leaf runs at full width, so a
    /// measured chained rate above either is noise, and letting it through would model a
    /// chained layout faster than unchained, which bounds it.
    pub fn chained(&self, simd: Simd) -> Rates {
        let (independent, _) = self.rates(simd);
        let mut chained = if self.scalar {
            self.chained_rates
                .first()
                .cloned()
                .unwrap_or_else(|| independent.clone())
        } else if self.chained_rates.iter().any(|r| !r.by_width.is_empty()) {
            table(&self.chained_rates, simd, |s| self.degree(s)).0
        } else {
            return independent;
        };
        let full = independent.at(independent.degree());
        for r in &mut chained.by_width {
            r.per_second = r.per_second.min(independent.at(r.width)).min(full);
        }
        chained
    }

    /// What one chunk costs one worker in primitives (leaf, node, generation), in seconds
    /// before `eff` and `fixed_secs`; with the leaf width and the chained rates.
    fn hash_secs(&self, m: Machine, c: Config) -> (f64, usize, Rates) {
        let (rates, _) = self.rates(m.simd);
        let chained = self.chained(m.simd);
        let full = rates.degree();
        let p = c.threads.min(m.cores).max(1);
        let (leaf_width, leaf) = if c.chained {
            let g = chain_width(c.lanes as usize, p, full);
            (g, chained.at(g))
        } else {
            (full, rates.at(full))
        };
        let secs = 1.0 / leaf + 1.0 / rates.at(full) + self.gen_secs;
        (secs, leaf_width, chained)
    }

    /// Predicted chunks per second of one configuration, on exactly the machine's backend:
    /// what the measured points are compared with.
    pub fn predict(&self, m: Machine, c: Config) -> f64 {
        self.explain(m, c).0
    }

    /// Predicted chunks per second and the bound that decides it.
    pub fn explain(&self, m: Machine, c: Config) -> (f64, Limit) {
        let (hash, leaf_width, chained) = self.hash_secs(m, c);
        let cores = m.cores.max(1) as f64;
        let p = c.threads.min(m.cores).max(1) as f64;
        let par = if p > 1.0 { self.par } else { 1.0 };
        let row = if c.chained {
            self.row_secs / leaf_width.max(1) as f64
        } else {
            0.0
        };
        let t = hash / self.eff + self.fixed_secs + row;
        let mut best = (p * par / t, Limit::Work);
        let mut bound = |v: f64, why: Limit| {
            if v < best.0 {
                best = (v, why);
            }
        };
        if c.chained {
            // A chain's worker pays the leaf's half of the fixed cost (the other half goes
            // with the node, which any worker may take) and the row cost.
            let chains = (c.lanes as usize).div_ceil(leaf_width) as f64;
            let per_input = 1.0 / (chained.at(leaf_width) * self.eff) + self.fixed_secs / 2.0 + row;
            bound(chains.min(p) / per_input, Limit::Chains);
        }
        if self.producer_secs > 0.0 {
            let tp = self.producer_secs * self.producer_factor.max(0.0);
            bound(1.0 / tp, Limit::Producer);
            bound(cores * par / (t + tp), Limit::Producer);
        }
        if self.mem_chunks_per_core > 0.0 {
            bound(self.mem_chunks_per_core * cores, Limit::Memory);
        }
        best
    }

    /// The most a machine does at a layout: the best prediction over every thread count up to
    /// its cores and every backend it has (those no wider than its own). A buyer runs the
    /// threads and the backend that are fastest, so a machine with more cores, or a wider
    /// backend at the same per-core rates, is never modelled slower: its choices include the
    /// smaller machine's, and no bound falls as cores are added. Ties go to fewer threads and
    /// the narrower backend.
    pub fn capability(&self, m: Machine, lanes: u32, chained: bool) -> Capability {
        let mut best: Option<Capability> = None;
        let backends: Vec<Simd> = if self.scalar {
            vec![m.simd]
        } else {
            Simd::ALL
                .into_iter()
                .filter(|s| s.at_most(m.simd))
                .collect()
        };
        for simd in backends {
            let extrapolated_simd = self.rates(simd).1 == Source::Extrapolated;
            for threads in 1..=m.cores.max(1) {
                let (rate, limit) = self.explain(
                    Machine { simd, ..m },
                    Config {
                        lanes,
                        chained,
                        threads,
                    },
                );
                if best.is_none_or(|b| rate > b.rate) {
                    best = Some(Capability {
                        rate,
                        threads,
                        simd,
                        limit,
                        extrapolated_simd,
                    });
                }
            }
        }
        best.unwrap_or(Capability {
            rate: 0.0,
            threads: 1,
            simd: m.simd,
            limit: Limit::Work,
            extrapolated_simd: false,
        })
    }

    /// Fits `eff` and `fixed_secs` to the one-worker measurements `(machine, config,
    /// chunks/s)`, then `par` to the others. Without one-worker points, `eff` alone is fitted
    /// to the others (`fixed_secs` 0, `par` 1) before `par`.
    pub fn fit(mut self, measured: &[(Machine, Config, f64)]) -> Model {
        let data: Vec<_> = measured
            .iter()
            .filter(|(_, _, v)| v.is_finite() && *v > 0.0)
            .collect();
        let single = |(m, c, _): &&&(Machine, Config, f64)| c.threads.min(m.cores) <= 1;
        let (ones, many): (Vec<_>, Vec<_>) = data.iter().partition(single);
        self.par = 1.0;
        if ones.is_empty() {
            self.fixed_secs = 0.0;
            bisect(&mut self, &many, false);
        } else {
            self.fit_one_worker(&ones);
        }
        bisect(&mut self, &many, true);
        self
    }

    /// `eff`, `fixed_secs` and `row_secs` from one-worker points, which the work bound
    /// decides: `1 / v = a * hash + c + r * g` with `a = 1 / eff`, `c = fixed_secs`,
    /// `r = row_secs` and `g = 1 / G` for chained points (0 unchained). Minimises the relative
    /// error `sum ((a * hash_i + c + r * g_i) * v_i - 1)^2` in closed form (normal equations)
    /// under `c, r >= 0`: every subset of the two costs is fitted (a cost left out is 0) and
    /// the feasible fit with the smallest error kept, which for two constrained terms is the
    /// exact non-negative least squares. A subset is skipped where the points cannot tell its
    /// terms apart (fewer than one point more than terms, [`MIN_FIXED_POINTS`] for two; terms
    /// nearly collinear).
    fn fit_one_worker(&mut self, pts: &[&&(Machine, Config, f64)]) {
        let features: Vec<[f64; 3]> = pts
            .iter()
            .map(|(m, c, v)| {
                let (hash, width, _) = self.hash_secs(*m, *c);
                let g = if c.chained {
                    1.0 / width.max(1) as f64
                } else {
                    0.0
                };
                [hash * v, *v, g * v]
            })
            .collect();
        // The subsets of columns fitted, `eff` (column 0) always in.
        let subsets: [&[usize]; 4] = [&[0, 1, 2], &[0, 1], &[0, 2], &[0]];
        let mut best: Option<(f64, [f64; 3])> = None;
        for cols in subsets {
            let terms = cols.len();
            if terms > 1 && pts.len() < MIN_FIXED_POINTS + terms - 2 {
                continue;
            }
            let x: Vec<[f64; 3]> = features
                .iter()
                .map(|f| {
                    let mut r = [0.0; 3];
                    for (slot, &c) in r.iter_mut().zip(cols) {
                        *slot = f.get(c).copied().unwrap_or(0.0);
                    }
                    r
                })
                .collect();
            let Some(beta) = least_squares(&x, terms) else {
                continue;
            };
            let mut full = [0.0; 3];
            for (&c, b) in cols.iter().zip(&beta) {
                if let Some(slot) = full.get_mut(c) {
                    *slot = *b;
                }
            }
            if !(full[0] > 0.0 && full[1] >= 0.0 && full[2] >= 0.0) {
                continue;
            }
            let err: f64 = features
                .iter()
                .map(|f| (f[0] * full[0] + f[1] * full[1] + f[2] * full[2] - 1.0).powi(2))
                .sum();
            if best.is_none_or(|(e, _)| err < e) {
                best = Some((err, full));
            }
        }
        if let Some((_, [a, c, r])) = best {
            self.eff = 1.0 / a;
            self.fixed_secs = c;
            self.row_secs = r;
        }
    }
}

/// Solves `min sum_i (x_i[..terms] . beta - 1)^2` by the normal equations, with the columns
/// scaled to unit norm so the pivot test reads as collinearity: `None` where a pivot is under
/// 1e-4 (the terms cannot be told apart) or the result is not finite.
fn least_squares(x: &[[f64; 3]], terms: usize) -> Option<Vec<f64>> {
    let k = terms.clamp(1, 3);
    let norm: Vec<f64> = (0..k)
        .map(|j| x.iter().map(|r| r[j] * r[j]).sum::<f64>().sqrt())
        .collect();
    if norm.iter().any(|&n| !(n > 0.0 && n.is_finite())) {
        return None;
    }
    // Augmented normal matrix [X'X | X'1] of the scaled columns.
    let mut m = vec![vec![0.0; k + 1]; k];
    for r in x {
        for i in 0..k {
            let xi = r[i] / norm[i];
            for j in 0..k {
                m[i][j] += xi * r[j] / norm[j];
            }
            m[i][k] += xi;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        m.swap(col, pivot);
        let p = m[col][col];
        if p.abs() < 1e-4 {
            return None;
        }
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / p;
                for (x, y) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * y;
                }
            }
        }
    }
    let beta: Vec<f64> = (0..k).map(|i| m[i][k] / m[i][i] / norm[i]).collect();
    beta.iter().all(|b| b.is_finite()).then_some(beta)
}

impl Model {
    /// Fits `producer_factor` to measurements of a sequential producer's proofs (this model's
    /// `producer_secs` set), so that their mean log error is zero; left as it is without any.
    /// Predictions fall as the factor grows, so bisection finds it.
    pub fn fit_producer(mut self, measured: &[(Machine, Config, f64)]) -> Model {
        let pts: Vec<_> = measured
            .iter()
            .filter(|(_, _, v)| v.is_finite() && *v > 0.0)
            .collect();
        if pts.is_empty() || self.producer_secs <= 0.0 {
            return self;
        }
        let (mut lo, mut hi) = (0.1f64, 100.0f64);
        for _ in 0..100 {
            let mid = (lo * hi).sqrt();
            self.producer_factor = mid;
            let err: f64 = pts
                .iter()
                .map(|(m, c, v)| (self.predict(*m, *c) / v).ln())
                .sum();
            if err > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self
    }
}

/// The fewest one-worker points `Model::fit` fits a fixed cost to (two would fit any pair).
pub const MIN_FIXED_POINTS: usize = 3;

/// Sets `eff` (or `par`) so that the mean log error over `pts` is zero, by bisection:
/// predictions grow with both.
fn bisect(model: &mut Model, pts: &[&&(Machine, Config, f64)], par: bool) {
    if pts.is_empty() {
        return;
    }
    let (mut lo, mut hi) = (1e-3, 10.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if par {
            model.par = mid;
        } else {
            model.eff = mid;
        }
        let err: f64 = pts
            .iter()
            .map(|(m, c, v)| (model.predict(*m, *c) / v).ln())
            .sum();
        if err > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
}

/// One row of `poie tune`'s table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuneRow {
    pub lanes: u32,
    /// Reference machine, chained `lanes`, as a fraction of its unchained (unbounded) throughput.
    pub reference_keeps: f64,
    /// Each big machine's throughput over the reference machine's, both chained with `lanes`.
    pub big_gains: Vec<(usize, f64)>,
}

/// The recommendation and the table it was decided from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    pub reference: Machine,
    pub big: Vec<Machine>,
    pub rows: Vec<TuneRow>,
    /// Smallest lane count keeping `keep` of the reference's unbounded throughput.
    pub recommended: Option<u32>,
    pub keep: f64,
    /// Big machines' gain over the reference with unbounded (unchained) proofs, for contrast.
    pub unbounded_gains: Vec<(usize, f64)>,
    /// Whether a figure rests on a backend the measured machine lacks (extrapolated by nominal
    /// SIMD degree: an upper bound).
    pub extrapolated: bool,
    /// The machines whose figures go beyond the cores the model was fitted on (`None` in
    /// reports from before it was recorded).
    #[serde(default)]
    pub measured_cores: Option<usize>,
}

impl Tuning {
    /// Whether any modelled machine has more cores than the one measured.
    pub fn extrapolated_cores(&self) -> bool {
        self.measured_cores.is_some_and(|c| {
            std::iter::once(self.reference)
                .chain(self.big.iter().copied())
                .any(|m| m.cores > c)
        })
    }
}

/// The reference machine of the lane tuning: a mainstream 4-core AVX2 prover, which a fair L
/// must not hold back.
pub const REFERENCE: Machine = Machine {
    cores: 4,
    simd: Simd::Avx2,
};

/// The big machines the tuning bounds.
pub const BIG: [Machine; 2] = [
    Machine {
        cores: 32,
        simd: Simd::Avx512,
    },
    Machine {
        cores: 64,
        simd: Simd::Avx512,
    },
];

/// The lane counts `tune` models: 1 to 256.
pub const TUNE_LANES: [u32; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// The smallest L at which `reference` keeps `keep` of its unbounded (unchained) capability,
/// with each `big` machine's gain over it at every L. `measured_cores`: the cores of the
/// machine the model was fitted on, to say which figures are extrapolated in cores.
pub fn tune(
    model: &Model,
    reference: Machine,
    big: &[Machine],
    keep: f64,
    measured_cores: usize,
) -> Tuning {
    let cap = |m: Machine, lanes, chained| model.capability(m, lanes, chained);
    let ref_unbounded = cap(reference, 1, false).rate;
    let mut extrapolated = cap(reference, 1, false).extrapolated_simd;
    let rows: Vec<TuneRow> = TUNE_LANES
        .into_iter()
        .map(|lanes| {
            let r = cap(reference, lanes, true);
            extrapolated |= r.extrapolated_simd;
            TuneRow {
                lanes,
                reference_keeps: r.rate / ref_unbounded,
                big_gains: big
                    .iter()
                    .map(|b| {
                        let c = cap(*b, lanes, true);
                        extrapolated |= c.extrapolated_simd;
                        (b.cores, c.rate / r.rate)
                    })
                    .collect(),
            }
        })
        .collect();
    let recommended = rows
        .iter()
        .find(|r| r.reference_keeps >= keep)
        .map(|r| r.lanes);
    let unbounded_gains = big
        .iter()
        .map(|b| {
            let c = cap(*b, 1, false);
            extrapolated |= c.extrapolated_simd;
            (b.cores, c.rate / ref_unbounded)
        })
        .collect();
    Tuning {
        reference,
        big: big.to_vec(),
        rows,
        recommended,
        keep,
        unbounded_gains,
        extrapolated,
        measured_cores: Some(measured_cores),
    }
}

/// The machines [`sanity_violations`] checks: every core count from 1 to 64 that is a power of
/// two, and a few that are not, with every backend.
const SANITY_CORES: [usize; 10] = [1, 2, 3, 4, 6, 8, 16, 24, 32, 64];

/// What the model must never say, whatever its parameters: a machine with more cores, or a
/// wider backend at the same per-core rates, modelled slower at the same layout; a chained
/// layout faster than unchained on the same machine; a big machine slower than the reference
/// of `tune`; a modelled rate that is not a positive number. Each violation is a line naming the machines and the layout. [`Model::capability`]
/// keeps these by construction; the tests run this over the fitted models of every committed
/// report and over synthetic machine classes.
pub fn sanity_violations(model: &Model, reference: Machine, big: &[Machine]) -> Vec<String> {
    let mut out = Vec::new();
    let layouts = TUNE_LANES
        .into_iter()
        .map(|l| (l, true))
        .chain(std::iter::once((1, false)));
    for (lanes, chained) in layouts {
        let kind = if chained { "chained" } else { "unchained" };
        let cap = |cores, simd| {
            model
                .capability(Machine { cores, simd }, lanes, chained)
                .rate
        };
        for simd in Simd::ALL {
            let mut last: Option<(usize, f64)> = None;
            for cores in SANITY_CORES {
                let v = cap(cores, simd);
                if !(v.is_finite() && v > 0.0) {
                    out.push(format!("{cores}-core {simd} L={lanes} {kind}: rate {v}"));
                }
                if let Some((c0, v0)) = last.filter(|(_, v0)| v < *v0) {
                    out.push(format!(
                        "{cores}-core {simd} ({v:.0}) below {c0}-core ({v0:.0}) at L={lanes} {kind}"
                    ));
                }
                last = Some((cores, v));
            }
        }
        for cores in SANITY_CORES {
            for pair in Simd::ALL.windows(2) {
                let (narrow, wide) = (cap(cores, pair[0]), cap(cores, pair[1]));
                if wide < narrow {
                    out.push(format!(
                        "{cores}-core {} ({wide:.0}) below {} ({narrow:.0}) at L={lanes} {kind}",
                        pair[1], pair[0]
                    ));
                }
            }
        }
        if chained {
            for simd in Simd::ALL {
                for cores in SANITY_CORES {
                    let m = Machine { cores, simd };
                    let (c, u) = (
                        model.capability(m, lanes, true).rate,
                        model.capability(m, 1, false).rate,
                    );
                    if c > u * (1.0 + 1e-12) {
                        out.push(format!(
                            "{cores}-core {simd}: L={lanes} chained ({c:.0}) above unchained ({u:.0})"
                        ));
                    }
                }
            }
        }
        let r = model.capability(reference, lanes, chained).rate;
        for b in big {
            let v = model.capability(*b, lanes, chained).rate;
            if v < r && b.cores >= reference.cores && reference.simd.at_most(b.simd) {
                out.push(format!(
                    "{}-core {} ({v:.0}) below the {}-core {} reference ({r:.0}) at L={lanes} {kind}",
                    b.cores, b.simd, reference.cores, reference.simd
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(eff: f64, producer_secs: f64) -> Model {
        let w = |width, r| Rate {
            width,
            per_second: r,
        };
        Model {
            hash: HashId::Blake3,
            rates: vec![
                Rates {
                    simd: Simd::Avx2,
                    by_width: vec![w(1, 15e6), w(2, 20e6), w(4, 35e6), w(8, 60e6)],
                },
                Rates {
                    simd: Simd::Avx512,
                    by_width: vec![w(1, 15e6), w(4, 35e6), w(8, 60e6), w(16, 90e6)],
                },
            ],
            chained_rates: vec![],
            scalar: false,
            producer_secs,
            producer_factor: 1.0,
            gen_secs: 0.0,
            mem_chunks_per_core: 0.0,
            eff,
            fixed_secs: 0.0,
            row_secs: 0.0,
            par: 1.0,
        }
    }

    /// Dependent-chain rates: at each width below the independent ones, as a chain's calls
    /// cannot overlap.
    fn chained_rates() -> Vec<Rates> {
        let w = |width, r| Rate {
            width,
            per_second: r,
        };
        vec![
            Rates {
                simd: Simd::Avx2,
                by_width: vec![w(1, 8e6), w(2, 14e6), w(4, 25e6), w(8, 50e6)],
            },
            Rates {
                simd: Simd::Avx512,
                by_width: vec![w(1, 9e6), w(4, 24e6), w(8, 45e6), w(16, 80e6)],
            },
        ]
    }

    /// `(machine, config, truth's prediction)` for `(simd, lanes, chained, threads)`.
    fn measure(
        truth: &Model,
        cores: usize,
        configs: &[(Simd, u32, bool, usize)],
    ) -> Vec<(Machine, Config, f64)> {
        configs
            .iter()
            .map(|&(simd, lanes, chained, threads)| {
                let m = Machine { cores, simd };
                let c = Config {
                    lanes,
                    chained,
                    threads,
                };
                (m, c, truth.predict(m, c))
            })
            .collect()
    }

    /// One-worker points of `truth` (with the chained rates) on both AVX backends at chain
    /// widths that tell a row cost apart, and the model fitted to them from a poor start.
    fn fit_one_worker_rows(mut truth: Model) -> (Vec<(Machine, Config, f64)>, Model) {
        truth.chained_rates = chained_rates();
        let (a2, a5) = (Simd::Avx2, Simd::Avx512);
        let measured = measure(
            &truth,
            8,
            &[
                (a5, 1, false, 1),
                (a5, 1, true, 1),
                (a5, 4, true, 1),
                (a5, 16, true, 1),
                (a2, 1, false, 1),
                (a2, 1, true, 1),
                (a2, 4, true, 1),
                (a2, 16, true, 1),
            ],
        );
        let mut start = model(0.3, 0.0);
        start.chained_rates = chained_rates();
        let fitted = start.fit(&measured);
        (measured, fitted)
    }

    #[test]
    fn fit_recovers_eff_fixed_cost_and_par_of_synthetic_measurements() {
        let mut truth = model(0.83, 0.0);
        truth.chained_rates = chained_rates();
        truth.gen_secs = 3e-9;
        truth.fixed_secs = 6e-9;
        truth.par = 0.9;
        let (a2, a5) = (Simd::Avx2, Simd::Avx512);
        let measured = measure(
            &truth,
            8,
            &[
                (a5, 1, false, 1),
                (a5, 1, true, 1),
                (a5, 4, true, 1),
                (a5, 16, true, 1),
                (a2, 1, false, 1),
                (a2, 1, true, 1),
                (a2, 16, true, 1),
                (a5, 1, false, 8),
                (a5, 64, true, 8),
            ],
        );
        let mut start = model(0.3, 0.0);
        start.chained_rates = chained_rates();
        start.gen_secs = 3e-9;
        let fitted = start.fit(&measured);
        assert!((fitted.eff - 0.83).abs() < 1e-6, "{}", fitted.eff);
        assert!(
            (fitted.fixed_secs - 6e-9).abs() < 1e-14,
            "{}",
            fitted.fixed_secs
        );
        assert!((fitted.par - 0.9).abs() < 1e-6, "{}", fitted.par);
        for (m, c, v) in &measured {
            assert!((fitted.predict(*m, *c) / v - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn fit_recovers_a_cost_per_chained_row() {
        let mut truth = model(0.83, 0.0);
        truth.fixed_secs = 4e-9;
        truth.row_secs = 30e-9;
        let (_, fitted) = fit_one_worker_rows(truth);
        let a5 = Simd::Avx512;
        assert!((fitted.eff - 0.83).abs() < 1e-6, "{}", fitted.eff);
        assert!(
            (fitted.fixed_secs - 4e-9).abs() < 1e-13,
            "{}",
            fitted.fixed_secs
        );
        assert!(
            (fitted.row_secs - 30e-9).abs() < 1e-13,
            "{}",
            fitted.row_secs
        );
        // The row cost weighs on narrow chains: a quarter per chunk at G = 4 of G = 1.
        let one = |lanes| Config {
            lanes,
            chained: true,
            threads: 1,
        };
        let m = Machine { cores: 1, simd: a5 };
        let mut no_row = fitted.clone();
        no_row.row_secs = 0.0;
        let extra = |l| 1.0 / fitted.predict(m, one(l)) - 1.0 / no_row.predict(m, one(l));
        assert!((extra(1) - 30e-9).abs() < 1e-12 && (extra(4) - 7.5e-9).abs() < 1e-12);
    }

    #[test]
    fn fit_keeps_the_row_cost_when_only_the_fixed_cost_comes_out_negative() {
        // Points a slightly negative fixed cost would fit best (noise does that): the fit
        // pins the fixed cost at 0 and still finds the row cost, rather than dropping both.
        let mut truth = model(0.83, 0.0);
        truth.fixed_secs = -1e-9;
        truth.row_secs = 30e-9;
        let (measured, fitted) = fit_one_worker_rows(truth);
        assert_eq!(fitted.fixed_secs, 0.0);
        assert!(
            (fitted.row_secs - 30e-9).abs() < 5e-9,
            "{}",
            fitted.row_secs
        );
        for (m, c, v) in &measured {
            let err = fitted.predict(*m, *c) / v - 1.0;
            assert!(err.abs() < 0.02, "{c:?} on {m:?}: {err}");
        }
    }

    #[test]
    fn fit_producer_recovers_the_producers_cost_in_the_prover() {
        let mut truth = model(0.9, 1.0 / 300e6);
        truth.producer_factor = 3.5;
        let a5 = Simd::Avx512;
        let measured = measure(&truth, 2, &[(a5, 1, false, 2), (a5, 16, true, 2)]);
        let fitted = model(0.9, 1.0 / 300e6).fit_producer(&measured);
        assert!(
            (fitted.producer_factor - 3.5).abs() < 1e-6,
            "{}",
            fitted.producer_factor
        );
        // Nothing to fit: left as it was.
        assert_eq!(
            model(0.9, 1.0 / 300e6).fit_producer(&[]).producer_factor,
            1.0
        );
        assert_eq!(model(0.9, 0.0).fit_producer(&measured).producer_factor, 1.0);
    }

    #[test]
    fn fit_falls_back_to_eff_alone_without_enough_points() {
        let mut truth = model(0.83, 0.0);
        truth.fixed_secs = 6e-9;
        let a5 = Simd::Avx512;
        // Two points: a fixed cost would fit any pair, so none is fitted.
        let two = measure(&truth, 8, &[(a5, 1, false, 1), (a5, 1, true, 1)]);
        let fitted = model(0.3, 0.0).fit(&two);
        assert_eq!(fitted.fixed_secs, 0.0);
        assert!(fitted.eff > 0.0 && fitted.eff < 0.83);
        // Points of one hash time cannot tell a fixed cost from eff.
        let same = measure(
            &truth,
            8,
            &[(a5, 1, false, 1), (a5, 16, true, 1), (a5, 64, true, 1)],
        );
        let fitted = model(0.3, 0.0).fit(&same);
        assert_eq!(fitted.fixed_secs, 0.0);
        for (m, c, v) in &same {
            assert!((fitted.predict(*m, *c) / v - 1.0).abs() < 1e-9);
        }
        // Faster than any fixed cost allows (a negative one would fit): none, eff alone.
        let mut fast = measure(
            &truth,
            8,
            &[(a5, 1, false, 1), (a5, 1, true, 1), (a5, 4, true, 1)],
        );
        fast[0].2 *= 3.0;
        let fitted = model(0.3, 0.0).fit(&fast);
        assert_eq!(fitted.fixed_secs, 0.0);
        assert!(fitted.eff > 0.0);
        // No one-worker point: eff alone from the others, as par would be 1.
        let many = measure(&truth, 8, &[(a5, 1, false, 8), (a5, 64, true, 8)]);
        let fitted = model(0.3, 0.0).fit(&many);
        assert_eq!(fitted.fixed_secs, 0.0);
        assert!(fitted.eff.is_finite() && fitted.eff > 0.0);
        // Nothing usable: the model is left as it was.
        let fitted = model(0.3, 0.0).fit(&[(many[0].0, many[0].1, f64::NAN)]);
        assert_eq!(fitted, model(0.3, 0.0));
    }

    #[test]
    fn chained_leaves_use_the_chained_rates() {
        let mut m = model(1.0, 0.0);
        let one = Machine {
            cores: 1,
            simd: Simd::Avx512,
        };
        let cfg = |lanes, chained, threads| Config {
            lanes,
            chained,
            threads,
        };
        let before_chained = m.predict(one, cfg(4, true, 1));
        let before_unchained = m.predict(one, cfg(1, false, 1));
        // Without chained rates (reports from before): the independent ones.
        assert!((before_chained - 1.0 / (1.0 / 35e6 + 1.0 / 90e6)).abs() < 1.0);
        m.chained_rates = chained_rates();
        // 4-wide chained leaves at the chained rate, 16-wide nodes at the independent one.
        let l4 = m.predict(one, cfg(4, true, 1));
        assert!((l4 - 1.0 / (1.0 / 24e6 + 1.0 / 90e6)).abs() < 1.0, "{l4}");
        assert_eq!(m.predict(one, cfg(1, false, 1)), before_unchained);
        // The chains bound: one chain of one lane on many cores runs at the chained rate, with
        // the leaf's half of the fixed cost.
        let big = Machine {
            cores: 64,
            simd: Simd::Avx512,
        };
        let (v, limit) = m.explain(big, cfg(1, true, 64));
        assert_eq!(limit, Limit::Chains);
        assert!((v - 9e6).abs() < 1.0, "{v}");
        m.fixed_secs = 20e-9;
        let (v, limit) = m.explain(big, cfg(1, true, 64));
        assert_eq!(limit, Limit::Chains);
        assert!((v - 1.0 / (1.0 / 9e6 + 10e-9)).abs() < 1.0, "{v}");
        m.fixed_secs = 0.0;
        // A backend whose chained rates were not measured is extrapolated from the chained
        // tables: cut from a wider one, or grown by nominal degree from a narrower one.
        m.chained_rates.retain(|r| r.simd == Simd::Avx512);
        assert_eq!(m.chained(Simd::Avx2).at(8), 45e6);
        m.rates.retain(|r| r.simd == Simd::Avx2);
        m.chained_rates = chained_rates();
        m.chained_rates.retain(|r| r.simd == Simd::Avx2);
        assert!((m.chained(Simd::Avx512).at(1) - 8e6).abs() < 1.0);
        assert!((m.chained(Simd::Avx512).at(16) - 100e6).abs() < 1.0);
        // Reports from before the chained rates: the independent ones stand in.
        m.chained_rates.clear();
        assert_eq!(m.chained(Simd::Avx2), m.rates(Simd::Avx2).0);
    }

    #[test]
    fn lanes_bound_parallelism() {
        let m = model(1.0, 0.0);
        let big = Machine {
            cores: 64,
            simd: Simd::Avx512,
        };
        let one = m.predict(
            big,
            Config {
                lanes: 1,
                chained: true,
                threads: 64,
            },
        );
        let four = m.predict(
            big,
            Config {
                lanes: 4,
                chained: true,
                threads: 64,
            },
        );
        let unbounded = m.predict(
            big,
            Config {
                lanes: 1,
                chained: false,
                threads: 64,
            },
        );
        assert!((four / one - 4.0).abs() < 1e-9, "one worker per lane");
        assert!(unbounded > 30.0 * four);
        let single = Machine {
            cores: 1,
            simd: Simd::Avx512,
        };
        let l4 = m.predict(
            single,
            Config {
                lanes: 4,
                chained: true,
                threads: 1,
            },
        );
        assert!(
            (l4 - 1.0 / (1.0 / 35e6 + 1.0 / 90e6)).abs() < 1.0,
            "4-wide leaves, 16-wide nodes"
        );
    }

    #[test]
    fn missing_backend_is_extrapolated_by_nominal_degree_and_flagged() {
        // An AVX2-only machine: AVX-512 is AVX2 at the widths AVX2 measured, and twice its
        // 8-wide rate at 16 inputs per call (the bug this replaces made it an eighth).
        let mut m = model(1.0, 0.0);
        m.rates.pop();
        let (r, source) = m.rates(Simd::Avx512);
        assert_eq!(source, Source::Extrapolated);
        assert!((r.at(16) - 120e6).abs() < 1.0);
        assert!((r.at(8) - 60e6).abs() < 1.0 && (r.at(1) - 15e6).abs() < 1.0);
        assert_eq!(m.rates(Simd::Avx2).1, Source::Measured);
        // A portable-only machine: every wider backend grows from the one-input rate.
        let mut p = model(1.0, 0.0);
        p.rates = vec![Rates {
            simd: Simd::Portable,
            by_width: vec![Rate {
                width: 1,
                per_second: 5e6,
            }],
        }];
        assert!((p.rates(Simd::Sse41).0.at(4) - 20e6).abs() < 1.0);
        assert!((p.rates(Simd::Avx512).0.at(16) - 80e6).abs() < 1.0);
        // A narrower backend a report lacks is the narrowest wider one, cut.
        let mut q = model(1.0, 0.0);
        q.rates.remove(0);
        let (sse, source) = q.rates(Simd::Sse41);
        assert_eq!(source, Source::Extrapolated);
        assert_eq!(sse.degree(), 4);
        // keccak's degrees are its own: avx512 is 8 states, twice avx2's 4.
        let mut k = model(1.0, 0.0);
        k.hash = HashId::Keccak;
        k.rates = vec![Rates {
            simd: Simd::Avx2,
            by_width: vec![
                Rate {
                    width: 1,
                    per_second: 2e6,
                },
                Rate {
                    width: 4,
                    per_second: 7e6,
                },
            ],
        }];
        assert_eq!(k.rates(Simd::Avx512).0.degree(), 8);
        assert!((k.rates(Simd::Avx512).0.at(8) - 14e6).abs() < 1.0);
    }

    /// Synthetic machine classes: an AVX-512 machine (every table), an AVX2-only one and a
    /// portable-only one, each with costs, a producer and a memory bound in turn.
    fn classes() -> Vec<(String, Model)> {
        let mut out = Vec::new();
        for (name, keep) in [
            (
                "avx512",
                vec![Simd::Portable, Simd::Sse41, Simd::Avx2, Simd::Avx512],
            ),
            ("avx2-only", vec![Simd::Portable, Simd::Sse41, Simd::Avx2]),
            ("portable-only", vec![Simd::Portable]),
        ] {
            let mut base = model(0.9, 0.0);
            base.rates = vec![
                Rates {
                    simd: Simd::Portable,
                    by_width: vec![Rate {
                        width: 1,
                        per_second: 6e6,
                    }],
                },
                Rates {
                    simd: Simd::Sse41,
                    by_width: vec![
                        Rate {
                            width: 1,
                            per_second: 7e6,
                        },
                        Rate {
                            width: 4,
                            per_second: 22e6,
                        },
                    ],
                },
            ];
            base.rates.extend(model(1.0, 0.0).rates);
            base.rates.retain(|r| keep.contains(&r.simd));
            base.chained_rates = chained_rates();
            base.chained_rates.retain(|r| keep.contains(&r.simd));
            for (costs, producer, mem) in [
                ((0.0, 0.0, 1.0), 0.0, 0.0),
                ((8e-9, 30e-9, 0.85), 0.0, 0.0),
                ((8e-9, 30e-9, 0.6), 1.0 / 300e6, 0.0),
                ((2e-9, 10e-9, 0.95), 0.0, 2e8),
            ] {
                let mut m = base.clone();
                (m.fixed_secs, m.row_secs, m.par) = costs;
                m.producer_secs = producer;
                m.producer_factor = 2.5;
                m.mem_chunks_per_core = mem;
                out.push((format!("{name} {costs:?} {producer} {mem}"), m));
            }
        }
        out
    }

    #[test]
    fn more_cores_or_wider_simd_never_model_slower_on_any_machine_class() {
        let (reference, big) = (REFERENCE, BIG);
        for (name, m) in classes() {
            let v = sanity_violations(&m, reference, &big);
            assert!(v.is_empty(), "{name}: {v:#?}");
            // And the tuning's gains are never below 1.
            let t = tune(&m, reference, &big, 0.9, 2);
            for row in &t.rows {
                for (c, g) in &row.big_gains {
                    assert!(*g >= 1.0 - 1e-12, "{name}: L={} {c}-core {g}", row.lanes);
                }
            }
            assert!(t.unbounded_gains.iter().all(|(_, g)| *g >= 1.0 - 1e-12));
            assert!(t.extrapolated_cores());
        }
    }

    #[test]
    fn the_checker_catches_a_model_that_slows_down_with_cores() {
        // The checker must see a broken model: with no efficiency at all every rate is 0.
        let mut m = model(1.0, 0.0);
        m.eff = 0.0;
        let reference = Machine {
            cores: 4,
            simd: Simd::Avx2,
        };
        assert!(!sanity_violations(&m, reference, &[]).is_empty());
    }

    #[test]
    fn tune_recommends_smallest_sufficient_lane_count() {
        let m = model(1.0, 1e-9);
        let t = tune(
            &m,
            Machine {
                cores: 4,
                simd: Simd::Avx2,
            },
            &[Machine {
                cores: 32,
                simd: Simd::Avx512,
            }],
            0.9,
            4,
        );
        let rec = t.recommended.expect("some lane count suffices");
        let row = t.rows.iter().find(|r| r.lanes == rec).expect("row");
        assert!(row.reference_keeps >= 0.9);
        assert!(t
            .rows
            .iter()
            .filter(|r| r.lanes < rec)
            .all(|r| r.reference_keeps < 0.9));
        assert!(t.unbounded_gains[0].1 > row.big_gains[0].1);
    }
}
