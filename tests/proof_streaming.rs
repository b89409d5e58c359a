//! The streaming, batched, threaded, SIMD prover against the naive reference implementation.

use poie::proof::{
    reference, unique_secret, HashId, Hasher, Layout, Params, Prover, ProverConfig, Simd,
};
use poie::trace::{Chunk, TraceSink};

fn chunks(n: usize, seed: u8) -> Vec<Chunk> {
    (0..n as u64)
        .map(|i| {
            let mut c = [0u8; 32];
            c.copy_from_slice(
                &blake3::hash(&[&i.to_le_bytes()[..], &[seed]].concat()).as_bytes()[..],
            );
            c
        })
        .collect()
}

fn prove(
    params: Params,
    secret: [u8; 32],
    cfg: ProverConfig,
    trace: &[Chunk],
    feed: usize,
) -> [u8; 32] {
    let h = Hasher::new(params.hash, secret, cfg.simd).expect("backend");
    let mut p = Prover::new(params, h, cfg);
    for part in trace.chunks(feed.max(1)) {
        p.consume(part).expect("consume");
    }
    let proof = p.into_proof().expect("finish");
    assert_eq!(proof.n, trace.len() as u64);
    proof.root
}

/// Deterministic pseudo-random choices without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.next() as usize % xs.len()]
    }
}

#[test]
fn streaming_equals_reference_across_layouts_and_configs() {
    let secret = unique_secret(HashId::Blake3, &[1; 32], &[2; 20]);
    let mut rng = Rng(42);
    let trace = chunks(5000, 0);
    let sizes = [
        0usize, 1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 4095, 4096,
        5000,
    ];
    let simds = Simd::available();
    let mut cases = 0;
    for &lanes in &[1u32, 2, 3, 4, 7, 8, 16, 64] {
        for chained in [true, false] {
            for hash in HashId::ALL {
                let params = Params {
                    hash,
                    layout: Layout::new(lanes, chained).expect("lanes"),
                };
                for _ in 0..4 {
                    let n = if rng.next().is_multiple_of(2) {
                        rng.pick(&sizes)
                    } else {
                        rng.next() as usize % 5001
                    };
                    let t = &trace[..n];
                    let expect = reference::root(&params, &secret, t);
                    let cfg = ProverConfig {
                        threads: rng.pick(&[0, 1, 2, 3, 4]),
                        simd: rng.pick(&simds),
                        batch: rng.pick(&[1, 7, 64, 256, 1000, 8192]),
                        pin: rng.next().is_multiple_of(4),
                    };
                    let feed = rng.pick(&[1, 5, 100, 1024, 5000]);
                    assert_eq!(
                        prove(params, secret, cfg, t, feed),
                        expect,
                        "{params:?} n={n} {cfg:?} feed={feed}"
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 8 * 2 * 2 * 4);
}

#[test]
fn root_is_identical_for_every_thread_count_backend_batch_and_pinning() {
    let secret = unique_secret(HashId::Blake3, &[3; 32], &[4; 20]);
    let trace = chunks(3000, 1);
    for (lanes, chained) in [(1, false), (4, true), (16, true), (5, false)] {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(lanes, chained).expect("lanes"),
        };
        let expect = reference::root(&params, &secret, &trace);
        for threads in 0..=4 {
            for simd in Simd::available() {
                for batch in [16, 512, 8192] {
                    for pin in [false, true] {
                        let cfg = ProverConfig {
                            threads,
                            simd,
                            batch,
                            pin,
                        };
                        assert_eq!(prove(params, secret, cfg, &trace, 1024), expect, "{cfg:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn layout_hash_and_secret_all_change_the_root() {
    let trace = chunks(100, 2);
    let s1 = unique_secret(HashId::Blake3, &[1; 32], &[2; 20]);
    let p = |lanes, chained, hash| Params {
        hash,
        layout: Layout { lanes, chained },
    };
    let roots = [
        reference::root(&p(4, true, HashId::Blake3), &s1, &trace),
        reference::root(&p(4, false, HashId::Blake3), &s1, &trace),
        reference::root(&p(5, true, HashId::Blake3), &s1, &trace),
        reference::root(&p(4, true, HashId::Keccak), &s1, &trace),
        reference::root(
            &p(4, true, HashId::Blake3),
            &unique_secret(HashId::Blake3, &[9; 32], &[2; 20]),
            &trace,
        ),
        reference::root(&p(4, true, HashId::Blake3), &s1, &trace[..99]),
    ];
    for i in 0..roots.len() {
        for j in i + 1..roots.len() {
            assert_ne!(roots[i], roots[j], "{i} vs {j}");
        }
    }
}

#[test]
fn different_salt_or_address_changes_every_leaf() {
    let trace = chunks(200, 3);
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 4,
            chained: true,
        },
    };
    let base = reference::leaves(
        &params,
        &unique_secret(HashId::Blake3, &[1; 32], &[2; 20]),
        &trace,
    );
    for other in [
        unique_secret(HashId::Blake3, &[5; 32], &[2; 20]),
        unique_secret(HashId::Blake3, &[1; 32], &[6; 20]),
    ] {
        let leaves = reference::leaves(&params, &other, &trace);
        assert!(base.iter().zip(&leaves).all(|(a, b)| a != b));
    }
}
