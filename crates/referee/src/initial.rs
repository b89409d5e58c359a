//! A job's initial state (SPEC 1.2 Loading, 1.3 Initial state) and its state commitment (1.6),
//! from the ELF and the input bytes, without running an instruction. Written from the
//! specification alone, as the rest of this crate, so that a referee checks a claimed initial
//! state with a loader that shares no code with the VM's.
//!
//! The work is bounded by the file, the input and the resident pages, never by the address
//! space: the file is checked whole first (segments, the code span, the resident pages), the
//! memory tree is built from the resident pages alone over precomputed zero subtrees, each
//! byte of the file is copied at most once however many segments overlap it, and the page
//! table is filled by merged page ranges, so a segment of 4 GiB costs no more than one of a
//! page.

use crate::header::{Header, Status, TrapKind};
use crate::merkle::{
    node, zero_hashes, Hash, INPUT_DEPTH, LEAF_BYTES, MEMORY_DEPTH, PAGE_TABLE_DEPTH,
};
use crate::step::{MAPPED, MAX_RESIDENT_PAGES, PAGE_BITS, RESIDENT, WRITABLE};
use sha3::{Digest, Keccak256};
use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};
use thiserror::Error;

/// The page table's executable bit (SPEC 1.6: `perms` bit 2).
const EXECUTABLE: u8 = 4;
const PAGE: u64 = 1 << PAGE_BITS;
/// Pages in the 32-bit address space: the page table's length in bytes.
const PAGES: u64 = 1 << (32 - PAGE_BITS);
/// Height of a page's subtree in the memory tree: 4096 bytes are 128 leaves.
const PAGE_HEIGHT: usize = 7;
/// The stack `[STACK_BOTTOM, STACK_TOP)` (SPEC 1.3), 8 MiB, read-write, not executable.
const STACK_BOTTOM: u64 = 0x7f80_0000;
const STACK_TOP: u64 = 0x8000_0000;
/// `sp` at the start, where the initial stack's bytes begin.
const INITIAL_SP: u32 = 0x7fff_ff40;
/// Where the 16 `AT_RANDOM` bytes and the `guest` string (`argv[0]`, `AT_EXECFN`) lie.
const AT_RANDOM_ADDR: u32 = 0x7fff_ffe0;
const EXECFN_ADDR: u32 = 0x7fff_fff0;
/// The first 16 bytes of `blake3("poie/v1/AT_RANDOM")`, as SPEC 1.3 lists them.
const AT_RANDOM_BYTES: [u8; 16] = [
    0x3c, 0x4c, 0xbb, 0x5e, 0xd4, 0xc4, 0xe0, 0x33, 0x56, 0x0b, 0x5f, 0x44, 0x86, 0xaa, 0xed, 0x05,
];
/// The initial stack's bytes, from `INITIAL_SP` to the top of the stack.
const STACK_IMAGE_LEN: usize = (STACK_TOP - INITIAL_SP as u64) as usize;
/// The largest span of pages holding executable file bytes (SPEC 1.2, "code span").
const MAX_CODE_SPAN: u64 = 64 << 20;
/// An input longer than this is committed flat (SPEC 1.6, "Input tree").
const MAX_TREE_INPUT: u64 = 1 << 32;
const LONG_INPUT_DOMAIN: &[u8] = b"poie/v1/vmstate/long-input";
/// `open_fds` at the start: fds 0, 1 and 2 (SPEC 1.4).
const ALL_FDS_OPEN: u8 = 0b111;

/// ELF32 constants: the file header's length, a program header's, `PT_LOAD`, the segment
/// flags, `ET_EXEC`, `EM_RISCV`, and the RISC-V psABI's `EF_RISCV_RVC` and
/// `EF_RISCV_FLOAT_ABI` (any float ABI but soft-float) bits of `e_flags`.
const EHDR_LEN: usize = 52;
const PHDR_LEN: u64 = 32;
const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const ET_EXEC: u16 = 2;
const EM_RISCV: u16 = 243;
const EF_RISCV_RVC: u32 = 0x1;
const EF_RISCV_FLOAT_ABI: u32 = 0x6;

/// Why an ELF file cannot be loaded (SPEC 1.2; `poie run` exits 125 on each).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InitialError {
    #[error("the file is {0} bytes, too short for an ELF32 header (52 bytes)")]
    TooShort(usize),
    #[error("not an ELF file: the first 4 bytes are not \\x7fELF")]
    Magic,
    #[error("ELF class {0} at offset 4: not ELF32 (1)")]
    Class(u8),
    #[error("ELF data encoding {0} at offset 5: not little-endian (1)")]
    Encoding(u8),
    #[error("ELF type {0} at offset 16: not ET_EXEC (2)")]
    Type(u16),
    #[error("ELF machine {0} at offset 18: not EM_RISCV (243)")]
    Machine(u16),
    #[error("ELF flags {0:#x} ask for compressed instructions (RVC), which rv32im lacks")]
    Rvc(u32),
    #[error("ELF flags {0:#x} ask for a hardware floating-point ABI; only soft-float runs")]
    FloatAbi(u32),
    #[error(
        "the program header table ({num} entries of {size} bytes at offset {offset:#x}) is not inside the {len}-byte file, or its entries are shorter than 32 bytes"
    )]
    ProgramHeaders {
        offset: u32,
        num: u16,
        size: u16,
        len: usize,
    },
    #[error(
        "segment {index}: its file bytes {offset:#x}+{filesz:#x} run past the {len}-byte file"
    )]
    OutsideFile {
        index: usize,
        offset: u32,
        filesz: u32,
        len: usize,
    },
    #[error("segment {index}: filesz {filesz:#x} is larger than memsz {memsz:#x}")]
    FileLargerThanMemory {
        index: usize,
        filesz: u32,
        memsz: u32,
    },
    #[error("segment {index}: {vaddr:#x}+{memsz:#x} runs past the 32-bit address space")]
    PastAddressSpace {
        index: usize,
        vaddr: u32,
        memsz: u32,
    },
    #[error("segment {index}: {vaddr:#x}+{memsz:#x} overlaps the stack [0x7f800000, 0x80000000)")]
    OverlapsStack {
        index: usize,
        vaddr: u32,
        memsz: u32,
    },
    #[error("no PT_LOAD segment is executable (PF_X) with memsz > 0")]
    NoCode,
    #[error("entry point {0:#x} is not 4-byte aligned inside an executable segment")]
    Entry(u32),
    #[error(
        "executable segments' file bytes span {0:#x} bytes of pages, more than the 64 MiB allowed"
    )]
    CodeSpan(u64),
    #[error(
        "the segments' file bytes and the stack's top page touch {0} pages, more than the 65536 that may be resident"
    )]
    ResidentPages(u64),
}

/// The state commitment of job `job`'s initial state (SPEC 1.6): the ELF loaded as SPEC 1.2
/// and 1.3 say, nothing run, `input` unread, the step limit `max_steps`.
pub fn initial_state(
    elf: &[u8],
    input: &[u8],
    job: u32,
    max_steps: u64,
) -> Result<Hash, InitialError> {
    Ok(initial_header(elf, input, job, max_steps)?.commitment())
}

/// The header of job `job`'s initial state, whose [`Header::commitment`] is
/// [`initial_state`]. Refuses what SPEC 1.2 refuses, before any memory is laid out.
pub fn initial_header(
    elf: &[u8],
    input: &[u8],
    job: u32,
    max_steps: u64,
) -> Result<Header, InitialError> {
    let program = Program::parse(elf)?;
    let resident = program.resident_page_ranges()?;
    let z = zero_hashes();
    let stack = program.stack_image();
    let memory_root = memory_root(elf, &program.file_pieces(), &resident, &stack, &z);
    let page_table_root = page_table_root(&program.segments, &resident, &z);
    let resident_pages = resident.iter().map(|r| r.end - r.start).sum::<u64>();
    let mut regs = [0u32; 32];
    if let Some(sp) = regs.get_mut(2) {
        *sp = INITIAL_SP;
    }
    let input_len = u64::try_from(input.len()).unwrap_or(u64::MAX);
    Ok(Header {
        job,
        pc: program.entry,
        regs,
        memory_root,
        page_table_root,
        // At most MAX_RESIDENT_PAGES, checked above.
        resident_pages: u32::try_from(resident_pages).unwrap_or(u32::MAX),
        brk_start: program.initial_break(),
        brk: program.initial_break(),
        steps: 0,
        max_steps,
        // Nothing has run: the job stands at its step limit only if that limit is 0.
        status: if max_steps == 0 {
            Status::StepLimit
        } else {
            Status::Running
        },
        trap_kind: TrapKind::None,
        status_value: 0,
        trap_pc: 0,
        trap_word: 0,
        input_root: input_root(input, &z),
        input_len,
        input_pos: 0,
        open_fds: ALL_FDS_OPEN,
        stdout_len: 0,
        stdout_acc: [0; 32],
        stderr_len: 0,
        stderr_acc: [0; 32],
    })
}

/// One `PT_LOAD` program header, checked against the file and the address space.
#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: u32,
    vaddr: u32,
    filesz: u32,
    memsz: u32,
    flags: u32,
}

impl Segment {
    fn executable(&self) -> bool {
        self.flags & PF_X != 0
    }

    fn writable(&self) -> bool {
        self.flags & PF_W != 0
    }

    /// The address just past the segment's memory, at most 2^32 once checked.
    fn mem_end(&self) -> u64 {
        u64::from(self.vaddr) + u64::from(self.memsz)
    }

    /// The address just past the segment's file bytes.
    fn file_end(&self) -> u64 {
        u64::from(self.vaddr) + u64::from(self.filesz)
    }
}

/// An ELF file as SPEC 1.2 accepts it.
struct Program {
    entry: u32,
    e_phoff: u32,
    e_phnum: u16,
    /// The `PT_LOAD` segments, in program header order (a later one wins where file bytes
    /// overlap).
    segments: Vec<Segment>,
}

/// A little-endian field of the file; `None` past its end.
fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(bytes.try_into().ok()?))
}

fn u32_at(b: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// `x` rounded up to a multiple of the page size; `x` is at most 2^32, so this cannot overflow.
fn page_up(x: u64) -> u64 {
    x.div_ceil(PAGE) * PAGE
}

/// The pages `[first, last]` that the bytes `[start, end)` touch, as a page range; empty when
/// the bytes are.
fn pages_of(start: u64, end: u64) -> std::ops::Range<u64> {
    if end <= start {
        return 0..0;
    }
    (start >> PAGE_BITS)..end.div_ceil(PAGE)
}

/// Sorts page ranges and merges those that overlap or touch, dropping empty ones: the result
/// is ascending and disjoint.
fn merge(mut ranges: Vec<std::ops::Range<u64>>) -> Vec<std::ops::Range<u64>> {
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<std::ops::Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

impl Program {
    /// Checks the whole file (SPEC 1.2) and reads its `PT_LOAD` segments; nothing is laid out.
    fn parse(elf: &[u8]) -> Result<Program, InitialError> {
        if elf.len() < EHDR_LEN {
            return Err(InitialError::TooShort(elf.len()));
        }
        if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err(InitialError::Magic);
        }
        let byte = |at: usize| elf.get(at).copied().unwrap_or(0);
        let half = |at: usize| u16_at(elf, at).unwrap_or(0);
        let word = |at: u64| u32_at(elf, at).unwrap_or(0);
        if byte(4) != 1 {
            return Err(InitialError::Class(byte(4)));
        }
        if byte(5) != 1 {
            return Err(InitialError::Encoding(byte(5)));
        }
        if half(16) != ET_EXEC {
            return Err(InitialError::Type(half(16)));
        }
        if half(18) != EM_RISCV {
            return Err(InitialError::Machine(half(18)));
        }
        let flags = word(36);
        if flags & EF_RISCV_RVC != 0 {
            return Err(InitialError::Rvc(flags));
        }
        if flags & EF_RISCV_FLOAT_ABI != 0 {
            return Err(InitialError::FloatAbi(flags));
        }
        let (entry, e_phoff) = (word(24), word(28));
        let (e_phentsize, e_phnum) = (half(42), half(44));
        // The table lies in the file, its entries `e_phentsize >= 32` bytes apart, the first
        // 32 bytes of each read: what the VM does, which SPEC 1.2 does not yet say.
        let stride = u64::from(e_phentsize);
        let table_end = u64::from(e_phoff) + stride * u64::from(e_phnum);
        let file_len = u64::try_from(elf.len()).unwrap_or(u64::MAX);
        if stride < PHDR_LEN || table_end > file_len {
            return Err(InitialError::ProgramHeaders {
                offset: e_phoff,
                num: e_phnum,
                size: e_phentsize,
                len: elf.len(),
            });
        }
        let mut segments = Vec::new();
        for index in 0..usize::from(e_phnum) {
            // Inside the file, as the table is: `index < e_phnum`.
            let at = u64::from(e_phoff) + stride * index as u64;
            if word(at) != PT_LOAD {
                continue;
            }
            let seg = Segment {
                offset: word(at + 4),
                vaddr: word(at + 8),
                filesz: word(at + 16),
                memsz: word(at + 20),
                flags: word(at + 24),
            };
            check_segment(&seg, index, elf.len())?;
            segments.push(seg);
        }
        let code = || segments.iter().filter(|s| s.executable() && s.memsz > 0);
        if code().next().is_none() {
            return Err(InitialError::NoCode);
        }
        let entry_in = |s: &Segment| entry >= s.vaddr && u64::from(entry) < s.mem_end();
        if !entry.is_multiple_of(4) || !code().any(entry_in) {
            return Err(InitialError::Entry(entry));
        }
        let program = Program {
            entry,
            e_phoff,
            e_phnum,
            segments,
        };
        let span = program.code_span();
        if span > MAX_CODE_SPAN {
            return Err(InitialError::CodeSpan(span));
        }
        Ok(program)
    }

    /// `hi - lo` of SPEC 1.2's code span: the pages from the lowest executable file byte to
    /// the highest; 0 when no executable segment has file bytes.
    fn code_span(&self) -> u64 {
        let code = || {
            self.segments
                .iter()
                .filter(|s| s.executable() && s.filesz > 0)
        };
        let lo = code().map(|s| u64::from(s.vaddr)).min().unwrap_or(0);
        let hi = code().map(Segment::file_end).max().unwrap_or(0);
        page_up(hi).saturating_sub(lo & !(PAGE - 1))
    }

    /// The resident pages at the start, as ascending disjoint page ranges: those the file
    /// bytes touch and the stack's top page. Refused past the limit, counted before any page
    /// is enumerated.
    fn resident_page_ranges(&self) -> Result<Vec<std::ops::Range<u64>>, InitialError> {
        let mut ranges: Vec<_> = self
            .segments
            .iter()
            .map(|s| pages_of(u64::from(s.vaddr), s.file_end()))
            .collect();
        ranges.push(pages_of(u64::from(INITIAL_SP), STACK_TOP));
        let merged = merge(ranges);
        let count: u64 = merged.iter().map(|r| r.end - r.start).sum();
        if count > u64::from(MAX_RESIDENT_PAGES) {
            return Err(InitialError::ResidentPages(count));
        }
        Ok(merged)
    }

    /// The file bytes that end up in memory: for every address some segment's file bytes
    /// cover, the bytes of the last such segment in header order. Found from the last
    /// segment back, each keeping only what no later one covers, so every address is
    /// copied once. Ascending and disjoint.
    fn file_pieces(&self) -> Vec<Piece> {
        // Address ranges already claimed by later segments, merged: start -> end.
        let mut claimed: BTreeMap<u64, u64> = BTreeMap::new();
        let mut pieces = Vec::new();
        for s in self.segments.iter().rev().filter(|s| s.filesz > 0) {
            let (start, end) = (u64::from(s.vaddr), s.file_end());
            let mut piece = |from: u64, to: u64| {
                if from < to {
                    pieces.push(Piece {
                        start: from,
                        end: to,
                        file: u64::from(s.offset) + (from - start),
                    });
                }
            };
            let (mut lo, mut hi, mut cursor) = (start, end, start);
            let mut absorbed = Vec::new();
            if let Some((&a, &b)) = claimed.range(..=start).next_back() {
                if b >= start {
                    absorbed.push(a);
                    (lo, hi, cursor) = (a, hi.max(b), b);
                }
            }
            for (&a, &b) in claimed.range((Excluded(start), Included(end))) {
                piece(cursor, a);
                absorbed.push(a);
                cursor = cursor.max(b);
                hi = hi.max(b);
            }
            piece(cursor, end);
            for a in absorbed {
                claimed.remove(&a);
            }
            claimed.insert(lo, hi);
        }
        pieces.sort_by_key(|p| p.start);
        pieces
    }

    /// `AT_PHDR`: `vaddr + e_phoff - offset` of the last `PT_LOAD` segment whose file bytes
    /// contain `e_phoff`; 0 if none.
    fn at_phdr(&self) -> u32 {
        let phoff = self.e_phoff;
        self.segments
            .iter()
            .rev()
            .find_map(|s| {
                let into = phoff.checked_sub(s.offset).filter(|&d| d < s.filesz)?;
                // Below `vaddr + filesz <= 2^32`, so it fits.
                s.vaddr.checked_add(into)
            })
            .unwrap_or(0)
    }

    /// The initial break: the highest `vaddr + memsz`, rounded up to a page (a 33-bit number).
    fn initial_break(&self) -> u64 {
        page_up(
            self.segments
                .iter()
                .map(Segment::mem_end)
                .max()
                .unwrap_or(0),
        )
    }

    /// The initial stack's 192 bytes from `INITIAL_SP` (SPEC 1.3), words little-endian.
    fn stack_image(&self) -> [u8; STACK_IMAGE_LEN] {
        let auxv: [(u32, u32); 17] = [
            (16, 1 << (b'I' - b'A') | 1 << (b'M' - b'A')), // AT_HWCAP
            (6, PAGE as u32),                              // AT_PAGESZ
            (17, 100),                                     // AT_CLKTCK
            (3, self.at_phdr()),                           // AT_PHDR
            (4, PHDR_LEN as u32),                          // AT_PHENT
            (5, u32::from(self.e_phnum)),                  // AT_PHNUM
            (7, 0),                                        // AT_BASE
            (8, 0),                                        // AT_FLAGS
            (9, self.entry),                               // AT_ENTRY
            (11, 0),                                       // AT_UID
            (12, 0),                                       // AT_EUID
            (13, 0),                                       // AT_GID
            (14, 0),                                       // AT_EGID
            (23, 0),                                       // AT_SECURE
            (25, AT_RANDOM_ADDR),                          // AT_RANDOM
            (31, EXECFN_ADDR),                             // AT_EXECFN
            (0, 0),                                        // AT_NULL
        ];
        // argc, argv[0], the end of argv, the end of envp, then the auxiliary vector.
        let words = [1, EXECFN_ADDR, 0, 0]
            .into_iter()
            .chain(auxv.into_iter().flat_map(|(k, v)| [k, v]));
        let mut image = [0u8; STACK_IMAGE_LEN];
        for (slot, w) in image.chunks_exact_mut(4).zip(words) {
            slot.copy_from_slice(&w.to_le_bytes());
        }
        let at = |addr: u32| (addr - INITIAL_SP) as usize;
        let mut put = |addr: u32, bytes: &[u8]| {
            if let Some(dst) = image.get_mut(at(addr)..at(addr) + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        };
        put(AT_RANDOM_ADDR, &AT_RANDOM_BYTES);
        put(EXECFN_ADDR, b"guest\0");
        image
    }
}

/// SPEC 1.2's checks of one `PT_LOAD` segment, the `index`th program header.
fn check_segment(s: &Segment, index: usize, len: usize) -> Result<(), InitialError> {
    let file_len = u64::try_from(len).unwrap_or(u64::MAX);
    if u64::from(s.offset) + u64::from(s.filesz) > file_len {
        return Err(InitialError::OutsideFile {
            index,
            offset: s.offset,
            filesz: s.filesz,
            len,
        });
    }
    if s.filesz > s.memsz {
        return Err(InitialError::FileLargerThanMemory {
            index,
            filesz: s.filesz,
            memsz: s.memsz,
        });
    }
    if s.mem_end() > 1 << 32 {
        return Err(InitialError::PastAddressSpace {
            index,
            vaddr: s.vaddr,
            memsz: s.memsz,
        });
    }
    if s.memsz > 0 && u64::from(s.vaddr) < STACK_TOP && s.mem_end() > STACK_BOTTOM {
        return Err(InitialError::OverlapsStack {
            index,
            vaddr: s.vaddr,
            memsz: s.memsz,
        });
    }
    Ok(())
}

/// Addresses `[start, end)` of memory that hold the file's bytes from offset `file` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    start: u64,
    end: u64,
    file: u64,
}

/// A tree built from the left, one aligned subtree at a time, keeping only the left siblings
/// still waiting for their right one: memory O(height) whatever the tree's width, and a run
/// of zero items costs one zero hash per level it spans, not one per item.
struct Frontier<'z> {
    /// Levels above the items pushed.
    height: usize,
    /// The items' own level in the zero hashes: `zeros[base + k]` is a zero subtree `k`
    /// levels above an item.
    base: usize,
    zeros: &'z [Hash],
    /// At level `k`, the left child waiting for its sibling, if any.
    waiting: Vec<Option<Hash>>,
    /// The next item's index.
    next: u64,
    root: Option<Hash>,
}

impl<'z> Frontier<'z> {
    fn new(height: usize, base: usize, zeros: &'z [Hash]) -> Frontier<'z> {
        Frontier {
            height,
            base,
            zeros,
            waiting: vec![None; height],
            next: 0,
            root: None,
        }
    }

    fn width(&self) -> u64 {
        1 << self.height
    }

    fn zero(&self, level: usize) -> Hash {
        self.zeros
            .get(self.base + level)
            .copied()
            .unwrap_or([0; 32])
    }

    /// Places the subtree `h` of height `level` at `next`, which is a multiple of
    /// `2^level`, and folds it up with the left siblings that wait for it.
    fn put(&mut self, level: usize, mut h: Hash) {
        let mut k = level;
        loop {
            let zero = self.zero(k);
            let Some(slot) = self.waiting.get_mut(k) else {
                self.root = Some(h);
                break;
            };
            if (self.next >> k) & 1 == 1 {
                // A right child: its left sibling was put before it (a zero one by `skip_to`).
                h = node(&slot.take().unwrap_or(zero), &h);
                k += 1;
            } else {
                *slot = Some(h);
                break;
            }
        }
        self.next += 1 << level;
    }

    /// Fills `[next, target)` with zero items, as the fewest aligned zero subtrees.
    fn skip_to(&mut self, target: u64) {
        let target = target.min(self.width());
        while self.next < target {
            let mut k = (self.next.trailing_zeros() as usize).min(self.height);
            while k > 0 && self.next + (1 << k) > target {
                k -= 1;
            }
            self.put(k, self.zero(k));
        }
    }

    /// Item `index`, after every item pushed so far; items skipped are zero. An index behind
    /// the last one pushed, or past the tree, is a caller's bug and is ignored.
    fn push(&mut self, index: u64, item: Hash) {
        if index < self.next || index >= self.width() {
            return;
        }
        self.skip_to(index);
        self.put(0, item);
    }

    /// The root, the items not pushed being zero.
    fn finish(mut self) -> Hash {
        self.skip_to(self.width());
        self.root.unwrap_or(self.zero(self.height))
    }
}

/// The root of one page's subtree (height 7) over its 4096 bytes.
fn page_root(bytes: &[u8], z: &[Hash]) -> Hash {
    let mut tree = Frontier::new(PAGE_HEIGHT, 0, z);
    for (i, chunk) in bytes.chunks_exact(LEAF_BYTES as usize).enumerate() {
        if chunk.iter().any(|&b| b != 0) {
            let mut leaf = [0u8; 32];
            leaf.copy_from_slice(chunk);
            tree.push(i as u64, leaf);
        }
    }
    tree.finish()
}

/// The memory root: every resident page's bytes (the file pieces and the initial stack),
/// each page's subtree placed at its page number, all other pages zero.
fn memory_root(
    elf: &[u8],
    pieces: &[Piece],
    resident: &[std::ops::Range<u64>],
    stack: &[u8; STACK_IMAGE_LEN],
    z: &[Hash],
) -> Hash {
    let mut tree = Frontier::new(MEMORY_DEPTH - PAGE_HEIGHT, PAGE_HEIGHT, z);
    let mut bytes = [0u8; PAGE as usize];
    // The first piece that may still reach the current page: pages and pieces both ascend.
    let mut first = 0;
    for page in resident.iter().flat_map(|r| r.clone()) {
        let (lo, hi) = (page * PAGE, (page + 1) * PAGE);
        bytes.fill(0);
        while pieces.get(first).is_some_and(|p| p.end <= lo) {
            first += 1;
        }
        for p in pieces.iter().skip(first).take_while(|p| p.start < hi) {
            let (from, to) = (p.start.max(lo), p.end.min(hi));
            let src = usize::try_from(p.file + (from - p.start))
                .ok()
                .and_then(|at| elf.get(at..at.checked_add((to - from) as usize)?));
            let dst = bytes.get_mut((from - lo) as usize..(to - lo) as usize);
            // The segment checks put every piece inside the file, so both exist.
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
            }
        }
        // No segment overlaps the stack, so its bytes and the file's never share a page.
        let stack_lo = u64::from(INITIAL_SP);
        if (lo..hi).contains(&stack_lo) {
            let at = (stack_lo - lo) as usize;
            if let Some(dst) = bytes.get_mut(at..at + STACK_IMAGE_LEN) {
                dst.copy_from_slice(stack);
            }
        }
        tree.push(page, page_root(&bytes, z));
    }
    tree.finish()
}

/// The page table root: `T[p] = perms | 8 * resident` for every page (SPEC 1.6), the
/// permissions the union over the segments with `memsz > 0` touching the page (SPEC 1.2),
/// the stack read-write.
fn page_table_root(segments: &[Segment], resident: &[std::ops::Range<u64>], z: &[Hash]) -> Hash {
    let touched = |keep: &dyn Fn(&Segment) -> bool| {
        merge(
            segments
                .iter()
                .filter(|s| s.memsz > 0 && keep(s))
                .map(|s| pages_of(u64::from(s.vaddr), s.mem_end()))
                .collect(),
        )
    };
    let stack = pages_of(STACK_BOTTOM, STACK_TOP);
    let layers = [
        (touched(&|_| true), MAPPED),
        (touched(&Segment::writable), MAPPED | WRITABLE),
        (touched(&Segment::executable), MAPPED | EXECUTABLE),
        (vec![stack], MAPPED | WRITABLE),
        (resident.to_vec(), RESIDENT),
    ];
    // One byte per page: 1 MiB, whatever the segments' sizes, each merged range set once.
    let mut table = vec![0u8; PAGES as usize];
    for (ranges, bits) in layers {
        for r in ranges {
            if let Some(run) = table.get_mut(r.start as usize..r.end as usize) {
                run.iter_mut().for_each(|t| *t |= bits);
            }
        }
    }
    let mut tree = Frontier::new(PAGE_TABLE_DEPTH, 0, z);
    for (i, chunk) in table.chunks_exact(LEAF_BYTES as usize).enumerate() {
        if chunk.iter().any(|&b| b != 0) {
            let mut leaf = [0u8; 32];
            leaf.copy_from_slice(chunk);
            tree.push(i as u64, leaf);
        }
    }
    tree.finish()
}

/// The input root (SPEC 1.6): the input zero-padded to 2^32 bytes, or, longer than that,
/// committed flat.
fn input_root(input: &[u8], z: &[Hash]) -> Hash {
    if u64::try_from(input.len()).unwrap_or(u64::MAX) > MAX_TREE_INPUT {
        let mut h = Keccak256::new();
        h.update(LONG_INPUT_DOMAIN);
        h.update(input);
        return h.finalize().into();
    }
    let mut tree = Frontier::new(INPUT_DEPTH, 0, z);
    for (i, chunk) in input.chunks(LEAF_BYTES as usize).enumerate() {
        if chunk.iter().any(|&b| b != 0) {
            let mut leaf = [0u8; 32];
            if let Some(dst) = leaf.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            tree.push(i as u64, leaf);
        }
    }
    tree.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64) for the cases below.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// The root of `height` levels over `items` (index -> item), every node hashed.
    fn dense_root(height: usize, base: usize, items: &BTreeMap<u64, Hash>, z: &[Hash]) -> Hash {
        let mut level: Vec<Hash> = (0..1u64 << height)
            .map(|i| items.get(&i).copied().unwrap_or(z[base]))
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| node(&p[0], &p[1])).collect();
        }
        level[0]
    }

    #[test]
    fn a_frontier_root_is_the_dense_root() {
        let z = zero_hashes();
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for case in 0..200 {
            let (height, base) = ((case % 7) as usize, (case % 3) as usize);
            let mut items = BTreeMap::new();
            for _ in 0..rng(&mut state) % 6 {
                let index = rng(&mut state) % (1 << height);
                let mut item = [0u8; 32];
                item[..8].copy_from_slice(&rng(&mut state).to_le_bytes());
                items.insert(index, item);
            }
            let mut tree = Frontier::new(height, base, &z);
            for (&i, &item) in &items {
                tree.push(i, item);
            }
            assert_eq!(
                tree.finish(),
                dense_root(height, base, &items, &z),
                "height {height}, items at {:?}",
                items.keys().collect::<Vec<_>>()
            );
        }
        // Nothing pushed: the zero subtree of the tree's height.
        assert_eq!(Frontier::new(20, 7, &z).finish(), z[27]);
    }

    /// Which segment's file byte ends at each address of `0..span`, the last in order winning.
    fn naive_owner(segments: &[Segment], span: u64) -> Vec<Option<u64>> {
        let mut owner = vec![None; span as usize];
        for s in segments {
            for a in u64::from(s.vaddr)..s.file_end() {
                owner[a as usize] = Some(u64::from(s.offset) + (a - u64::from(s.vaddr)));
            }
        }
        owner
    }

    #[test]
    fn file_pieces_keep_the_last_segment_of_each_byte_once() {
        let mut state = 0x2545_f491_4f6c_dd1d;
        for _ in 0..300 {
            let segments: Vec<Segment> = (0..1 + rng(&mut state) % 6)
                .map(|_| Segment {
                    offset: (rng(&mut state) % 1000) as u32,
                    vaddr: (rng(&mut state) % 200) as u32,
                    filesz: (rng(&mut state) % 60) as u32,
                    memsz: 1000,
                    flags: 0,
                })
                .collect();
            let program = Program {
                entry: 0,
                e_phoff: 0,
                e_phnum: 0,
                segments: segments.clone(),
            };
            let pieces = program.file_pieces();
            let mut owner = vec![None; 300];
            for p in &pieces {
                for a in p.start..p.end {
                    assert!(owner[a as usize].is_none(), "{a} copied twice: {pieces:?}");
                    owner[a as usize] = Some(p.file + (a - p.start));
                }
            }
            assert!(pieces.windows(2).all(|w| w[0].end <= w[1].start));
            assert_eq!(owner, naive_owner(&segments, 300), "{segments:?}");
        }
    }

    #[test]
    fn the_initial_stack_is_the_spec_table() {
        let program = Program {
            entry: 0x1_0074,
            e_phoff: 52,
            e_phnum: 3,
            segments: vec![Segment {
                offset: 0,
                vaddr: 0x1_0000,
                filesz: 0x100,
                memsz: 0x100,
                flags: PF_X,
            }],
        };
        let stack = program.stack_image();
        let word = |addr: u32| {
            let at = (addr - INITIAL_SP) as usize;
            u32::from_le_bytes(stack[at..at + 4].try_into().unwrap())
        };
        assert_eq!(
            [word(0x7fff_ff40), word(0x7fff_ff44), word(0x7fff_ff48)],
            [1, 0x7fff_fff0, 0]
        );
        // The auxiliary vector's AT_HWCAP, AT_PHDR and AT_PHNUM, AT_ENTRY, and AT_NULL.
        assert_eq!([word(0x7fff_ff50), word(0x7fff_ff54)], [16, 0x1100]);
        assert_eq!([word(0x7fff_ff68), word(0x7fff_ff6c)], [3, 0x1_0034]);
        assert_eq!([word(0x7fff_ff78), word(0x7fff_ff7c)], [5, 3]);
        assert_eq!([word(0x7fff_ff90), word(0x7fff_ff94)], [9, 0x1_0074]);
        assert_eq!([word(0x7fff_ffd0), word(0x7fff_ffd4)], [0, 0]);
        assert_eq!(&stack[0x98..0xa0], &[0; 8]);
        assert_eq!(&stack[0xa0..0xb0], &AT_RANDOM_BYTES);
        assert_eq!(&stack[0xb0..], b"guest\0\0\0\0\0\0\0\0\0\0\0");
    }
}
