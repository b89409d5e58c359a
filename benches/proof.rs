//! The proof's micro view: raw leaf hashing per backend (the hash ceiling), block Merkleisation
//! on one thread per layout, and the threaded pipeline on a synthetic trace. Settings suit a
//! 2-core machine.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use poie::proof::engine::LaneGroup;
use poie::proof::{HashId, Hasher, Layout, Params, Prover, ProverConfig, Simd};
use poie::source::{synthetic_chunk, Source};
use poie::trace::{Chunk, TraceSink};
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
    let h = hasher(HashId::Keccak, Simd::Portable);
    g.bench_function(BenchmarkId::new("keccak", "scalar"), |b| {
        b.iter(|| h.leaves(&inputs[..n], &mut out))
    });
    g.finish();
}

fn trace(n: usize) -> Vec<Chunk> {
    (0..n as u64).map(|i| synthetic_chunk(1, i)).collect()
}

/// One thread, blocks already in memory: leaves + nodes for each layout.
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
        let rows = poie::proof::pipeline::rows_per_block(8192, lanes as usize);
        g.bench_function(BenchmarkId::new(format!("blake3-{simd}"), name), |b| {
            b.iter(|| {
                let mut group = LaneGroup::new(0..lanes as usize, lanes as usize, chained);
                for block in t.chunks(rows * lanes as usize) {
                    group.process(&h, block, rows);
                }
                group.roots(&h)
            })
        });
    }
    g.finish();
}

/// The threaded pipeline on a synthetic trace (generation included, as `poie prove --synthetic`).
fn pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let n = 1u64 << 21;
    g.throughput(Throughput::Elements(n));
    for (lanes, chained) in [(1u32, false), (16, true), (4, true)] {
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
                    let mut p = Prover::new(params, hasher(HashId::Blake3, cfg.simd), cfg);
                    Source::Synthetic { n, seed: 1 }
                        .feed(&mut p)
                        .expect("feeds");
                    p.finish().expect("finish");
                    p.into_proof().expect("proof").root
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, leaf, merkle, pipeline);
criterion_main!(benches);
