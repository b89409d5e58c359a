//! The Linux system calls a guest may make (rv32 numbers). Everything here is a pure function of
//! the guest's state and its input bytes: no clock, environment or host file system.

use super::memory::{Fault, WRITE};
use super::{page_up, state, TrapKind, Vm, BRK_MAX};

pub const SYS_CLOSE: u32 = 57;
pub const SYS_READ: u32 = 63;
pub const SYS_WRITE: u32 = 64;
pub const SYS_EXIT: u32 = 93;
pub const SYS_EXIT_GROUP: u32 = 94;
pub const SYS_BRK: u32 = 214;

/// The `ecall` instruction word, reported by a trap raised inside a call.
pub const ECALL_WORD: u32 = 0x0000_0073;

const EBADF: i32 = 9;
const EFAULT: i32 = 14;
const ENOSYS: i32 = 38;

/// Guest memory is committed in 32-byte leaves (SPEC 1.6). A `read` or `write` moves at most
/// the bytes from its buffer's start to the end of that leaf, a short transfer that Linux
/// allows, so that one step's proof needs one memory leaf however long the request (SPEC 1.4).
pub(crate) const IO_LEAF: u32 = 32;

/// The bytes a `read` or `write` of `len` bytes at `buf` moves at most: up to the end of
/// `buf`'s 32-byte leaf. Never crosses a page, and never runs past 2^32.
pub(crate) fn io_span(buf: u32, len: u32) -> u32 {
    len.min(IO_LEAF - buf % IO_LEAF)
}

/// The most bytes one job may write to stdout, and to stderr, in all (SPEC 1.4): the file size
/// limit (`RLIMIT_FSIZE`) of the guest's process. Stdout is hashed as it streams, so without it
/// a guest writing 1 MiB every few steps would make a verifier's work per step unbounded. At 4
/// MiB, a windback's 4096 jobs hash at most 16 GiB of stdout: no more than the leaf hashing of
/// a vote at the cap of 2^28 chunks, so output can at most double what a check costs.
pub const MAX_OUTPUT: u64 = 4 << 20;

const PAGE_BYTES: u32 = 4096;

/// The heap page that `brk(addr)` maps or unmaps from a break at `brk` with initial break
/// `brk_start`, and whether it unmaps it; `None` when the call maps or unmaps nothing (an
/// address outside `[brk_start, BRK_MAX]`, or a break that stays within its page).
pub(crate) fn brk_page(brk_start: u64, brk: u64, addr: u32) -> Option<(u64, bool)> {
    let want = u64::from(addr);
    if want < brk_start || want > u64::from(BRK_MAX) {
        return None;
    }
    let (old_top, new_top) = (page_up(brk), page_up(brk_step(brk, want)));
    let page = u64::from(PAGE_BYTES);
    if new_top > old_top {
        Some((old_top / page, false))
    } else if new_top < old_top {
        Some((new_top / page, true))
    } else {
        None
    }
}

/// Where `brk` puts a break at `brk` asked to move to `want` (both in `[initial break,
/// BRK_MAX]`): at `want` when its page top is at most one page from the current one, else one
/// page towards it, on that page boundary.
fn brk_step(brk: u64, want: u64) -> u64 {
    let (old_top, new_top) = (page_up(brk), page_up(want));
    let page = u64::from(PAGE_BYTES);
    if new_top > old_top.saturating_add(page) {
        old_top.saturating_add(page)
    } else if new_top.saturating_add(page) < old_top {
        old_top.saturating_sub(page)
    } else {
        want
    }
}

const fn neg(errno: i32) -> u32 {
    (-errno) as u32
}

impl Vm {
    /// Handles ECALL: `a7` selects the call, `a0..a2` carry arguments, the result goes to `a0`.
    /// Returns `Ok(Some(status))` when the guest exits, and `Err` when the call traps (it then
    /// changed nothing).
    pub(super) fn syscall(&mut self) -> Result<Option<u32>, TrapKind> {
        let [a0, a1, a2] = [self.regs[10], self.regs[11], self.regs[12]];
        let ret = match self.regs[17] {
            SYS_EXIT | SYS_EXIT_GROUP => return Ok(Some(a0)),
            SYS_WRITE => self.sys_write(a0, a1, a2)?,
            SYS_READ => self.sys_read(a0, a1, a2)?,
            SYS_CLOSE => self.sys_close(a0),
            SYS_BRK => self.sys_brk(a0),
            _ => neg(ENOSYS),
        };
        self.regs[10] = ret;
        Ok(None)
    }

    fn fd_open(&self, fd: u32) -> bool {
        fd < 3 && self.io.open_fds & (1 << fd) != 0
    }

    /// Appends up to `len` bytes to stdout or stderr. As under Linux's file size limit, a write
    /// that would pass [`MAX_OUTPUT`] is shortened to end there, and one at the limit kills
    /// the guest (`SIGXFSZ`): it traps, writing nothing.
    fn sys_write(&mut self, fd: u32, buf: u32, len: u32) -> Result<u32, TrapKind> {
        if fd == 0 || !self.fd_open(fd) {
            return Ok(neg(EBADF));
        }
        let (out, written, acc) = if fd == 1 {
            let io = &mut self.io;
            (&mut io.stdout, &mut io.stdout_written, &mut io.stdout_acc)
        } else {
            let io = &mut self.io;
            (&mut io.stderr, &mut io.stderr_written, &mut io.stderr_acc)
        };
        let room = MAX_OUTPUT.saturating_sub(*written);
        if room == 0 && len > 0 {
            return Err(TrapKind::OutputLimit);
        }
        let len = io_span(buf, len).min(u32::try_from(room).unwrap_or(u32::MAX));
        let Some(bytes) = self.mem.read_bytes(buf, len) else {
            return Ok(neg(EFAULT));
        };
        out.write(&bytes);
        state::absorb_output(acc, &bytes);
        *written = written.saturating_add(u64::from(len));
        Ok(len)
    }

    /// Copies up to `len` input bytes to `buf`, no further than the end of `buf`'s leaf. Those
    /// bytes must be writable, even where fewer are left to read (Linux checks the buffer as it
    /// copies, so it would report `EFAULT` later or not at all; poie's rule is simpler to state
    /// and the same everywhere). Making the written page resident may hit the page limit: the
    /// call then traps.
    fn sys_read(&mut self, fd: u32, buf: u32, len: u32) -> Result<u32, TrapKind> {
        if fd != 0 || !self.fd_open(fd) {
            return Ok(neg(EBADF));
        }
        let len = io_span(buf, len);
        if !self.mem.range_ok(buf, len, true) {
            return Ok(neg(EFAULT));
        }
        let rest = self.io.input.get(self.io.input_pos..).unwrap_or_default();
        let chunk = rest.get(..len as usize).unwrap_or(rest);
        match self.mem.write_bytes(buf, chunk, false) {
            Ok(()) => {}
            Err(Fault::Access) => return Ok(neg(EFAULT)),
            Err(Fault::PageLimit) => return Err(TrapKind::MemoryLimit { addr: buf }),
        }
        let n = chunk.len();
        self.io.input_pos += n;
        Ok(n as u32)
    }

    /// Closes fd 0, 1 or 2 if open: later calls on it return `-EBADF`, as on Linux.
    fn sys_close(&mut self, fd: u32) -> u32 {
        if !self.fd_open(fd) {
            return neg(EBADF);
        }
        self.io.open_fds &= !(1 << fd);
        0
    }

    /// `brk(0)` returns the current break; `brk(addr)` moves it towards `addr` within
    /// `[initial break, BRK_MAX]`, **by at most one page**, and returns the new break; any
    /// other address leaves it unchanged (Linux returns the old break too). The initial break
    /// is page-aligned, and the heap is the whole pages from there up to the break rounded up:
    /// growing maps one fresh zero page (read-write, never executable), shrinking unmaps one,
    /// as Linux does page by page. A request further than one page stops at the page boundary,
    /// so a libc loops until the break is where it asked (SPEC 1.4): one page per call keeps a
    /// step's proof to one page-table leaf and one page of memory. No segment page is ever
    /// remapped, so a read-only page never becomes writable.
    fn sys_brk(&mut self, addr: u32) -> u32 {
        let want = u64::from(addr);
        if want >= self.brk_start && want <= u64::from(BRK_MAX) {
            // Pages lie below BRK_MAX, so their addresses fit in u32.
            match brk_page(self.brk_start, self.brk, addr) {
                Some((page, false)) => self.mem.map((page << 12) as u32, PAGE_BYTES, WRITE),
                Some((page, true)) => self.mem.unmap((page << 12) as u32, PAGE_BYTES),
                None => {}
            }
            self.brk = brk_step(self.brk, want);
        }
        // The break is 2^32 only when it cannot move (SPEC 1.3); reported mod 2^32, as 0.
        self.brk as u32
    }
}
