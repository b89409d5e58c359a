//! The tree of a windback's trace in bounded memory: what a player keeps to answer any node or
//! leaf of a 10^9-step game without holding 96 bytes per step.
//!
//! Per lane it keeps the digests of its complete aligned subtrees of `2^block_bits` leaves and
//! more, and the pieces of its last, incomplete block; over the lanes, their roots. That is
//! every digest the game asks above a block, and the root. Below a block, a node's leaves, and
//! a leaf's chunk and link, are recomputed by re-executing from the nearest checkpoint before
//! them: a VM snapshot with every lane's last leaf there (the link of its next leaf), hashing
//! only the asked lane's chunks. Block size and checkpoint spacing follow from the vote's `n`
//! and [`Limits`], so memory is bounded whatever the windback's length, and a recomputation
//! costs at most one checkpoint spacing plus one block of the lane (`2^block_bits * L` steps).
//!
//! Only nodes of the tree (reached from the root by its splits) are answered: for them a node
//! is either a complete aligned subtree or runs to its lane's end, so each is one lookup, one
//! fold of kept pieces, or one recomputation of less than a block.

use super::tree::SetupError;
use crate::windback::{self, ExecuteError, Job};
use poie_proof::hash::{Digest32, Hasher};
use poie_proof::layout::Layout;
use poie_proof::tree as merkle;
use poie_trace::{Chunk, TraceSink};
use poie_vm::Snapshot;
use std::io;

/// The memory a bounded tree may use, by kind (approximate: page sharing between snapshots is
/// counted once, at the snapshot that first held the page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The kept lane digests: the block size is the smallest power of two that fits.
    pub digest_bytes: u64,
    /// Every checkpoint's lane links together (`32 * L` bytes each when chained).
    pub link_bytes: u64,
    /// The VM snapshots' pages and tables together; past it, every other checkpoint is dropped.
    pub snapshot_bytes: u64,
    /// The most checkpoints.
    pub max_checkpoints: u64,
    /// The closest checkpoints: closer ones cost more to take than they save.
    pub min_spacing: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            digest_bytes: 64 << 20,
            link_bytes: 64 << 20,
            snapshot_bytes: 384 << 20,
            max_checkpoints: 64,
            min_spacing: 1 << 16,
        }
    }
}

/// Why a bounded tree could not answer: its recomputation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("re-executing the windback failed: {0}")]
    Execute(#[from] ExecuteError),
    #[error("the windback ended before step {0}, which the tree holds (a file changed?)")]
    Short(u64),
}

/// The kept digests of one lane.
#[derive(Default)]
struct LaneDigests {
    /// Leaves in the lane.
    count: u64,
    /// `levels[m][i]`: the subtree of leaves `[i * 2^(b+m), (i + 1) * 2^(b+m))`, for every
    /// complete one, `b` being the block bits.
    levels: Vec<Vec<Digest32>>,
    /// The complete aligned pieces of the last, incomplete block, largest first: the binary
    /// digits of `count mod 2^b`.
    tail: Vec<Digest32>,
}

/// Digests laid end to end, split.
fn digests(bytes: &[u8]) -> Vec<Digest32> {
    bytes
        .chunks_exact(32)
        .map(|d| {
            let mut digest = [0; 32];
            digest.copy_from_slice(d);
            digest
        })
        .collect()
}

/// `node(l, r)` for each pair, hashed together (SIMD where the hasher has it).
fn join_all(h: &Hasher, pairs: &[[u8; 64]]) -> Vec<Digest32> {
    let mut out = vec![0u8; pairs.len() * 32];
    h.nodes(pairs, &mut out);
    digests(&out)
}

fn pair(l: &Digest32, r: &Digest32) -> [u8; 64] {
    let mut p = [0; 64];
    p[..32].copy_from_slice(l);
    p[32..].copy_from_slice(r);
    p
}

/// Pushes `leaves[k]` into `lanes[k]`, lanes that all hold the same number of leaves (one row
/// of the trace, or part of one): each then merges the same pieces, so each merge is one
/// batch of hashes across the lanes.
fn push_row(lanes: &mut [LaneDigests], leaves: Vec<Digest32>, block_bits: u32, h: &Hasher) {
    let Some(count) = lanes.first().map(|l| l.count) else {
        return;
    };
    let mask = (1u64 << block_bits) - 1;
    // Each low 1 bit of the count in the block is a piece of that size to merge with.
    let mut ds = leaves;
    for _ in 0..(count & mask).trailing_ones() {
        let pairs: Vec<[u8; 64]> = lanes
            .iter_mut()
            .zip(&ds)
            .map(|(lane, d)| pair(&lane.tail.pop().unwrap_or([0; 32]), d))
            .collect();
        ds = join_all(h, &pairs);
    }
    for lane in lanes.iter_mut() {
        lane.count += 1;
    }
    if (count + 1) & mask != 0 {
        for (lane, d) in lanes.iter_mut().zip(ds) {
            lane.tail.push(d);
        }
        return;
    }
    // A block is complete in every lane: each level it completes is joined above it.
    let mut m = 0;
    loop {
        let mut pairs = Vec::with_capacity(lanes.len());
        for (lane, d) in lanes.iter_mut().zip(&ds) {
            if lane.levels.len() <= m {
                lane.levels.push(Vec::new());
            }
            let Some(level) = lane.levels.get_mut(m) else {
                return;
            };
            level.push(*d);
            if level.len() % 2 == 1 {
                continue;
            }
            if let [.., l, r] = level.as_slice() {
                pairs.push(pair(l, r));
            }
        }
        if pairs.len() != lanes.len() {
            return;
        }
        ds = join_all(h, &pairs);
        m += 1;
    }
}

impl LaneDigests {
    /// The pieces of `[lo, count)` in order, largest first: the complete aligned subtrees the
    /// binary digits of `count` cut the lane into, from the one starting at `lo`. `None` unless
    /// one starts there (as one does for every node of the tree that ends at the lane's end and
    /// is not itself a complete aligned subtree).
    fn pieces_from(&self, lo: u64, block_bits: u32) -> Option<Vec<Digest32>> {
        let mut pieces: Vec<(u64, Digest32)> = Vec::new();
        let mut start = 0u64;
        let mut tail = self.tail.iter();
        for bit in (0..64u32).rev() {
            if self.count >> bit & 1 == 0 {
                continue;
            }
            let piece = match bit.checked_sub(block_bits) {
                Some(m) => *self
                    .levels
                    .get(m as usize)?
                    .get(usize::try_from(start >> bit).ok()?)?,
                None => *tail.next()?,
            };
            pieces.push((start, piece));
            start += 1 << bit;
        }
        let first = pieces.iter().position(|&(s, _)| s == lo)?;
        Some(pieces.get(first..)?.iter().map(|&(_, d)| d).collect())
    }
}

/// The bytes a bounded tree keeps, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    pub digests: u64,
    pub links: u64,
    pub snapshots: u64,
}

/// The VM where the trace reached step `step`, with each lane's last leaf before it.
struct Checkpoint {
    step: u64,
    job: usize,
    vm: Snapshot,
    /// Lane `j`'s last leaf before `step` (zero for none); empty when lanes are not chained.
    links: Vec<Digest32>,
}

/// A tree over a windback's trace, with the memory of [`Limits`]. See the module's text.
pub struct Bounded {
    layout: Layout,
    h: Hasher,
    jobs: Vec<Job>,
    max_steps: u64,
    n: u64,
    corrupt_at: Option<u64>,
    block_bits: u32,
    lanes: Vec<LaneDigests>,
    lane_roots: Vec<Digest32>,
    checkpoints: Vec<Checkpoint>,
}

/// One recomputed leaf: its chunk, link and digest.
pub type Recomputed = (Chunk, Digest32, Digest32);

impl Bounded {
    /// Runs the windback under `max_steps`, to at most `n_max` chunks (a longer trace is
    /// refused: [`SetupError::TooLong`]), keeping what [`Limits`] allows. `corrupt_at` flips a
    /// bit of one chunk before it is hashed: drills of a lying executor.
    pub fn build(
        layout: Layout,
        h: Hasher,
        jobs: &[Job],
        max_steps: u64,
        n_max: u64,
        corrupt_at: Option<u64>,
        limits: Limits,
    ) -> Result<Bounded, SetupError> {
        let lanes = u64::from(layout.lanes.max(1));
        let block_bits = (0..63)
            .find(|&b| (n_max >> b).saturating_mul(64) <= limits.digest_bytes)
            .unwrap_or(63);
        let by_links = if layout.chained {
            limits.link_bytes / lanes.saturating_mul(32).max(1)
        } else {
            u64::MAX
        };
        let max_checkpoints = limits.max_checkpoints.min(by_links).max(1);
        let mut spacing = n_max
            .div_ceil(max_checkpoints)
            .max(limits.min_spacing)
            .max(1);

        let mut sink = BuildSink {
            h: &h,
            lanes: (0..layout.lanes.min(u32::try_from(n_max).unwrap_or(u32::MAX)))
                .map(|_| LaneDigests::default())
                .collect(),
            links: if layout.chained {
                vec![[0; 32]; layout.lanes as usize]
            } else {
                Vec::new()
            },
            lane_count: lanes,
            next: 0,
            corrupt_at,
            block_bits,
            inputs: Vec::new(),
            leaves: Vec::new(),
        };
        let mut checkpoints: Vec<Checkpoint> = Vec::new();
        let mut held: u64 = 0;
        let mut next_checkpoint = 0u64;
        // Chunks still allowed, counting the one that proves the trace too long.
        let mut budget = n_max.saturating_add(1);
        for (k, job) in jobs.iter().enumerate() {
            let mut vm = windback::load_vm(job, k)?;
            let mut local = 0u64;
            loop {
                if sink.next == next_checkpoint {
                    // The links must include every leaf before the checkpoint.
                    sink.flush();
                    let previous = checkpoints.last().map(|c| &c.vm);
                    let vm_snapshot = vm.snapshot(previous);
                    held += vm_snapshot.held_bytes() as u64;
                    checkpoints.push(Checkpoint {
                        step: sink.next,
                        job: k,
                        vm: vm_snapshot,
                        links: sink.links.clone(),
                    });
                    if checkpoints.len() as u64 > max_checkpoints || held > limits.snapshot_bytes {
                        thin(&mut checkpoints, &mut held);
                        spacing = spacing.saturating_mul(2);
                    }
                    let last = checkpoints.last().map_or(0, |c| c.step);
                    next_checkpoint = last.saturating_add(spacing);
                }
                let limit = max_steps
                    .saturating_sub(local)
                    .min(budget)
                    // The next checkpoint is always ahead (thinning keeps it so); were it not,
                    // the run goes on one step at a time rather than skip the job.
                    .min(next_checkpoint.saturating_sub(sink.next).max(1));
                if limit == 0 {
                    break;
                }
                let ran = vm.run(&mut sink, limit).map_err(ExecuteError::from)?.steps;
                local += ran;
                budget -= ran;
                if budget == 0 {
                    return Err(SetupError::TooLong { n: n_max });
                }
                if ran < limit {
                    break;
                }
            }
        }
        sink.flush();
        let n = sink.next;
        let BuildSink { lanes: digests, .. } = sink;
        let lane_roots = digests
            .iter()
            .filter(|l| l.count > 0)
            .filter_map(|l| fold_right(&l.pieces_from(0, block_bits)?, &h))
            .collect();
        Ok(Bounded {
            layout,
            h,
            jobs: jobs.to_vec(),
            max_steps,
            n,
            corrupt_at,
            block_bits,
            lanes: digests,
            lane_roots,
            checkpoints,
        })
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    /// log2 of the block: lane subtrees this large and larger are kept.
    pub fn block_bits(&self) -> u32 {
        self.block_bits
    }

    pub fn checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// The checkpoints' VM snapshots inside job `job`, ascending: where the second phase's
    /// replay of that job can resume from (`JobReplay::with_seeds`), sharing their pages.
    pub fn snapshots_of(&self, job: usize) -> Vec<Snapshot> {
        self.checkpoints
            .iter()
            .filter(|c| c.job == job)
            .map(|c| c.vm.clone())
            .collect()
    }

    /// What the tree keeps, in bytes: lane digests (kept subtrees, last-block pieces and lane
    /// roots), checkpoint links, and VM snapshots (as [`Limits`] counts them).
    pub fn kept_bytes(&self) -> Kept {
        let digests: usize = self
            .lanes
            .iter()
            .map(|l| l.tail.len() + l.levels.iter().map(Vec::len).sum::<usize>())
            .sum();
        Kept {
            digests: 32 * (digests + self.lane_roots.len()) as u64,
            links: self
                .checkpoints
                .iter()
                .map(|c| 32 * c.links.len() as u64)
                .sum(),
            snapshots: self
                .checkpoints
                .iter()
                .map(|c| c.vm.held_bytes() as u64)
                .sum(),
        }
    }

    /// The root of each used lane, in order: the top tree's leaves.
    pub fn lane_roots(&self) -> &[Digest32] {
        &self.lane_roots
    }

    /// The digest of the lane node `[lo, hi)` of `lane`, a node of the tree; `Ok(None)` for a
    /// range that is not one.
    pub fn lane_digest(
        &self,
        lane: u32,
        lo: u64,
        hi: u64,
    ) -> Result<Option<Digest32>, ReplayError> {
        let Some(digests) = self.lanes.get(lane as usize) else {
            return Ok(None);
        };
        let size = hi.saturating_sub(lo);
        if hi > digests.count || size == 0 {
            return Ok(None);
        }
        if !size.is_power_of_two() || !lo.is_multiple_of(size) {
            // Not a complete aligned subtree: a node of the tree then runs to the lane's end.
            if hi != digests.count {
                return Ok(None);
            }
            let pieces = digests.pieces_from(lo, self.block_bits);
            return Ok(pieces.and_then(|p| fold_right(&p, &self.h)));
        }
        let bits = size.trailing_zeros();
        if let Some(m) = bits.checked_sub(self.block_bits) {
            return Ok(digests
                .levels
                .get(m as usize)
                .and_then(|level| level.get(usize::try_from(lo >> bits).ok()?))
                .copied());
        }
        let leaves: Vec<Digest32> = self.recompute(lane, lo, hi)?.iter().map(|r| r.2).collect();
        let join = |l: &Digest32, r: &Digest32| self.h.node(l, r);
        Ok(merkle::mth(
            0,
            leaves.len() as u64,
            &|i| leaves.get(usize::try_from(i).ok()?).copied(),
            &join,
        ))
    }

    /// Chunk and link of step `index`, if the trace has it.
    pub fn leaf_at(&self, index: u64) -> Result<Option<(Chunk, Digest32)>, ReplayError> {
        if index >= self.n {
            return Ok(None);
        }
        let (lane, pos) = self.layout.locate(index);
        let leaf = self.recompute(lane, pos, pos + 1)?;
        Ok(leaf.first().map(|&(chunk, link, _)| (chunk, link)))
    }

    /// The leaves at positions `[lo, hi)` of `lane` (`lo < hi`, inside the lane), re-executed
    /// from the last checkpoint at or before the first of them.
    fn recompute(&self, lane: u32, lo: u64, hi: u64) -> Result<Vec<Recomputed>, ReplayError> {
        let first = self
            .layout
            .index(lane, lo)
            .ok_or(ReplayError::Short(u64::MAX))?;
        let end = hi
            .checked_sub(1)
            .and_then(|last| self.layout.index(lane, last))
            .and_then(|last| last.checked_add(1))
            .ok_or(ReplayError::Short(u64::MAX))?;
        let cp_at = self.checkpoints.partition_point(|c| c.step <= first);
        let cp = cp_at
            .checked_sub(1)
            .and_then(|i| self.checkpoints.get(i))
            .ok_or(ReplayError::Short(first))?;
        let link = if self.layout.chained {
            self.checkpoints_link(cp, lane)
        } else {
            [0; 32]
        };
        let mut sink = LaneSink {
            h: &self.h,
            lanes: u64::from(self.layout.lanes.max(1)),
            lane: u64::from(lane),
            chained: self.layout.chained,
            corrupt_at: self.corrupt_at,
            next: cp.step,
            link,
            from: first,
            out: Vec::new(),
        };
        let mut vm = cp.vm.resume();
        let mut job = cp.job;
        let mut local = vm.retired();
        while sink.next < end {
            let limit = self.max_steps.saturating_sub(local).min(end - sink.next);
            let ran = if limit > 0 {
                vm.run(&mut sink, limit).map_err(ExecuteError::from)?.steps
            } else {
                0
            };
            local += ran;
            if sink.next < end && (ran < limit || local >= self.max_steps) {
                job += 1;
                let next = self.jobs.get(job).ok_or(ReplayError::Short(sink.next))?;
                vm = windback::load_vm(next, job)?;
                local = 0;
            }
        }
        Ok(sink.out)
    }

    fn checkpoints_link(&self, cp: &Checkpoint, lane: u32) -> Digest32 {
        cp.links.get(lane as usize).copied().unwrap_or([0; 32])
    }
}

/// Keeps every other checkpoint, the first included: the spacing doubles and the count halves.
fn thin(checkpoints: &mut Vec<Checkpoint>, held: &mut u64) {
    let mut i = 0;
    checkpoints.retain(|_| {
        i += 1;
        i % 2 == 1
    });
    *held = checkpoints.iter().map(|c| c.vm.held_bytes() as u64).sum();
}

/// The digest of consecutive pieces, largest first: RFC 6962 splits off the largest power of
/// two first, so the pieces join from the right.
fn fold_right(pieces: &[Digest32], h: &Hasher) -> Option<Digest32> {
    let (last, rest) = pieces.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, p| h.node(p, &acc)))
}

/// Hashes every chunk of the trace into its lane, keeping the lane digests and links.
struct BuildSink<'a> {
    h: &'a Hasher,
    lanes: Vec<LaneDigests>,
    links: Vec<Digest32>,
    lane_count: u64,
    next: u64,
    corrupt_at: Option<u64>,
    block_bits: u32,
    /// Chunks with their links, waiting to be hashed together (at most one per lane, so their
    /// links are known).
    inputs: Vec<[u8; 64]>,
    leaves: Vec<u8>,
}

impl BuildSink<'_> {
    /// Hashes the waiting inputs at once (SIMD where the hasher has it), into their lanes.
    fn flush(&mut self) {
        let count = self.inputs.len() as u64;
        if count == 0 {
            return;
        }
        self.leaves.resize(self.inputs.len() * 32, 0);
        self.h.leaves(&self.inputs, &mut self.leaves);
        let first = self.next - count;
        let lane0 = (first % self.lane_count) as usize;
        let leaves = digests(&self.leaves);
        if let Some(links) = self.links.get_mut(lane0..lane0 + leaves.len()) {
            links.copy_from_slice(&leaves);
        }
        // The waiting chunks are consecutive lanes of one row: the same position in each.
        if let Some(lanes) = self.lanes.get_mut(lane0..lane0 + leaves.len()) {
            push_row(lanes, leaves, self.block_bits, self.h);
        }
        self.inputs.clear();
    }
}

impl TraceSink for BuildSink<'_> {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        for c in chunks {
            let lane = (self.next % self.lane_count) as usize;
            // A lane's link is its previous leaf: hash what waits before its lane comes round.
            if lane == 0 && !self.inputs.is_empty() {
                self.flush();
            }
            let mut input = [0; 64];
            input[..32].copy_from_slice(c);
            if self.corrupt_at == Some(self.next) {
                input[0] ^= 1;
            }
            if let Some(link) = self.links.get(lane) {
                input[32..].copy_from_slice(link);
            }
            self.inputs.push(input);
            self.next += 1;
        }
        Ok(())
    }
}

/// Hashes one lane's chunks from a checkpoint on, keeping those from `from`.
struct LaneSink<'a> {
    h: &'a Hasher,
    lanes: u64,
    lane: u64,
    chained: bool,
    corrupt_at: Option<u64>,
    next: u64,
    link: Digest32,
    from: u64,
    out: Vec<Recomputed>,
}

impl TraceSink for LaneSink<'_> {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let skip = (self.lane + self.lanes - self.next % self.lanes) % self.lanes;
        let start = self.next;
        for (k, c) in chunks
            .iter()
            .enumerate()
            .skip(skip as usize)
            .step_by(self.lanes as usize)
        {
            let index = start + k as u64;
            let mut chunk = *c;
            if self.corrupt_at == Some(index) {
                chunk[0] ^= 1;
            }
            let link = if self.chained { self.link } else { [0; 32] };
            let leaf = self.h.leaf(&chunk, &link);
            self.link = leaf;
            if index >= self.from {
                self.out.push((chunk, link, leaf));
            }
        }
        self.next += chunks.len() as u64;
        Ok(())
    }
}
