//! The Linux system calls a guest may make (rv32 numbers). Everything here is a pure function of
//! the guest's state and its input bytes: no clock, environment or host file system.

use super::Vm;

pub const SYS_READ: u32 = 63;
pub const SYS_WRITE: u32 = 64;
pub const SYS_EXIT: u32 = 93;
pub const SYS_EXIT_GROUP: u32 = 94;
pub const SYS_BRK: u32 = 214;

const EBADF: i32 = 9;
const EFAULT: i32 = 14;
const ENOSYS: i32 = 38;

/// Largest single `read` or `write` the VM performs; longer requests are shortened, as Linux
/// may do.
const MAX_IO: u32 = 1 << 20;

const fn neg(errno: i32) -> u32 {
    (-errno) as u32
}

impl Vm {
    /// Handles ECALL: `a7` selects the call, `a0..a2` carry arguments, the result goes to `a0`.
    /// Returns `Some(status)` when the guest exits.
    pub(super) fn syscall(&mut self) -> Option<u32> {
        let [a0, a1, a2] = [self.regs[10], self.regs[11], self.regs[12]];
        let ret = match self.regs[17] {
            SYS_EXIT | SYS_EXIT_GROUP => return Some(a0),
            SYS_WRITE => self.sys_write(a0, a1, a2.min(MAX_IO)),
            SYS_READ => self.sys_read(a0, a1, a2.min(MAX_IO)),
            SYS_BRK => self.sys_brk(a0),
            _ => neg(ENOSYS),
        };
        self.regs[10] = ret;
        None
    }

    fn sys_write(&mut self, fd: u32, buf: u32, len: u32) -> u32 {
        if fd != 1 && fd != 2 {
            return neg(EBADF);
        }
        let Some(bytes) = self.mem.read_bytes(buf, len) else {
            return neg(EFAULT);
        };
        let out = if fd == 1 {
            &mut self.io.stdout
        } else {
            &mut self.io.stderr
        };
        out.write(&bytes);
        len
    }

    fn sys_read(&mut self, fd: u32, buf: u32, len: u32) -> u32 {
        if fd != 0 {
            return neg(EBADF);
        }
        let rest = &self.io.input[self.io.input_pos..];
        let n = rest.len().min(len as usize);
        if !self.mem.range_ok(buf, len, true) {
            return neg(EFAULT);
        }
        let chunk = rest[..n].to_vec();
        if self.mem.write_bytes(buf, &chunk, false).is_none() {
            return neg(EFAULT);
        }
        self.io.input_pos += n;
        n as u32
    }

    /// `brk(0)` returns the current break; `brk(addr)` moves it within
    /// `[initial break, BRK_MAX]`, mapping the pages it grows into, and returns the new break.
    /// An address out of range leaves the break unchanged (Linux returns the old break too).
    fn sys_brk(&mut self, addr: u32) -> u32 {
        if addr >= self.brk_start && addr <= super::BRK_MAX {
            if addr > self.brk {
                self.mem.map(self.brk, addr - self.brk, true);
            }
            self.brk = addr;
        }
        self.brk
    }
}
