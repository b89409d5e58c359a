//! The interpreter loop: one predecoded instruction per step, writing its trace chunk straight
//! into the batch buffer.
//!
//! Each operation has its own match arm (no second-level dispatch), and every arm writes all
//! 32 chunk bytes, so a reused buffer never needs clearing.
//!
//! The hot loop walks the predecoded table by index, not by pc: a sequential step is `idx + 1`,
//! and the one bounds check of the table load is also the check that the pc is still inside
//! the table. Whatever can be known from the pc alone is computed at decode ([`Slot::new`]):
//! AUIPC's value, JAL's and the branches' targets, and the chunk's first 8 bytes.

use super::memory::{Fault, Memory};
use super::{decode, Inst, Op, Stop, Trap, TrapKind, Vm};
use poie_trace::Chunk;

/// The high 32 bits of the unsigned 64-bit product.
#[inline(always)]
fn mulhu(a: u32, b: u32) -> u32 {
    ((u64::from(a) * u64::from(b)) >> 32) as u32
}

/// The register index that writes to x0 go to (see `Vm::regs`).
pub(super) const X0_SINK: u8 = 32;

/// One entry of the predecoded table: an [`Inst`] placed at its pc. 16 bytes, so an index
/// scales with one shift. `repr(C)` keeps the four bytes first and apart from `imm`: reordered,
/// they and `imm` were one `u64` load taken apart with shifts and masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub(super) struct Slot {
    op: Op,
    rd: u8,
    rs1: u8,
    rs2: u8,
    /// The immediate; for AUIPC (executed as LUI), JAL and the branches, `pc + imm`: the value
    /// or the target, which depends on nothing but the pc.
    imm: u32,
    /// The pc in the low half, the instruction word in the high half: chunk bytes 0..8, written
    /// with one load and one store.
    pc_word: u64,
}

impl Slot {
    /// `inst` as fetched from `pc`.
    pub(super) fn new(inst: Inst, pc: u32) -> Slot {
        let (op, imm) = match inst.op {
            // AUIPC's result is a constant of its pc; its chunk is LUI's layout (rs1 = rs2 = x0).
            Op::Auipc => (Op::Lui, pc.wrapping_add(inst.imm)),
            Op::Jal | Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu => {
                (inst.op, pc.wrapping_add(inst.imm))
            }
            op => (op, inst.imm),
        };
        Slot {
            op,
            // x0's writes go to the sink register 32, so x0 never needs zeroing again.
            rd: if inst.rd == 0 { X0_SINK } else { inst.rd },
            rs1: inst.rs1,
            rs2: inst.rs2,
            imm,
            pc_word: u64::from(pc) | u64::from(inst.word) << 32,
        }
    }

    fn pc(&self) -> u32 {
        self.pc_word as u32
    }

    fn word(&self) -> u32 {
        (self.pc_word >> 32) as u32
    }
}

/// What a step returns: the table index of the next step, or one of these two markers. A
/// plain number, not an enum: with a payload as large as a trap's, every step's result became
/// a value in memory instead of a branch.
const LEAVE: usize = usize::MAX;
/// The `next` a step outside the table passes: the pc after it has no index.
const SEQ_OUT: usize = usize::MAX - 1;

/// Why a step returned [`LEAVE`], kept in `Vm::leave` until the loop takes it.
pub(super) enum Leave {
    /// A retired jump or taken branch to this pc, outside the table (and 4-byte aligned).
    Out(u32),
    /// A retired ECALL exited with this status; the pc after it.
    Exit(u32, u32),
    /// A trap: the step did not retire.
    Trap(Trap),
}

/// Writes chunk words `2i` and `2i + 1` (bytes `8i..8i + 8`), little-endian; compiled out for
/// an untraced run. Two 4-byte stores: joining two registers for one 8-byte store (a shift
/// and an or) costs more than the store it saves (measured with callgrind and in time).
#[inline(always)]
fn put<const TRACE: bool>(slot: &mut Chunk, i: usize, lo: u32, hi: u32) {
    put32::<TRACE>(slot, 2 * i, lo);
    put32::<TRACE>(slot, 2 * i + 1, hi);
}

/// Writes chunk word `i` alone.
#[inline(always)]
fn put32<const TRACE: bool>(slot: &mut Chunk, i: usize, v: u32) {
    if TRACE {
        slot[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// As [`put`], both words given as one little-endian `u64`.
#[inline(always)]
fn put64<const TRACE: bool>(slot: &mut Chunk, i: usize, v: u64) {
    if TRACE {
        slot[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
    }
}

/// The trap a failed store raises.
fn store_fault(addr: u32, fault: Fault) -> TrapKind {
    match fault {
        Fault::Access => TrapKind::StoreFault { addr },
        Fault::PageLimit => TrapKind::MemoryLimit { addr },
    }
}

/// The table index of `pc`, or a number past any table's end if `pc` is not 4-byte aligned:
/// the rotation moves the two low bits of the offset to the top, so one bounds check covers
/// both the range and the alignment (`base` is page-aligned).
#[inline(always)]
fn index_of(pc: u32, base: u32) -> usize {
    pc.wrapping_sub(base).rotate_right(2) as usize
}

/// A write into the predecoded range (a store, or `read` into writable code) must refresh the
/// decoded copy of every word it touched. Only slots of executable pages are decoded: a write
/// into a writable page that is not executable never makes it executable (W^X), so its slots
/// stay `NotExecutable`.
#[cold]
#[inline(never)]
fn redecode(mem: &Memory, code: &mut [Slot], base: u32, addr: u32, len: u32) {
    // Words touched, counted from `addr`'s word (at most 2^18 + 1 for a 1 MiB read).
    let words = (u64::from(addr & 3) + u64::from(len)).div_ceil(4);
    let mut pc = addr & !3;
    for _ in 0..words {
        if let Some(slot) = code.get_mut(index_of(pc, base)) {
            if mem.is_executable(pc) {
                *slot = Slot::new(decode(mem.load_u32(pc).unwrap_or(0)), pc);
            }
        }
        pc = pc.wrapping_add(4);
    }
}

impl Vm {
    /// Executes up to `out.len()` instructions, one chunk each. Returns how many retired and
    /// why execution stopped early, if it did.
    #[inline(always)]
    pub(super) fn exec(&mut self, out: &mut [Chunk]) -> (usize, Option<Stop>) {
        let n = out.len();
        self.exec_any::<true>(out, n)
    }

    /// As [`Vm::exec`] for `n` instructions, building no chunks.
    #[inline(always)]
    pub(super) fn exec_untraced(&mut self, n: usize) -> (usize, Option<Stop>) {
        self.exec_any::<false>(&mut [], n)
    }

    /// Runs `n` steps (`out.len()` when tracing): stretches inside the table in the hot loop,
    /// a pc outside it one step at a time.
    #[inline(always)]
    fn exec_any<const TRACE: bool>(
        &mut self,
        out: &mut [Chunk],
        n: usize,
    ) -> (usize, Option<Stop>) {
        // The table is moved out for the batch, so that its pointer and length are locals the
        // compiler can keep in registers: nothing the guest does can reach them through `self`.
        let mut code = std::mem::take(&mut self.code);
        let mut done = 0;
        let mut stop = None;
        while done < n && stop.is_none() {
            let pc = self.pc;
            let rest = if TRACE {
                out.get_mut(done..).unwrap_or_default()
            } else {
                &mut []
            };
            let idx = index_of(pc, self.code_base);
            let (k, s, next) = if idx < code.len() {
                // Specialised on `code_writable`: a store only checks whether it hit the table
                // when it can have.
                if self.code_writable {
                    self.run_table::<TRACE, true>(&mut code, rest, n - done, idx)
                } else {
                    self.run_table::<TRACE, false>(&mut code, rest, n - done, idx)
                }
            } else {
                self.step_outside_table::<TRACE>(&mut code, rest, pc)
            };
            done += k;
            stop = s;
            self.pc = next;
        }
        self.code = code;
        (done, stop)
    }

    /// The hot loop: up to `n` steps (`out.len()` when tracing) from table index `idx`, until
    /// the run stops or leaves the table. Returns the steps retired, the stop if any, and the
    /// pc to go on from.
    #[inline(always)]
    fn run_table<const TRACE: bool, const WRITABLE: bool>(
        &mut self,
        code: &mut [Slot],
        out: &mut [Chunk],
        n: usize,
        mut idx: usize,
    ) -> (usize, Option<Stop>, u32) {
        let base = self.code_base;
        let n = if TRACE { out.len() } else { n };
        let mut scratch = [0u8; 32];
        // The budget: the chunks left when tracing, else a count of steps (measured: an index
        // into `out` instead of the iterator cost about 4 instructions a step, a spilled count).
        let mut chunks = out.iter_mut();
        let mut left = n;
        let mut fell_off = false;
        loop {
            let slot = if TRACE {
                match chunks.next() {
                    Some(c) => c,
                    None => break,
                }
            } else {
                if left == 0 {
                    break;
                }
                left -= 1;
                &mut scratch
            };
            let Some(s) = code.get(idx) else {
                // Past the table's last slot (the pc of the next one), or LEAVE: this slot
                // stays unused.
                fell_off = true;
                break;
            };
            // Field by field: a copy of the whole struct is two 8-byte loads taken apart.
            let s = Slot {
                op: s.op,
                rd: s.rd,
                rs1: s.rs1,
                rs2: s.rs2,
                imm: s.imm,
                pc_word: s.pc_word,
            };
            // LEAVE is past any table's end: the next `code.get` ends the loop, so that the
            // common step pays for no check of its own.
            idx = self.step::<TRACE, WRITABLE>(code, base, s, slot, idx + 1);
        }
        let done = n - if TRACE { chunks.len() } else { left } - usize::from(fell_off);
        if idx == LEAVE {
            return self.left(done);
        }
        // idx is at most the table's length, at most 2^24.
        (done, None, base.wrapping_add((idx as u32) << 2))
    }

    /// A pc outside the predecoded table: an executable page there holds no file bytes (it was
    /// zero-filled, and may since have been written if it is also writable), so its word is
    /// decoded as it is now and executed; any other page faults. Kept out of the hot loop so
    /// that its fetch stays a table load.
    #[cold]
    #[inline(never)]
    fn step_outside_table<const TRACE: bool>(
        &mut self,
        code: &mut [Slot],
        out: &mut [Chunk],
        pc: u32,
    ) -> (usize, Option<Stop>, u32) {
        if !self.mem.is_executable(pc) {
            return (0, Some(Stop::Trap(self.fetch_fault(pc))), pc);
        }
        let s = Slot::new(decode(self.mem.load_u32(pc).unwrap_or(0)), pc);
        let mut scratch = [0u8; 32];
        let slot = match out.first_mut() {
            Some(c) if TRACE => c,
            _ => &mut scratch,
        };
        let base = self.code_base;
        let next = if self.code_writable {
            self.step::<TRACE, true>(code, base, s, slot, SEQ_OUT)
        } else {
            self.step::<TRACE, false>(code, base, s, slot, SEQ_OUT)
        };
        match next {
            SEQ_OUT => (1, None, pc.wrapping_add(4)),
            LEAVE => self.left(1),
            // A table index, at most 2^24.
            t => (1, None, base.wrapping_add((t as u32) << 2)),
        }
    }

    /// Records a trap out of line: traps are rare, and keeping their construction out of the
    /// step's arms leaves more registers for the common path.
    #[cold]
    #[inline(never)]
    fn trap(&mut self, pc: u32, word: u32, kind: TrapKind) -> usize {
        self.leave(Leave::Trap(Trap { pc, word, kind }))
    }

    #[cold]
    #[inline(never)]
    fn leave(&mut self, why: Leave) -> usize {
        self.leave = Some(why);
        LEAVE
    }

    /// The last of `n` steps of a stretch returned [`LEAVE`]: a jump out of the table and an
    /// exiting ECALL retired (the pc moves on), a trap did not (the pc stays on the faulting
    /// instruction). Returns what the stretch returns.
    #[cold]
    fn left(&mut self, n: usize) -> (usize, Option<Stop>, u32) {
        match self.leave.take() {
            Some(Leave::Out(t)) => (n, None, t),
            Some(Leave::Exit(status, next)) => (n, Some(Stop::Exit(status)), next),
            Some(Leave::Trap(t)) => (n.saturating_sub(1), Some(Stop::Trap(t)), t.pc),
            // Every LEAVE sets `leave` first.
            None => (n, None, self.pc),
        }
    }

    #[cold]
    fn fetch_fault(&self, pc: u32) -> Trap {
        Trap {
            pc,
            word: self.mem.load_u32(pc).unwrap_or(0),
            kind: TrapKind::FetchFault,
        }
    }

    /// Executes `s`, writing its chunk into `slot`. `code` and `base` are the table (moved out
    /// of `self` for the batch) and its first pc.
    #[inline(always)]
    fn step<const TRACE: bool, const WRITABLE: bool>(
        &mut self,
        code: &mut [Slot],
        base: u32,
        s: Slot,
        slot: &mut Chunk,
        next: usize,
    ) -> usize {
        // Formats without rs1/rs2 decode those fields as x0, which reads as 0: exactly what
        // the chunk records for them.
        let a = self.regs[(s.rs1 & 31) as usize];
        let b = self.regs[(s.rs2 & 31) as usize];
        let rd = (s.rd & 63) as usize;
        let imm = s.imm;
        let pc = s.pc();
        let seq = pc.wrapping_add(4);
        put64::<TRACE>(slot, 0, s.pc_word);
        put::<TRACE>(slot, 1, a, b);
        macro_rules! trap {
            ($kind:expr) => {
                self.trap(pc, s.word(), $kind)
            };
        }

        // Writes rd (a write to x0 goes to the sink, so x0 stays zero) and finishes a
        // sequential step.
        macro_rules! alu {
            ($v:expr) => {{
                let v: u32 = $v;
                self.regs[rd] = v;
                // `v` zero-extended: both words in one store.
                put64::<TRACE>(slot, 2, u64::from(v));
                put::<TRACE>(slot, 3, 0, seq);
                next
            }};
        }
        // A jump or taken branch to `t`: inside the table it is an index, outside it a pc, and
        // a misaligned `t` (never inside the table) traps.
        macro_rules! jump {
            ($target:expr, $link:expr) => {{
                let t: u32 = $target;
                let to = index_of(t, base);
                if to >= code.len() && t & 3 != 0 {
                    return trap!(TrapKind::MisalignedJump { target: t });
                }
                let link: Option<u32> = $link;
                if let Some(v) = link {
                    self.regs[rd] = v;
                }
                put::<TRACE>(slot, 2, link.unwrap_or(0), 0);
                put::<TRACE>(slot, 3, 0, t);
                if to < code.len() {
                    to
                } else {
                    self.leave(Leave::Out(t))
                }
            }};
        }
        macro_rules! branch {
            ($cond:expr) => {
                if $cond {
                    jump!(imm, None)
                } else {
                    put::<TRACE>(slot, 2, 0, 0);
                    put::<TRACE>(slot, 3, 0, seq);
                    next
                }
            };
        }
        macro_rules! load {
            ($load:ident, $extend:expr) => {{
                let addr = a.wrapping_add(imm);
                let Some(raw) = self.mem.$load(addr) else {
                    return trap!(TrapKind::LoadFault { addr });
                };
                let v: u32 = $extend(raw);
                self.regs[rd] = v;
                put::<TRACE>(slot, 2, v, addr);
                put::<TRACE>(slot, 3, raw, seq);
                next
            }};
        }
        macro_rules! store {
            ($store:ident, $len:expr, $mask:expr) => {{
                let addr = a.wrapping_add(imm);
                if let Err(fault) = self.mem.$store(addr, b) {
                    return trap!(store_fault(addr, fault));
                }
                let in_code =
                    |x: u32| (x.wrapping_sub(base) as usize) < code.len().saturating_mul(4);
                if WRITABLE && (in_code(addr) || in_code(addr.wrapping_add($len - 1))) {
                    redecode(&self.mem, code, base, addr, $len);
                }
                put::<TRACE>(slot, 2, 0, addr);
                put::<TRACE>(slot, 3, b & $mask, seq);
                next
            }};
        }

        match s.op {
            Op::Lui => alu!(imm),
            // Decoded as LUI (see `Slot::new`); kept for a table built some other way.
            Op::Auipc => alu!(imm),
            Op::Jal => jump!(imm, Some(seq)),
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
            // The signed high products from the unsigned one, less the other operand for each
            // negative one (mod 2^32): sign-extending `a` to 64 bits here would make LLVM do
            // it ahead of the dispatch, in every step.
            Op::Mulh => alu!(mulhu(a, b)
                .wrapping_sub(if (a as i32) < 0 { b } else { 0 })
                .wrapping_sub(if (b as i32) < 0 { a } else { 0 })),
            Op::Mulhsu => alu!(mulhu(a, b).wrapping_sub(if (a as i32) < 0 { b } else { 0 })),
            Op::Mulhu => alu!(mulhu(a, b)),
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
                next
            }
            Op::Ecall => self.ecall::<TRACE>(code, base, slot, pc, seq, next),
            Op::Ebreak => trap!(TrapKind::Breakpoint),
            Op::Illegal => trap!(TrapKind::IllegalInstruction),
            Op::NotExecutable => {
                let fault = self.fetch_fault(pc);
                self.leave(Leave::Trap(fault))
            }
        }
    }

    /// ECALL's chunk: rs1 = a7 (the call number), rs2 = a0 and the memory fields = a1, a2 on
    /// entry; the result = a0 on return. A call that traps changes nothing and does not retire.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn ecall<const TRACE: bool>(
        &mut self,
        code: &mut [Slot],
        base: u32,
        slot: &mut Chunk,
        pc: u32,
        seq: u32,
        next: usize,
    ) -> usize {
        put::<TRACE>(slot, 1, self.regs[17], self.regs[10]);
        let (a1, a2) = (self.regs[11], self.regs[12]);
        let exit = match self.syscall() {
            Ok(exit) => exit,
            Err(kind) => return self.trap(pc, super::syscall::ECALL_WORD, kind),
        };
        // `read` writes guest memory like a run of stores: code it wrote runs as written.
        let ret = self.regs[10];
        if self.code_writable && self.regs[17] == super::syscall::SYS_READ && (ret as i32) > 0 {
            redecode(&self.mem, code, base, a1, ret);
        }
        put::<TRACE>(slot, 2, self.regs[10], a1);
        put::<TRACE>(slot, 3, a2, seq);
        match exit {
            Some(status) => self.leave(Leave::Exit(status, seq)),
            None => next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORNERS: [u32; 10] = [
        0,
        1,
        2,
        0x7fff_ffff,
        0x8000_0000,
        0x8000_0001,
        0xffff_fffe,
        u32::MAX,
        0x1234_5678,
        0xdead_beef,
    ];

    #[test]
    fn signed_high_products_match_64_bit_arithmetic() {
        for a in CORNERS {
            for b in CORNERS {
                let mulh = ((i64::from(a as i32) * i64::from(b as i32)) >> 32) as u32;
                let mulhsu = ((i64::from(a as i32) * i64::from(b)) >> 32) as u32;
                let got_mulh = mulhu(a, b)
                    .wrapping_sub(if (a as i32) < 0 { b } else { 0 })
                    .wrapping_sub(if (b as i32) < 0 { a } else { 0 });
                let got_mulhsu = mulhu(a, b).wrapping_sub(if (a as i32) < 0 { b } else { 0 });
                assert_eq!(got_mulh, mulh, "mulh {a:#x} {b:#x}");
                assert_eq!(got_mulhsu, mulhsu, "mulhsu {a:#x} {b:#x}");
            }
        }
    }

    #[test]
    fn misaligned_targets_index_past_any_table() {
        let base = 0x1_0000;
        assert_eq!(index_of(base, base), 0);
        assert_eq!(index_of(base + 8, base), 2);
        for t in [base + 1, base + 2, base + 3, base + 0x1002] {
            assert!(index_of(t, base) >= 1 << 30, "{t:#x}");
        }
        // Below the base wraps to a huge offset: also past the table.
        assert!(index_of(base - 4, base) >= 1 << 24);
    }

    #[test]
    fn slots_precompute_pc_relative_values() {
        let pc = 0x1_0100;
        // auipc x5, 1 becomes lui x5 with the absolute value.
        let s = Slot::new(decode(0x0000_1297), pc);
        assert_eq!((s.op, s.rd, s.imm), (Op::Lui, 5, pc + 0x1000));
        assert_eq!((s.pc(), s.word()), (pc, 0x0000_1297));
        // beq x0, x0, -8: the target, not the offset.
        let b = Slot::new(decode(0xfe00_0ce3), pc);
        assert_eq!((b.op, b.imm), (Op::Beq, pc - 8));
        // Writes to x0 go to the sink.
        assert_eq!(Slot::new(decode(0x0000_0013), pc).rd, X0_SINK);
    }
}
