//! A small synthetic report for the tests.

use super::*;
use crate::fingerprint::{Fingerprint, LoadAvg};
use crate::model::Rate;

/// Sets a point's samples to `rates` (M chunks/s), one per round from round 0, and its
/// median, minimum and maximum from them.
pub(crate) fn with_rates(p: &mut Point, rates: &[f64]) {
    p.chunks_per_sample = 1_000_000;
    p.samples_secs = rates.iter().map(|x| 1.0 / x).collect();
    p.rounds = (0..rates.len() as u32).collect();
    let mut sorted: Vec<f64> = p.rates();
    sorted.sort_by(f64::total_cmp);
    p.median = stats::median(&sorted);
    p.min = sorted.first().copied().unwrap_or(0.0);
    p.max = sorted.last().copied().unwrap_or(0.0);
}

/// The synthetic point of the fixture's main backend (avx2) at a layout and thread count.
pub(crate) fn point_mut(r: &mut Report, lanes: u32, chained: bool, threads: usize) -> &mut Point {
    r.points
        .iter_mut()
        .find(|p| {
            p.simd == Simd::Avx2 && p.lanes == lanes && p.chained == chained && p.threads == threads
        })
        .expect("point")
}

/// A small synthetic report on a 4-core AVX2 machine: blake3 avx2 at 1, 2, 4 and 8
/// (oversubscribed) threads for unchained, L=1, 4 and 16 chained, plus sse41 at one thread,
/// each point eight samples within ±2% of its median. One lane on one core runs at 10 M
/// chunks/s. Analysed, as a loaded report is.
pub(crate) fn sample_report() -> Report {
    let fingerprint = Fingerprint {
        machine_id: "0123456789ab".into(),
        cpu_model: "Test CPU".into(),
        logical_cores: 4,
        physical_cores: 4,
        simd_features: vec!["avx2".into()],
        blake3_backends: vec![Simd::Portable, Simd::Sse41, Simd::Avx2],
        blake3_detected: Simd::Avx2,
        simd_cap: None,
        caches: vec![],
        memory_bytes: 1 << 33,
        os: "test".into(),
        kernel: "test".into(),
        rustc: "test".into(),
        poie_version: "0".into(),
        git_commit: "0".into(),
    };
    let point = |simd, lanes, chained, threads: usize, mcps: f64| {
        let mut p = Point {
            hash: HashId::Blake3,
            simd,
            lanes,
            chained,
            threads,
            oversubscribed: threads > 4,
            source: SourceKind::Synthetic,
            pinned: false,
            chunks_per_sample: 0,
            samples_secs: vec![],
            rounds: vec![],
            median: 0.0,
            min: 0.0,
            max: 0.0,
            ceiling: 0.0,
            predicted: 0.0,
            load: Some(0.25),
            steal: Some(0.0),
        };
        // The median and its neighbours exactly, spread symmetrically by up to 2%.
        let rates: Vec<f64> = [1.0, 0.98, 1.02, 0.99, 1.01, 1.0, 0.995, 1.005]
            .iter()
            .map(|f| mcps * f)
            .collect();
        with_rates(&mut p, &rates);
        p
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
    let ceiling = |simd, best: f64| Ceiling {
        simd,
        best,
        shape: CeilingShape::Cached,
        streamed: best * 0.95,
        phase: best,
        rounds_median: best,
    };
    let primitives = Primitives {
        blake3: vec![(Simd::Sse41, 28.5e6), (Simd::Avx2, 57e6)],
        blake3_by_width: vec![
            rates(Simd::Portable, &[(1, 6e6)]),
            rates(Simd::Sse41, &[(1, 12e6), (2, 18e6), (4, 30e6)]),
            rates(Simd::Avx2, &[(1, 15e6), (2, 24e6), (4, 34e6), (8, 60e6)]),
        ],
        producer: 300e6,
        keccak: 2e6,
        keccak_by_simd: vec![],
        keccak_by_width: vec![],
        blake3_chained_by_width: vec![
            rates(Simd::Portable, &[(1, 5.5e6)]),
            rates(Simd::Sse41, &[(1, 8e6), (2, 14e6), (4, 26e6)]),
            rates(Simd::Avx2, &[(1, 9e6), (2, 16e6), (4, 28e6), (8, 52e6)]),
        ],
        keccak_chained_by_width: vec![],
        blake3_in_rounds: vec![],
        keccak_in_rounds: vec![],
        blake3_ceilings: vec![ceiling(Simd::Sse41, 30e6), ceiling(Simd::Avx2, 60e6)],
        keccak_ceilings: vec![],
        vm_untraced: 250e6,
        vm_traced: 220e6,
        memcpy: 20e9,
        memcpy_all: 40e9,
        memcpy_threads: 4,
    };
    let mut r = Report {
        schema_version: SCHEMA_VERSION,
        created_utc: "2026-11-27T06:00:00Z".into(),
        mode: Mode::Default,
        fingerprint,
        primitives,
        fairness: vec![],
        points,
        models: vec![],
        predictions: vec![],
        self_pooling: vec![],
        tuning: None,
        load_before: Some(LoadAvg {
            one: 0.3,
            five: 0.2,
            fifteen: 0.1,
            runnable: 1,
        }),
        load_after: None,
        gpu: None,
        sampling: None,
    };
    r.analyse();
    r
}
