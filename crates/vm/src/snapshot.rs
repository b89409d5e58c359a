//! Snapshots of a VM: a copy of everything that decides its future execution and its state
//! commitment, from which a VM in exactly that state is made again ([`Snapshot::resume`]).
//!
//! A dispute's players answer "the state after step k" for any k of a job of up to 10^9 steps;
//! a snapshot every so many steps bounds the replay before an answer. Memory is most of a
//! state (up to 256 MiB resident), and most of it does not change between two snapshots, so a
//! snapshot holds its pages behind `Arc`s and shares each page whose bytes equal the `previous`
//! snapshot's page of the same number: a series costs the pages that changed between its
//! members. Finding them compares bytes (4 KiB `memcmp`s, off the run loop): tracking writes
//! instead would put a check on the store path, which every guest pays for on every store.
//!
//! The input is shared with the VM (`Arc`), never copied. Where the output goes is not part of
//! a state: a resumed VM discards it, but keeps every count and accumulator the state
//! commitment and the output limit use.
//!
//! Each shared page also caches its subtree root in the memory tree, computed the first time a
//! state commitment needs it: a VM resumed from a snapshot (or told to, [`Vm::reuse_page_roots`])
//! hashes again only the pages whose bytes differ from the snapshot's, so asking for the state
//! of a large memory costs a compare of its pages, not 255 keccak256 calls for each.

use crate::exec::Slot;
use crate::memory::{Memory, PAGE_SIZE};
use crate::state::{page_root, Hash};
use crate::{Io, Outcome, Output, Vm};
use std::mem::size_of;
use std::sync::{Arc, OnceLock};

/// Bytes an `Arc` allocation adds to its value: the strong and weak counts.
const ARC_OVERHEAD: usize = 2 * size_of::<usize>();

/// One resident page's bytes, shared by every snapshot whose page of that number holds them.
pub(crate) struct SharedPage {
    pub(crate) bytes: [u8; PAGE_SIZE],
    /// `page_root(bytes)`, once some state commitment has needed it.
    root: OnceLock<Option<Hash>>,
}

impl SharedPage {
    fn new(bytes: &[u8; PAGE_SIZE]) -> SharedPage {
        SharedPage {
            bytes: *bytes,
            root: OnceLock::new(),
        }
    }

    /// The page's subtree root ([`page_root`]; `None` when all zero), computed on first use.
    /// `z` must be `state::zero_hashes()`, as every caller's is: the cache keeps one root.
    pub(crate) fn root(&self, z: &[Hash]) -> Option<Hash> {
        *self.root.get_or_init(|| page_root(&self.bytes, z))
    }
}

/// Resident pages as `(page number, bytes)`, ascending by page number.
pub(crate) type PageList = [(u32, Arc<SharedPage>)];

/// The entry of `list` for page `n`. `cursor` walks `list` along with the ascending `n`s of
/// one pass, so that a pass over all pages costs one walk of the list.
pub(crate) fn find_page<'a>(
    list: &'a PageList,
    cursor: &mut usize,
    n: u64,
) -> Option<&'a Arc<SharedPage>> {
    while list.get(*cursor).is_some_and(|&(m, _)| u64::from(m) < n) {
        *cursor += 1;
    }
    match list.get(*cursor) {
        Some((m, page)) if u64::from(*m) == n => Some(page),
        _ => None,
    }
}

/// The I/O state: what the guest has read and written, not where its output went.
#[derive(Clone)]
struct IoState {
    input: Arc<Vec<u8>>,
    input_pos: usize,
    stdout_written: u64,
    stderr_written: u64,
    open_fds: u8,
    stdout_acc: Hash,
    stderr_acc: Hash,
    /// The input root if the VM had computed it: the input never changes, so it still holds.
    input_root: Option<Hash>,
}

/// A copy of a VM's whole machine state ([`Vm::snapshot`]), to be run again from
/// ([`Snapshot::resume`]). Immutable once taken: pages, tables and input are shared through
/// `Arc`s with other snapshots and resumed VMs never write to them (a resumed VM has copies),
/// so a clone costs a few pointers: two players of one job can hold the same checkpoints.
#[derive(Clone)]
pub struct Snapshot {
    /// As `Vm::regs`, the sink register included: what it holds is never read, but copying it
    /// keeps a resumed VM's registers bit for bit the original's.
    regs: [u32; 64],
    pc: u32,
    /// The resident pages, ascending by page number; an `Arc` so that a resumed VM can find
    /// their cached roots (through a `Weak`).
    pages: Arc<PageList>,
    /// The permission table, one byte for each of the 2^20 pages; shared with `previous` when
    /// equal (it changes only when `brk` maps or unmaps a page).
    perms: Arc<[u8]>,
    /// The predecoded table (stores into writable code redecode it, so it is state, not a
    /// function of the ELF); shared with `previous` when equal.
    code: Arc<[Slot]>,
    code_base: u32,
    code_writable: bool,
    brk_start: u64,
    brk: u64,
    io: IoState,
    retired: u64,
    finished: Option<Outcome>,
    /// [`Snapshot::held_bytes`], computed when taken.
    held: usize,
}

/// `new` if `previous` holds the same values, the previous `Arc` then (so the two share it),
/// else a fresh `Arc` of `new`.
fn share_slice<T: PartialEq + Clone>(new: &[T], previous: Option<&Arc<[T]>>) -> Arc<[T]> {
    match previous {
        Some(p) if **p == *new => Arc::clone(p),
        _ => Arc::from(new),
    }
}

impl Vm {
    /// A copy of the whole machine state. Resident pages whose bytes equal `previous`'s page of
    /// the same number are shared with it (Arc), so a series of snapshots costs the pages that
    /// changed between them, and the VM's store path is not touched.
    ///
    /// `previous` may be any snapshot (of this VM or not): sharing is decided by comparing
    /// bytes. Costs one pass over the permission table and a compare (or, for a changed page,
    /// a copy) of each resident page.
    pub fn snapshot(&self, previous: Option<&Snapshot>) -> Snapshot {
        let before: &PageList = previous.map_or(&[], |p| &p.pages);
        let mut cursor = 0;
        let mut pages = Vec::with_capacity(self.mem.resident_pages());
        for (n, bytes) in self.mem.resident_iter() {
            // Page numbers are below 2^20 (the table has one entry per page).
            let Ok(n) = u32::try_from(n) else { continue };
            let page = match find_page(before, &mut cursor, u64::from(n)) {
                Some(p) if p.bytes == *bytes => Arc::clone(p),
                _ => Arc::new(SharedPage::new(bytes)),
            };
            pages.push((n, page));
        }
        let same_code = previous.filter(|p| p.code_base == self.code_base);
        let mut snap = Snapshot {
            regs: self.regs,
            pc: self.pc,
            pages: Arc::from(pages),
            perms: share_slice(self.mem.perms_table(), previous.map(|p| &p.perms)),
            code: share_slice(&self.code, same_code.map(|p| &p.code)),
            code_base: self.code_base,
            code_writable: self.code_writable,
            brk_start: self.brk_start,
            brk: self.brk,
            io: IoState {
                input: Arc::clone(&self.io.input),
                input_pos: self.io.input_pos,
                stdout_written: self.io.stdout_written,
                stderr_written: self.io.stderr_written,
                open_fds: self.io.open_fds,
                stdout_acc: self.io.stdout_acc,
                stderr_acc: self.io.stderr_acc,
                input_root: self.io.input_root.get().copied(),
            },
            retired: self.retired,
            finished: self.finished,
            held: 0,
        };
        snap.held = snap.held_bytes_against(previous);
        snap
    }

    /// Lets this VM's state commitments reuse the page subtree roots that `snapshot` caches,
    /// for every page whose bytes still equal the snapshot's page of the same number, while the
    /// snapshot exists (the VM does not keep it alive). Any snapshot is safe, since the bytes
    /// are compared; one just taken of this VM saves the most. A resumed VM starts with its
    /// own snapshot's.
    pub fn reuse_page_roots(&mut self, snapshot: &Snapshot) {
        self.mem.set_known_pages(&snapshot.pages);
    }
}

impl Snapshot {
    /// Steps retired at the snapshot.
    pub fn retired(&self) -> u64 {
        self.retired
    }

    /// [`Snapshot::resume`] into `vm`, whose pages are freed before the snapshot's are copied,
    /// so that at most one copy of a large memory is alive at a time.
    pub fn resume_into(&self, vm: &mut Vm) {
        // Free the old pages before copying the snapshot's: one memory at a time, not two.
        vm.mem = Memory::default();
        *vm = self.resume();
    }

    /// A VM in exactly the snapshot's state: running it emits the same chunks, reaches the same
    /// outcomes and state commitments as the original would have. Its stdout/stderr go nowhere
    /// (Output::Discard) but every counter and accumulator the state or the output limit uses is
    /// kept.
    ///
    /// Copies every page into the new VM's own memory (its store path writes in place, so it
    /// cannot share them) and the predecoded table.
    pub fn resume(&self) -> Vm {
        let pages = self.pages.iter().map(|(n, p)| (*n as usize, &p.bytes));
        let mut mem = Memory::from_parts(&self.perms, pages);
        mem.set_known_pages(&self.pages);
        Vm {
            regs: self.regs,
            pc: self.pc,
            mem,
            code: self.code.to_vec(),
            code_base: self.code_base,
            code_writable: self.code_writable,
            brk_start: self.brk_start,
            brk: self.brk,
            io: Io {
                input: Arc::clone(&self.io.input),
                input_pos: self.io.input_pos,
                stdout: Output::Discard,
                stderr: Output::Discard,
                stdout_written: self.io.stdout_written,
                stderr_written: self.io.stderr_written,
                open_fds: self.io.open_fds,
                stdout_acc: self.io.stdout_acc,
                stderr_acc: self.io.stderr_acc,
                input_root: self
                    .io
                    .input_root
                    .map_or_else(OnceLock::new, OnceLock::from),
            },
            retired: self.retired,
            finished: self.finished,
            // Set only inside a run, and taken before the run returns.
            leave: None,
        }
    }

    /// Bytes this snapshot holds that it does not share with the `previous` it was taken against
    /// (new page copies plus its fixed-size tables), for memory budgets.
    ///
    /// The input is never counted: it is shared with the VM the snapshot was taken from.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// The bytes [`Snapshot::held_bytes`] would say had this snapshot been taken against
    /// `other`: what it holds that `other` does not share (the same allocation, not merely equal
    /// bytes). For a budget over a series from which members are dropped: a page shared along
    /// a series lives in consecutive members, so over any sub-series, each member counted
    /// against the one before it, the sum is exactly the bytes the sub-series holds.
    pub fn held_bytes_against(&self, other: Option<&Snapshot>) -> usize {
        let entry = size_of::<(u32, Arc<SharedPage>)>();
        let list = self.pages.len().saturating_mul(entry) + ARC_OVERHEAD;
        let mut bytes = size_of::<Snapshot>().saturating_add(list);
        let theirs: &PageList = other.map_or(&[], |o| &o.pages);
        let mut cursor = 0;
        for (n, page) in self.pages.iter() {
            let shared =
                find_page(theirs, &mut cursor, u64::from(*n)).is_some_and(|p| Arc::ptr_eq(p, page));
            if !shared {
                bytes = bytes.saturating_add(size_of::<SharedPage>() + ARC_OVERHEAD);
            }
        }
        if !other.is_some_and(|o| Arc::ptr_eq(&o.perms, &self.perms)) {
            bytes = bytes.saturating_add(self.perms.len() + ARC_OVERHEAD);
        }
        if !other.is_some_and(|o| Arc::ptr_eq(&o.code, &self.code)) {
            let code = self.code.len().saturating_mul(size_of::<Slot>());
            bytes = bytes.saturating_add(code + ARC_OVERHEAD);
        }
        bytes
    }

    /// Resident pages at the snapshot.
    pub fn resident_pages(&self) -> usize {
        self.pages.len()
    }
}

// A snapshot is handed between threads (a player's replay may run on any of them).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Snapshot>();
};
