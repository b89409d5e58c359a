//! ELF32 little-endian RISC-V executable loading.
//!
//! Only what a static Linux executable needs: the file header and the `PT_LOAD` program
//! headers. Every field used is validated, and each error names the header or segment at fault.
//! Parsing touches no guest memory: the VM lays the program out only once it is accepted.

use thiserror::Error;

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const EM_RISCV: u16 = 243;
const ET_EXEC: u16 = 2;
const EHDR_LEN: usize = 52;
const PHDR_LEN: usize = 32;
/// `EF_RISCV_RVC`: the program may contain compressed instructions, which RV32IM lacks.
const EF_RISCV_RVC: u32 = 1;
/// `EF_RISCV_FLOAT_ABI` bits: anything but soft-float needs an F/D register file.
const EF_RISCV_FLOAT_ABI: u32 = 6;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("file is {0} bytes, too short for an ELF header (52 bytes)")]
    TooShort(usize),
    #[error("not an ELF file (bad magic bytes at offset 0)")]
    BadMagic,
    #[error("ELF class {0} at offset 4: expected 1 (ELF32)")]
    NotElf32(u8),
    #[error("ELF data encoding {0} at offset 5: expected 1 (little-endian)")]
    NotLittleEndian(u8),
    #[error("ELF machine {0} at offset 18: expected 243 (RISC-V)")]
    NotRiscv(u16),
    #[error("ELF type {0} at offset 16: expected 2 (ET_EXEC, a static executable)")]
    NotExecutable(u16),
    #[error("ELF flags {0:#x}: {1}")]
    UnsupportedFlags(u32, &'static str),
    #[error(
        "program header table (offset {off}, {num} entries of {size} bytes) lies outside the {len}-byte file"
    )]
    PhdrsOutOfFile {
        off: u32,
        num: u16,
        size: u16,
        len: usize,
    },
    #[error("segment {index}: file range {off:#x}+{filesz:#x} lies outside the {len}-byte file")]
    SegmentOutOfFile {
        index: usize,
        off: u32,
        filesz: u32,
        len: usize,
    },
    #[error("segment {index}: file size {filesz:#x} exceeds memory size {memsz:#x}")]
    FileLargerThanMemory {
        index: usize,
        filesz: u32,
        memsz: u32,
    },
    #[error(
        "segment {index}: memory range {vaddr:#x}+{memsz:#x} runs past the end of the 32-bit address space"
    )]
    SegmentOutOfAddressSpace {
        index: usize,
        vaddr: u32,
        memsz: u32,
    },
    #[error("segment {index}: memory range {vaddr:#x}+{memsz:#x} overlaps the stack")]
    SegmentOverlapsStack {
        index: usize,
        vaddr: u32,
        memsz: u32,
    },
    #[error("no loadable segment")]
    NoLoadSegment,
    #[error("no executable segment")]
    NoCode,
    #[error("entry point {0:#x} is not 4-byte aligned inside an executable segment")]
    BadEntry(u32),
}

/// A `PT_LOAD` segment, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u32,
    pub memsz: u32,
    pub offset: u32,
    pub filesz: u32,
    pub flags: u32,
}

impl Segment {
    pub fn writable(&self) -> bool {
        self.flags & PF_W != 0
    }

    pub fn executable(&self) -> bool {
        self.flags & PF_X != 0
    }

    /// The segment's bytes in the file ([`parse`] checked they lie inside it).
    pub fn file_bytes<'a>(&self, image: &'a [u8]) -> &'a [u8] {
        let start = self.offset as usize;
        image
            .get(start..start.saturating_add(self.filesz as usize))
            .unwrap_or_default()
    }
}

/// A validated executable: everything the VM needs to lay it out, before any memory is used.
#[derive(Debug, Clone)]
pub struct Program {
    pub entry: u32,
    /// The `PT_LOAD` segments in table order.
    pub segments: Vec<Segment>,
    /// Where the program headers lie in guest memory (Linux's `AT_PHDR`): `vaddr + e_phoff -
    /// offset` of the last segment whose file bytes contain `e_phoff`, else 0.
    pub phdr: u32,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u16,
    /// First address after the highest segment, as a 33-bit number: it is 2^32 when a segment
    /// ends at the top of the address space.
    pub end: u64,
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(&[x, y]) => u16::from_le_bytes([x, y]),
        _ => 0,
    }
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(&[a, c, d, e]) => u32::from_le_bytes([a, c, d, e]),
        _ => 0,
    }
}

/// Parses and validates `image` without touching guest memory, so a file that is refused costs
/// nothing but the parse. `reserved` is the stack range `[start, end)`, which segments may not
/// overlap.
pub fn parse(image: &[u8], reserved: (u32, u32)) -> Result<Program, ElfError> {
    let header = Header::read(image)?;
    let mut segments = Vec::new();
    let mut phdr = 0;
    let mut end = 0u64;
    for index in 0..header.phnum as usize {
        // In the file: the table's end was checked by `Header::read`.
        let h = header.phoff as usize + index * header.phentsize as usize;
        if u32_at(image, h) != PT_LOAD {
            continue;
        }
        let seg = Segment::read(image, h, index, reserved)?;
        // Linux's rule for AT_PHDR; the last match wins, as in its loop.
        if seg.offset <= header.phoff && header.phoff - seg.offset < seg.filesz {
            phdr = seg.vaddr.wrapping_add(header.phoff - seg.offset);
        }
        end = end.max(u64::from(seg.vaddr) + u64::from(seg.memsz));
        segments.push(seg);
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegment);
    }
    let code = || segments.iter().filter(|s| s.executable() && s.memsz > 0);
    if code().next().is_none() {
        return Err(ElfError::NoCode);
    }
    let entry = header.entry;
    let in_code = |s: &Segment| {
        entry >= s.vaddr && u64::from(entry) < u64::from(s.vaddr) + u64::from(s.memsz)
    };
    if !entry.is_multiple_of(4) || !code().any(in_code) {
        return Err(ElfError::BadEntry(entry));
    }
    Ok(Program {
        entry,
        segments,
        phdr,
        phnum: header.phnum,
        end,
    })
}

/// What the ELF header says about a program: where it starts and where its program headers
/// are (checked to lie in the file).
struct Header {
    entry: u32,
    phoff: u32,
    phentsize: u16,
    phnum: u16,
}

impl Header {
    /// Checks the identification, machine, type and flags of an RV32IM executable, and that
    /// the program-header table lies in the file.
    fn read(image: &[u8]) -> Result<Header, ElfError> {
        if image.len() < EHDR_LEN {
            return Err(ElfError::TooShort(image.len()));
        }
        if image.get(..4) != Some(&b"\x7fELF"[..]) {
            return Err(ElfError::BadMagic);
        }
        let class = image.get(4).copied().unwrap_or(0);
        if class != 1 {
            return Err(ElfError::NotElf32(class));
        }
        let data = image.get(5).copied().unwrap_or(0);
        if data != 1 {
            return Err(ElfError::NotLittleEndian(data));
        }
        let e_type = u16_at(image, 16);
        let e_machine = u16_at(image, 18);
        if e_machine != EM_RISCV {
            return Err(ElfError::NotRiscv(e_machine));
        }
        if e_type != ET_EXEC {
            return Err(ElfError::NotExecutable(e_type));
        }
        let flags = u32_at(image, 36);
        if flags & EF_RISCV_RVC != 0 {
            return Err(ElfError::UnsupportedFlags(
                flags,
                "compressed instructions (RVC) are not supported; build with -march=rv32im",
            ));
        }
        if flags & EF_RISCV_FLOAT_ABI != 0 {
            return Err(ElfError::UnsupportedFlags(
                flags,
                "a hardware floating-point ABI is not supported; build with -mabi=ilp32",
            ));
        }
        let header = Header {
            entry: u32_at(image, 24),
            phoff: u32_at(image, 28),
            phentsize: u16_at(image, 42),
            phnum: u16_at(image, 44),
        };
        let table_end =
            u64::from(header.phoff) + u64::from(header.phnum) * u64::from(header.phentsize);
        if (header.phentsize as usize) < PHDR_LEN || table_end > image.len() as u64 {
            return Err(ElfError::PhdrsOutOfFile {
                off: header.phoff,
                num: header.phnum,
                size: header.phentsize,
                len: image.len(),
            });
        }
        Ok(header)
    }
}

impl Segment {
    /// The `PT_LOAD` header at `h`, the `index`th: its bytes in the file, no larger in the file
    /// than in memory, inside the 32-bit address space, clear of the `reserved` stack range.
    fn read(image: &[u8], h: usize, index: usize, reserved: (u32, u32)) -> Result<Self, ElfError> {
        let offset = u32_at(image, h + 4);
        let vaddr = u32_at(image, h + 8);
        let filesz = u32_at(image, h + 16);
        let memsz = u32_at(image, h + 20);
        let flags = u32_at(image, h + 24);
        if u64::from(offset) + u64::from(filesz) > image.len() as u64 {
            return Err(ElfError::SegmentOutOfFile {
                index,
                off: offset,
                filesz,
                len: image.len(),
            });
        }
        if filesz > memsz {
            return Err(ElfError::FileLargerThanMemory {
                index,
                filesz,
                memsz,
            });
        }
        let seg_end = u64::from(vaddr) + u64::from(memsz);
        if seg_end > 1 << 32 {
            return Err(ElfError::SegmentOutOfAddressSpace {
                index,
                vaddr,
                memsz,
            });
        }
        if memsz > 0 && u64::from(vaddr) < u64::from(reserved.1) && seg_end > u64::from(reserved.0)
        {
            return Err(ElfError::SegmentOverlapsStack {
                index,
                vaddr,
                memsz,
            });
        }
        Ok(Segment {
            vaddr,
            memsz,
            offset,
            filesz,
            flags,
        })
    }
}
