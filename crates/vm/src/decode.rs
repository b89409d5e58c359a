//! RV32IM instruction decoding into a compact predecoded form.
//!
//! Decoding happens once, when a program is loaded (and again for a word that a store overwrites
//! in writable code); the interpreter then dispatches on [`Op`] without looking at bit fields.

/// Every operation the VM executes. `Illegal` stands for any word that is not valid RV32IM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Lbu,
    Lhu,
    Sb,
    Sh,
    Sw,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Fence,
    Ecall,
    Ebreak,
    Illegal,
    /// A slot of the predecoded table whose page is not executable: fetching it faults. Never
    /// produced by [`decode`].
    NotExecutable,
}

/// A decoded instruction: operation, register numbers, the sign-extended immediate and the raw
/// word (the trace records it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inst {
    pub op: Op,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub imm: u32,
    pub word: u32,
}

impl Inst {
    /// The instruction used for code-range slots that hold no valid instruction.
    pub const fn illegal(word: u32) -> Self {
        Inst {
            op: Op::Illegal,
            rd: 0,
            rs1: 0,
            rs2: 0,
            imm: 0,
            word,
        }
    }

    /// The instruction used for table slots in pages without execute permission.
    pub const fn not_executable(word: u32) -> Self {
        Inst {
            op: Op::NotExecutable,
            ..Inst::illegal(word)
        }
    }
}

fn imm_i(w: u32) -> u32 {
    ((w as i32) >> 20) as u32
}

fn imm_s(w: u32) -> u32 {
    ((((w as i32) >> 25) << 5) as u32) | ((w >> 7) & 0x1f)
}

fn imm_b(w: u32) -> u32 {
    let sign = (((w as i32) >> 31) as u32) << 12;
    sign | ((w & 0x80) << 4) | ((w >> 20) & 0x7e0) | ((w >> 7) & 0x1e)
}

fn imm_u(w: u32) -> u32 {
    w & 0xffff_f000
}

fn imm_j(w: u32) -> u32 {
    let sign = (((w as i32) >> 31) as u32) << 20;
    sign | (w & 0xf_f000) | ((w >> 9) & 0x800) | ((w >> 20) & 0x7fe)
}

/// Decodes one 32-bit word. Anything outside RV32IM and `fence.i` (including the compressed
/// encodings, CSR instructions such as `rdcycle`, `rdtime` and `rdinstret`, and reserved bits
/// that are not zero) decodes to [`Op::Illegal`].
pub fn decode(w: u32) -> Inst {
    let rd = ((w >> 7) & 0x1f) as u8;
    let rs1 = ((w >> 15) & 0x1f) as u8;
    let rs2 = ((w >> 20) & 0x1f) as u8;
    let funct3 = (w >> 12) & 7;
    let funct7 = w >> 25;
    let mk = |op, rd, rs1, rs2, imm| Inst {
        op,
        rd,
        rs1,
        rs2,
        imm,
        word: w,
    };
    if w & 3 != 3 {
        return Inst::illegal(w);
    }
    match (w >> 2) & 0x1f {
        0x0d => mk(Op::Lui, rd, 0, 0, imm_u(w)),
        0x05 => mk(Op::Auipc, rd, 0, 0, imm_u(w)),
        0x1b => mk(Op::Jal, rd, 0, 0, imm_j(w)),
        0x19 if funct3 == 0 => mk(Op::Jalr, rd, rs1, 0, imm_i(w)),
        0x18 => {
            let op = match funct3 {
                0 => Op::Beq,
                1 => Op::Bne,
                4 => Op::Blt,
                5 => Op::Bge,
                6 => Op::Bltu,
                7 => Op::Bgeu,
                _ => return Inst::illegal(w),
            };
            mk(op, 0, rs1, rs2, imm_b(w))
        }
        0x00 => {
            let op = match funct3 {
                0 => Op::Lb,
                1 => Op::Lh,
                2 => Op::Lw,
                4 => Op::Lbu,
                5 => Op::Lhu,
                _ => return Inst::illegal(w),
            };
            mk(op, rd, rs1, 0, imm_i(w))
        }
        0x08 => {
            let op = match funct3 {
                0 => Op::Sb,
                1 => Op::Sh,
                2 => Op::Sw,
                _ => return Inst::illegal(w),
            };
            mk(op, 0, rs1, rs2, imm_s(w))
        }
        0x04 => {
            let op = match (funct3, funct7) {
                (0, _) => Op::Addi,
                (2, _) => Op::Slti,
                (3, _) => Op::Sltiu,
                (4, _) => Op::Xori,
                (6, _) => Op::Ori,
                (7, _) => Op::Andi,
                (1, 0x00) => Op::Slli,
                (5, 0x00) => Op::Srli,
                (5, 0x20) => Op::Srai,
                _ => return Inst::illegal(w),
            };
            let imm = if matches!(op, Op::Slli | Op::Srli | Op::Srai) {
                u32::from(rs2)
            } else {
                imm_i(w)
            };
            mk(op, rd, rs1, 0, imm)
        }
        0x0c => {
            let op = match (funct7, funct3) {
                (0x00, 0) => Op::Add,
                (0x20, 0) => Op::Sub,
                (0x00, 1) => Op::Sll,
                (0x00, 2) => Op::Slt,
                (0x00, 3) => Op::Sltu,
                (0x00, 4) => Op::Xor,
                (0x00, 5) => Op::Srl,
                (0x20, 5) => Op::Sra,
                (0x00, 6) => Op::Or,
                (0x00, 7) => Op::And,
                (0x01, 0) => Op::Mul,
                (0x01, 1) => Op::Mulh,
                (0x01, 2) => Op::Mulhsu,
                (0x01, 3) => Op::Mulhu,
                (0x01, 4) => Op::Div,
                (0x01, 5) => Op::Divu,
                (0x01, 6) => Op::Rem,
                (0x01, 7) => Op::Remu,
                _ => return Inst::illegal(w),
            };
            mk(op, rd, rs1, rs2, 0)
        }
        // FENCE (funct3 0) and FENCE.I (funct3 1, Zifencei), other fields ignored as the ISA
        // manual asks: one hart and no caches to order, and a store into code is already seen
        // by the next fetch, so both are barriers with nothing to wait for.
        0x03 if funct3 <= 1 => mk(Op::Fence, 0, 0, 0, 0),
        0x1c if w == 0x0000_0073 => mk(Op::Ecall, 0, 0, 0, 0),
        0x1c if w == 0x0010_0073 => mk(Op::Ebreak, 0, 0, 0, 0),
        _ => Inst::illegal(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immediates_sign_extend() {
        // addi x1, x0, -1
        assert_eq!(decode(0xfff0_0093).imm, u32::MAX);
        // sw x2, -4(x1)
        let s = decode(0xfe20_ae23);
        assert_eq!((s.op, s.rs1, s.rs2, s.imm as i32), (Op::Sw, 1, 2, -4));
        // beq x0, x0, -8
        let b = decode(0xfe00_0ce3);
        assert_eq!((b.op, b.imm as i32), (Op::Beq, -8));
        // jal x1, -2048
        let j = decode(0x801f_f0ef);
        assert_eq!((j.op, j.rd, j.imm as i32), (Op::Jal, 1, -2048));
        // bne x1, x2, +4094 (largest forward branch)
        let b = decode(0x7e20_9fe3);
        assert_eq!((b.op, b.imm as i32), (Op::Bne, 4094));
    }

    #[test]
    fn fence_i_is_a_fence() {
        for w in [0x0000_100f, 0x0000_000f, 0x0ff0_000f, 0xfff2_900f] {
            assert_eq!(decode(w).op, Op::Fence, "{w:#010x}");
            let d = decode(w);
            assert_eq!((d.rd, d.rs1, d.rs2, d.imm, d.word), (0, 0, 0, 0, w));
        }
    }

    #[test]
    fn rejects_non_rv32im() {
        for w in [
            0x0000_0000, // all zero is defined illegal
            0xffff_ffff,
            0x0000_4501,             // compressed c.li
            0x3000_2573,             // csrr a0, mstatus
            0x0200_9093,             // slli with shamt[5] set
            0x4000_0033 | (1 << 12), // sub funct7 with sll funct3
            0xc000_2573,             // rdcycle a0
            0xc010_2573,             // rdtime a0
            0xc020_2573,             // rdinstret a0
            0xc800_2573,             // rdcycleh a0
            0x0000_200f,             // MISC-MEM funct3 2 (not fence, not fence.i)
        ] {
            assert_eq!(decode(w).op, Op::Illegal, "{w:#010x}");
        }
    }
}
