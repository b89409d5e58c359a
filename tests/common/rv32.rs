//! A tiny RV32IM encoder and ELF32 writers, so tests can build exact programs.

pub const TEXT: u32 = 0x1_0000;
pub const DATA: u32 = 0x2_0000;

pub fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn i(imm: i32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn s(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | 0x23
}
pub fn b(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 12 & 1) << 31
        | (imm >> 5 & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | (imm >> 1 & 0xf) << 8
        | (imm >> 11 & 1) << 7
        | 0x63
}
pub fn u(imm: u32, rd: u32, op: u32) -> u32 {
    (imm & 0xffff_f000) | rd << 7 | op
}
pub fn j(imm: i32, rd: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 20 & 1) << 31
        | (imm >> 1 & 0x3ff) << 21
        | (imm >> 11 & 1) << 20
        | (imm >> 12 & 0xff) << 12
        | rd << 7
        | 0x6f
}

pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}
pub fn lui(rd: u32, imm: u32) -> u32 {
    u(imm, rd, 0x37)
}
pub fn auipc(rd: u32, imm: u32) -> u32 {
    u(imm, rd, 0x17)
}
pub fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x67)
}
pub const ECALL: u32 = 0x0000_0073;
pub const EBREAK: u32 = 0x0010_0073;

/// `li rd, v` as lui + addi.
pub fn li(rd: u32, v: u32) -> Vec<u32> {
    let lo = ((v & 0xfff) as i32) << 20 >> 20;
    let hi = v.wrapping_sub(lo as u32);
    vec![lui(rd, hi), addi(rd, rd, lo)]
}

/// `exit(a0)`.
pub fn exit() -> Vec<u32> {
    vec![addi(17, 0, 93), ECALL]
}

/// An ELF32 RISC-V executable: `code` at TEXT (R+X), `data` at DATA (R+W, 4 KiB at least).
pub fn elf(code: &[u32], data: &[u8]) -> Vec<u8> {
    elf_with_text_flags(code, data, 5)
}

/// As [`elf`] with a writable text segment (R+W+X), for self-modifying code.
pub fn elf_rwx(code: &[u32], data: &[u8]) -> Vec<u8> {
    elf_with_text_flags(code, data, 7)
}

fn elf_with_text_flags(code: &[u32], data: &[u8], text_flags: u32) -> Vec<u8> {
    let data = Seg {
        vaddr: DATA,
        memsz: (data.len() as u32).max(0x1000),
        flags: PF_R | PF_W,
        bytes: data.to_vec(),
    };
    elf_segments(TEXT, &[Seg::code(TEXT, text_flags, code), data])
}

/// Concatenates instruction lists.
pub fn prog(parts: &[Vec<u32>]) -> Vec<u32> {
    parts.concat()
}

/// `PF_X`, `PF_W`, `PF_R`: segment permission flags.
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

/// One `PT_LOAD` segment for [`elf_segments`]: `bytes` at `vaddr`, zero-filled up to `memsz`.
pub struct Seg {
    pub vaddr: u32,
    pub memsz: u32,
    pub flags: u32,
    pub bytes: Vec<u8>,
}

impl Seg {
    /// A segment holding `code`, as long as the code.
    pub fn code(vaddr: u32, flags: u32, code: &[u32]) -> Seg {
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        Seg {
            vaddr,
            memsz: bytes.len() as u32,
            flags,
            bytes,
        }
    }

    /// A zero-filled segment with no file bytes (bss).
    pub fn zero(vaddr: u32, memsz: u32, flags: u32) -> Seg {
        Seg {
            vaddr,
            memsz,
            flags,
            bytes: Vec::new(),
        }
    }
}

/// An ELF32 RISC-V executable with the given segments, in order, and entry point. Each
/// segment's bytes start at a file offset congruent to its address modulo 4 KiB, as Linux and
/// qemu require.
pub fn elf_segments(entry: u32, segs: &[Seg]) -> Vec<u8> {
    let mut f = vec![0u8; 0x1000];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little-endian
    f[6] = 1; // version
    let put16 = |f: &mut Vec<u8>, o: usize, v: u16| f[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |f: &mut Vec<u8>, o: usize, v: u32| f[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut f, 16, 2); // ET_EXEC
    put16(&mut f, 18, 243); // EM_RISCV
    put32(&mut f, 20, 1);
    put32(&mut f, 24, entry);
    put32(&mut f, 28, 52); // phoff
    put16(&mut f, 40, 52); // ehsize
    put16(&mut f, 42, 32); // phentsize
    put16(&mut f, 44, segs.len() as u16);
    assert!(
        52 + 32 * segs.len() <= 0x1000,
        "program headers fit the first page"
    );
    for (k, seg) in segs.iter().enumerate() {
        let off = f.len().div_ceil(0x1000) * 0x1000 + (seg.vaddr as usize & 0xfff);
        f.resize(off, 0);
        f.extend_from_slice(&seg.bytes);
        let h = 52 + 32 * k;
        put32(&mut f, h, 1); // PT_LOAD
        put32(&mut f, h + 4, off as u32);
        put32(&mut f, h + 8, seg.vaddr);
        put32(&mut f, h + 12, seg.vaddr);
        put32(&mut f, h + 16, seg.bytes.len() as u32);
        put32(&mut f, h + 20, seg.memsz);
        put32(&mut f, h + 24, seg.flags);
        put32(&mut f, h + 28, 0x1000);
    }
    f
}

/// `sw rs2, imm(rs1)`.
pub fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 2)
}

/// `lw rd, imm(rs1)`.
pub fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 2, rd, 0x03)
}

/// `ecall` with call number `nr` in a7 (the arguments already in a0..a2).
pub fn syscall(nr: u32) -> Vec<u32> {
    vec![addi(17, 0, nr as i32), ECALL]
}

/// System call `nr` with arguments `args` in a0, a1, ...; its result copied to `save`.
pub fn sys(nr: u32, args: &[u32], save: u32) -> Vec<u32> {
    let mut code: Vec<u32> = (10..).zip(args).flat_map(|(reg, &v)| li(reg, v)).collect();
    code.extend([addi(17, 0, nr as i32), ECALL, addi(save, 10, 0)]);
    code
}

/// The system call numbers the VM implements that tests call by number.
pub const READ: u32 = 63;
pub const WRITE: u32 = 64;
pub const BRK: u32 = 214;
