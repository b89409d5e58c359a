//! The random programs of the one-step differential (tests/one_step*.rs), which the on-chain
//! verifier's gas table (tests/evm_gas.rs) runs too: seeded, so every failure replays.

use super::rng::Rng;
use super::rv32::*;

/// After the two data pages at `DATA` (resident), a bss page (mapped, not resident), then a
/// read-only page.
const BSS: u32 = DATA + 0x2000;
const RO: u32 = 0x4_0000;

/// Both kinds' image: `code` at `TEXT`, `data` in the two data pages, the bss page, and the
/// read-only page.
fn image(code: &[u32], data: Vec<u8>) -> Vec<u8> {
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, code),
            Seg {
                vaddr: DATA,
                memsz: 0x2000,
                flags: PF_R | PF_W,
                bytes: data,
            },
            Seg::zero(BSS, 0x1000, PF_R | PF_W),
            Seg {
                vaddr: RO,
                memsz: 0x1000,
                flags: PF_R,
                bytes: vec![0x5a; 64],
            },
        ],
    )
}

/// Random instruction mixes: ALU and M ops, loads and stores misaligned across leaves and
/// pages, stores into fresh pages, branches, jumps, fences, now and then a trap.
pub mod instructions {
    use super::*;

    const UNMAPPED: u32 = 0x5_0000;
    /// Registers the random body never writes: bases and a link register.
    const B_DATA: u32 = 31;
    const B_BSS: u32 = 30;
    const B_RO: u32 = 29;
    const B_NONE: u32 = 28;
    const LINK: u32 = 27;

    const R_OPS: [(u32, u32); 18] = [
        (0, 0),
        (0x20, 0),
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (0, 5),
        (0x20, 5),
        (0, 6),
        (0, 7),
        (1, 0),
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (1, 6),
        (1, 7),
    ];
    const I_OPS: [u32; 6] = [0, 2, 3, 4, 6, 7];
    const LOADS: [u32; 5] = [0, 1, 2, 4, 5];
    const BRANCHES: [u32; 6] = [0, 1, 4, 5, 6, 7];

    /// A register value: often one of the edge cases of the ALU and M ops.
    fn value(rng: &mut Rng) -> u32 {
        match rng.below(6) {
            0 => 0,
            1 => u32::MAX,
            2 => 0x8000_0000,
            3 => rng.below(16) as u32,
            _ => rng.next() as u32,
        }
    }

    /// A random program of `len` units; traps are rare (`trap_rate` per mille per unit).
    pub fn random_program(seed: u64, len: usize, trap_rate: u64) -> Vec<u8> {
        let mut rng = Rng(seed);
        let mut code = Vec::new();
        for reg in 1..LINK {
            let v = value(&mut rng);
            code.extend(li(reg, v));
        }
        code.extend(li(B_DATA, DATA + 0x1000));
        code.extend(li(B_BSS, BSS));
        code.extend(li(B_RO, RO));
        code.extend(li(B_NONE, UNMAPPED));
        let rd = |rng: &mut Rng| rng.below(u64::from(LINK)) as u32;
        let reg = |rng: &mut Rng| rng.below(32) as u32;
        for _ in 0..len {
            let (d, s1, s2) = (rd(&mut rng), reg(&mut rng), reg(&mut rng));
            // Offsets near a page boundary and across leaves.
            let off = |rng: &mut Rng| rng.below(80) as i32 - 40;
            if rng.below(1000) < trap_rate {
                let w = match rng.below(7) {
                    0 => s(off(&mut rng), s2, B_RO, rng.below(3) as u32),
                    1 => i(off(&mut rng), B_NONE, LOADS[rng.below(5) as usize], d, 0x03),
                    2 => EBREAK,
                    3 => 0xc000_2573, // rdcycle a0: a CSR read, illegal
                    4 => rng.next() as u32,
                    5 => jalr(0, B_DATA, 0),
                    _ => jalr(LINK, B_DATA, 2 + 4 * rng.below(4) as i32),
                };
                code.push(w);
                continue;
            }
            match rng.below(100) {
                0..=24 => {
                    let (f7, f3) = R_OPS[rng.below(18) as usize];
                    code.push(r(f7, s2, s1, f3, d, 0x33));
                }
                25..=34 => {
                    let imm = rng.below(4096) as i32 - 2048;
                    code.push(i(imm, s1, I_OPS[rng.below(6) as usize], d, 0x13));
                }
                35..=39 => {
                    let sh = rng.below(32) as i32;
                    let (f3, imm) = [(1, sh), (5, sh), (5, 0x400 | sh)][rng.below(3) as usize];
                    code.push(i(imm, s1, f3, d, 0x13));
                }
                40..=54 => {
                    let base = [B_DATA, B_DATA, B_BSS][rng.below(3) as usize];
                    code.push(i(
                        off(&mut rng),
                        base,
                        LOADS[rng.below(5) as usize],
                        d,
                        0x03,
                    ));
                }
                55..=72 => {
                    let base = [B_DATA, B_DATA, B_BSS][rng.below(3) as usize];
                    code.push(s(off(&mut rng), s2, base, rng.below(3) as u32));
                }
                73..=80 => {
                    let skip = 1 + rng.below(3) as i32;
                    code.push(b(4 * (skip + 1), s2, s1, BRANCHES[rng.below(6) as usize]));
                    for _ in 0..skip {
                        code.push(addi(d, s1, 1));
                    }
                }
                81..=83 => {
                    code.push(j(8, d));
                    code.push(addi(d, d, 1));
                }
                84..=86 => {
                    // auipc then a jalr over the next word (an odd offset: bit 0 is cleared).
                    code.push(auipc(LINK, 0));
                    code.push(jalr(d, LINK, 12 + rng.below(2) as i32));
                    code.push(addi(d, d, 1));
                }
                87..=90 => code.push(lui(d, rng.next() as u32)),
                91..=93 => code.push(auipc(d, rng.next() as u32)),
                94..=95 => {
                    let f3 = rng.below(2) as u32;
                    code.push((rng.next() as u32 & !0x7fff) | f3 << 12 | 0x0f);
                }
                _ => code.extend(li(d, value(&mut rng))),
            }
        }
        code.extend(exit());
        let mut data = vec![0u8; 0x2000];
        for (k, byte) in data.iter_mut().enumerate() {
            if k % 7 == 0 || k > 0xf80 && k < 0x1080 {
                *byte = rng.next() as u8;
            }
        }
        image(&code, data)
    }
}

/// Random system calls: read, write, close, brk around the heap, unknown calls, with stores
/// into the heap and data pages.
pub mod syscalls {
    use super::*;

    /// The heap starts right after the read-only page.
    const HEAP: u32 = 0x4_1000;
    const UNMAPPED: u32 = 0x5_0000;
    /// Registers the random body never writes: bases of each kind of page.
    const B_DATA: u32 = 31;
    const B_BSS: u32 = 30;
    const B_RO: u32 = 29;
    const B_HEAP: u32 = 28;
    /// The body's scratch registers (a0..a2, a7 are set by each call).
    pub const SCRATCH: u32 = 5;
    pub const A0: u32 = 10;
    pub const A1: u32 = 11;
    pub const A2: u32 = 12;
    pub const A7: u32 = 17;

    /// A buffer address: in any kind of page, often misaligned, sometimes near a page's end.
    fn buffer(rng: &mut Rng) -> u32 {
        let base = match rng.below(10) {
            0..=3 => DATA + 0x1000,
            4..=5 => BSS,
            6 => RO,
            7 => HEAP,
            8 => UNMAPPED,
            _ => DATA,
        };
        let off = rng.below(96) as u32;
        match rng.below(4) {
            0 => base.wrapping_sub(off),
            _ => base + off,
        }
    }

    /// A random program of `len` units, mostly system calls.
    pub fn syscall_program(seed: u64, len: usize) -> Vec<u8> {
        let mut rng = Rng(seed);
        let mut code = Vec::new();
        code.extend(li(B_DATA, DATA + 0x1000));
        code.extend(li(B_BSS, BSS));
        code.extend(li(B_RO, RO));
        code.extend(li(B_HEAP, HEAP));
        for _ in 0..len {
            match rng.below(100) {
                0..=29 => {
                    let fd = [0, 0, 0, 0, 1, 3, u32::MAX][rng.below(7) as usize];
                    code.extend(li(A0, fd));
                    code.extend(li(A1, buffer(&mut rng)));
                    code.extend(li(A2, rng.below(80) as u32));
                    code.extend(syscall(63));
                }
                30..=54 => {
                    let fd = [1, 1, 2, 2, 0, 7][rng.below(6) as usize];
                    code.extend(li(A0, fd));
                    code.extend(li(A1, buffer(&mut rng)));
                    code.extend(li(A2, [0, 1, 5, 31, 32, 33, 100][rng.below(7) as usize]));
                    code.extend(syscall(64));
                }
                55..=57 => {
                    code.extend(li(A0, [0, 1, 2, 2, 9][rng.below(5) as usize]));
                    code.extend(syscall(57));
                }
                58..=79 => {
                    // Around the heap: grow, shrink, within a page, 0, below the start, too high.
                    let at = match rng.below(8) {
                        0 => 0,
                        1 => HEAP - 4,
                        2 => 0x7000_0001,
                        3 => 0x7000_0000,
                        _ => HEAP + rng.below(0x5000) as u32,
                    };
                    code.extend(li(A0, at));
                    code.extend(syscall(214));
                }
                80..=84 => {
                    code.extend(li(A0, rng.next() as u32));
                    code.extend(li(A7, [4000, 1024, 56, 62][rng.below(4) as usize]));
                    code.push(ECALL);
                }
                85..=87 => {
                    // A store into the heap (a fault ends the program: the trap is checked too),
                    // so that unmapping drops resident pages.
                    let off = rng.below(0x2000) as i32 & !3;
                    code.extend(li(SCRATCH, off as u32));
                    code.push(r(0, B_HEAP, SCRATCH, 0, SCRATCH, 0x33));
                    if rng.below(3) == 0 {
                        code.push(lw(SCRATCH + 1, SCRATCH, 0));
                    } else {
                        code.push(sw(B_DATA, SCRATCH, 0));
                    }
                }
                _ => {
                    // Stores into the data page, so that writes and reads see changing bytes.
                    let off = rng.below(2048) as i32 - 1024;
                    code.push(sw(SCRATCH, B_DATA, off));
                    code.push(addi(SCRATCH, SCRATCH, 0x3b));
                }
            }
        }
        code.extend(li(A0, rng.next() as u32));
        code.extend(exit());
        let data: Vec<u8> = (0..0x2000u32).map(|k| (k * 29 + 7) as u8).collect();
        image(&code, data)
    }
}
