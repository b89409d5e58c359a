//! ELF32 little-endian RISC-V executable loading.
//!
//! Only what a static Linux executable needs: the file header, and `PT_LOAD` program headers
//! copied into memory with their bss zero-filled. Every field used is validated, and each error
//! names the header or segment at fault.

use super::memory::Memory;
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

/// What the loader produced besides filling memory.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entry: u32,
    /// Address ranges of the executable segments, `(start, end)` with `end` exclusive.
    pub code: Vec<(u32, u32)>,
    /// First address after the highest segment: where `brk` starts.
    pub end: u32,
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Loads `image` into `mem`. `reserved` is the stack range `[start, end)`, which segments may not
/// overlap.
pub fn load(image: &[u8], mem: &mut Memory, reserved: (u32, u32)) -> Result<Loaded, ElfError> {
    if image.len() < EHDR_LEN {
        return Err(ElfError::TooShort(image.len()));
    }
    if image[..4] != *b"\x7fELF" {
        return Err(ElfError::BadMagic);
    }
    if image[4] != 1 {
        return Err(ElfError::NotElf32(image[4]));
    }
    if image[5] != 1 {
        return Err(ElfError::NotLittleEndian(image[5]));
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
    let entry = u32_at(image, 24);
    let phoff = u32_at(image, 28);
    let phentsize = u16_at(image, 42);
    let phnum = u16_at(image, 44);
    let table_end = phoff as u64 + phnum as u64 * phentsize as u64;
    if (phentsize as usize) < PHDR_LEN || table_end > image.len() as u64 {
        return Err(ElfError::PhdrsOutOfFile {
            off: phoff,
            num: phnum,
            size: phentsize,
            len: image.len(),
        });
    }

    let mut code = Vec::new();
    let mut end = 0u32;
    let mut segments = Vec::new();
    for index in 0..phnum as usize {
        let h = phoff as usize + index * phentsize as usize;
        if u32_at(image, h) != PT_LOAD {
            continue;
        }
        let off = u32_at(image, h + 4);
        let vaddr = u32_at(image, h + 8);
        let filesz = u32_at(image, h + 16);
        let memsz = u32_at(image, h + 20);
        let pflags = u32_at(image, h + 24);
        if off as u64 + filesz as u64 > image.len() as u64 {
            return Err(ElfError::SegmentOutOfFile {
                index,
                off,
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
        let seg_end = vaddr as u64 + memsz as u64;
        if seg_end > u32::MAX as u64 {
            return Err(ElfError::SegmentOutOfAddressSpace {
                index,
                vaddr,
                memsz,
            });
        }
        if memsz > 0 && (vaddr as u64) < reserved.1 as u64 && seg_end > reserved.0 as u64 {
            return Err(ElfError::SegmentOverlapsStack {
                index,
                vaddr,
                memsz,
            });
        }
        segments.push((vaddr, off, filesz, memsz, pflags));
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegment);
    }
    // Map everything writable first so that segments sharing a page both land, then drop write
    // permission on pages that only read-only segments touch.
    for &(vaddr, off, filesz, memsz, _) in &segments {
        mem.map(vaddr, memsz, true);
        let bytes = &image[off as usize..(off + filesz) as usize];
        mem.write_bytes(vaddr, bytes, true)
            .expect("segment range was just mapped");
    }
    for &(vaddr, _, _, memsz, pflags) in &segments {
        if pflags & PF_W == 0 {
            mem.protect(vaddr, memsz);
        }
    }
    for &(vaddr, _, _, memsz, pflags) in &segments {
        if pflags & PF_W != 0 {
            mem.map(vaddr, memsz, true);
        }
        if pflags & PF_X != 0 && memsz > 0 {
            code.push((vaddr, vaddr + memsz));
        }
        end = end.max(vaddr + memsz);
    }
    if code.is_empty() {
        return Err(ElfError::NoCode);
    }
    if !entry.is_multiple_of(4) || !code.iter().any(|&(s, e)| entry >= s && entry < e) {
        return Err(ElfError::BadEntry(entry));
    }
    Ok(Loaded { entry, code, end })
}
