//! The CUDA backend of the blake3 Merkleisation (`poie prove --device cuda`): the same leaves,
//! lane trees and root as the CPU prover, byte for byte, with the hashing on a GPU.
//!
//! All CUDA code is behind this module, as [`super::backend`] isolates blake3's internals:
//! - `kernel.cu`: the kernels (leaves, tree levels, lane frontiers, lane roots), compiled at run
//!   time by NVRTC; it also compiles as C with `emulate/emulate.h`, so a test runs it on the
//!   CPU through `emulate/driver.c` and compares it with the CPU prover where no GPU exists;
//! - [`plan`]: the kernel launches of each block as data, shared by the device code and that
//!   test;
//! - `cuda`: the device side over `cudarc`, which loads `libcuda` and `libnvrtc` at run time.
//!   Nothing links CUDA, so poie builds and runs where it is absent, and `--device cuda` then
//!   fails with a [`GpuError`] that says why.
//!
//! The trace is produced on the CPU (VM, trace file, synthetic generator) into one of two
//! pinned host buffers of one block each (`rows x L` chunks, about [`plan::TARGET_BLOCK`]),
//! copied on one stream while the previous block is hashed on another. Each block leaves one
//! perfect subtree per lane, pushed onto per-lane frontiers kept on the device, so memory is
//! two blocks on each side plus `64 x L` digests, whatever the trace length. The lane roots
//! come back at the end and the top tree (at most 65536 leaves) is folded on the CPU.

mod cuda;
#[cfg(test)]
mod emulation_tests;
pub mod plan;

use super::hash::{blake3_node_key, Digest32, HashId, Hasher};
use super::layout::Params;
use super::pipeline::Proof;
use super::schedule::FillFn;
use super::tree::root_of;
use super::Simd;
pub use crate::gpu_info::DeviceInfo;
use poie_trace::{Chunk, TraceSink, CHUNK_LEN};
use std::fmt;
use std::io;

/// The kernels' CUDA C source, compiled by NVRTC when a device is opened.
pub const KERNEL_SOURCE: &str = include_str!("gpu/kernel.cu");

/// Why the GPU prover could not run. Every message names CUDA, so a user who asked for
/// `--device cuda` sees what was missing.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No usable CUDA here: a library is missing, or there is no device.
    #[error("CUDA is not available: {0}")]
    Unavailable(String),
    #[error("CUDA driver error: {0}")]
    Driver(String),
    #[error("CUDA: NVRTC could not compile poie's kernels: {0}")]
    Compile(String),
    #[error("the CUDA backend hashes blake3 only (this proof uses {0}); use --device cpu")]
    UnsupportedHash(HashId),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<GpuError> for io::Error {
    fn from(e: GpuError) -> io::Error {
        match e {
            GpuError::Io(e) => e,
            e => io::Error::other(e.to_string()),
        }
    }
}

/// An opened CUDA device with poie's kernels compiled.
#[derive(Clone, Debug)]
pub struct Gpu {
    cuda: cuda::Cuda,
}

/// Checks that the CUDA driver and NVRTC libraries can be loaded, so that cudarc (which panics
/// on a missing library) is only called where they exist.
fn libraries() -> Result<(), GpuError> {
    // SAFETY: each probe loads a shared library by its usual name and unloads it; running its
    // initialisers is what loading it for use would do anyway.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(GpuError::Unavailable(
            "the CUDA driver library (libcuda.so) was not found: is the NVIDIA driver \
             installed, and its folder in LD_LIBRARY_PATH?"
                .into(),
        ));
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(GpuError::Unavailable(
            "the NVRTC library (libnvrtc.so) was not found: poie compiles its kernels at run \
             time and needs the CUDA toolkit's NVRTC (e.g. the cuda-nvrtc package), its \
             folder in LD_LIBRARY_PATH"
                .into(),
        ));
    }
    Ok(())
}

impl Gpu {
    /// Opens CUDA device `ordinal` and compiles the kernels (NVRTC, well under a second).
    /// Never panics: a missing library or device is a [`GpuError::Unavailable`].
    pub fn open(ordinal: usize) -> Result<Gpu, GpuError> {
        libraries()?;
        // cudarc panics where a library lacks a symbol it needs (an older driver); turn that
        // into an error too. The probe above makes it rare, so the panic hook's message is
        // an acceptable price.
        let opened = std::panic::catch_unwind(|| cuda::open(ordinal)).map_err(|p| {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the CUDA libraries failed to load".into());
            GpuError::Unavailable(why)
        })?;
        Ok(Gpu { cuda: opened? })
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.cuda.info
    }

    /// A streaming prover on this device for a trace of unknown length (a [`TraceSink`]),
    /// `secret` being the unique secret `s~`.
    pub fn prover(&self, params: Params, secret: &Digest32) -> Result<GpuProver, GpuError> {
        self.prover_with_block(params, secret, plan::TARGET_BLOCK)
    }

    /// As [`Gpu::prover`], with blocks of about `target` chunks (tests use small blocks so
    /// short traces cross block boundaries).
    pub fn prover_with_block(
        &self,
        params: Params,
        secret: &Digest32,
        target: u64,
    ) -> Result<GpuProver, GpuError> {
        if params.hash != HashId::Blake3 {
            return Err(GpuError::UnsupportedHash(params.hash));
        }
        let lanes = params.layout.lanes;
        let rows = plan::rows_for(lanes, target);
        let tree = cuda::Tree::new(
            &self.cuda,
            lanes,
            rows,
            params.layout.chained,
            secret,
            &blake3_node_key(),
        )?;
        let bytes = usize::try_from(tree.block_len() * CHUNK_LEN as u64)
            .map_err(|_| GpuError::Driver("block too large".into()))?;
        let staging = cuda::Staging::new(&self.cuda, bytes)?;
        let cpu = Hasher::new(HashId::Blake3, *secret, Simd::detect())
            .map_err(|e| GpuError::Driver(e.to_string()))?;
        Ok(GpuProver {
            params,
            cpu,
            tree,
            staging,
            filled: 0,
            blocks: 0,
            n: 0,
        })
    }

    /// Proves `trace` with it resident in device memory: copied once, then proved `reps`
    /// times (at least once). Returns the proof and the fastest proof's seconds, kernels and
    /// the lane roots' copy back included, the copy of the trace not: the GPU's hashing rate
    /// with no host link in the way.
    pub fn prove_resident(
        &self,
        params: Params,
        secret: &Digest32,
        trace: &[Chunk],
        reps: usize,
    ) -> Result<(Proof, f64), GpuError> {
        if params.hash != HashId::Blake3 {
            return Err(GpuError::UnsupportedHash(params.hash));
        }
        let lanes = params.layout.lanes;
        let mut tree = cuda::Tree::new(
            &self.cuda,
            lanes,
            plan::rows_for(lanes, plan::TARGET_BLOCK),
            params.layout.chained,
            secret,
            &blake3_node_key(),
        )?;
        let resident = cuda::Resident::new(&tree, trace.as_flattened())?;
        let cpu = Hasher::new(HashId::Blake3, *secret, Simd::detect())
            .map_err(|e| GpuError::Driver(e.to_string()))?;
        let n = trace.len() as u64;
        let mut best = f64::INFINITY;
        let mut lane_roots = Vec::new();
        for _ in 0..reps.max(1) {
            let start = std::time::Instant::now();
            lane_roots = resident.prove(&mut tree)?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        let top_root = root_of(&cpu, &lane_roots).unwrap_or([0; 32]);
        let proof = Proof {
            params,
            n,
            root: params.commitment_root(n, &top_root),
            lane_roots,
            top_root,
            pinned: 0,
        };
        Ok((proof, best))
    }

    /// Host-to-device copy bandwidth from pinned memory, bytes per second: `reps` copies (at
    /// least one) of `bytes` each, alternating two buffers as the prover's staging does.
    pub fn copy_bandwidth(&self, bytes: usize, reps: usize) -> Result<f64, GpuError> {
        let mut staging = cuda::Staging::new(&self.cuda, bytes)?;
        // A first copy outside the timing: the driver maps the buffers lazily.
        staging.copy_only()?;
        staging.sync()?;
        let start = std::time::Instant::now();
        for _ in 0..reps.max(1) {
            staging.copy_only()?;
        }
        staging.sync()?;
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        Ok((bytes.max(32) * reps.max(1)) as f64 / secs)
    }
}

/// Is a CUDA device usable here? `Ok` with its description, or why not. Opens device 0 and
/// compiles the kernels, as `--device cuda` would.
pub fn probe() -> Result<DeviceInfo, GpuError> {
    Gpu::open(0).map(|g| g.info().clone())
}

/// The GPU prover of one trace: feed it chunks as a [`TraceSink`] (it lends its pinned block
/// buffer, so the VM writes straight into memory the GPU copies from), then
/// [`GpuProver::into_proof`].
pub struct GpuProver {
    params: Params,
    /// Folds the top tree over the lane roots.
    cpu: Hasher,
    tree: cuda::Tree,
    staging: cuda::Staging,
    /// Chunks in the current staging buffer.
    filled: usize,
    /// Full blocks submitted.
    blocks: u64,
    n: u64,
}

impl fmt::Debug for GpuProver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuProver")
            .field("params", &self.params)
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

impl GpuProver {
    /// Chunks per full block.
    pub fn block_len(&self) -> u64 {
        self.tree.block_len()
    }

    fn block_chunks(&self) -> usize {
        self.tree.block_len() as usize
    }

    /// The current staging buffer as chunks.
    fn host(&mut self) -> Result<&mut [Chunk], GpuError> {
        Ok(self.staging.host()?.as_chunks_mut::<CHUNK_LEN>().0)
    }

    /// Hands the full staging buffer to the GPU.
    fn submit_block(&mut self) -> Result<(), GpuError> {
        let rows = self.tree.rows;
        let base = self.blocks * self.tree.block_len();
        let mut steps = Vec::new();
        plan::rows_steps(
            self.params.layout.lanes,
            base,
            rows,
            self.blocks * u64::from(rows),
            self.tree.fuse(),
            &mut steps,
        );
        let bytes = self.block_chunks() * CHUNK_LEN;
        self.staging.submit(&mut self.tree, &steps, base, bytes)?;
        self.blocks += 1;
        self.filled = 0;
        Ok(())
    }

    /// Hashes the last partial block and returns the proof.
    pub fn into_proof(mut self) -> Result<Proof, GpuError> {
        let lanes = self.params.layout.lanes;
        let base = self.blocks * self.tree.block_len();
        let mut steps = Vec::new();
        let ends = plan::tail_steps(
            lanes,
            base,
            self.filled as u64,
            self.blocks * u64::from(self.tree.rows),
            self.tree.fuse(),
            &mut steps,
        );
        if self.filled > 0 {
            let bytes = self.filled * CHUNK_LEN;
            self.staging.submit(&mut self.tree, &steps, base, bytes)?;
        }
        let used = self.n.min(u64::from(lanes)) as u32;
        let lane_roots = self.tree.lane_roots(ends, used)?;
        self.staging.sync()?;
        let top_root = root_of(&self.cpu, &lane_roots).unwrap_or([0; 32]);
        Ok(Proof {
            params: self.params,
            n: self.n,
            root: self.params.commitment_root(self.n, &top_root),
            lane_roots,
            top_root,
            pinned: 0,
        })
    }

    /// Proves an indexable trace of `n` chunks (what [`super::prove_indexed`] does on the
    /// CPU): `threads` CPU threads fill each pinned block in parallel while the GPU hashes the
    /// previous one. `progress` hears the chunks produced.
    pub fn prove_indexed(
        mut self,
        n: u64,
        fill: &FillFn,
        threads: usize,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Proof, GpuError> {
        let block = self.tree.block_len();
        while self.n < n {
            let count = (n - self.n).min(block) as usize;
            let first = self.n;
            let host = self.host()?;
            let part = count.div_ceil(threads.max(1)).max(1);
            std::thread::scope(|s| {
                let jobs: Vec<_> = host[..count]
                    .chunks_mut(part)
                    .enumerate()
                    .map(|(i, out)| s.spawn(move || fill(first + (i * part) as u64, out)))
                    .collect();
                jobs.into_iter().try_for_each(|j| {
                    j.join()
                        .map_err(|_| io::Error::other("a fill thread stopped unexpectedly"))?
                })
            })?;
            progress(count as u64);
            self.n += count as u64;
            self.filled = count;
            if count == self.block_chunks() {
                self.submit_block()?;
            }
        }
        self.into_proof()
    }
}

impl TraceSink for GpuProver {
    fn consume(&mut self, mut chunks: &[Chunk]) -> io::Result<()> {
        while !chunks.is_empty() {
            let filled = self.filled;
            let host = self.host()?;
            let take = (host.len() - filled).min(chunks.len());
            host[filled..filled + take].copy_from_slice(&chunks[..take]);
            chunks = &chunks[take..];
            self.commit(take)?;
        }
        Ok(())
    }

    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        let filled = self.filled;
        // An error here (the device failed) lends nothing; `consume` then reports it.
        let host = self.host().ok()?;
        let end = host.len().min(filled + max);
        host.get_mut(filled..end)
    }

    fn commit(&mut self, written: usize) -> io::Result<()> {
        if written > self.block_chunks() - self.filled {
            return Err(io::Error::other("committed more chunks than were lent"));
        }
        self.filled += written;
        self.n += written as u64;
        if self.filled == self.block_chunks() {
            self.submit_block()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where there is no usable device, opening one is an error that names CUDA, not a panic.
    #[test]
    fn open_fails_cleanly_or_works() {
        match Gpu::open(0) {
            Ok(g) => assert!(!g.info().name.is_empty()),
            Err(e) => {
                assert!(matches!(e, GpuError::Unavailable(_)), "{e}");
                assert!(e.to_string().contains("CUDA"), "{e}");
            }
        }
        let e = Gpu::open(1 << 20).expect_err("no machine has a millionth device");
        assert!(e.to_string().contains("CUDA"), "{e}");
    }
}
