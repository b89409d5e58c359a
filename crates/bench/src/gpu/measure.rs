//! Measuring a CUDA device (the `cuda` feature): the runs behind a [`GpuReport`].

use super::{Bandwidth, Chained, GpuOptions, GpuReport, Rate, GPU_SCHEMA_VERSION};
use crate::report::Report;
use poie_proof::gpu::{Gpu, GpuError};
use poie_proof::{
    prove_chunks, unique_secret, Address, HashId, Hasher, Layout, Params, ProverConfig, Salt, Simd,
};
use poie_trace::synthetic::fill as synthetic_fill;
use poie_trace::Chunk;
use std::time::Instant;

/// Why a GPU measurement failed.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// A lane count of the sweep that no layout has.
    #[error("GPU sweep: {0}")]
    Layout(#[from] poie_proof::LayoutError),
    /// The CPU prover that checks the GPU's roots has no backend here.
    #[error("checking the GPU against the CPU prover: {0}")]
    Backend(#[from] poie_proof::backend::SimdError),
    /// The CPU prover that checks the GPU's roots failed.
    #[error("checking the GPU against the CPU prover: {0}")]
    Check(#[from] std::io::Error),
}

/// Measures `gpu` (the quick or the standard sweep) and puts its section into `r`. The GPU's
/// chained rates are taken at the CPU sweep's L too, so the fairness rows pair up.
pub fn attach(r: &mut Report, gpu: &Gpu, quick: bool) -> Result<(), MeasureError> {
    let mut opts = if quick {
        GpuOptions::quick()
    } else {
        GpuOptions::standard()
    };
    for p in r.points.iter().filter(|p| p.chained) {
        if !opts.lanes.contains(&p.lanes) {
            opts.lanes.push(p.lanes);
        }
    }
    opts.lanes.sort_unstable();
    r.gpu = Some(measure_on(gpu, &opts)?);
    Ok(())
}

/// Measures CUDA device `opts.ordinal`.
pub fn measure(opts: &GpuOptions) -> Result<GpuReport, MeasureError> {
    let gpu = Gpu::open(opts.ordinal)?;
    measure_on(&gpu, opts)
}

fn params(lanes: u32, chained: bool) -> Result<Params, MeasureError> {
    Ok(Params {
        hash: HashId::Blake3,
        layout: Layout::new(lanes, chained)?,
    })
}

/// The synthetic trace of `n` chunks, generated on `threads` threads.
fn trace(n: u64, threads: usize) -> Vec<Chunk> {
    let mut t = vec![[0u8; 32]; n as usize];
    let part = t.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (i, out) in t.chunks_mut(part).enumerate() {
            s.spawn(move || synthetic_fill(1, (i * part) as u64, out));
        }
    });
    t
}

/// Does the GPU give the CPU's root for the first `n` chunks of `trace`?
fn agrees(gpu: &Gpu, p: Params, secret: &[u8; 32], trace: &[Chunk]) -> Result<bool, MeasureError> {
    let (got, _) = gpu.prove_resident(p, secret, trace, 1)?;
    let h = Hasher::new(HashId::Blake3, *secret, Simd::detect())?;
    let cfg = ProverConfig {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..ProverConfig::default()
    };
    let want = prove_chunks(p, h, cfg, trace)?;
    Ok(got.root == want.root)
}

/// Measures an opened device.
pub fn measure_on(gpu: &Gpu, opts: &GpuOptions) -> Result<GpuReport, MeasureError> {
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([0x5e; 32]),
        &Address::from([0xbe; 20]),
    );
    let n = opts.chunks.max(1);
    let t = trace(n, opts.threads);
    // The CPU check covers a prefix: the CPU is two orders of magnitude slower.
    let check = &t[..t.len().min(1 << 20)];
    let mut verified = true;

    let flat = params(1, false)?;
    verified &= agrees(gpu, flat, &secret, check)?;
    let (_, secs) = gpu.prove_resident(flat, &secret, &t, opts.reps)?;
    let resident_unchained = Rate::new(n, secs);

    let fill = |first: u64, out: &mut [Chunk]| {
        let lo = usize::try_from(first).map_err(std::io::Error::other)?;
        let src = t
            .get(lo..lo + out.len())
            .ok_or_else(|| std::io::Error::other("outside the trace"))?;
        out.copy_from_slice(src);
        Ok(())
    };
    let mut best = f64::INFINITY;
    for _ in 0..opts.reps.max(1) {
        // Opening the prover (pinned allocations) is outside the timing, as in `poie prove`
        // it happens once before the trace is produced.
        let prover = gpu.prover(flat, &secret)?;
        let start = Instant::now();
        prover.prove_indexed(n, &fill, opts.threads, &|_| {})?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    let streamed_unchained = Rate::new(n, best);

    let block = (poie_proof::gpu::plan::TARGET_BLOCK * 32) as usize;
    let reps = 16;
    let bytes_per_s = gpu.copy_bandwidth(block, reps)?;
    let copy = Bandwidth {
        bytes: (block * reps) as u64,
        bytes_per_s,
        chunks_per_s: bytes_per_s / 32.0,
    };

    let mut chained = Vec::new();
    for &lanes in &opts.lanes {
        let p = params(lanes, true)?;
        let m = u64::from(lanes)
            .saturating_mul(opts.per_lane)
            .clamp(u64::from(lanes), n) as usize;
        let run = t.get(..m).unwrap_or(&t);
        verified &= agrees(gpu, p, &secret, &run[..run.len().min(1 << 18)])?;
        let (_, secs) = gpu.prove_resident(p, &secret, run, opts.reps)?;
        let rate = Rate::new(run.len() as u64, secs);
        chained.push(Chained {
            lanes,
            per_lane_chunks_per_s: rate.chunks_per_s / f64::from(lanes),
            rate,
        });
    }

    Ok(GpuReport {
        schema_version: GPU_SCHEMA_VERSION,
        device: gpu.info().clone(),
        resident_unchained,
        streamed_unchained,
        copy,
        chained,
        verified,
    })
}
