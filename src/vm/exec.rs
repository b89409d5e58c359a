//! The interpreter loop: one predecoded instruction per step, writing its trace chunk straight
//! into the batch buffer.
//!
//! Each operation has its own match arm (no second-level dispatch), and every arm writes all
//! 32 chunk bytes, so a reused buffer never needs clearing.

use super::memory::Fault;
use super::{decode, Inst, Op, Stop, Trap, TrapKind, Vm};
use crate::trace::Chunk;

/// Writes chunk words `2i` and `2i + 1` (bytes `8i..8i + 8`), little-endian; compiled out for
/// an untraced run.
#[inline(always)]
fn put<const TRACE: bool>(slot: &mut Chunk, i: usize, lo: u32, hi: u32) {
    if TRACE {
        slot[8 * i..8 * i + 4].copy_from_slice(&lo.to_le_bytes());
        slot[8 * i + 4..8 * i + 8].copy_from_slice(&hi.to_le_bytes());
    }
}

/// Builds a trap result out of line: traps are rare, and keeping their construction out of the
/// step's arms leaves more registers for the common path.
#[cold]
#[inline(never)]
fn trap(pc: u32, word: u32, kind: TrapKind) -> Result<u32, Stop> {
    Err(Stop::Trap(Trap { pc, word, kind }))
}

/// The trap a failed store raises.
#[cold]
#[inline(never)]
fn store_trap(pc: u32, word: u32, addr: u32, fault: Fault) -> Result<u32, Stop> {
    let kind = match fault {
        Fault::Access => TrapKind::StoreFault { addr },
        Fault::PageLimit => TrapKind::MemoryLimit { addr },
    };
    trap(pc, word, kind)
}

impl Vm {
    /// Executes up to `out.len()` instructions, one chunk each. Returns how many retired and
    /// why execution stopped early, if it did.
    #[inline(always)]
    pub(super) fn exec(&mut self, out: &mut [Chunk]) -> (usize, Option<Stop>) {
        // The pc lives in a register for the whole batch: going through `self.pc` would put a
        // store-to-load forwarding delay on the critical path of every step.
        let mut pc = self.pc;
        let mut result = (out.len(), None);
        for (i, slot) in out.iter_mut().enumerate() {
            match self.step::<true>(pc, slot) {
                Ok(next) => pc = next,
                Err(stop) => {
                    result = self.stopped(i, &mut pc, stop);
                    break;
                }
            }
        }
        self.pc = pc;
        result
    }

    /// As [`Vm::exec`] for `n` instructions, building no chunks.
    #[inline(always)]
    pub(super) fn exec_untraced(&mut self, n: usize) -> (usize, Option<Stop>) {
        let mut scratch = [0u8; 32];
        let mut pc = self.pc;
        let mut result = (n, None);
        for i in 0..n {
            match self.step::<false>(pc, &mut scratch) {
                Ok(next) => pc = next,
                Err(stop) => {
                    result = self.stopped(i, &mut pc, stop);
                    break;
                }
            }
        }
        self.pc = pc;
        result
    }

    /// Step `i` of a batch stopped: an exiting ECALL retired (the pc moves past it), a trap
    /// did not (the pc stays on the faulting instruction).
    #[cold]
    fn stopped(&self, i: usize, pc: &mut u32, stop: Stop) -> (usize, Option<Stop>) {
        match stop {
            Stop::Exit(_) => {
                *pc = pc.wrapping_add(4);
                (i + 1, Some(stop))
            }
            Stop::Trap(_) => (i, Some(stop)),
        }
    }

    /// A pc outside the predecoded table: an executable page there holds no file bytes (it was
    /// zero-filled, and may since have been written if it is also writable), so its word is
    /// decoded as it is now and executed; any other page faults. A separate cold step, not a
    /// second source of instructions in the hot one, so the hot step's fetch stays a table load
    /// (merging the two costs several instructions per step with fat LTO).
    #[cold]
    #[inline(never)]
    fn step_outside_table<const TRACE: bool>(
        &mut self,
        pc: u32,
        slot: &mut Chunk,
    ) -> Result<u32, Stop> {
        if !self.mem.is_executable(pc) {
            return Err(self.fetch_fault(pc));
        }
        let inst = decode(self.mem.load_u32(pc).unwrap_or(0));
        self.execute::<TRACE>(pc, inst, slot)
    }

    #[cold]
    fn fetch_fault(&self, pc: u32) -> Stop {
        Stop::Trap(Trap {
            pc,
            word: self.mem.load_u32(pc).unwrap_or(0),
            kind: TrapKind::FetchFault,
        })
    }

    /// A store into the predecoded range (writable code) must refresh the decoded copy. Only
    /// slots of executable pages are decoded: a store into a writable page that is not
    /// executable never makes it executable (W^X), so its slots stay `NotExecutable`.
    #[cold]
    fn redecode(&mut self, addr: u32, len: u32) {
        let first = addr.wrapping_sub(self.code_base) & !3;
        let last = addr.wrapping_add(len - 1).wrapping_sub(self.code_base) & !3;
        for off in [first, last] {
            let pc = self.code_base.wrapping_add(off);
            if !self.mem.is_executable(pc) {
                continue;
            }
            let word = self.mem.load_u32(pc).unwrap_or(0);
            if let Some(slot) = self.code.get_mut((off >> 2) as usize) {
                *slot = decode(word);
            }
        }
    }

    #[inline(always)]
    fn in_code(&self, addr: u32) -> bool {
        (addr.wrapping_sub(self.code_base) as usize) < self.code.len() * 4
    }

    #[inline(always)]
    fn step<const TRACE: bool>(&mut self, pc: u32, slot: &mut Chunk) -> Result<u32, Stop> {
        let idx = (pc.wrapping_sub(self.code_base) >> 2) as usize;
        match self.code.get(idx) {
            Some(&inst) => self.execute::<TRACE>(pc, inst, slot),
            None => self.step_outside_table::<TRACE>(pc, slot),
        }
    }

    /// Executes `inst`, fetched from `pc`, writing its chunk into `slot`.
    #[inline(always)]
    fn execute<const TRACE: bool>(
        &mut self,
        pc: u32,
        inst: Inst,
        slot: &mut Chunk,
    ) -> Result<u32, Stop> {
        // Formats without rs1/rs2 decode those fields as x0, which reads as 0: exactly what
        // the chunk records for them.
        let a = self.regs[(inst.rs1 & 31) as usize];
        let b = self.regs[(inst.rs2 & 31) as usize];
        let rd = (inst.rd & 31) as usize;
        let imm = inst.imm;
        let seq = pc.wrapping_add(4);
        put::<TRACE>(slot, 0, pc, inst.word);
        put::<TRACE>(slot, 1, a, b);
        let trap = |kind| trap(pc, inst.word, kind);

        // Writes rd (x0 stays zero) and finishes a sequential step.
        macro_rules! alu {
            ($v:expr) => {{
                let v: u32 = $v;
                self.regs[rd] = v;
                self.regs[0] = 0;
                put::<TRACE>(slot, 2, v, 0);
                put::<TRACE>(slot, 3, 0, seq);
                Ok(seq)
            }};
        }
        macro_rules! jump {
            ($target:expr, $link:expr) => {{
                let t: u32 = $target;
                if t & 3 != 0 {
                    return trap(TrapKind::MisalignedJump { target: t });
                }
                let link: Option<u32> = $link;
                if let Some(v) = link {
                    self.regs[rd] = v;
                    self.regs[0] = 0;
                }
                put::<TRACE>(slot, 2, link.unwrap_or(0), 0);
                put::<TRACE>(slot, 3, 0, t);
                Ok(t)
            }};
        }
        macro_rules! branch {
            ($cond:expr) => {
                jump!(if $cond { pc.wrapping_add(imm) } else { seq }, None)
            };
        }
        macro_rules! load {
            ($load:ident, $extend:expr) => {{
                let addr = a.wrapping_add(imm);
                let Some(raw) = self.mem.$load(addr) else {
                    return trap(TrapKind::LoadFault { addr });
                };
                let v: u32 = $extend(raw);
                self.regs[rd] = v;
                self.regs[0] = 0;
                put::<TRACE>(slot, 2, v, addr);
                put::<TRACE>(slot, 3, raw, seq);
                Ok(seq)
            }};
        }
        macro_rules! store {
            ($store:ident, $len:expr, $mask:expr) => {{
                let addr = a.wrapping_add(imm);
                if let Err(fault) = self.mem.$store(addr, b) {
                    return store_trap(pc, inst.word, addr, fault);
                }
                if self.code_writable
                    && (self.in_code(addr) || self.in_code(addr.wrapping_add($len - 1)))
                {
                    self.redecode(addr, $len);
                }
                put::<TRACE>(slot, 2, 0, addr);
                put::<TRACE>(slot, 3, b & $mask, seq);
                Ok(seq)
            }};
        }

        match inst.op {
            Op::Lui => alu!(imm),
            Op::Auipc => alu!(pc.wrapping_add(imm)),
            Op::Jal => jump!(pc.wrapping_add(imm), Some(seq)),
            Op::Jalr => jump!(a.wrapping_add(imm) & !1, Some(seq)),
            Op::Beq => branch!(a == b),
            Op::Bne => branch!(a != b),
            Op::Blt => branch!((a as i32) < (b as i32)),
            Op::Bge => branch!((a as i32) >= (b as i32)),
            Op::Bltu => branch!(a < b),
            Op::Bgeu => branch!(a >= b),
            Op::Lb => load!(load_u8, |r: u32| r as u8 as i8 as i32 as u32),
            Op::Lh => load!(load_u16, |r: u32| r as u16 as i16 as i32 as u32),
            Op::Lw => load!(load_u32, |r: u32| r),
            Op::Lbu => load!(load_u8, |r: u32| r),
            Op::Lhu => load!(load_u16, |r: u32| r),
            Op::Sb => store!(store_u8, 1, 0xff),
            Op::Sh => store!(store_u16, 2, 0xffff),
            Op::Sw => store!(store_u32, 4, u32::MAX),
            Op::Addi => alu!(a.wrapping_add(imm)),
            Op::Slti => alu!(((a as i32) < (imm as i32)) as u32),
            Op::Sltiu => alu!((a < imm) as u32),
            Op::Xori => alu!(a ^ imm),
            Op::Ori => alu!(a | imm),
            Op::Andi => alu!(a & imm),
            Op::Slli => alu!(a << (imm & 31)),
            Op::Srli => alu!(a >> (imm & 31)),
            Op::Srai => alu!(((a as i32) >> (imm & 31)) as u32),
            Op::Add => alu!(a.wrapping_add(b)),
            Op::Sub => alu!(a.wrapping_sub(b)),
            Op::Sll => alu!(a << (b & 31)),
            Op::Slt => alu!(((a as i32) < (b as i32)) as u32),
            Op::Sltu => alu!((a < b) as u32),
            Op::Xor => alu!(a ^ b),
            Op::Srl => alu!(a >> (b & 31)),
            Op::Sra => alu!(((a as i32) >> (b & 31)) as u32),
            Op::Or => alu!(a | b),
            Op::And => alu!(a & b),
            Op::Mul => alu!(a.wrapping_mul(b)),
            Op::Mulh => alu!(((i64::from(a as i32) * i64::from(b as i32)) >> 32) as u32),
            Op::Mulhsu => alu!(((i64::from(a as i32) * i64::from(b)) >> 32) as u32),
            Op::Mulhu => alu!(((u64::from(a) * u64::from(b)) >> 32) as u32),
            Op::Div => alu!(match (a as i32, b as i32) {
                (_, 0) => u32::MAX,
                (x, y) => x.wrapping_div(y) as u32,
            }),
            Op::Divu => alu!(a.checked_div(b).unwrap_or(u32::MAX)),
            Op::Rem => alu!(match (a as i32, b as i32) {
                (x, 0) => x as u32,
                (x, y) => x.wrapping_rem(y) as u32,
            }),
            Op::Remu => alu!(if b == 0 { a } else { a % b }),
            Op::Fence => {
                put::<TRACE>(slot, 2, 0, 0);
                put::<TRACE>(slot, 3, 0, seq);
                Ok(seq)
            }
            Op::Ecall => self.ecall::<TRACE>(slot, pc, seq),
            Op::Ebreak => trap(TrapKind::Breakpoint),
            Op::Illegal => trap(TrapKind::IllegalInstruction),
            Op::NotExecutable => Err(self.fetch_fault(pc)),
        }
    }

    /// ECALL's chunk: rs1 = a7 (the call number), rs2 = a0 and the memory fields = a1, a2 on
    /// entry; the result = a0 on return. A call that traps changes nothing and does not retire.
    #[inline(never)]
    fn ecall<const TRACE: bool>(
        &mut self,
        slot: &mut Chunk,
        pc: u32,
        seq: u32,
    ) -> Result<u32, Stop> {
        put::<TRACE>(slot, 1, self.regs[17], self.regs[10]);
        let (a1, a2) = (self.regs[11], self.regs[12]);
        let exit = match self.syscall() {
            Ok(exit) => exit,
            Err(kind) => return trap(pc, super::syscall::ECALL_WORD, kind),
        };
        put::<TRACE>(slot, 2, self.regs[10], a1);
        put::<TRACE>(slot, 3, a2, seq);
        match exit {
            Some(status) => Err(Stop::Exit(status)),
            None => Ok(seq),
        }
    }
}
