//! The streaming prover: a [`TraceSink`] that Merkleises the trace while it is produced.
//!
//! The producer (the VM thread, or any trace source) copies chunks into block buffers, which
//! are recycled, and hands full blocks to `P` hashing workers over bounded channels:
//! - **chained**: each worker owns a fixed range of lanes and sees every block (blocks are
//!   shared by reference count), advancing its lanes in lockstep;
//! - **unchained**: workers take whole blocks from one queue and return per-lane subtree roots,
//!   which the producer folds into the lane frontiers in block order.
//!
//! With `threads = 0` everything runs inline in the producer. Memory is O(L log n) for the
//! frontiers plus a fixed number of blocks, whatever the trace length.

use super::backend::Simd;
use super::engine::{unchained_block_roots, LaneGroup, Scratch};
use super::hash::{Digest32, Hasher};
use super::layout::Params;
use super::tree::root_of;
use crate::trace::{Chunk, TraceSink};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

/// How to run the prover. None of this changes the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProverConfig {
    /// Hashing worker threads; 0 hashes inline in the producer thread.
    pub threads: usize,
    pub simd: Simd,
    /// Target chunks per block; rounded so each lane gets a power-of-two number of rows.
    pub batch: usize,
    /// Pin worker `w` to core `w mod cores`.
    pub pin: bool,
}

impl Default for ProverConfig {
    fn default() -> Self {
        ProverConfig {
            threads: 0,
            simd: Simd::detect(),
            batch: DEFAULT_BATCH,
            pin: false,
        }
    }
}

/// Default target block size in chunks (256 KiB of trace).
pub const DEFAULT_BATCH: usize = 8192;

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

type Block = Arc<Vec<Chunk>>;

enum Done {
    Chained,
    Roots(u64, Vec<Digest32>),
}

enum Mode {
    Inline(LaneGroup),
    Chained {
        txs: Vec<Sender<Block>>,
        workers: Vec<JoinHandle<LaneGroup>>,
    },
    Unchained {
        tx: Sender<(u64, Block)>,
        workers: Vec<JoinHandle<()>>,
        /// The lane frontiers, fed in block order.
        group: LaneGroup,
        reorder: BTreeMap<u64, Vec<Digest32>>,
        next_fold: u64,
    },
}

/// The streaming prover. Feed it chunks (it is a [`TraceSink`]), then call [`Prover::into_proof`].
pub struct Prover {
    params: Params,
    hasher: Hasher,
    rows: usize,
    block_len: usize,
    current: Block,
    pool: Vec<Block>,
    pool_cap: usize,
    done_rx: Receiver<Done>,
    mode: Mode,
    n: u64,
    blocks_sent: u64,
    pinned: Arc<std::sync::atomic::AtomicUsize>,
}

fn worker_died() -> io::Error {
    io::Error::other("a hashing worker stopped unexpectedly")
}

impl Prover {
    pub fn new(params: Params, hasher: Hasher, cfg: ProverConfig) -> Prover {
        let lanes = params.layout.lanes as usize;
        let rows = rows_per_block(cfg.batch, lanes);
        let block_len = rows * lanes;
        let (done_tx, done_rx) = unbounded();
        let pinned = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let cores = if cfg.pin {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let pin = move |w: usize, pinned: &std::sync::atomic::AtomicUsize| {
            if let Some(core) = (!cores.is_empty()).then(|| cores[w % cores.len()]) {
                if core_affinity::set_for_current(core) {
                    pinned.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        };
        // Enough blocks in flight to keep every worker busy while the producer fills the next.
        let depth = 4;
        let (mode, pool_cap) = if cfg.threads == 0 {
            (
                Mode::Inline(LaneGroup::new(0..lanes, lanes, params.layout.chained)),
                1,
            )
        } else if params.layout.chained {
            let p = cfg.threads.min(lanes);
            let mut txs = Vec::new();
            let mut workers = Vec::new();
            for w in 0..p {
                let range = (w * lanes / p)..((w + 1) * lanes / p);
                let (tx, rx) = bounded::<Block>(depth);
                let (h, done, pin, pinned) =
                    (hasher.clone(), done_tx.clone(), pin.clone(), pinned.clone());
                workers.push(std::thread::spawn(move || {
                    pin(w, &pinned);
                    let mut group = LaneGroup::new(range, lanes, true);
                    for block in rx {
                        group.process(&h, &block, rows);
                        drop(block);
                        if done.send(Done::Chained).is_err() {
                            break;
                        }
                    }
                    group
                }));
                txs.push(tx);
            }
            (Mode::Chained { txs, workers }, 2 * depth + 2)
        } else {
            let p = cfg.threads;
            let (tx, rx) = bounded::<(u64, Block)>(depth * p);
            let mut workers = Vec::new();
            for w in 0..p {
                let (rx, h, done, pin, pinned) = (
                    rx.clone(),
                    hasher.clone(),
                    done_tx.clone(),
                    pin.clone(),
                    pinned.clone(),
                );
                workers.push(std::thread::spawn(move || {
                    pin(w, &pinned);
                    let mut scratch = Scratch::default();
                    for (index, block) in rx {
                        let roots = unchained_block_roots(&h, &block, lanes, rows, &mut scratch);
                        drop(block);
                        if done.send(Done::Roots(index, roots)).is_err() {
                            break;
                        }
                    }
                }));
            }
            let group = LaneGroup::new(0..lanes, lanes, false);
            let mode = Mode::Unchained {
                tx,
                workers,
                group,
                reorder: BTreeMap::new(),
                next_fold: 0,
            };
            (mode, depth * p + p + 2)
        };
        Prover {
            params,
            hasher,
            rows,
            block_len,
            current: Arc::new(Vec::with_capacity(block_len)),
            pool: Vec::new(),
            pool_cap,
            done_rx,
            mode,
            n: 0,
            blocks_sent: 0,
            pinned,
        }
    }

    /// Rows per block this prover uses.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn handle(&mut self, done: Done) {
        if let (
            Done::Roots(index, roots),
            Mode::Unchained {
                group,
                reorder,
                next_fold,
                ..
            },
        ) = (done, &mut self.mode)
        {
            reorder.insert(index, roots);
            while let Some(roots) = reorder.remove(next_fold) {
                group.push_roots(&self.hasher, self.rows.trailing_zeros(), &roots);
                *next_fold += 1;
            }
        }
    }

    /// A free block buffer: one no worker holds any more, a new one while the pool is below its
    /// cap, or else wait for a worker to release one.
    fn free_block(&mut self) -> io::Result<Block> {
        loop {
            while let Ok(d) = self.done_rx.try_recv() {
                self.handle(d);
            }
            if let Some(i) = self.pool.iter().position(|b| Arc::strong_count(b) == 1) {
                let mut b = self.pool.swap_remove(i);
                if let Some(v) = Arc::get_mut(&mut b) {
                    v.clear();
                    return Ok(b);
                }
                self.pool.push(b);
            }
            if self.pool.len() < self.pool_cap {
                return Ok(Arc::new(Vec::with_capacity(self.block_len)));
            }
            let d = self.done_rx.recv().map_err(|_| worker_died())?;
            self.handle(d);
        }
    }

    fn dispatch(&mut self) -> io::Result<()> {
        if self.current.is_empty() {
            return Ok(());
        }
        let index = self.blocks_sent;
        self.blocks_sent += 1;
        match &mut self.mode {
            Mode::Inline(group) => {
                group.process(&self.hasher, &self.current, self.rows);
                if let Some(v) = Arc::get_mut(&mut self.current) {
                    v.clear();
                }
                return Ok(());
            }
            Mode::Chained { txs, .. } => {
                for tx in txs.iter() {
                    tx.send(self.current.clone()).map_err(|_| worker_died())?;
                }
            }
            Mode::Unchained { tx, .. } => {
                if self.current.len() < self.block_len {
                    // The final, partial block: the frontiers take it once all full blocks are in.
                    return Ok(());
                }
                tx.send((index, self.current.clone()))
                    .map_err(|_| worker_died())?;
            }
        }
        let next = self.free_block()?;
        let sent = std::mem::replace(&mut self.current, next);
        self.pool.push(sent);
        Ok(())
    }

    /// Waits for the workers and computes the commitment.
    pub fn into_proof(mut self) -> io::Result<Proof> {
        let partial = self.current.len() < self.block_len && !self.current.is_empty();
        self.dispatch()?;
        let h = self.hasher.clone();
        let lane_roots = match self.mode {
            Mode::Inline(group) => group.roots(&h),
            Mode::Chained { txs, workers } => {
                drop(txs);
                let mut roots = Vec::new();
                for w in workers {
                    roots.extend(w.join().map_err(|_| worker_died())?.roots(&h));
                }
                roots
            }
            Mode::Unchained {
                tx,
                workers,
                mut group,
                mut reorder,
                mut next_fold,
            } => {
                drop(tx);
                for w in workers {
                    w.join().map_err(|_| worker_died())?;
                }
                for d in self.done_rx.try_iter() {
                    if let Done::Roots(i, r) = d {
                        reorder.insert(i, r);
                    }
                }
                while let Some(roots) = reorder.remove(&next_fold) {
                    group.push_roots(&h, self.rows.trailing_zeros(), &roots);
                    next_fold += 1;
                }
                if !reorder.is_empty() {
                    return Err(worker_died());
                }
                if partial {
                    group.process(&h, &self.current, self.rows);
                }
                group.roots(&h)
            }
        };
        let top_root = root_of(&h, &lane_roots).unwrap_or([0; 32]);
        let root = self.params.commitment_root(self.n, &top_root);
        Ok(Proof {
            params: self.params,
            n: self.n,
            lane_roots,
            top_root,
            root,
            pinned: self.pinned.load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

impl TraceSink for Prover {
    fn consume(&mut self, mut chunks: &[Chunk]) -> io::Result<()> {
        self.n += chunks.len() as u64;
        while !chunks.is_empty() {
            let room = self.block_len - self.current.len();
            let take = room.min(chunks.len());
            let cur = Arc::get_mut(&mut self.current).ok_or_else(worker_died)?;
            cur.extend_from_slice(&chunks[..take]);
            chunks = &chunks[take..];
            if self.current.len() == self.block_len {
                self.dispatch()?;
            }
        }
        Ok(())
    }
}
