//! A performance model of the Merkleisation, built from a machine's primitives, that says
//! what limits each configuration.
//!
//! Per chunk, a worker spends one leaf compression at the width its lanes allow, one node
//! compression at full width and, for a splittable source, the generation of the chunk:
//!
//! `t = (1 / rate(leaf_width) + 1 / rate(full_width) + t_gen) / eff` seconds,
//!
//! where `rate(k)` is one core's compressions per second when the backend is handed `k` inputs
//! at a time (measured for k = 1, 2, 4, 8, 16 up to the backend's degree; keccak is scalar).
//! Chained lanes go in groups of `G` lanes (the prover's `chain_width`: the SIMD degree, or
//! narrower when there are fewer than one chain per two workers), each group a chain that one
//! worker at a time advances. The throughput is the smallest of:
//! - **work**: `P * par / t` with `P = min(threads, cores)` workers; `par` (1 for one worker)
//!   is what running beside other workers costs each of them: caches, data moving between
//!   cores, the scheduler;
//! - **chains** (chained only): `min(P, ceil(L / G)) * rate(G) * eff`, the chains' per-input
//!   latency: at L = 1 one input per call, whatever the machine;
//! - **sequential producer** (the VM): its own rate `1 / t_p`, and its share of the cores,
//!   `cores * par / (t + t_p)`;
//! - **memory bandwidth**: `memcpy bandwidth / 64` chunks/s (each chunk's 32 bytes and its
//!   32-byte leaf cross the memory system once).
//!
//! Two fitted factors absorb everything else: `eff` from the one-worker points, `par` from the
//! others. The report gives the median and worst error of the fit.

use crate::proof::pipeline::chain_width;
use crate::proof::Simd;
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

    /// The same rates scaled by `factor` (an extrapolated backend).
    fn scaled(&self, simd: Simd, factor: f64) -> Rates {
        Rates {
            simd,
            by_width: self
                .by_width
                .iter()
                .map(|r| Rate {
                    width: r.width,
                    per_second: r.per_second * factor,
                })
                .collect(),
        }
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
    /// Measured backends (keccak: one scalar entry, used for every SIMD setting).
    pub rates: Vec<Rates>,
    /// Whether the hash is scalar (SIMD does not apply).
    pub scalar: bool,
    /// A sequential producer's cost in seconds per chunk (the VM); 0 for splittable sources.
    pub producer_secs: f64,
    /// Generating a chunk on the workers (splittable sources), seconds per chunk.
    #[serde(default)]
    pub gen_secs: f64,
    /// Memory bandwidth as chunks per second; 0 for no bound.
    #[serde(default)]
    pub mem_chunks: f64,
    pub eff: f64,
    /// Each worker's efficiency beside others, relative to alone.
    #[serde(default = "one")]
    pub par: f64,
}

fn one() -> f64 {
    1.0
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

impl Model {
    /// Rates for a backend; one this machine lacks is extrapolated from the widest measured
    /// one in proportion to SIMD degree. The flag says whether it was extrapolated.
    pub fn rates(&self, simd: Simd) -> (Rates, bool) {
        if self.scalar {
            return (self.rates[0].clone(), false);
        }
        if let Some(r) = self.rates.iter().find(|r| r.simd == simd) {
            return (r.clone(), false);
        }
        let widest = self
            .rates
            .iter()
            .max_by_key(|r| r.degree())
            .cloned()
            .unwrap_or(Rates {
                simd,
                by_width: vec![],
            });
        let factor = simd.degree() as f64 / widest.degree() as f64;
        let mut r = widest.scaled(simd, factor);
        r.by_width.push(Rate {
            width: simd.degree(),
            per_second: widest.at(widest.degree()) * factor,
        });
        (r, true)
    }

    /// Predicted chunks per second.
    pub fn predict(&self, m: Machine, c: Config) -> f64 {
        self.explain(m, c).0
    }

    /// Predicted chunks per second and the bound that decides it.
    pub fn explain(&self, m: Machine, c: Config) -> (f64, Limit) {
        let (rates, _) = self.rates(m.simd);
        let cores = m.cores.max(1) as f64;
        let full = rates.degree();
        let p = c.threads.min(m.cores).max(1) as f64;
        let par = if p > 1.0 { self.par } else { 1.0 };
        let leaf_width = if c.chained {
            chain_width(c.lanes as usize, p as usize, full)
        } else {
            full
        };
        let t = (1.0 / rates.at(leaf_width) + 1.0 / rates.at(full) + self.gen_secs) / self.eff;
        let mut best = (p * par / t, Limit::Work);
        let mut bound = |v: f64, why: Limit| {
            if v < best.0 {
                best = (v, why);
            }
        };
        if c.chained {
            let chains = (c.lanes as usize).div_ceil(leaf_width) as f64;
            bound(
                chains.min(p) * rates.at(leaf_width) * self.eff,
                Limit::Chains,
            );
        }
        if self.producer_secs > 0.0 {
            bound(1.0 / self.producer_secs, Limit::Producer);
            bound(cores * par / (t + self.producer_secs), Limit::Producer);
        }
        if self.mem_chunks > 0.0 {
            bound(self.mem_chunks, Limit::Memory);
        }
        best
    }

    /// Fits `eff` to the one-worker measurements `(machine, config, chunks/s)`, then `par` to
    /// the others, each by bisection on the mean log error (predictions grow with both).
    pub fn fit(mut self, measured: &[(Machine, Config, f64)]) -> Model {
        let data: Vec<_> = measured.iter().filter(|(_, _, v)| *v > 0.0).collect();
        let single = |(m, c, _): &&&(Machine, Config, f64)| c.threads.min(m.cores) <= 1;
        let (ones, many): (Vec<_>, Vec<_>) = data.iter().partition(single);
        let ones = if ones.is_empty() { &many } else { &ones };
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
        self.par = 1.0;
        bisect(&mut self, ones, false);
        bisect(&mut self, &many, true);
        self
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
    /// Whether a backend this machine lacks had to be extrapolated.
    pub extrapolated: bool,
}

pub fn tune(model: &Model, reference: Machine, big: &[Machine], keep: f64) -> Tuning {
    let full = |m: Machine, lanes, chained| {
        model.predict(
            m,
            Config {
                lanes,
                chained,
                threads: m.cores,
            },
        )
    };
    let ref_unbounded = full(reference, 1, false);
    let rows: Vec<TuneRow> = (0..=8)
        .map(|k| 1u32 << k)
        .map(|lanes| {
            let r = full(reference, lanes, true);
            TuneRow {
                lanes,
                reference_keeps: r / ref_unbounded,
                big_gains: big
                    .iter()
                    .map(|b| (b.cores, full(*b, lanes, true) / r))
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
        .map(|b| (b.cores, full(*b, 1, false) / ref_unbounded))
        .collect();
    let extrapolated = std::iter::once(reference)
        .chain(big.iter().copied())
        .any(|m| model.rates(m.simd).1);
    Tuning {
        reference,
        big: big.to_vec(),
        rows,
        recommended,
        keep,
        unbounded_gains,
        extrapolated,
    }
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
            scalar: false,
            producer_secs,
            gen_secs: 0.0,
            mem_chunks: 0.0,
            eff,
            par: 1.0,
        }
    }

    #[test]
    fn fit_recovers_the_efficiency_of_synthetic_measurements() {
        let truth = model(0.83, 2e-9);
        let m = Machine {
            cores: 8,
            simd: Simd::Avx512,
        };
        let measured: Vec<_> = [
            (1, false, 1),
            (16, true, 1),
            (4, true, 2),
            (64, true, 8),
            (1, false, 8),
        ]
        .into_iter()
        .map(|(lanes, chained, threads)| {
            let c = Config {
                lanes,
                chained,
                threads,
            };
            (m, c, truth.predict(m, c))
        })
        .collect();
        let fitted = model(0.3, 2e-9).fit(&measured);
        assert!((fitted.eff - 0.83).abs() < 1e-6, "{}", fitted.eff);
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
    fn missing_backend_is_extrapolated_and_flagged() {
        let mut m = model(1.0, 0.0);
        m.rates.pop();
        let (r, extrapolated) = m.rates(Simd::Avx512);
        assert!(extrapolated);
        assert!((r.at(16) - 120e6).abs() < 1.0);
        assert!(!m.rates(Simd::Avx2).1);
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
