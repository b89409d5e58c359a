//! The streaming, batched, threaded, SIMD prover against the naive reference implementation.

use poie::proof::{
    prove_chunks, prove_indexed, reference, unique_secret, HashId, Hasher, Layout, Params, Prover,
    ProverConfig, Simd,
};
use poie::proof::{Address, Salt};
use poie::source::Source;
use poie::trace::{Chunk, TraceSink, VecSink};
use poie::vm::Vm;

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
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([1; 32]),
        &Address::from([2; 20]),
    );
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
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([3; 32]),
        &Address::from([4; 20]),
    );
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
    let s1 = unique_secret(
        HashId::Blake3,
        &Salt::from([1; 32]),
        &Address::from([2; 20]),
    );
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
            &unique_secret(
                HashId::Blake3,
                &Salt::from([9; 32]),
                &Address::from([2; 20]),
            ),
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
        &unique_secret(
            HashId::Blake3,
            &Salt::from([1; 32]),
            &Address::from([2; 20]),
        ),
        &trace,
    );
    for other in [
        unique_secret(
            HashId::Blake3,
            &Salt::from([5; 32]),
            &Address::from([2; 20]),
        ),
        unique_secret(
            HashId::Blake3,
            &Salt::from([1; 32]),
            &Address::from([6; 20]),
        ),
    ] {
        let leaves = reference::leaves(&params, &other, &trace);
        assert!(base.iter().zip(&leaves).all(|(a, b)| a != b));
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The same trace through the streaming prover and the indexed one (workers fill the blocks).
fn both_ways(
    params: Params,
    secret: [u8; 32],
    cfg: ProverConfig,
    trace: &[Chunk],
) -> [[u8; 32]; 2] {
    let h = Hasher::new(params.hash, secret, cfg.simd).expect("backend");
    let indexed = prove_chunks(params, h, cfg, trace).expect("indexed proof");
    assert_eq!(indexed.n, trace.len() as u64);
    [prove(params, secret, cfg, trace, 777), indexed.root]
}

#[test]
fn every_thread_count_to_twice_the_cores_backend_batch_and_pinning_gives_the_reference_root() {
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([5; 32]),
        &Address::from([6; 20]),
    );
    let trace = chunks(2600, 4);
    let max_threads = (2 * cores()).max(4);
    for (lanes, chained) in [
        (1, false),
        (16, true),
        (64, true),
        (3, true),
        (5, false),
        (33, true),
    ] {
        for hash in HashId::ALL {
            let params = Params {
                hash,
                layout: Layout::new(lanes, chained).expect("lanes"),
            };
            let expect = reference::root(&params, &secret, &trace);
            let simds = if hash == HashId::Blake3 {
                Simd::available()
            } else {
                vec![Simd::Portable]
            };
            for threads in 0..=max_threads {
                for &simd in &simds {
                    for (batch, pin) in [(1, false), (64, true), (512, false), (8192, true)] {
                        let cfg = ProverConfig {
                            threads,
                            simd,
                            batch,
                            pin,
                        };
                        assert_eq!(
                            both_ways(params, secret, cfg, &trace),
                            [expect; 2],
                            "{params:?} {cfg:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn splittable_sources_prove_in_parallel_to_the_streamed_root() {
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([8; 32]),
        &Address::from([9; 20]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    for (lanes, chained) in [(1, false), (16, true), (7, true)] {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(lanes, chained).expect("lanes"),
        };
        for n in [0u64, 1, 100, 8192, 20_000] {
            let synthetic = Source::Synthetic { n, seed: 11 };
            let mut all = VecSink::default();
            synthetic.feed(&mut all).expect("feeds");
            let expect = reference::root(&params, &secret, &all.0);
            let path = dir.path().join(format!("t{n}.trace"));
            std::fs::write(&path, all.0.as_flattened()).expect("write trace");
            for threads in [0, 1, 3] {
                let cfg = ProverConfig {
                    threads,
                    batch: 1024,
                    ..ProverConfig::default()
                };
                for src in [synthetic.clone(), Source::File(path.clone())] {
                    let h = Hasher::new(params.hash, secret, cfg.simd).expect("backend");
                    let counted = std::sync::atomic::AtomicU64::new(0);
                    let progress = |k| {
                        counted.fetch_add(k, std::sync::atomic::Ordering::Relaxed);
                    };
                    let (proof, fed) = src.prove(params, h, cfg, &progress).expect("proof");
                    assert_eq!((proof.root, fed.chunks), (expect, n), "{src:?} {cfg:?}");
                    assert_eq!(counted.into_inner(), n, "progress hears every chunk");
                }
            }
        }
    }
}

#[test]
fn the_vm_writes_into_lent_blocks_for_any_batch_and_block_size() {
    let g = poie::guests::find("sort").expect("sort guest");
    let mut all = VecSink::default();
    let mut vm = Vm::new(g.elf, b"3000 5".to_vec()).expect("loads");
    vm.run(&mut all, u64::MAX).expect("runs");
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([1; 32]),
        &Address::from([1; 20]),
    );
    for (lanes, chained) in [(1, false), (16, true), (5, true)] {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(lanes, chained).expect("lanes"),
        };
        let expect = reference::root(&params, &secret, &all.0);
        for (vm_batch, batch, threads) in
            [(1, 64, 2), (777, 8192, 1), (256, 100, 0), (5000, 512, 3)]
        {
            let cfg = ProverConfig {
                threads,
                batch,
                ..ProverConfig::default()
            };
            let h = Hasher::new(params.hash, secret, cfg.simd).expect("backend");
            let mut p = Prover::new(params, h, cfg);
            let mut vm = Vm::new(g.elf, b"3000 5".to_vec()).expect("loads");
            let r = vm.run_batched(&mut p, u64::MAX, vm_batch).expect("runs");
            assert_eq!(r.steps, all.0.len() as u64);
            assert_eq!(
                p.into_proof().expect("proof").root,
                expect,
                "{cfg:?} vm batch {vm_batch}"
            );
        }
    }
}

#[test]
fn a_failing_source_stops_every_worker_with_its_error() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout::new(16, true).expect("lanes"),
    };
    for threads in [0, 1, 4] {
        let cfg = ProverConfig {
            threads,
            batch: 256,
            ..ProverConfig::default()
        };
        let h = Hasher::new(params.hash, [1; 32], cfg.simd).expect("backend");
        let fill = |first: u64, out: &mut [Chunk]| {
            if first >= 256 * 40 {
                return Err(std::io::Error::other(format!("disk gone at chunk {first}")));
            }
            out.fill([3; 32]);
            Ok(())
        };
        let err = prove_indexed(params, h, cfg, 256 * 1000, &fill).expect_err("fails");
        assert!(err.to_string().contains("disk gone"), "{err}");
    }
}

#[test]
fn the_vms_progress_hears_every_chunk_in_few_reports() {
    let g = poie::guests::find("sort").expect("sort guest");
    let src = Source::Vm {
        elf: g.elf.to_vec(),
        input: b"20000 3".to_vec(),
        max_steps: u64::MAX,
    };
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout::new(16, true).expect("lanes"),
    };
    let h = Hasher::new(params.hash, [2; 32], Simd::Portable).expect("backend");
    let reports = std::sync::Mutex::new(Vec::new());
    let progress = |k| reports.lock().expect("lock").push(k);
    let (proof, fed) = src
        .prove(params, h, ProverConfig::default(), &progress)
        .expect("proof");
    let reports = reports.into_inner().expect("lock");
    assert_eq!(reports.iter().sum::<u64>(), fed.chunks);
    assert_eq!(proof.n, fed.chunks);
    // The VM hands over 256 steps at a time; the display hears of them in large sums.
    assert!(fed.chunks > 4 << 16, "{} steps", fed.chunks);
    let (last, rest) = reports.split_last().expect("reports");
    assert!(
        *last > 0 && rest.iter().all(|&k| k >= 1 << 16),
        "{reports:?}"
    );
    assert!(reports.len() as u64 <= fed.chunks / (1 << 16) + 1);
}
