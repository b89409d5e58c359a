//! Tests of the performance model: fits, invariants, extrapolation and transfer.

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
