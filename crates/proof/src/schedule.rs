//! The work of one proof as small tasks over a bounded window of blocks, and the loop every
//! hashing thread runs.
//!
//! Block `b` lives in slot `b mod W` of a window of `W` slots, from the moment it is filled
//! until it is folded into the lane frontiers, which happens strictly in block order. Tasks:
//! - **Fill** `b` (indexable sources): the worker writes the block's chunks itself; unchained,
//!   it then hashes the whole block too, while the chunks are still in its cache.
//! - **Leaves** `(b, g)` (chained): the leaves of lane group `g` (lanes in groups of
//!   [`super::pipeline::chain_width`]) in block `b`. Only this is sequential: it needs `(b - 1, g)` done, for the links.
//!   Groups are claimed dynamically, so no worker waits in lockstep for another.
//! - **Nodes** `(b, g)`: the perfect subtrees over those leaves (unchained: leaves and nodes of
//!   the whole block). Any free worker takes them; they are not lane-bound.
//! - **Fold**: pushes the lane subtree roots of block `fold_next` into the frontiers, one
//!   batched node call per level, and frees its slot.
//!
//! A worker picks, under one short lock, the most urgent runnable task: the fold (it frees
//! slots), a chain step (the critical path, preferring the group it ran last so the links stay
//! in its cache), a fill a chain is waiting for, nodes (oldest first), then any fill. A worker
//! that hashed a chain step runs that step's nodes next, while the leaves are in its cache;
//! the chain is released at once, so another worker can take its next step meanwhile. A
//! single-lane chain, whose steps are long and latency-bound, stays with its worker while
//! another sleeps, and the sleeper gets the nodes: the chain never waits for a wake-up. Tasks
//! run outside the lock. Buffers belong to the slots and are reused, so the steady state
//! allocates nothing.

use super::engine::{hash_leaves, reduce_rows, reduce_subtrees, Scratch};
use super::hash::{Digest32, Hasher};
use super::tree::LaneFrontiers;
use poie_trace::Chunk;
use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, RwLock};

/// Fills chunks `first..first + out.len()` of an indexable trace.
pub type FillFn<'a> = dyn Fn(u64, &mut [Chunk]) -> io::Result<()> + Sync + 'a;

/// The shape of the blocks and lane groups of one proof.
pub(super) struct Geometry {
    pub lanes: usize,
    pub rows: usize,
    pub chained: bool,
    /// Chained: lanes in groups of the SIMD width. Unchained: one group of all lanes.
    pub groups: Vec<Range<usize>>,
}

impl Geometry {
    pub fn block_len(&self) -> usize {
        self.rows * self.lanes
    }
}

#[derive(Default)]
struct GroupBuf {
    leaves: Vec<u8>,
    roots: Vec<u8>,
}

/// One block's buffers. The locks are never contended by design (the task order gives each
/// buffer one user at a time, or only readers); they are how safe code says so.
struct Slot {
    chunks: RwLock<Vec<Chunk>>,
    groups: Vec<Mutex<GroupBuf>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Task {
    Fill(u64),
    Leaves(u64, usize),
    Nodes(u64, usize),
    Fold(u64),
}

struct State {
    /// Per slot: it holds a filled block.
    filled: Vec<bool>,
    /// Per slot: groups whose subtree roots are still missing.
    pending: Vec<usize>,
    /// Blocks handed in by a streaming producer.
    submitted: u64,
    chain_next: Vec<u64>,
    chain_busy: Vec<bool>,
    ready_nodes: VecDeque<(u64, usize)>,
    fold_next: u64,
    fold_busy: bool,
    /// Indexable sources: the next block to fill and the number of full blocks.
    next_fill: u64,
    fill_end: u64,
    failed: Option<io::Error>,
    closing: bool,
    sleeping: usize,
    /// The smallest `fold_next` a thread waiting on `progress` needs (`u64::MAX`: none
    /// waits). Folds wake it only then: a wake per block would cost the producer, or a
    /// worker whose core it borrows, a context switch per block for nothing.
    wanted_fold: u64,
}

struct Folder {
    frontiers: LaneFrontiers,
    roots: Vec<u8>,
}

/// Everything the threads of one proof share.
pub(super) struct Shared {
    pub h: Hasher,
    pub geo: Geometry,
    slots: Vec<Slot>,
    links: Vec<Mutex<Vec<Digest32>>>,
    folder: Mutex<Folder>,
    state: Mutex<State>,
    /// Workers wait here for tasks.
    work: Condvar,
    /// The producer and the finishing thread wait here for folds.
    progress: Condvar,
    pub pinned: AtomicUsize,
    /// Tests only: every task's start and end and every submitted block, in the order they
    /// happened.
    #[cfg(test)]
    log: Mutex<Vec<tests::Event>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic never happens while a lock is held (tasks run outside and are caught), so a
    // poisoned lock still holds consistent data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stopped() -> io::Error {
    io::Error::other("the prover stopped")
}

impl Shared {
    pub fn new(h: Hasher, geo: Geometry, window: usize) -> Shared {
        let window = window.max(1);
        let ngroups = geo.groups.len();
        Shared {
            slots: (0..window)
                .map(|_| Slot {
                    chunks: RwLock::new(Vec::new()),
                    groups: (0..ngroups).map(|_| Mutex::default()).collect(),
                })
                .collect(),
            links: geo
                .groups
                .iter()
                .map(|g| Mutex::new(vec![[0; 32]; g.len()]))
                .collect(),
            folder: Mutex::new(Folder {
                frontiers: LaneFrontiers::new(geo.lanes),
                roots: Vec::new(),
            }),
            state: Mutex::new(State {
                filled: vec![false; window],
                pending: vec![ngroups; window],
                submitted: 0,
                chain_next: vec![0; ngroups],
                chain_busy: vec![false; ngroups],
                ready_nodes: VecDeque::with_capacity(window * ngroups),
                fold_next: 0,
                fold_busy: false,
                next_fill: 0,
                fill_end: 0,
                failed: None,
                closing: false,
                sleeping: 0,
                wanted_fold: u64::MAX,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            pinned: AtomicUsize::new(0),
            #[cfg(test)]
            log: Mutex::default(),
            h,
            geo,
        }
    }

    fn window(&self) -> u64 {
        self.slots.len() as u64
    }

    fn slot(&self, b: u64) -> usize {
        (b % self.window()) as usize
    }

    /// Block `b` is filled and still in its slot.
    fn is_filled(&self, st: &State, b: u64) -> bool {
        b >= st.fold_next && b < st.fold_next + self.window() && st.filled[self.slot(b)]
    }

    /// Announces `full` blocks for workers to fill from an indexable source.
    pub fn set_fill_end(&self, full: u64) {
        lock(&self.state).fill_end = full;
    }

    /// The most urgent runnable task, marked as taken.
    fn next_task(&self, st: &mut State, hint: Option<usize>) -> Option<Task> {
        if st.failed.is_some() {
            return None;
        }
        let b = st.fold_next;
        if !st.fold_busy && self.is_filled(st, b) && st.pending[self.slot(b)] == 0 {
            st.fold_busy = true;
            return Some(Task::Fold(b));
        }
        let ngroups = st.chain_next.len();
        if self.geo.chained {
            let start = hint.unwrap_or(0);
            for g in (start..ngroups).chain(0..start) {
                let b = st.chain_next[g];
                if !st.chain_busy[g] && self.is_filled(st, b) {
                    st.chain_busy[g] = true;
                    return Some(Task::Leaves(b, g));
                }
            }
        }
        let can_fill = st.next_fill < st.fill_end && st.next_fill < st.fold_next + self.window();
        if can_fill && self.geo.chained {
            let wanted =
                (0..ngroups).any(|g| !st.chain_busy[g] && st.chain_next[g] == st.next_fill);
            if wanted {
                st.next_fill += 1;
                return Some(Task::Fill(st.next_fill - 1));
            }
        }
        if let Some((b, g)) = st.ready_nodes.pop_front() {
            return Some(Task::Nodes(b, g));
        }
        if can_fill {
            st.next_fill += 1;
            return Some(Task::Fill(st.next_fill - 1));
        }
        None
    }

    /// Roughly how many tasks are runnable now: how many sleeping workers to wake.
    fn runnable(&self, st: &State) -> usize {
        let b = st.fold_next;
        let fold =
            usize::from(!st.fold_busy && self.is_filled(st, b) && st.pending[self.slot(b)] == 0);
        let chains = (0..st.chain_next.len())
            .filter(|&g| {
                self.geo.chained && !st.chain_busy[g] && self.is_filled(st, st.chain_next[g])
            })
            .count();
        let fills = (st.fill_end.min(st.fold_next + self.window())).saturating_sub(st.next_fill);
        fold + chains + st.ready_nodes.len() + fills.min(usize::MAX as u64) as usize
    }

    fn complete(&self, st: &mut State, t: Task, follow: bool) {
        match t {
            Task::Fill(b) => {
                let s = self.slot(b);
                st.filled[s] = true;
                if !self.geo.chained {
                    st.pending[s] = 0;
                }
            }
            Task::Leaves(b, g) => {
                st.chain_next[g] = b + 1;
                st.chain_busy[g] = false;
                if !follow {
                    st.ready_nodes.push_back((b, g));
                }
            }
            Task::Nodes(b, _) => {
                let s = self.slot(b);
                st.pending[s] = st.pending[s].saturating_sub(1);
            }
            Task::Fold(b) => {
                let s = self.slot(b);
                st.filled[s] = false;
                st.pending[s] = self.geo.groups.len();
                st.fold_next = b + 1;
                st.fold_busy = false;
                if st.fold_next >= st.wanted_fold {
                    st.wanted_fold = u64::MAX;
                    self.progress.notify_all();
                }
            }
        }
    }

    fn fail(&self, st: &mut State, e: io::Error) {
        if st.failed.is_none() {
            st.failed = Some(e);
        }
        self.work.notify_all();
        self.progress.notify_all();
    }

    fn wake(&self, st: &State) {
        for _ in 0..self.runnable(st).min(st.sleeping) {
            self.work.notify_one();
        }
    }

    fn run(&self, t: Task, fill: Option<&FillFn>, s: &mut Scratch) -> io::Result<()> {
        let (h, geo) = (&self.h, &self.geo);
        match t {
            Task::Fill(b) => {
                let fill = fill.ok_or_else(stopped)?;
                let slot = &self.slots[self.slot(b)];
                let mut chunks = slot.chunks.write().unwrap_or_else(PoisonError::into_inner);
                chunks.resize(geo.block_len(), [0; 32]);
                fill(b * geo.block_len() as u64, &mut chunks)?;
                if !geo.chained {
                    let mut g = lock(&slot.groups[0]);
                    let GroupBuf { leaves, roots } = &mut *g;
                    hash_leaves(
                        h,
                        &chunks,
                        geo.lanes,
                        geo.rows,
                        0..geo.lanes,
                        None,
                        leaves,
                        s,
                    );
                    reduce_subtrees(h, leaves, geo.lanes, geo.rows, roots, s);
                }
            }
            Task::Leaves(b, g) => {
                let slot = &self.slots[self.slot(b)];
                let chunks = slot.chunks.read().unwrap_or_else(PoisonError::into_inner);
                let mut buf = lock(&slot.groups[g]);
                let mut links = lock(&self.links[g]);
                let lanes = geo.groups[g].clone();
                hash_leaves(
                    h,
                    &chunks,
                    geo.lanes,
                    geo.rows,
                    lanes,
                    Some(&mut links),
                    &mut buf.leaves,
                    s,
                );
            }
            Task::Nodes(b, g) => {
                let slot = &self.slots[self.slot(b)];
                let mut buf = lock(&slot.groups[g]);
                let GroupBuf { leaves, roots } = &mut *buf;
                let nl = geo.groups[g].len();
                if geo.chained {
                    reduce_rows(h, leaves, nl, geo.rows, roots, s);
                } else {
                    let chunks = slot.chunks.read().unwrap_or_else(PoisonError::into_inner);
                    hash_leaves(
                        h,
                        &chunks,
                        geo.lanes,
                        geo.rows,
                        0..geo.lanes,
                        None,
                        leaves,
                        s,
                    );
                    reduce_subtrees(h, leaves, nl, geo.rows, roots, s);
                }
            }
            Task::Fold(b) => {
                let slot = &self.slots[self.slot(b)];
                let mut folder = lock(&self.folder);
                let Folder { frontiers, roots } = &mut *folder;
                roots.clear();
                for g in &slot.groups {
                    roots.extend_from_slice(&lock(g).roots);
                }
                frontiers.push_subtrees(h, geo.rows.trailing_zeros(), roots);
            }
        }
        Ok(())
    }

    fn run_caught(&self, t: Task, fill: Option<&FillFn>, s: &mut Scratch) -> io::Result<()> {
        #[cfg(test)]
        lock(&self.log).push(tests::Event::Start(t));
        let r = catch_unwind(AssertUnwindSafe(|| self.run(t, fill, s)))
            .unwrap_or_else(|_| Err(io::Error::other("a hashing task panicked")));
        #[cfg(test)]
        lock(&self.log).push(tests::Event::End(t));
        r
    }

    /// A worker thread's life: take tasks until the proof closes or fails.
    pub fn work(&self, fill: Option<&FillFn>) {
        let mut s = Scratch::default();
        let mut hint = None;
        // What this worker runs next after a chain step, decided under the lock when the step
        // is done: see `after_leaves`.
        let mut then: Option<Task> = None;
        let mut st = lock(&self.state);
        loop {
            let next = match then.take() {
                Some(t) if st.failed.is_none() => Some(t),
                _ => self.next_task(&mut st, hint),
            };
            match next {
                Some(t) => {
                    drop(st);
                    if let Task::Leaves(_, g) = t {
                        hint = Some(g);
                    }
                    let r = self.run_caught(t, fill, &mut s);
                    st = lock(&self.state);
                    match r {
                        Ok(()) => {
                            self.complete(&mut st, t, true);
                            if let Task::Leaves(b, g) = t {
                                then = Some(self.after_leaves(&mut st, b, g));
                            }
                        }
                        Err(e) => self.fail(&mut st, e),
                    }
                    self.wake(&st);
                }
                None if st.closing || st.failed.is_some() => return,
                None => {
                    st.sleeping += 1;
                    st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
                    st.sleeping -= 1;
                }
            }
        }
    }

    /// The task a worker takes right after hashing chain step `(b, g)`, whose nodes are still
    /// to do. Usually those nodes, while the leaves are in its cache; the chain is already
    /// released for any free worker.
    ///
    /// But a single-lane chain (L = 1, or a scalar backend) is latency-bound: one dependent
    /// compression per row, several times the work of its nodes, so it is the whole critical
    /// path and the other workers mostly sleep. When one sleeps, this worker keeps the chain,
    /// with its links and leaves buffer in its cache, and wakes the sleeper for the nodes.
    /// Wider chains hand over as usual. Measured with 2 threads on 2 cores (interleaved
    /// rounds): keeping single-lane chains +9% at L = 1; keeping every chain -6 to -8% at
    /// L = 4, where the step writes its leaves faster than another core gives up the lines
    /// the nodes read there.
    fn after_leaves(&self, st: &mut State, b: u64, g: usize) -> Task {
        let next = b + 1;
        let single = self.geo.groups.get(g).is_some_and(|r| r.len() == 1);
        let chain_free = single
            && st.chain_next.get(g) == Some(&next)
            && st.chain_busy.get(g) == Some(&false)
            && self.is_filled(st, next);
        if st.sleeping > 0 && chain_free {
            st.chain_busy[g] = true;
            st.ready_nodes.push_back((b, g));
            Task::Leaves(next, g)
        } else {
            Task::Nodes(b, g)
        }
    }

    /// Runs runnable tasks on the calling thread until none is left (no worker threads).
    pub fn drain(&self, fill: Option<&FillFn>, s: &mut Scratch) -> io::Result<()> {
        loop {
            let t = {
                let mut st = lock(&self.state);
                match self.next_task(&mut st, None) {
                    Some(t) => t,
                    None => return st.failed.take().map_or(Ok(()), Err),
                }
            };
            let r = self.run_caught(t, fill, s);
            let mut st = lock(&self.state);
            match r {
                Ok(()) => self.complete(&mut st, t, false),
                Err(e) => self.fail(&mut st, e),
            }
        }
    }

    /// Hands a full block from a streaming producer to the workers, swapping `chunks` with the
    /// slot's old buffer; waits while the window is full.
    pub fn submit(&self, chunks: &mut Vec<Chunk>) -> io::Result<()> {
        let mut st = lock(&self.state);
        let b = st.submitted;
        while st.failed.is_none() && b >= st.fold_next + self.window() {
            st.wanted_fold = st.wanted_fold.min(b + 1 - self.window());
            st = self
                .progress
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if let Some(e) = st.failed.take() {
            st.failed = Some(io::Error::new(e.kind(), e.to_string()));
            return Err(e);
        }
        let s = self.slot(b);
        std::mem::swap(
            &mut *self.slots[s]
                .chunks
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            chunks,
        );
        chunks.resize(self.geo.block_len(), [0; 32]);
        st.filled[s] = true;
        st.submitted = b + 1;
        #[cfg(test)]
        lock(&self.log).push(tests::Event::Submitted(b));
        if !self.geo.chained {
            st.ready_nodes.push_back((b, 0));
        }
        self.wake(&st);
        Ok(())
    }

    /// Waits until `blocks` blocks are folded (or the proof failed).
    pub fn wait_folded(&self, blocks: u64) -> io::Result<()> {
        let mut st = lock(&self.state);
        while st.failed.is_none() && st.fold_next < blocks {
            st.wanted_fold = st.wanted_fold.min(blocks);
            st = self
                .progress
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
        st.failed.take().map_or(Ok(()), Err)
    }

    pub fn submitted(&self) -> u64 {
        lock(&self.state).submitted
    }

    /// Lets idle workers exit; with `abort`, also stops them taking more tasks.
    pub fn close(&self, abort: bool) {
        let mut st = lock(&self.state);
        st.closing = true;
        if abort && st.failed.is_none() {
            st.failed = Some(stopped());
        }
        self.work.notify_all();
        self.progress.notify_all();
    }

    /// The lane frontiers after the folded blocks, and the links of every lane (chained).
    pub fn take_state(&self) -> (LaneFrontiers, Vec<Digest32>) {
        let frontiers = std::mem::take(&mut lock(&self.folder).frontiers);
        let links = self.links.iter().flat_map(|l| lock(l).clone()).collect();
        (frontiers, links)
    }
}

#[cfg(test)]
mod tests {
    //! A stress test of the scheduler on its own: many thread counts, windows, lane groupings
    //! and both ways in (workers fill, a producer submits), each run checked event by event
    //! against the task order the module promises, and its result against the reference.

    use super::*;
    use crate::backend::Simd;
    use crate::hash::HashId;
    use crate::layout::{Layout, Params};
    use crate::reference;
    use std::collections::HashMap;
    use std::sync::mpsc;
    use std::time::Duration;

    /// What the scheduler did; the log's lock orders the events of all threads.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub(super) enum Event {
        Start(Task),
        End(Task),
        Submitted(u64),
    }
    use Event::{End, Start, Submitted};
    use Task::{Fill, Fold, Leaves, Nodes};

    /// Full blocks per run: several windows' worth, so every slot is reused.
    const BLOCKS: u64 = 12;
    const SECRET: Digest32 = [7; 32];
    /// A run that takes this long has deadlocked (a run takes milliseconds).
    const DEADLOCK: Duration = Duration::from_secs(30);

    #[derive(Clone, Copy, Debug)]
    struct Case {
        /// Worker threads; 0 runs everything on the calling thread (`drain`).
        threads: usize,
        window: usize,
        lanes: usize,
        /// Lanes per chain (chained); unchained runs have one group of all lanes.
        width: usize,
        rows: usize,
        chained: bool,
        /// A producer submits the blocks (`Prover`), instead of workers filling them.
        streaming: bool,
    }

    impl Case {
        fn block_len(&self) -> usize {
            self.rows * self.lanes
        }

        fn groups(&self) -> Vec<Range<usize>> {
            let width = if self.chained { self.width } else { self.lanes };
            (0..self.lanes.div_ceil(width))
                .map(|g| g * width..((g + 1) * width).min(self.lanes))
                .collect()
        }
    }

    fn hasher() -> Hasher {
        Hasher::new(HashId::Blake3, SECRET, Simd::detect()).expect("detected backend")
    }

    fn trace(case: &Case) -> Vec<Chunk> {
        let n = BLOCKS as usize * case.block_len();
        (0..n as u64)
            .map(|i| *blake3::hash(&i.to_le_bytes()).as_bytes())
            .collect()
    }

    /// Proves the case's `BLOCKS` full blocks as the pipeline does, and returns the scheduler.
    fn run(case: Case, trace: &[Chunk]) -> Shared {
        let geo = Geometry {
            lanes: case.lanes,
            rows: case.rows,
            chained: case.chained,
            groups: case.groups(),
        };
        let shared = Shared::new(hasher(), geo, case.window);
        let block_len = case.block_len();
        let fill = |first: u64, out: &mut [Chunk]| {
            let first = usize::try_from(first).expect("small trace");
            out.copy_from_slice(&trace[first..first + out.len()]);
            Ok(())
        };
        let fill: &FillFn = &fill;
        let mut scratch = Scratch::default();
        // Before any worker looks for a fill, as `prove_indexed` does: announcing fills wakes
        // nobody.
        if !case.streaming {
            shared.set_fill_end(BLOCKS);
        }
        std::thread::scope(|s| {
            for _ in 0..case.threads {
                s.spawn(|| shared.work((!case.streaming).then_some(fill)));
            }
            let r = if case.streaming {
                for block in trace.chunks(block_len) {
                    let mut chunks = block.to_vec();
                    shared.submit(&mut chunks).expect("submitted");
                    if case.threads == 0 {
                        shared.drain(None, &mut scratch).expect("drained");
                    }
                }
                shared.wait_folded(BLOCKS)
            } else if case.threads == 0 {
                shared.drain(Some(fill), &mut scratch)
            } else {
                shared.wait_folded(BLOCKS)
            };
            shared.close(r.is_err());
            r.expect("every block folded");
        });
        shared
    }

    /// The log of one run, indexed: where each event happened.
    struct Log {
        at: HashMap<Event, Vec<usize>>,
        len: usize,
    }

    impl Log {
        fn new(events: &[Event]) -> Log {
            let mut at: HashMap<Event, Vec<usize>> = HashMap::new();
            for (i, e) in events.iter().enumerate() {
                at.entry(*e).or_default().push(i);
            }
            Log {
                at,
                len: events.len(),
            }
        }

        /// Where `e` happened; it must have happened exactly once.
        fn once(&self, e: Event) -> usize {
            match self.at.get(&e).map(Vec::as_slice) {
                Some([i]) => *i,
                other => panic!("{e:?} happened at {other:?}, not exactly once"),
            }
        }

        /// Where task `t` started and ended; each exactly once, the start first.
        fn task(&self, t: Task) -> (usize, usize) {
            let (start, end) = (self.once(Start(t)), self.once(End(t)));
            assert!(start < end, "{t:?} ended before it started");
            (start, end)
        }
    }

    /// Every block filled once, every chain step in order per lane group, nodes after their
    /// leaves, folds once each and in block order after their nodes, no slot reused before
    /// its block is folded, and nothing else.
    fn check_order(case: &Case, log: &Log) {
        let groups = case.groups().len();
        let mut expected = 0;
        for b in 0..BLOCKS {
            // When block b's chunks are in its slot, and when they were written.
            let (written, filled) = if case.streaming {
                let at = log.once(Submitted(b));
                (at, at)
            } else {
                log.task(Fill(b))
            };
            expected += if case.streaming { 1 } else { 2 };
            if let Some(before) = b.checked_sub(case.window as u64) {
                let (_, folded) = log.task(Fold(before));
                assert!(
                    folded < written,
                    "block {b} overwrote unfolded block {before}"
                );
            }
            let (fold_start, _) = log.task(Fold(b));
            expected += 2;
            assert!(filled < fold_start, "block {b} folded before it was filled");
            if b > 0 {
                let (_, previous) = log.task(Fold(b - 1));
                assert!(
                    previous < fold_start,
                    "block {b} folded before block {}",
                    b - 1
                );
            }
            for g in 0..groups {
                // When the leaves of (b, g) exist: after its chain step, or its fill.
                let mut leaves = filled;
                if case.chained {
                    let (start, end) = log.task(Leaves(b, g));
                    expected += 2;
                    assert!(filled < start, "chain step ({b}, {g}) before its fill");
                    if b > 0 {
                        let (_, previous) = log.task(Leaves(b - 1, g));
                        assert!(previous < start, "chain {g}: block {b} before {}", b - 1);
                    }
                    leaves = end;
                }
                // Unchained, a worker's fill hashes its whole block; a submitted block is
                // hashed as one nodes task.
                if case.chained || case.streaming {
                    let (start, end) = log.task(Nodes(b, g));
                    expected += 2;
                    assert!(leaves < start, "nodes ({b}, {g}) before their leaves");
                    assert!(end < fold_start, "block {b} folded before nodes ({b}, {g})");
                }
            }
        }
        assert_eq!(log.len, expected, "tasks beyond the ones checked");
    }

    /// The run's lane roots and links against the reference's, leaf by leaf.
    fn check_result(case: &Case, shared: Shared, trace: &[Chunk]) {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(case.lanes as u32, case.chained).expect("layout"),
        };
        let leaves = reference::leaves(&params, &SECRET, trace);
        let want = reference::lane_roots(&params, &leaves);
        let h = hasher();
        let (frontiers, links) = shared.take_state();
        let roots: Vec<Digest32> = frontiers
            .into_frontiers()
            .iter()
            .map(|f| f.root(&h).expect("a non-empty lane"))
            .collect();
        assert_eq!(roots, want, "lane roots");
        if case.chained {
            assert_eq!(links, leaves[leaves.len() - case.lanes..], "links");
        }
    }

    /// Runs and checks one case on a thread of its own, so that a deadlock fails the test
    /// (naming the case) instead of hanging it.
    fn check(case: Case) {
        let (done, finished) = mpsc::channel();
        let runner = std::thread::spawn(move || {
            let trace = trace(&case);
            let shared = run(case, &trace);
            let events = std::mem::take(&mut *lock(&shared.log));
            check_order(&case, &Log::new(&events));
            check_result(&case, shared, &trace);
            done.send(()).expect("the test waits");
        });
        match finished.recv_timeout(DEADLOCK) {
            Ok(()) => runner.join().expect("checked"),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{case:?}: no end in {DEADLOCK:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
                Err(panic) => {
                    eprintln!("failed: {case:?}");
                    std::panic::resume_unwind(panic)
                }
                Ok(()) => unreachable!("the runner reports before it ends"),
            },
        }
    }

    /// Thread counts (0: the calling thread alone), windows and lane shapes.
    fn cases() -> Vec<Case> {
        // (lanes, lanes per chain, rows, chained): single-lane chains (kept by their worker
        // while another sleeps), uneven groups, SIMD-wide groups, one-row blocks, and
        // unchained blocks of one lane and of several.
        let shapes = [
            (1, 1, 4, true),
            (3, 1, 2, true),
            (5, 2, 2, true),
            (8, 4, 4, true),
            (8, 8, 1, true),
            (1, 1, 4, false),
            (6, 6, 2, false),
        ];
        let mut cases = Vec::new();
        for threads in 0..=8 {
            // The smallest windows, and the pipeline's own (`2 threads + 2`).
            let mut windows = vec![1, 2, 3, 4, 2 * threads + 2];
            windows.dedup();
            for window in windows {
                for (lanes, width, rows, chained) in shapes {
                    for streaming in [false, true] {
                        cases.push(Case {
                            threads,
                            window,
                            lanes,
                            width,
                            rows,
                            chained,
                            streaming,
                        });
                    }
                }
            }
        }
        cases
    }

    #[test]
    fn every_thread_count_and_window_fills_chains_and_folds_in_order() {
        // Interleavings differ from run to run: each case runs several times (about a second
        // in all on two cores).
        for _ in 0..4 {
            cases().into_iter().for_each(check);
        }
    }
}
