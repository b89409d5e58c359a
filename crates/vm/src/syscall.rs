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

/// Largest single `read` or `write` the VM performs; longer requests are shortened, as Linux
/// may do.
const MAX_IO: u32 = 1 << 20;

/// The most bytes one job may write to stdout, and to stderr, in all (SPEC 1.4): the file size
/// limit (`RLIMIT_FSIZE`) of the guest's process. Stdout is hashed as it streams, so without it
/// a guest writing 1 MiB every few steps would make a verifier's work per step unbounded. At 4
/// MiB, a windback's 4096 jobs hash at most 16 GiB of stdout: no more than the leaf hashing of
/// a vote at the cap of 2^28 chunks, so output can at most double what a check costs.
pub const MAX_OUTPUT: u64 = 4 << 20;

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
            SYS_WRITE => self.sys_write(a0, a1, a2.min(MAX_IO))?,
            SYS_READ => self.sys_read(a0, a1, a2.min(MAX_IO))?,
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
        let len = len.min(u32::try_from(room).unwrap_or(u32::MAX));
        let Some(bytes) = self.mem.read_bytes(buf, len) else {
            return Ok(neg(EFAULT));
        };
        out.write(&bytes);
        state::absorb_output(acc, &bytes);
        *written = written.saturating_add(u64::from(len));
        Ok(len)
    }

    /// Copies up to `len` input bytes to `buf`. The whole `len` bytes must be writable, even
    /// where fewer are left to read (Linux checks the buffer as it copies, so it would report
    /// `EFAULT` later or not at all; poie's rule is simpler to state and the same everywhere).
    /// Making the written pages resident may hit the page limit: the call then traps.
    fn sys_read(&mut self, fd: u32, buf: u32, len: u32) -> Result<u32, TrapKind> {
        if fd != 0 || !self.fd_open(fd) {
            return Ok(neg(EBADF));
        }
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

    /// `brk(0)` returns the current break; `brk(addr)` moves it within
    /// `[initial break, BRK_MAX]` and returns the new break; any other address leaves it
    /// unchanged (Linux returns the old break too). The initial break is page-aligned, and the
    /// heap is the whole pages from there up to the break rounded up: growing maps fresh zero
    /// pages (read-write, never executable), shrinking unmaps whole pages, as Linux does. No
    /// segment page is ever remapped, so a read-only page never becomes writable.
    fn sys_brk(&mut self, addr: u32) -> u32 {
        let want = u64::from(addr);
        if want >= self.brk_start && want <= u64::from(BRK_MAX) {
            let (old_top, new_top) = (page_up(self.brk), page_up(want));
            // Both tops lie in [brk_start, BRK_MAX], so they fit in u32.
            if new_top > old_top {
                self.mem
                    .map(old_top as u32, (new_top - old_top) as u32, WRITE);
            } else if new_top < old_top {
                self.mem.unmap(new_top as u32, (old_top - new_top) as u32);
            }
            self.brk = want;
        }
        // The break is 2^32 only when it cannot move (SPEC 1.3); reported mod 2^32, as 0.
        self.brk as u32
    }
}
