//! The proof's micro view: raw leaf hashing per backend (the hash ceiling), the bare keccak
//! permutation per backend, block Merkleisation on one thread per layout (blake3, and keccak
//! per backend), and the threaded pipeline on a synthetic trace. Settings suit a 2-core machine.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use poie::bench::keccak_backends;
use poie::proof::keccak::KeccakMany;
use poie::proof::{prove_chunks, HashId, Hasher, Layout, Params, ProverConfig, Simd};
use poie::source::Source;
use poie::trace::synthetic::chunk as synthetic_chunk;
use poie::trace::Chunk;
use std::time::Duration;

fn hasher(hash: HashId, simd: Simd) -> Hasher {
    Hasher::new(hash, [7; 32], simd).expect("backend available")
}

/// Raw single-compression throughput: `hash_many` over 64-byte inputs. Offsets vary so no
/// backend gets a lucky alignment.
fn leaf(c: &mut Criterion) {
    let mut g = c.benchmark_group("leaf");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = 4096;
    let inputs: Vec<[u8; 64]> = (0..n + 1).map(|i| [(i % 251) as u8; 64]).collect();
    let mut out = vec![0u8; 32 * n];
    g.throughput(Throughput::Elements(n as u64));
    for simd in Simd::available() {
        let h = hasher(HashId::Blake3, simd);
        let mut off = 0;
        g.bench_function(BenchmarkId::new("blake3", simd), |b| {
            b.iter(|| {
                off ^= 1;
                h.leaves(&inputs[off..off + n], &mut out)
            })
        });
    }
    for simd in keccak_backends() {
        let h = hasher(HashId::Keccak, simd);
        let mut off = 0;
        g.bench_function(BenchmarkId::new("keccak", simd), |b| {
            b.iter(|| {
                off ^= 1;
                h.leaves(&inputs[off..off + n], &mut out)
            })
        });
    }
    g.finish();
}

/// The bare Keccak-f[1600] permutation per backend, 64 independent states per call (states
/// transposed into the SIMD registers and back on each call, as the kernels' own inputs are).
fn keccak_f(c: &mut Criterion) {
    let mut g = c.benchmark_group("keccak-f");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = 64;
    let mut states: Vec<[u64; 25]> = (0..n as u64).map(|i| [i; 25]).collect();
    g.throughput(Throughput::Elements(n as u64));
    for simd in keccak_backends() {
        let k = KeccakMany::new(simd).expect("backend available");
        g.bench_function(BenchmarkId::from_parameter(simd), |b| {
            b.iter(|| k.permute(&mut states))
        });
    }
    g.finish();
}

fn trace(n: usize) -> Vec<Chunk> {
    (0..n as u64).map(|i| synthetic_chunk(1, i)).collect()
}

/// The calling thread alone (`threads = 0`), trace already in memory: block copies, leaves,
/// nodes and folds for each layout.
fn merkle(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let t = trace(1 << 16);
    g.throughput(Throughput::Elements(t.len() as u64));
    let simd = Simd::detect();
    for (lanes, chained) in [
        (1u32, false),
        (16, false),
        (1, true),
        (4, true),
        (16, true),
        (64, true),
    ] {
        let h = hasher(HashId::Blake3, simd);
        let name = format!(
            "{}{lanes}",
            if chained { "chained-L" } else { "unchained-L" }
        );
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout { lanes, chained },
        };
        let cfg = ProverConfig {
            threads: 0,
            simd,
            ..ProverConfig::default()
        };
        g.bench_function(BenchmarkId::new(format!("blake3-{simd}"), name), |b| {
            b.iter(|| {
                prove_chunks(params, h.clone(), cfg, &t)
                    .expect("proof")
                    .root
            })
        });
    }
    g.finish();
}

/// keccak prove rates per backend on the calling thread alone, unchained and chained at
/// L = 1, 4, 8, 16 (4 fills AVX2, 8 fills AVX-512).
fn merkle_keccak(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle-keccak");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let t = trace(1 << 15);
    g.throughput(Throughput::Elements(t.len() as u64));
    for simd in keccak_backends() {
        for (lanes, chained) in [(1u32, false), (1, true), (4, true), (8, true), (16, true)] {
            let h = hasher(HashId::Keccak, simd);
            let name = format!(
                "{}{lanes}",
                if chained { "chained-L" } else { "unchained-L" }
            );
            let params = Params {
                hash: HashId::Keccak,
                layout: Layout { lanes, chained },
            };
            let cfg = ProverConfig {
                threads: 0,
                simd,
                ..ProverConfig::default()
            };
            g.bench_function(BenchmarkId::new(format!("keccak-{simd}"), name), |b| {
                b.iter(|| {
                    prove_chunks(params, h.clone(), cfg, &t)
                        .expect("proof")
                        .root
                })
            });
        }
    }
    g.finish();
}

/// The threaded prover on a synthetic trace, generated by the workers (as `poie prove
/// --synthetic`).
fn pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let n = 1u64 << 21;
    g.throughput(Throughput::Elements(n));
    for (lanes, chained) in [(1u32, false), (16, true), (32, true), (64, true), (4, true)] {
        for threads in [1, 2] {
            let params = Params {
                hash: HashId::Blake3,
                layout: Layout { lanes, chained },
            };
            let id = format!(
                "L{lanes}-{}-t{threads}",
                if chained { "chained" } else { "unchained" }
            );
            g.bench_function(BenchmarkId::new("synthetic", id), |b| {
                b.iter(|| {
                    let cfg = ProverConfig {
                        threads,
                        ..ProverConfig::default()
                    };
                    let h = hasher(HashId::Blake3, cfg.simd);
                    let (proof, _) = Source::Synthetic { n, seed: 1 }
                        .prove(params, h, cfg, &|_| {})
                        .expect("proof");
                    proof.root
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, leaf, keccak_f, merkle, merkle_keccak, pipeline);
criterion_main!(benches);
