//! Sparse paged guest memory over the whole 32-bit address space.
//!
//! Pages are 4 KiB and allocated when mapped (ELF segments, the stack, `brk`). Access to an
//! unmapped page, or a store to a page mapped read-only, fails; the VM turns that into a trap.
//! Misaligned accesses are allowed and behave as byte-wise little-endian accesses, also across
//! a page boundary, exactly as `qemu-riscv32` (user mode) performs them.

pub const PAGE_BITS: u32 = 12;
pub const PAGE_SIZE: usize = 1 << PAGE_BITS;
const NUM_PAGES: usize = 1 << (32 - PAGE_BITS);
const OFFSET_MASK: u32 = (PAGE_SIZE as u32) - 1;

#[derive(Clone)]
struct Page {
    data: [u8; PAGE_SIZE],
    writable: bool,
}

/// Guest memory. A flat table of optional pages keeps lookup at one index plus one offset.
pub struct Memory {
    pages: Box<[Option<Box<Page>>; NUM_PAGES]>,
    mapped: usize,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    pub fn new() -> Self {
        let table: Box<[Option<Box<Page>>]> = (0..NUM_PAGES).map(|_| None).collect();
        let pages = match table.try_into() {
            Ok(p) => p,
            Err(_) => unreachable!("table has exactly NUM_PAGES entries"),
        };
        Memory { pages, mapped: 0 }
    }

    /// Number of mapped pages.
    pub fn mapped_pages(&self) -> usize {
        self.mapped
    }

    #[inline(always)]
    fn page(&self, addr: u32) -> Option<&Page> {
        self.pages[(addr >> PAGE_BITS) as usize].as_deref()
    }

    #[inline(always)]
    fn page_mut(&mut self, addr: u32) -> Option<&mut Page> {
        self.pages[(addr >> PAGE_BITS) as usize].as_deref_mut()
    }

    /// Maps every page touching `[start, start + len)` with zeroed contents. Pages already mapped
    /// keep their contents; `writable` is upgraded, never downgraded.
    pub fn map(&mut self, start: u32, len: u32, writable: bool) {
        if len == 0 {
            return;
        }
        let first = start >> PAGE_BITS;
        let last = (start as u64 + len as u64 - 1) >> PAGE_BITS;
        for p in first as u64..=last {
            let slot = &mut self.pages[p as usize];
            match slot {
                Some(page) => page.writable |= writable,
                None => {
                    *slot = Some(Box::new(Page {
                        data: [0; PAGE_SIZE],
                        writable,
                    }));
                    self.mapped += 1;
                }
            }
        }
    }

    /// Marks every mapped page touching the range read-only.
    pub fn protect(&mut self, start: u32, len: u32) {
        if len == 0 {
            return;
        }
        let first = start >> PAGE_BITS;
        let last = (start as u64 + len as u64 - 1) >> PAGE_BITS;
        for p in first as u64..=last {
            if let Some(page) = self.pages[p as usize].as_deref_mut() {
                page.writable = false;
            }
        }
    }

    pub fn is_mapped(&self, addr: u32) -> bool {
        self.page(addr).is_some()
    }

    /// Whether any page touching `[start, start + len)` is mapped writable.
    pub fn any_writable(&self, start: u32, len: u32) -> bool {
        if len == 0 {
            return false;
        }
        let last = ((start as u64 + len as u64 - 1).min(u32::MAX as u64) as u32) >> PAGE_BITS;
        (start >> PAGE_BITS..=last).any(|p| {
            self.pages[p as usize]
                .as_deref()
                .is_some_and(|pg| pg.writable)
        })
    }

    /// Whether every byte of `[start, start + len)` is mapped (and writable, if asked).
    pub fn range_ok(&self, start: u32, len: u32, need_write: bool) -> bool {
        if len == 0 {
            return true;
        }
        let end = start as u64 + len as u64 - 1;
        if end > u32::MAX as u64 {
            return false;
        }
        (start >> PAGE_BITS..=(end as u32) >> PAGE_BITS).all(|p| {
            self.pages[p as usize]
                .as_deref()
                .is_some_and(|pg| pg.writable || !need_write)
        })
    }

    #[inline(always)]
    pub fn load_u8(&self, addr: u32) -> Option<u32> {
        let page = self.page(addr)?;
        Some(u32::from(page.data[(addr & OFFSET_MASK) as usize]))
    }

    #[inline(always)]
    pub fn load_u16(&self, addr: u32) -> Option<u32> {
        let off = (addr & OFFSET_MASK) as usize;
        match self.page(addr)?.data.get(off..off + 2) {
            Some(&[a, b]) => Some(u32::from(u16::from_le_bytes([a, b]))),
            _ => self.load_slow(addr, 2),
        }
    }

    #[inline(always)]
    pub fn load_u32(&self, addr: u32) -> Option<u32> {
        let off = (addr & OFFSET_MASK) as usize;
        match self.page(addr)?.data.get(off..off + 4) {
            Some(&[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
            _ => self.load_slow(addr, 4),
        }
    }

    /// A load that crosses a page boundary, byte by byte.
    #[cold]
    fn load_slow(&self, addr: u32, len: u32) -> Option<u32> {
        let mut v = 0u32;
        for i in 0..len {
            v |= self.load_u8(addr.wrapping_add(i))? << (8 * i);
        }
        Some(v)
    }

    #[inline(always)]
    pub fn store_u8(&mut self, addr: u32, v: u32) -> Option<()> {
        let page = self.page_mut(addr).filter(|p| p.writable)?;
        page.data[(addr & OFFSET_MASK) as usize] = v as u8;
        Some(())
    }

    #[inline(always)]
    pub fn store_u16(&mut self, addr: u32, v: u32) -> Option<()> {
        let off = (addr & OFFSET_MASK) as usize;
        let page = self.page_mut(addr).filter(|p| p.writable)?;
        match page.data.get_mut(off..off + 2) {
            Some(dst) => {
                dst.copy_from_slice(&(v as u16).to_le_bytes());
                Some(())
            }
            None => self.store_slow(addr, v, 2),
        }
    }

    #[inline(always)]
    pub fn store_u32(&mut self, addr: u32, v: u32) -> Option<()> {
        let off = (addr & OFFSET_MASK) as usize;
        let page = self.page_mut(addr).filter(|p| p.writable)?;
        match page.data.get_mut(off..off + 4) {
            Some(dst) => {
                dst.copy_from_slice(&v.to_le_bytes());
                Some(())
            }
            None => self.store_slow(addr, v, 4),
        }
    }

    /// A store that crosses a page boundary: checked whole first, so a faulting store writes
    /// nothing.
    #[cold]
    fn store_slow(&mut self, addr: u32, v: u32, len: u32) -> Option<()> {
        if !self.range_ok(addr, len, true) {
            return None;
        }
        for i in 0..len {
            self.store_u8(addr.wrapping_add(i), v >> (8 * i))?;
        }
        Some(())
    }

    /// Copies guest bytes out. `None` if any byte is unmapped.
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
            out.extend_from_slice(&self.page(a)?.data[off..off + n]);
            a = a.wrapping_add(n as u32);
            left -= n;
        }
        Some(out)
    }

    /// Copies bytes into guest memory. With `force`, read-only pages are written too (the ELF
    /// loader); otherwise the whole range must be writable. Nothing is written on failure.
    pub fn write_bytes(&mut self, addr: u32, bytes: &[u8], force: bool) -> Option<()> {
        let len = u32::try_from(bytes.len()).ok()?;
        if !self.range_ok(addr, len, !force) {
            return None;
        }
        let mut a = addr;
        let mut rest = bytes;
        while !rest.is_empty() {
            let off = (a & OFFSET_MASK) as usize;
            let n = rest.len().min(PAGE_SIZE - off);
            self.page_mut(a)?.data[off..off + n].copy_from_slice(&rest[..n]);
            a = a.wrapping_add(n as u32);
            rest = &rest[n..];
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmapped_and_readonly_fail() {
        let mut m = Memory::new();
        assert_eq!(m.load_u32(0x1000), None);
        m.map(0x1000, 10, false);
        assert_eq!(m.load_u32(0x1000), Some(0));
        assert_eq!(m.store_u32(0x1000, 1), None);
        m.map(0x1000, 10, true);
        assert_eq!(m.store_u32(0x1000, 0x0403_0201), Some(()));
        assert_eq!(m.load_u8(0x1002), Some(3));
        assert_eq!(m.load_u16(0x1001), Some(0x0302));
    }

    #[test]
    fn misaligned_across_pages() {
        let mut m = Memory::new();
        m.map(0x1000, 0x2000, true);
        m.store_u32(0x1ffe, 0xaabb_ccdd).unwrap();
        assert_eq!(m.load_u32(0x1ffe), Some(0xaabb_ccdd));
        assert_eq!(m.load_u16(0x1fff), Some(0xbbcc));
        assert_eq!(m.load_u8(0x2001), Some(0xaa));
        // A store crossing into an unmapped page writes nothing.
        assert_eq!(m.store_u32(0x2ffe, 0x1111_1111), None);
        assert_eq!(m.load_u16(0x2ffe), Some(0));
        // Loads at the top of the address space wrap to page 0, which is unmapped.
        m.map(0xffff_f000, 0x1000, true);
        assert_eq!(m.load_u32(0xffff_fffe), None);
    }
}
