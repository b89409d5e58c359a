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
mod tests;
