//! Sparse paged guest memory over the whole 32-bit address space.
//!
//! Pages are 4 KiB. A page is *mapped* (by an ELF segment, the stack or `brk`) with permissions,
//! which costs one byte of a fixed table and no page; it becomes *resident* (allocated on the
//! host) the first time anything writes to it. Loads from a mapped page that was never written
//! read zeros without allocating it, as Linux's shared zero page does. At most
//! [`MAX_RESIDENT_PAGES`] pages may be resident at once, so a guest's host memory is bounded by
//! the VM, not by the host, and the bound is the same on every machine.
//!
//! Access to an unmapped page, or a store to a page mapped read-only, fails; the VM turns that
//! into a trap. Misaligned accesses are allowed and behave as byte-wise little-endian accesses,
//! also across a page boundary, exactly as `qemu-riscv32` (user mode) performs them.
//!
//! The address space does not wrap: an access whose bytes `[addr, addr + len)` would run past
//! 2^32 fails whatever is mapped, loads and stores alike (it never reaches page 0), and so does
//! a system call's buffer ([`Memory::range_ok`], [`Memory::read_bytes`],
//! [`Memory::write_bytes`]). On Linux the top page is never a user page, so such an access
//! faults there too, and `access_ok` refuses such a buffer with `EFAULT`.

use crate::snapshot::PageList;
use std::mem::ManuallyDrop;
use std::sync::{Arc, Weak};

pub const PAGE_BITS: u32 = 12;
pub const PAGE_SIZE: usize = 1 << PAGE_BITS;
const NUM_PAGES: usize = 1 << (32 - PAGE_BITS);
const OFFSET_MASK: u32 = (PAGE_SIZE as u32) - 1;

/// The most pages that may be resident (written at least once) at a time: 65536 pages, 256 MiB.
/// A write that needs one more traps instead ([`Fault::PageLimit`]). A constant of the VM, not a
/// host setting, because where a guest stops is part of what its trace means.
pub const MAX_RESIDENT_PAGES: usize = 1 << 16;

/// Permission bit: the page is mapped (and so readable).
pub const MAPPED: u8 = 1;
/// Permission bit: the page is writable.
pub const WRITE: u8 = 2;
/// Permission bit: instructions may be fetched from the page.
pub const EXEC: u8 = 4;

/// Why a write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A byte lies in an unmapped or read-only page.
    Access,
    /// Every byte is writable, but the write would make more than [`MAX_RESIDENT_PAGES`] pages
    /// resident.
    PageLimit,
}

/// A resident page. `writable` repeats the page's [`WRITE`] bit so that the store fast path
/// needs no second table lookup.
#[derive(Clone)]
struct Page {
    data: [u8; PAGE_SIZE],
    writable: bool,
}

/// Guest memory. Flat tables indexed by page number keep lookup at one index plus one offset.
pub struct Memory {
    /// Resident pages. `ManuallyDrop` so that dropping the table frees its 8 MiB without
    /// visiting a million empty slots (that visit was most of a job's setup cost); [`Drop`]
    /// frees the resident pages, found through `perms`.
    pages: Box<[ManuallyDrop<Option<Box<Page>>>; NUM_PAGES]>,
    /// Permission bits of every page; 0 for unmapped.
    perms: Box<[u8; NUM_PAGES]>,
    resident: usize,
    /// The pages of a snapshot, whose cached subtree roots the state commitment reuses for the
    /// pages that still hold the same bytes (`state::memory_nodes`). Weak, so that a memory
    /// never keeps a snapshot's pages alive: once the snapshot is gone, roots are computed.
    /// Read only by the commitment, never by a load or store.
    known: Option<Weak<PageList>>,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `[start, start + len)` runs past the top of the address space (2^32): such a
/// range is never accessible, whatever is mapped.
#[inline(always)]
fn past_top(start: u32, len: u32) -> bool {
    u64::from(start) + u64::from(len) > 1 << 32
}

/// The page numbers touching `[start, start + len)`, empty for `len = 0`; the range is clipped
/// at the top of the address space.
fn page_range(start: u32, len: u32) -> std::ops::Range<usize> {
    if len == 0 {
        return 0..0;
    }
    let last = (u64::from(start) + u64::from(len) - 1).min(u64::from(u32::MAX)) as u32;
    (start >> PAGE_BITS) as usize..(last >> PAGE_BITS) as usize + 1
}

/// Number of distinct pages touched by a set of byte ranges `(start, len)`, overlaps counted
/// once. Works on ranges, not pages, so a hostile set of huge ranges costs no memory.
pub fn distinct_pages(ranges: &[(u32, u32)]) -> usize {
    let mut spans: Vec<std::ops::Range<usize>> = ranges
        .iter()
        .map(|&(s, l)| page_range(s, l))
        .filter(|r| !r.is_empty())
        .collect();
    spans.sort_by_key(|r| r.start);
    let mut total = 0usize;
    let mut covered_to = 0usize;
    for r in spans {
        let from = r.start.max(covered_to);
        if r.end > from {
            total += r.end - from;
            covered_to = r.end;
        }
    }
    total
}

impl Drop for Memory {
    fn drop(&mut self) {
        // Every resident page is mapped (unmapping frees it), so the mapped pages hold them
        // all: the byte table is scanned 64 pages at a time, far faster than the pointer table.
        const RUN: usize = 64;
        let runs = self.pages.chunks_mut(RUN).zip(self.perms.chunks(RUN));
        for (slots, perms) in runs {
            // A branch-free OR over the run vectorizes; `all` would stop at each byte.
            if perms.iter().fold(0u8, |acc, &p| acc | p) == 0 {
                continue;
            }
            for (slot, &p) in slots.iter_mut().zip(perms) {
                if p != 0 && slot.take().is_some() {
                    self.resident -= 1;
                }
            }
        }
        // Never leak: should a resident page ever be unmapped, visit every slot.
        if self.resident != 0 {
            for slot in self.pages.iter_mut() {
                slot.take();
            }
        }
    }
}

impl Memory {
    pub fn new() -> Self {
        let table: Box<[ManuallyDrop<Option<Box<Page>>>]> =
            vec![ManuallyDrop::new(None); NUM_PAGES].into_boxed_slice();
        let pages = match table.try_into() {
            Ok(p) => p,
            Err(_) => unreachable!("table has exactly NUM_PAGES entries"),
        };
        // `vec![0; n]` asks the allocator for zeroed memory, which the OS provides lazily.
        let perms = match vec![0u8; NUM_PAGES].into_boxed_slice().try_into() {
            Ok(p) => p,
            Err(_) => unreachable!("table has exactly NUM_PAGES entries"),
        };
        Memory {
            pages,
            perms,
            resident: 0,
            known: None,
        }
    }

    /// Number of resident pages (written at least once and not unmapped since).
    pub fn resident_pages(&self) -> usize {
        self.resident
    }

    /// Permission bits of the page holding `addr` (0: unmapped).
    pub fn perms(&self, addr: u32) -> u8 {
        self.perms[(addr >> PAGE_BITS) as usize]
    }

    pub fn is_mapped(&self, addr: u32) -> bool {
        self.perms(addr) & MAPPED != 0
    }

    pub fn is_executable(&self, addr: u32) -> bool {
        self.perms(addr) & EXEC != 0
    }

    #[inline(always)]
    fn page(&self, addr: u32) -> Option<&Page> {
        self.pages[(addr >> PAGE_BITS) as usize].as_deref()
    }

    #[inline(always)]
    fn page_mut(&mut self, addr: u32) -> Option<&mut Page> {
        self.pages[(addr >> PAGE_BITS) as usize].as_deref_mut()
    }

    /// Maps every page touching `[start, start + len)` with the permission bits `perms`
    /// ([`MAPPED`] is implied), added to those a page already has. Allocates nothing: pages stay
    /// zero until written.
    pub fn map(&mut self, start: u32, len: u32, perms: u8) {
        for p in page_range(start, len) {
            let bits = self.perms[p] | perms | MAPPED;
            self.perms[p] = bits;
            if let Some(page) = self.pages[p].as_deref_mut() {
                page.writable = bits & WRITE != 0;
            }
        }
    }

    /// Unmaps every page touching `[start, start + len)`, dropping resident ones: a later map
    /// of the same page starts from zeros.
    pub fn unmap(&mut self, start: u32, len: u32) {
        for p in page_range(start, len) {
            self.perms[p] = 0;
            if self.pages[p].take().is_some() {
                self.resident -= 1;
            }
        }
    }

    /// Whether any page touching `[start, start + len)` is both writable and executable.
    pub fn any_writable_code(&self, start: u32, len: u32) -> bool {
        page_range(start, len).any(|p| self.perms[p] & (WRITE | EXEC) == WRITE | EXEC)
    }

    /// Whether every byte of `[start, start + len)` is mapped (and writable, if asked). A
    /// non-empty range that runs past 2^32 never is: it does not wrap to page 0.
    pub fn range_ok(&self, start: u32, len: u32, need_write: bool) -> bool {
        if len == 0 {
            return true;
        }
        if past_top(start, len) {
            return false;
        }
        let need = if need_write { MAPPED | WRITE } else { MAPPED };
        page_range(start, len).all(|p| self.perms[p] & need == need)
    }

    /// How many pages touching `[start, start + len)` are not resident yet.
    fn missing_pages(&self, start: u32, len: u32) -> usize {
        page_range(start, len)
            .filter(|&p| self.pages[p].is_none())
            .count()
    }

    /// Makes every mapped page touching `[start, start + len)` resident, or fails with
    /// [`Fault::PageLimit`] (allocating nothing) if that would exceed the limit. The caller has
    /// checked the range is mapped.
    fn make_resident(&mut self, start: u32, len: u32) -> Result<(), Fault> {
        let missing = self.missing_pages(start, len);
        if missing > MAX_RESIDENT_PAGES.saturating_sub(self.resident) {
            return Err(Fault::PageLimit);
        }
        for p in page_range(start, len) {
            if self.pages[p].is_none() {
                *self.pages[p] = Some(Box::new(Page {
                    data: [0; PAGE_SIZE],
                    writable: self.perms[p] & WRITE != 0,
                }));
                self.resident += 1;
            }
        }
        Ok(())
    }

    /// A byte of a page that is mapped but not resident: zero. `None` if unmapped.
    #[cold]
    fn load_absent(&self, addr: u32) -> Option<u32> {
        self.is_mapped(addr).then_some(0)
    }

    #[inline(always)]
    pub fn load_u8(&self, addr: u32) -> Option<u32> {
        match self.page(addr) {
            Some(page) => Some(u32::from(page.data[(addr & OFFSET_MASK) as usize])),
            None => self.load_absent(addr),
        }
    }

    #[inline(always)]
    pub fn load_u16(&self, addr: u32) -> Option<u32> {
        let off = (addr & OFFSET_MASK) as usize;
        match self.page(addr).and_then(|p| p.data.get(off..off + 2)) {
            Some(&[a, b]) => Some(u32::from(u16::from_le_bytes([a, b]))),
            _ => self.load_slow(addr, 2),
        }
    }

    #[inline(always)]
    pub fn load_u32(&self, addr: u32) -> Option<u32> {
        let off = (addr & OFFSET_MASK) as usize;
        match self.page(addr).and_then(|p| p.data.get(off..off + 4)) {
            Some(&[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
            _ => self.load_slow(addr, 4),
        }
    }

    /// A load that crosses a page boundary or reads a page that is not resident, byte by byte.
    /// One whose bytes would run past 2^32 fails whatever is mapped, as a store does: it does
    /// not wrap to page 0. (The fast paths never see such a load: its bytes cross a page.)
    #[cold]
    fn load_slow(&self, addr: u32, len: u32) -> Option<u32> {
        if past_top(addr, len) {
            return None;
        }
        let mut v = 0u32;
        for i in 0..len {
            // In range: `addr + len <= 2^32` was checked above.
            v |= self.load_u8(addr.checked_add(i)?)? << (8 * i);
        }
        Some(v)
    }

    #[inline(always)]
    pub fn store_u8(&mut self, addr: u32, v: u32) -> Result<(), Fault> {
        match self.page_mut(addr).filter(|p| p.writable) {
            Some(page) => {
                page.data[(addr & OFFSET_MASK) as usize] = v as u8;
                Ok(())
            }
            None => self.store_slow(addr, v, 1),
        }
    }

    #[inline(always)]
    pub fn store_u16(&mut self, addr: u32, v: u32) -> Result<(), Fault> {
        let off = (addr & OFFSET_MASK) as usize;
        let page = self.page_mut(addr).filter(|p| p.writable);
        match page.and_then(|p| p.data.get_mut(off..off + 2)) {
            Some(dst) => {
                dst.copy_from_slice(&(v as u16).to_le_bytes());
                Ok(())
            }
            None => self.store_slow(addr, v, 2),
        }
    }

    #[inline(always)]
    pub fn store_u32(&mut self, addr: u32, v: u32) -> Result<(), Fault> {
        let off = (addr & OFFSET_MASK) as usize;
        let page = self.page_mut(addr).filter(|p| p.writable);
        match page.and_then(|p| p.data.get_mut(off..off + 4)) {
            Some(dst) => {
                dst.copy_from_slice(&v.to_le_bytes());
                Ok(())
            }
            None => self.store_slow(addr, v, 4),
        }
    }

    /// A store that crosses a page boundary, or lands in a page that is not resident or not
    /// writable: checked whole first, so a faulting store writes (and allocates) nothing. One
    /// whose bytes would run past 2^32 fails ([`Memory::write_bytes`]), as a load does.
    #[cold]
    fn store_slow(&mut self, addr: u32, v: u32, len: u32) -> Result<(), Fault> {
        let bytes = v.to_le_bytes();
        self.write_bytes(addr, bytes.get(..len as usize).unwrap_or(&bytes), false)
    }

    /// Copies guest bytes out; pages that are mapped but not resident read as zeros. `None` if
    /// any byte is unmapped or the range runs past 2^32 (a system call's `EFAULT`).
    pub fn read_bytes(&self, addr: u32, len: u32) -> Option<Vec<u8>> {
        if !self.range_ok(addr, len, false) {
            return None;
        }
        let mut out = Vec::with_capacity(len as usize);
        let mut a = addr;
        let mut left = len as usize;
        while left > 0 {
            let off = (a & OFFSET_MASK) as usize;
            let n = left.min(PAGE_SIZE - off);
            match self.page(a).and_then(|p| p.data.get(off..off + n)) {
                Some(bytes) => out.extend_from_slice(bytes),
                None => out.resize(out.len() + n, 0),
            }
            a = a.wrapping_add(n as u32);
            left -= n;
        }
        Some(out)
    }

    /// Copies bytes into guest memory, making the pages written resident. With `force`,
    /// read-only pages are written too (the loader); otherwise the whole range must be writable.
    /// Nothing is written or allocated on failure: [`Fault::Access`] if a byte is unmapped (or
    /// read-only without `force`) or the range runs past 2^32, else [`Fault::PageLimit`] if the
    /// pages would not fit.
    pub fn write_bytes(&mut self, addr: u32, bytes: &[u8], force: bool) -> Result<(), Fault> {
        let len = u32::try_from(bytes.len()).map_err(|_| Fault::Access)?;
        if !self.range_ok(addr, len, !force) {
            return Err(Fault::Access);
        }
        self.make_resident(addr, len)?;
        let mut a = addr;
        let mut rest = bytes;
        while !rest.is_empty() {
            let off = (a & OFFSET_MASK) as usize;
            let n = rest.len().min(PAGE_SIZE - off);
            let (head, tail) = rest.split_at(n);
            if let Some(dst) = self.page_mut(a).and_then(|p| p.data.get_mut(off..off + n)) {
                dst.copy_from_slice(head);
            }
            a = a.wrapping_add(n as u32);
            rest = tail;
        }
        Ok(())
    }
}

/// What a snapshot (`snapshot.rs`) reads of a memory, and how it builds one back: the resident
/// pages listed in page order, and a memory made from a permission table and a page list. Both
/// off the load and store paths, which they do not change.
impl Memory {
    /// Every resident page as `(page number, bytes)`, ascending. Found through the permission
    /// table 64 pages at a time, as [`Drop`] finds them: every resident page is mapped.
    pub(crate) fn resident_iter(&self) -> impl Iterator<Item = (usize, &[u8; PAGE_SIZE])> + '_ {
        const RUN: usize = 64;
        self.perms
            .chunks(RUN)
            .enumerate()
            .filter(|(_, perms)| perms.iter().fold(0u8, |acc, &p| acc | p) != 0)
            .flat_map(move |(run, perms)| {
                (run * RUN..)
                    .zip(perms)
                    .filter(|&(_, &p)| p != 0)
                    .filter_map(move |(n, _)| self.resident_page(n).map(|d| (n, d)))
            })
    }

    /// A memory whose permission table is `perms` (one byte per page, all 2^20 of them) and
    /// whose resident pages hold the given bytes. A page that is not mapped in `perms`, listed
    /// twice, or past the resident limit is left out, so that the invariants the rest of this
    /// module relies on (a resident page is mapped; at most [`MAX_RESIDENT_PAGES`]) hold
    /// whatever the list; a snapshot's list never has such a page.
    pub(crate) fn from_parts<'a>(
        perms: &[u8],
        pages: impl IntoIterator<Item = (usize, &'a [u8; PAGE_SIZE])>,
    ) -> Memory {
        let mut m = Memory::new();
        for (dst, &src) in m.perms.iter_mut().zip(perms) {
            *dst = src;
        }
        for (n, data) in pages {
            let bits = m.perms.get(n).copied().unwrap_or(0);
            if bits & MAPPED == 0 || m.resident >= MAX_RESIDENT_PAGES {
                continue;
            }
            if let Some(slot) = m.pages.get_mut(n) {
                if slot.is_none() {
                    **slot = Some(Box::new(Page {
                        data: *data,
                        writable: bits & WRITE != 0,
                    }));
                    m.resident += 1;
                }
            }
        }
        m
    }

    /// Lets the state commitment reuse the subtree roots cached with `pages` (a snapshot's) for
    /// every page whose bytes still equal its entry there; any list is safe, since the bytes
    /// are compared.
    pub(crate) fn set_known_pages(&mut self, pages: &Arc<PageList>) {
        self.known = Some(Arc::downgrade(pages));
    }

    /// The list [`Memory::set_known_pages`] gave, if its snapshot still exists.
    pub(crate) fn known_pages(&self) -> Option<Arc<PageList>> {
        self.known.as_ref().and_then(Weak::upgrade)
    }
}

/// Read-only views for the state commitment (`state.rs`), which must see every page's
/// permissions and which pages are resident, and may not change either.
impl Memory {
    /// The permission bits of every page, indexed by page number.
    pub(crate) fn perms_table(&self) -> &[u8] {
        &self.perms[..]
    }

    /// The bytes of page number `page` if it is resident.
    pub(crate) fn resident_page(&self, page: usize) -> Option<&[u8; PAGE_SIZE]> {
        self.pages
            .get(page)
            .and_then(|slot| slot.as_deref())
            .map(|p| &p.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmapped_and_readonly_fail() {
        let mut m = Memory::new();
        assert_eq!(m.load_u32(0x1000), None);
        m.map(0x1000, 10, 0);
        assert_eq!(m.load_u32(0x1000), Some(0));
        assert_eq!(m.store_u32(0x1000, 1), Err(Fault::Access));
        assert_eq!(
            m.resident_pages(),
            0,
            "a load or a failed store allocates nothing"
        );
        m.map(0x1000, 10, WRITE);
        assert_eq!(m.store_u32(0x1000, 0x0403_0201), Ok(()));
        assert_eq!(m.resident_pages(), 1);
        assert_eq!(m.load_u8(0x1002), Some(3));
        assert_eq!(m.load_u16(0x1001), Some(0x0302));
    }

    #[test]
    fn misaligned_across_pages() {
        let mut m = Memory::new();
        m.map(0x1000, 0x2000, WRITE);
        m.store_u32(0x1ffe, 0xaabb_ccdd).unwrap();
        assert_eq!(m.load_u32(0x1ffe), Some(0xaabb_ccdd));
        assert_eq!(m.load_u16(0x1fff), Some(0xbbcc));
        assert_eq!(m.load_u8(0x2001), Some(0xaa));
        // A store crossing into an unmapped page writes nothing.
        assert_eq!(m.store_u32(0x2ffe, 0x1111_1111), Err(Fault::Access));
        assert_eq!(m.load_u16(0x2ffe), Some(0));
        // Accesses past the top of the address space fault (see below, with page 0 mapped).
        m.map(0xffff_f000, 0x1000, WRITE);
        assert_eq!(m.load_u32(0xffff_fffe), None);
        assert_eq!(m.store_u16(0xffff_ffff, 1), Err(Fault::Access));
    }

    /// Loads, stores and system-call ranges whose bytes would run past 2^32 all fail, even
    /// with the top page and page 0 both mapped writable (resident or not): nothing wraps.
    #[test]
    fn accesses_past_the_top_fault_and_do_not_wrap() {
        let mut m = Memory::new();
        m.map(0, 0x1000, WRITE);
        m.map(0xffff_f000, 0x1000, WRITE);
        let crossing = [
            (0xffff_ffff, 2),
            (0xffff_fffd, 4),
            (0xffff_fffe, 4),
            (0xffff_ffff, 4),
        ];
        let check = |m: &mut Memory| {
            for (addr, len) in crossing {
                let load = if len == 2 {
                    m.load_u16(addr)
                } else {
                    m.load_u32(addr)
                };
                assert_eq!(load, None, "load of {len} at {addr:#x}");
                let store = if len == 2 {
                    m.store_u16(addr, 0xaaaa)
                } else {
                    m.store_u32(addr, 0xaaaa_aaaa)
                };
                assert_eq!(store, Err(Fault::Access), "store of {len} at {addr:#x}");
                assert_eq!(m.read_bytes(addr, len), None);
                assert!(!m.range_ok(addr, len, false) && !m.range_ok(addr, len, true));
                assert_eq!(
                    m.write_bytes(addr, &[0xaa; 4][..len as usize], false),
                    Err(Fault::Access)
                );
            }
        };
        // Neither page resident: the old wrapping load read zeros here.
        check(&mut m);
        assert_eq!(m.resident_pages(), 0, "a failed store allocates nothing");
        // Both resident, with known bytes at either end.
        m.store_u32(0xffff_fffc, 0x4433_2211).unwrap();
        m.store_u32(0, 0x8877_6655).unwrap();
        check(&mut m);
        assert_eq!(m.resident_pages(), 2);
        assert_eq!(
            m.load_u32(0xffff_fffc),
            Some(0x4433_2211),
            "nothing written"
        );
        assert_eq!(m.load_u32(0), Some(0x8877_6655), "nothing written");
        // Accesses that end exactly at 2^32 are fine, misaligned ones included.
        assert_eq!(m.load_u16(0xffff_fffe), Some(0x4433));
        assert_eq!(m.load_u8(0xffff_ffff), Some(0x44));
        assert_eq!(m.store_u16(0xffff_fffd, 0xbbcc), Ok(()));
        assert_eq!(m.load_u32(0xffff_fffc), Some(0x44bb_cc11));
        assert_eq!(
            m.read_bytes(0xffff_fffe, 2).as_deref(),
            Some(&[0xbb, 0x44][..])
        );
        assert_eq!(m.write_bytes(0xffff_ffff, &[0x55], false), Ok(()));
        assert_eq!(m.read_bytes(0xffff_ffff, 0).as_deref(), Some(&[][..]));
        assert_eq!(m.read_bytes(0xffff_ffff, 1).as_deref(), Some(&[0x55][..]));
    }

    #[test]
    fn untouched_pages_read_zero_and_cost_nothing() {
        let mut m = Memory::new();
        m.map(0x1000_0000, 0x4000_0000, WRITE);
        assert_eq!(m.load_u32(0x2000_0000), Some(0));
        assert_eq!(m.read_bytes(0x1000_0ffe, 4).as_deref(), Some(&[0u8; 4][..]));
        assert_eq!(m.resident_pages(), 0);
        m.store_u8(0x2000_0000, 7).unwrap();
        assert_eq!(m.resident_pages(), 1);
        // A write across two absent pages makes both resident.
        m.write_bytes(0x1000_0ffe, &[1, 2, 3, 4], false).unwrap();
        assert_eq!(m.resident_pages(), 3);
        assert_eq!(
            m.read_bytes(0x1000_0ffe, 4).as_deref(),
            Some(&[1, 2, 3, 4][..])
        );
        m.unmap(0x1000_0000, 0x2000);
        assert_eq!(m.resident_pages(), 1);
        assert_eq!(m.load_u8(0x1000_0fff), None);
    }

    #[test]
    fn resident_pages_are_limited() {
        let mut m = Memory::new();
        m.map(0x1000_0000, 0x4000_0000, WRITE);
        for p in 0..MAX_RESIDENT_PAGES as u32 - 1 {
            m.store_u8(0x1000_0000 + (p << PAGE_BITS), 1).unwrap();
        }
        // One page left: a store spanning two absent pages does not fit and writes nothing.
        let top = 0x1000_0000 + ((MAX_RESIDENT_PAGES as u32) << PAGE_BITS);
        assert_eq!(m.store_u16(top - 1, 0xffff), Err(Fault::PageLimit));
        assert_eq!(m.load_u8(top - 1), Some(0));
        assert_eq!(m.resident_pages(), MAX_RESIDENT_PAGES - 1);
        m.store_u8(top - 1, 1).unwrap();
        assert_eq!(m.store_u8(top, 1), Err(Fault::PageLimit));
        // Resident pages are still written freely.
        m.store_u32(0x1000_0000, 5).unwrap();
        assert_eq!(m.resident_pages(), MAX_RESIDENT_PAGES);
    }

    #[test]
    fn distinct_pages_counts_overlaps_once() {
        assert_eq!(distinct_pages(&[]), 0);
        assert_eq!(distinct_pages(&[(0x1000, 0)]), 0);
        assert_eq!(distinct_pages(&[(0x1fff, 2)]), 2);
        assert_eq!(
            distinct_pages(&[(0x1000, 0x3000), (0x2000, 0x1000), (0x3fff, 1)]),
            3
        );
        assert_eq!(distinct_pages(&[(0, u32::MAX), (0, u32::MAX)]), NUM_PAGES);
    }
}
