//! CPU versus GPU: the CUDA prover's roots equal the CPU prover's, byte for byte, over the
//! golden configurations and a randomised sweep of lengths and lanes, streamed (the VM's
//! `TraceSink` path), filled in parallel (indexable sources) and resident.
//!
//! They need a CUDA device: where none is usable each test prints "skipped: no CUDA device"
//! (with the reason) and passes, so CI runs them as no-ops. `scripts/gpu-check.sh` runs them
//! on a GPU machine. The kernels' logic is also checked without a GPU, on every machine, by
//! `proof::gpu::emulation_tests` (kernel.cu compiled by the host C compiler).
#![cfg(feature = "cuda")]

mod common;

use common::golden;
use poie::guests;
use poie::proof::gpu::{Gpu, GpuError};
use poie::proof::{
    prove_chunks, unique_secret, HashId, Hasher, Layout, Params, ProverConfig, Simd,
};
use poie::proof::{Address, Salt};
use poie::source::Source;
use poie::trace::synthetic::fill as synthetic_fill;
use poie::trace::Chunk;

/// The device, or `None` after saying why the test is skipped. A device that exists but fails
/// (driver or NVRTC error) fails the test: that is a bug to see, not a missing GPU.
fn gpu() -> Option<Gpu> {
    match Gpu::open(0) {
        Ok(g) => {
            eprintln!("CUDA device: {:?}", g.info());
            Some(g)
        }
        Err(GpuError::Unavailable(why)) => {
            eprintln!("skipped: no CUDA device ({why})");
            None
        }
        Err(e) => panic!("a CUDA device is present but unusable: {e}"),
    }
}

fn params(lanes: u32, chained: bool) -> Params {
    Params {
        hash: HashId::Blake3,
        layout: Layout::new(lanes, chained).expect("valid"),
    }
}

fn cpu_root(params: Params, secret: &[u8; 32], trace: &[Chunk]) -> poie::proof::Proof {
    let h = Hasher::new(HashId::Blake3, *secret, Simd::detect()).expect("backend");
    let cfg = ProverConfig {
        threads: 4,
        ..ProverConfig::default()
    };
    prove_chunks(params, h, cfg, trace).expect("cpu proof")
}

fn synthetic(n: usize, seed: u64) -> Vec<Chunk> {
    let mut t = vec![[0u8; 32]; n];
    synthetic_fill(seed, 0, &mut t);
    t
}

#[test]
fn gpu_matches_the_golden_roots() {
    let Some(gpu) = gpu() else { return };
    let mut checked = 0;
    for g in golden::load().iter().filter(|g| g.hash == HashId::Blake3) {
        let p = params(g.lanes, g.chained);
        let secret = unique_secret(HashId::Blake3, &g.salt(), &g.address());
        let guest = guests::find(&g.guest).expect("guest");
        let src = Source::Vm {
            elf: guest.elf.to_vec(),
            input: g.input.as_bytes().to_vec(),
            max_steps: u64::MAX,
        };
        // The default block and a tiny one, so the golden traces also cross block boundaries.
        for target in [poie::proof::gpu::plan::TARGET_BLOCK, 16] {
            let mut prover = gpu.prover_with_block(p, &secret, target).expect("prover");
            src.feed(&mut prover).expect("runs");
            let proof = prover.into_proof().expect("gpu proof");
            assert_eq!(proof.n, g.n, "{} {:?}", g.guest, p);
            assert_eq!(
                hex::encode(proof.root),
                g.root,
                "{} {:?} block {target}",
                g.guest,
                p
            );
        }
        checked += 1;
    }
    assert!(checked >= 12, "every blake3 golden configuration");
}

/// Random lengths (short tails, non-powers of two, many blocks), lanes from 1 to 65536, both
/// layouts, small and default blocks, against the CPU prover. Fixed seed, so failures repeat.
#[test]
fn gpu_matches_the_cpu_random_sweep() {
    let Some(gpu) = gpu() else { return };
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let lane_choices = [1u32, 2, 3, 4, 7, 16, 31, 64, 100, 256, 1024, 4096, 65536];
    for case in 0..60 {
        let lanes = lane_choices[(next() % lane_choices.len() as u64) as usize];
        let chained = next() % 2 == 0;
        let n = match next() % 4 {
            0 => (next() % 64) as usize,
            1 => (next() % 5000) as usize,
            2 => (next() % 200_000) as usize,
            _ => lanes as usize * (1 + (next() % 8) as usize) + (next() % 3) as usize,
        };
        let target = 1u64 << (4 + next() % 18);
        let p = params(lanes, chained);
        let secret = unique_secret(
            HashId::Blake3,
            &Salt::from([case as u8; 32]),
            &Address::from([0x42; 20]),
        );
        let trace = synthetic(n, next());
        let want = cpu_root(p, &secret, &trace);
        let what = format!("case {case}: L={lanes} chained={chained} n={n} block {target}");

        let mut prover = gpu.prover_with_block(p, &secret, target).expect("prover");
        use poie::trace::TraceSink;
        // Uneven batches, as a producer hands them over.
        for part in trace.chunks(1 + (next() % 3000) as usize) {
            prover.consume(part).expect("consume");
        }
        let got = prover.into_proof().expect("gpu proof");
        assert_eq!(
            got.lane_roots, want.lane_roots,
            "streamed lane roots, {what}"
        );
        assert_eq!(got.root, want.root, "streamed root, {what}");

        let fill = |first: u64, out: &mut [Chunk]| {
            let first = first as usize;
            out.copy_from_slice(&trace[first..first + out.len()]);
            Ok(())
        };
        let prover = gpu.prover_with_block(p, &secret, target).expect("prover");
        let got = prover
            .prove_indexed(n as u64, &fill, 3, &|_| {})
            .expect("gpu proof");
        assert_eq!(got.root, want.root, "indexed root, {what}");

        let (got, _) = gpu.prove_resident(p, &secret, &trace, 1).expect("resident");
        assert_eq!(got.root, want.root, "resident root, {what}");
    }
}

/// Several full default-size blocks, with a tail, through the synthetic path `poie prove
/// --device cuda --synthetic` takes.
#[test]
fn gpu_matches_the_cpu_over_default_blocks() {
    let Some(_gpu) = gpu() else { return };
    let n = 3 * poie::proof::gpu::plan::TARGET_BLOCK + 12_345;
    for (lanes, chained) in [(1, false), (16, true), (1024, true), (3, false)] {
        let p = params(lanes, chained);
        let secret = unique_secret(
            HashId::Blake3,
            &Salt::from([9; 32]),
            &Address::from([8; 20]),
        );
        let src = Source::Synthetic { n, seed: 77 };
        let cfg8 = ProverConfig {
            threads: 8,
            ..ProverConfig::default()
        };
        let (got, fed) = poie::source::prove_on(
            &src,
            poie::source::Run {
                device: poie::source::Device::Cuda(0),
                cfg: cfg8,
            },
            p,
            &secret,
            &|_| {},
        )
        .expect("gpu proof");
        assert_eq!(fed.chunks, n);
        let h = Hasher::new(HashId::Blake3, secret, Simd::detect()).expect("backend");
        let cfg = ProverConfig {
            threads: 8,
            ..ProverConfig::default()
        };
        let (want, _) = src.prove(p, h, cfg, &|_| {}).expect("cpu proof");
        assert_eq!(got.root, want.root, "L={lanes} chained={chained}");
    }
}
