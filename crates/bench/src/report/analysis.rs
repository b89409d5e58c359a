//! The models a report's points are fitted to, and what they say about machines that were not
//! measured: the modelled machines and the lane tuning.

use super::{ModelSummary, Point, Prediction, Primitives, SourceKind, KEEP};
use crate::model::{self, Config, Machine, Model, Rate, Rates, Tuning};
use poie_proof::{HashId, Simd};

/// The core counts of the modelled machines, each with this machine's best backend.
pub const MODELLED_CORES: [usize; 4] = [4, 8, 32, 64];

/// The layouts of the modelled machines table.
pub const MODELLED_LAYOUTS: [(u32, bool); 4] = [(1, false), (4, true), (16, true), (64, true)];

pub use crate::model::{BIG, REFERENCE};

/// The unfitted model (efficiency 1, no fixed cost) of `hash` from the primitives.
pub fn model_for(p: &Primitives, hash: HashId) -> Model {
    // sse41 runs keccak's portable kernel: the same rates under its name.
    let with_sse41 = |tables: &[Rates]| {
        let mut rates = tables.to_vec();
        if let Some(portable) = rates.iter().find(|r| r.simd == Simd::Portable) {
            rates.push(Rates {
                simd: Simd::Sse41,
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
                simd: Simd::Portable,
                by_width: vec![Rate {
                    width: 1,
                    per_second: p.keccak,
                }],
            }],
            vec![],
            true,
        ),
    };
    let (mut rates, mut chained_rates, drift) = to_the_sweep(p, hash, rates, chained_rates);
    if hash == HashId::Keccak && !scalar {
        (rates, chained_rates) = (with_sse41(&rates), with_sse41(&chained_rates));
    }
    Model {
        hash,
        rates,
        chained_rates,
        scalar,
        producer_secs: 0.0,
        producer_factor: 1.0,
        gen_secs: 1.0 / (p.producer * drift).max(1.0),
        mem_chunks_per_core: p.memcpy_per_core() / 64.0,
        eff: 1.0,
        fixed_secs: 0.0,
        row_secs: 0.0,
        par: 1.0,
    }
}

/// How far each backend drifted between the primitives phase and the sweep: the median of
/// the ceiling's samples in the rounds over its rate in the phase (the same shape, minutes
/// apart). Reports from before the ceilings had two shapes: the rounds' many-input rate over
/// the by-width table's own full-width rate.
fn drift_factors(p: &Primitives, hash: HashId, rates: &[Rates]) -> Vec<(Simd, f64)> {
    let ceilings = p.ceilings(hash);
    if !ceilings.is_empty() {
        return ceilings
            .iter()
            .filter(|c| c.phase > 0.0 && c.rounds_median > 0.0)
            .map(|c| (c.simd, c.rounds_median / c.phase))
            .collect();
    }
    let in_rounds = match hash {
        HashId::Blake3 => &p.blake3_in_rounds,
        HashId::Keccak => &p.keccak_in_rounds,
    };
    rates
        .iter()
        .filter(|r| !r.by_width.is_empty())
        .filter_map(|r| {
            let (_, v) = in_rounds.iter().find(|(s, _)| *s == r.simd)?;
            Some((r.simd, v / r.at(r.degree())))
        })
        .collect()
}

/// The by-width tables brought to the sweep's minutes: each backend's tables scaled by its
/// drift ([`drift_factors`]). The tables are measured minutes before the sweep, and a shared
/// host drifts by a third over minutes, not evenly over its backends (one report's avx512
/// table came out 30% below its rounds, its portable one 5% above), which the fit would read
/// as a fixed cost. Also returns the median factor, for the primitives that were not sampled
/// in the rounds. Reports whose rounds sampled nothing are left as they are (factor 1).
fn to_the_sweep(
    p: &Primitives,
    hash: HashId,
    mut rates: Vec<Rates>,
    mut chained: Vec<Rates>,
) -> (Vec<Rates>, Vec<Rates>, f64) {
    let mut factors = Vec::new();
    for (simd, f) in drift_factors(p, hash, &rates) {
        if !(f.is_finite() && f > 0.0) {
            continue;
        }
        factors.push(f);
        let scale = |t: &mut Rates| t.by_width.iter_mut().for_each(|w| w.per_second *= f);
        rates.iter_mut().filter(|r| r.simd == simd).for_each(scale);
        chained
            .iter_mut()
            .filter(|c| c.simd == simd)
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
    let mut models = Vec::new();
    for hash in HashId::ALL {
        let fit_points = observations(points, cores, &|p| {
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
    for ms in &mut models {
        let vm_points = observations(points, cores, &|p| {
            p.hash == ms.hash && p.source == SourceKind::Vm && p.threads > 1 && !p.oversubscribed
        });
        ms.model.producer_factor = as_producer(&ms.model, prims)
            .fit_producer(&vm_points)
            .producer_factor;
    }
    for p in points.iter_mut() {
        if let Some(ms) = models.iter().find(|m| m.hash == p.hash) {
            p.predicted = point_model(&ms.model, prims, p.source).predict(
                Machine {
                    cores,
                    simd: p.simd,
                },
                p.config(),
            );
        }
    }
    for ms in &mut models {
        let errors = errors(points, ms.hash);
        ms.median_error = errors.get(errors.len() / 2).copied().unwrap_or(0.0);
        ms.max_error = errors.last().copied().unwrap_or(0.0);
    }
    models
}

/// The points that pass `keep`, as a model's observations on a machine of `cores`.
pub fn observations(
    points: &[Point],
    cores: usize,
    keep: &dyn Fn(&Point) -> bool,
) -> Vec<(Machine, Config, f64)> {
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
        .collect()
}

/// The model as it applies to a point of `source`: the VM is a sequential producer at its
/// traced rate, generating nothing on the workers.
pub fn point_model(model: &Model, prims: &Primitives, source: SourceKind) -> Model {
    match source {
        SourceKind::Synthetic => model.clone(),
        SourceKind::Vm => as_producer(model, prims),
    }
}

fn as_producer(m: &Model, prims: &Primitives) -> Model {
    Model {
        producer_secs: 1.0 / prims.vm_traced.max(1.0),
        gen_secs: 0.0,
        ..m.clone()
    }
}

/// |predicted - measured| / measured of `hash`'s points (oversubscribed ones excepted), sorted.
fn errors(points: &[Point], hash: HashId) -> Vec<f64> {
    let mut e: Vec<f64> = points
        .iter()
        .filter(|p| p.hash == hash && !p.oversubscribed && p.median > 0.0)
        .map(|p| ((p.predicted - p.median) / p.median).abs())
        .collect();
    e.sort_by(f64::total_cmp);
    e
}

/// `fitted` (a model fitted on one machine's points, with `from` its primitives) carried to
/// another machine with primitives `to`: that machine's own rates, generator and memory
/// bandwidth, and the costs fitted on the first. `eff`, `par` and the producer's factor are
/// ratios and carry over as they are; the fixed and row costs are seconds of scalar work
/// (gathering inputs, claiming tasks), so they are scaled by the two machines' one-input
/// portable blake3 rate, a measure of scalar speed. This is `poie tune --primitives` and the
/// cross-machine check of `poie report`.
pub fn transfer(fitted: &Model, from: &Primitives, to: &Primitives) -> Model {
    let scalar = |p: &Primitives| {
        p.blake3_by_width
            .iter()
            .find(|r| r.simd == Simd::Portable)
            .map(|r| r.at(1))
            .filter(|r| r.is_finite() && *r > 0.0)
    };
    let speedup = match (scalar(from), scalar(to)) {
        (Some(a), Some(b)) => b / a,
        _ => 1.0,
    };
    let base = model_for(to, fitted.hash);
    Model {
        eff: fitted.eff,
        par: fitted.par,
        producer_factor: fitted.producer_factor,
        fixed_secs: fitted.fixed_secs / speedup,
        row_secs: fitted.row_secs / speedup,
        ..base
    }
}

/// The modelled machines: each hash's capability on [`MODELLED_CORES`] cores with this
/// machine's best backend, and on the tuning's reference and big machines, at
/// [`MODELLED_LAYOUTS`]. One function gives every modelled figure of a report, so the tables
/// cannot disagree.
pub fn predictions(models: &[ModelSummary], best: Simd) -> Vec<Prediction> {
    let mut machines: Vec<Machine> = MODELLED_CORES
        .iter()
        .map(|&cores| Machine { cores, simd: best })
        .collect();
    for m in std::iter::once(REFERENCE).chain(BIG) {
        if !machines.contains(&m) {
            machines.push(m);
        }
    }
    machines.sort_by_key(|m| (m.cores, m.simd.degree()));
    let mut out = Vec::new();
    for ms in models {
        for &machine in &machines {
            for (lanes, chained) in MODELLED_LAYOUTS {
                let c = ms.model.capability(machine, lanes, chained);
                out.push(Prediction {
                    hash: ms.hash,
                    machine,
                    lanes,
                    chained,
                    chunks_per_sec: c.rate,
                    threads: c.threads,
                    simd: Some(c.simd),
                    limit: Some(c.limit),
                    extrapolated_simd: c.extrapolated_simd,
                });
            }
        }
    }
    out
}

/// The lane tuning of the blake3 model: [`REFERENCE`] against [`BIG`].
pub fn tuning(models: &[ModelSummary], measured_cores: usize) -> Option<Tuning> {
    let ms = models.iter().find(|m| m.hash == HashId::Blake3)?;
    Some(model::tune(
        &ms.model,
        REFERENCE,
        &BIG,
        KEEP,
        measured_cores,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::sample_report;
    use super::*;

    #[test]
    fn model_rates_are_brought_to_the_sweep_by_the_ceilings_drift() {
        let mut p = sample_report().primitives;
        let at = |m: &Model, w| (m.rates(Simd::Avx2).0.at(w), m.chained(Simd::Avx2).at(w));
        // The fixture's rounds ran at the phase's rate: nothing moves.
        let same = model_for(&p, HashId::Blake3);
        assert_eq!(at(&same, 8), (60e6, 52e6));
        assert_eq!(at(&same, 1), (15e6, 9e6));
        // The sweep ran 1.5x faster than the phase: every width of both tables, and the
        // generator (not sampled in the rounds), go up with it.
        p.blake3_ceilings[1].rounds_median = 1.5 * p.blake3_ceilings[1].phase;
        let fast = model_for(&p, HashId::Blake3);
        let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-12;
        let (r8, c8) = at(&fast, 8);
        let (r1, c1) = at(&fast, 1);
        assert!(close(r8, 90e6) && close(c8, 78e6) && close(r1, 22.5e6) && close(c1, 13.5e6));
        assert!(close(fast.gen_secs, same.gen_secs / 1.5));
        // No round sampled anything: the tables' rates.
        p.blake3_ceilings[1].rounds_median = 0.0;
        assert_eq!(model_for(&p, HashId::Blake3), same);
        // Reports from before the ceilings: the rounds' many-input rate over the table's
        // full width, as then.
        p.blake3_ceilings.clear();
        p.blake3_in_rounds = vec![(Simd::Avx2, 90e6)];
        let old = model_for(&p, HashId::Blake3);
        assert!(close(at(&old, 8).0, 90e6));
        p.blake3_in_rounds.clear();
        assert_eq!(model_for(&p, HashId::Blake3), same);
    }

    #[test]
    fn every_modelled_figure_comes_from_one_capability() {
        let r = sample_report();
        let ms = &r.models[0];
        for p in &r.predictions {
            let c = ms.model.capability(p.machine, p.lanes, p.chained);
            assert_eq!(p.chunks_per_sec, c.rate);
            assert!(p.threads >= 1 && p.threads <= p.machine.cores);
        }
        // The tuning's figures are ratios of the same capabilities.
        let t = r.tuning.as_ref().expect("tuning");
        let find = |m: Machine, lanes, chained| {
            r.predictions
                .iter()
                .find(|p| p.machine == m && p.lanes == lanes && p.chained == chained)
                .map(|p| p.chunks_per_sec)
                .expect("prediction")
        };
        for row in t.rows.iter().filter(|x| [4, 16, 64].contains(&x.lanes)) {
            let reference = find(REFERENCE, row.lanes, true);
            assert!((row.reference_keeps - reference / find(REFERENCE, 1, false)).abs() < 1e-12);
            for (b, (_, g)) in BIG.iter().zip(&row.big_gains) {
                assert!((g - find(*b, row.lanes, true) / reference).abs() < 1e-12);
            }
        }
    }
}
