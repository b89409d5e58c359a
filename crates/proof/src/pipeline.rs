//! The prover: Merkleises a trace while it is produced, on `threads` hashing workers.
//!
//! Two ways in, one engine ([`super::schedule`]):
//! - [`Prover`] is a [`TraceSink`] for a sequential producer (the VM). It lends its block
//!   buffer, so the VM writes chunks straight into the block the workers will hash.
//! - [`prove_indexed`] is for sources that can be split (a synthetic trace, a trace file read
//!   at offsets, a trace in memory): the workers fill the blocks themselves, so no single
//!   thread touches every chunk.
//!
//! With `threads = 0` everything runs on the calling thread. Memory is O(L log n) for the
//! frontiers plus a fixed window of blocks, whatever the trace length.

use super::engine::Scratch;
use super::hash::{Digest32, Hasher};
use super::layout::Params;
use super::schedule::{FillFn, Geometry, Shared};
use super::tree::root_of;
use poie_trace::{Chunk, TraceSink};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

/// How to run the prover. None of this changes the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProverConfig {
    /// Hashing worker threads; 0 hashes on the calling thread.
    pub threads: usize,
    pub simd: super::Simd,
    /// Target chunks per block; rounded so each lane gets a power-of-two number of rows.
    pub batch: usize,
    /// Pin worker `w` to core `w mod cores`.
    pub pin: bool,
}

impl Default for ProverConfig {
    fn default() -> Self {
        ProverConfig {
            threads: 0,
            simd: super::Simd::detect(),
            batch: DEFAULT_BATCH,
            pin: false,
        }
    }
}

/// Default target block size in chunks (256 KiB of trace).
pub const DEFAULT_BATCH: usize = 8192;

/// The largest `--batch`: 2^20 chunks, a 32 MiB block.
pub const MAX_BATCH: usize = 1 << 20;

/// The most hashing workers one prover runs.
pub const MAX_THREADS: usize = 4096;

/// The window's blocks together stay under this: many workers and wide layouts get shorter
/// blocks (the root does not depend on them) instead of an allocation the machine cannot give.
const WINDOW_BYTES: usize = 1 << 30;

/// Prover settings no machine can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("--threads {0} is more than {MAX_THREADS} hashing workers")]
    Threads(usize),
    #[error("--batch {0} is outside 1..={MAX_BATCH} chunks")]
    Batch(usize),
}

impl ProverConfig {
    /// Refuses settings no machine can run, with what was wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.threads > MAX_THREADS {
            return Err(ConfigError::Threads(self.threads));
        }
        if self.batch == 0 || self.batch > MAX_BATCH {
            return Err(ConfigError::Batch(self.batch));
        }
        Ok(())
    }
}

/// Rows per block: the largest power of two with `rows * lanes <= batch` (at least 1).
pub fn rows_per_block(batch: usize, lanes: usize) -> usize {
    let r = (batch / lanes.max(1)).max(1);
    1 << (usize::BITS - 1 - r.leading_zeros())
}

/// The result of proving a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub params: Params,
    /// Number of chunks (steps).
    pub n: u64,
    /// Roots of the non-empty lanes, in lane order.
    pub lane_roots: Vec<Digest32>,
    pub top_root: Digest32,
    /// The published commitment root.
    pub root: Digest32,
    /// Workers successfully pinned (0 when pinning was not asked for).
    pub pinned: usize,
}

/// Blocks in flight: enough that every worker has one to hash while chains run ahead and the
/// fold catches up.
fn window(threads: usize) -> usize {
    if threads == 0 {
        1
    } else {
        2 * threads + 2
    }
}

/// Lanes per chain: one call hashes a chain's row, and each chain is advanced by one worker
/// at a time. The SIMD width (`degree`) makes each call cheapest, but leaves are about half
/// the work, so there should be at least one chain per two workers: the widest power of two
/// up to `degree` that gives `ceil(threads / 2)` chains, else single lanes.
pub fn chain_width(lanes: usize, threads: usize, degree: usize) -> usize {
    let want = threads.max(1).div_ceil(2);
    let mut g = degree.max(1).next_power_of_two();
    while g > 1 && lanes.div_ceil(g) < want {
        g /= 2;
    }
    g.min(lanes.max(1))
}

fn setup(params: Params, hasher: Hasher, cfg: &ProverConfig) -> Shared {
    let lanes = params.layout.lanes as usize;
    let threads = cfg.threads.min(MAX_THREADS);
    let mut rows = rows_per_block(cfg.batch.min(MAX_BATCH), lanes);
    let window_chunks = window(threads).saturating_mul(lanes);
    while rows > 1 && window_chunks.saturating_mul(rows).saturating_mul(32) > WINDOW_BYTES {
        rows /= 2;
    }
    let chained = params.layout.chained;
    let width = if chained {
        chain_width(lanes, threads, hasher.simd_width())
    } else {
        lanes.max(1)
    };
    let groups = (0..lanes.div_ceil(width))
        .map(|g| g * width..((g + 1) * width).min(lanes))
        .collect();
    let geo = Geometry {
        lanes,
        rows,
        chained,
        groups,
    };
    Shared::new(hasher, geo, window(threads))
}

/// Pins the calling worker to core `w mod cores` and counts it.
fn pin(shared: &Shared, cores: &[core_affinity::CoreId], w: usize) {
    if let Some(core) = cores.get(w % cores.len().max(1)) {
        if core_affinity::set_for_current(*core) {
            shared.pinned.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn cores(cfg: &ProverConfig) -> Vec<core_affinity::CoreId> {
    if cfg.pin {
        core_affinity::get_core_ids().unwrap_or_default()
    } else {
        Vec::new()
    }
}

/// Folds the trace's last, partial block (fewer than `rows x L` chunks) leaf by leaf, after
/// every full block, and computes the commitment.
fn finish(shared: &Shared, params: Params, n: u64, tail: &[Chunk]) -> Proof {
    let h = &shared.h;
    let lanes = shared.geo.lanes;
    let chained = shared.geo.chained;
    let (frontiers, mut links) = shared.take_state();
    let mut frontiers = frontiers.into_frontiers();
    let mut inputs: Vec<[u8; 64]> = Vec::with_capacity(lanes.min(tail.len()));
    let mut out = vec![0u8; 32 * lanes.min(tail.len())];
    for row in tail.chunks(lanes.max(1)) {
        inputs.clear();
        for (k, c) in row.iter().enumerate() {
            let mut inp = [0u8; 64];
            inp[..32].copy_from_slice(c);
            if chained {
                inp[32..].copy_from_slice(&links[k]);
            }
            inputs.push(inp);
        }
        let out = &mut out[..32 * row.len()];
        h.leaves(&inputs, out);
        for (k, leaf) in out.chunks_exact(32).enumerate() {
            let mut d = [0u8; 32];
            d.copy_from_slice(leaf);
            if chained {
                links[k] = d;
            }
            frontiers[k].push(h, d);
        }
    }
    let lane_roots: Vec<Digest32> = frontiers.iter().filter_map(|f| f.root(h)).collect();
    let top_root = root_of(h, &lane_roots).unwrap_or([0; 32]);
    Proof {
        params,
        n,
        root: params.commitment_root(n, &top_root),
        lane_roots,
        top_root,
        pinned: shared.pinned.load(Ordering::Relaxed),
    }
}

/// Proves an indexable trace of `n` chunks: `fill(first, out)` writes chunks
/// `first..first + out.len()`. The workers call it for whole blocks, in parallel.
pub fn prove_indexed(
    params: Params,
    hasher: Hasher,
    cfg: ProverConfig,
    n: u64,
    fill: &FillFn,
) -> io::Result<Proof> {
    let shared = setup(params, hasher, &cfg);
    let block_len = shared.geo.block_len() as u64;
    let full = n / block_len;
    shared.set_fill_end(full);
    let threads = cfg.threads.min(MAX_THREADS);
    let cores = cores(&cfg);
    std::thread::scope(|s| {
        // The OS may refuse threads (limits, memory): run on those it grants, and on the
        // calling thread when it grants none. The root does not depend on it.
        let mut spawned = 0;
        for w in 0..threads {
            let (shared, cores) = (&shared, &cores);
            let worker = std::thread::Builder::new().spawn_scoped(s, move || {
                pin(shared, cores, w);
                shared.work(Some(fill));
            });
            if worker.is_err() {
                break;
            }
            spawned += 1;
        }
        if spawned == 0 {
            let r = shared.drain(Some(fill), &mut Scratch::default());
            shared.close(r.is_err());
            return r;
        }
        let r = shared.wait_folded(full);
        shared.close(r.is_err());
        r
    })?;
    shared.wait_folded(full)?;
    // At most one block: fewer than rows x L chunks.
    let mut tail = vec![[0u8; 32]; (n - full * block_len) as usize];
    fill(full * block_len, &mut tail)?;
    Ok(finish(&shared, params, n, &tail))
}

/// Proves a trace held in memory (its blocks are copied by the workers, in parallel).
pub fn prove_chunks(
    params: Params,
    hasher: Hasher,
    cfg: ProverConfig,
    trace: &[Chunk],
) -> io::Result<Proof> {
    let fill = |first: u64, out: &mut [Chunk]| {
        let first = usize::try_from(first).map_err(io::Error::other)?;
        let src = trace
            .get(first..first + out.len())
            .ok_or_else(|| io::Error::other("chunk range outside the trace"))?;
        out.copy_from_slice(src);
        Ok(())
    };
    prove_indexed(params, hasher, cfg, trace.len() as u64, &fill)
}

/// The streaming prover for a sequential producer. Feed it chunks (it is a [`TraceSink`]),
/// then call [`Prover::into_proof`].
pub struct Prover {
    params: Params,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// The block being filled; full blocks are swapped into the window.
    current: Vec<Chunk>,
    filled: usize,
    n: u64,
    /// Inline mode (`threads = 0`): the producer hashes each block itself.
    inline: Option<Scratch>,
}

impl Prover {
    pub fn new(params: Params, hasher: Hasher, cfg: ProverConfig) -> Prover {
        let shared = Arc::new(setup(params, hasher, &cfg));
        let cores = Arc::new(cores(&cfg));
        // As in `prove_indexed`: the workers the OS grants, inline when it grants none.
        let workers: Vec<JoinHandle<()>> = (0..cfg.threads.min(MAX_THREADS))
            .map_while(|w| {
                let (shared, cores) = (shared.clone(), cores.clone());
                std::thread::Builder::new()
                    .spawn(move || {
                        pin(&shared, &cores, w);
                        shared.work(None);
                    })
                    .ok()
            })
            .collect();
        let inline = workers.is_empty().then(Scratch::default);
        Prover {
            params,
            current: vec![[0; 32]; shared.geo.block_len()],
            shared,
            workers,
            filled: 0,
            n: 0,
            inline,
        }
    }

    /// Rows per block this prover uses.
    pub fn rows(&self) -> usize {
        self.shared.geo.rows
    }

    fn block_full(&mut self) -> io::Result<()> {
        self.shared.submit(&mut self.current)?;
        self.filled = 0;
        match &mut self.inline {
            Some(s) => self.shared.drain(None, s),
            None => Ok(()),
        }
    }

    /// Waits for the workers and computes the commitment.
    pub fn into_proof(mut self) -> io::Result<Proof> {
        let r = self.shared.wait_folded(self.shared.submitted());
        self.shared.close(r.is_err());
        for w in self.workers.drain(..) {
            w.join()
                .map_err(|_| io::Error::other("a hashing worker stopped unexpectedly"))?;
        }
        r?;
        Ok(finish(
            &self.shared,
            self.params,
            self.n,
            &self.current[..self.filled],
        ))
    }
}

impl Drop for Prover {
    fn drop(&mut self) {
        // Unfinished (an error elsewhere): stop the workers; they exit on their own.
        if !self.workers.is_empty() {
            self.shared.close(true);
        }
    }
}

impl TraceSink for Prover {
    fn consume(&mut self, mut chunks: &[Chunk]) -> io::Result<()> {
        while !chunks.is_empty() {
            let take = (self.current.len() - self.filled).min(chunks.len());
            self.current[self.filled..self.filled + take].copy_from_slice(&chunks[..take]);
            self.filled += take;
            self.n += take as u64;
            chunks = &chunks[take..];
            if self.filled == self.current.len() {
                self.block_full()?;
            }
        }
        Ok(())
    }

    #[inline]
    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        let end = self.current.len().min(self.filled + max);
        Some(&mut self.current[self.filled..end])
    }

    fn commit(&mut self, written: usize) -> io::Result<()> {
        if written > self.current.len() - self.filled {
            return Err(io::Error::other("committed more chunks than were lent"));
        }
        self.filled += written;
        self.n += written as u64;
        if self.filled == self.current.len() {
            self.block_full()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_are_simd_wide_unless_workers_would_go_without() {
        assert_eq!(chain_width(16, 1, 16), 16);
        assert_eq!(chain_width(16, 2, 16), 16);
        assert_eq!(chain_width(64, 16, 16), 8, "8 chains for 16 workers");
        assert_eq!(chain_width(16, 16, 16), 2);
        assert_eq!(chain_width(4, 16, 16), 1, "no more chains than lanes");
        assert_eq!(chain_width(3, 0, 8), 3, "never wider than the lanes");
        assert_eq!(
            chain_width(100, 4, 1),
            1,
            "scalar hashes chain lane by lane"
        );
    }
}
