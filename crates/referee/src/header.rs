//! The header `H` of SPEC 1.6: 394 bytes, integers big-endian, whose keccak256 is the state
//! commitment. [`Header::decode`] takes only what a VM can commit to: the exact length, the
//! domain, a known status and trap kind that agree with each other, `x0 = 0`, and no file
//! descriptor bits beyond 0, 1 and 2.

use crate::merkle::Hash;
use sha3::{Digest, Keccak256};
use thiserror::Error;

/// The header's first 15 bytes.
pub const DOMAIN: &[u8; 15] = b"poie/v1/vmstate";
/// The header's length in bytes.
pub const HEADER_LEN: usize = 394;
/// The bits of `open_fds` that can be set: fds 0, 1 and 2.
const FD_BITS: u8 = 0b111;

/// How the job stands (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running = 0,
    Exited = 1,
    Trapped = 2,
    /// Neither exited nor trapped, and `steps >= max_steps`.
    StepLimit = 3,
}

/// The trap's kind (`trap_kind`); [`TrapKind::None`] unless the job trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    None = 0,
    IllegalInstruction = 1,
    Breakpoint = 2,
    LoadFault = 3,
    StoreFault = 4,
    FetchFault = 5,
    MisalignedJump = 6,
    MemoryLimit = 7,
    OutputLimit = 8,
}

impl Status {
    fn from_byte(b: u8) -> Option<Status> {
        Some(match b {
            0 => Status::Running,
            1 => Status::Exited,
            2 => Status::Trapped,
            3 => Status::StepLimit,
            _ => return None,
        })
    }
}

impl TrapKind {
    fn from_byte(b: u8) -> Option<TrapKind> {
        Some(match b {
            0 => TrapKind::None,
            1 => TrapKind::IllegalInstruction,
            2 => TrapKind::Breakpoint,
            3 => TrapKind::LoadFault,
            4 => TrapKind::StoreFault,
            5 => TrapKind::FetchFault,
            6 => TrapKind::MisalignedJump,
            7 => TrapKind::MemoryLimit,
            8 => TrapKind::OutputLimit,
            _ => return None,
        })
    }
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("a state header is exactly {HEADER_LEN} bytes, not {0}")]
    Length(usize),
    #[error("the header does not start with \"poie/v1/vmstate\"")]
    Domain,
    #[error("unknown status {0}")]
    Status(u8),
    #[error("unknown trap kind {0}")]
    TrapKind(u8),
    #[error("trap kind {trap_kind:?} does not go with status {status:?}")]
    TrapMismatch { status: Status, trap_kind: TrapKind },
    #[error("x0 is {0:#x}, not 0")]
    NonZeroX0(u32),
    #[error("open_fds {0:#04x} has bits beyond fds 0, 1 and 2")]
    OpenFds(u8),
}

/// Every field of the header, in its order (SPEC 1.6's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The job's index in its windback.
    pub job: u32,
    pub pc: u32,
    /// x0..x31; x0 is 0.
    pub regs: [u32; 32],
    pub memory_root: Hash,
    pub page_table_root: Hash,
    pub resident_pages: u32,
    /// The initial and the current break, 33-bit numbers (2^32: the break cannot move).
    pub brk_start: u64,
    pub brk: u64,
    /// Instructions retired since loading.
    pub steps: u64,
    /// The job's step limit.
    pub max_steps: u64,
    pub status: Status,
    pub trap_kind: TrapKind,
    /// Exited: the full `a0`; trapped: the fault address or jump target, else 0.
    pub status_value: u32,
    /// The trapping instruction's pc and word; 0 unless trapped.
    pub trap_pc: u32,
    pub trap_word: u32,
    pub input_root: Hash,
    pub input_len: u64,
    /// Input bytes read so far.
    pub input_pos: u64,
    /// Bit `fd` set while fd 0, 1 or 2 is open.
    pub open_fds: u8,
    pub stdout_len: u64,
    pub stdout_acc: Hash,
    pub stderr_len: u64,
    pub stderr_acc: Hash,
}

/// Reads fixed-width fields off the front of a byte string; never panics.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Length(0))?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take()?))
    }
}

impl Header {
    /// The 394 header bytes: the domain, then every field in order, integers big-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(DOMAIN);
        out.extend_from_slice(&self.job.to_be_bytes());
        out.extend_from_slice(&self.pc.to_be_bytes());
        for r in self.regs {
            out.extend_from_slice(&r.to_be_bytes());
        }
        out.extend_from_slice(&self.memory_root);
        out.extend_from_slice(&self.page_table_root);
        out.extend_from_slice(&self.resident_pages.to_be_bytes());
        for v in [self.brk_start, self.brk, self.steps, self.max_steps] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.push(self.status as u8);
        out.push(self.trap_kind as u8);
        for v in [self.status_value, self.trap_pc, self.trap_word] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.input_root);
        for v in [self.input_len, self.input_pos] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.push(self.open_fds);
        out.extend_from_slice(&self.stdout_len.to_be_bytes());
        out.extend_from_slice(&self.stdout_acc);
        out.extend_from_slice(&self.stderr_len.to_be_bytes());
        out.extend_from_slice(&self.stderr_acc);
        out
    }

    /// The state commitment: `keccak256(encode())`.
    pub fn commitment(&self) -> Hash {
        Keccak256::digest(self.encode()).into()
    }

    /// Reads a header: exactly [`HEADER_LEN`] bytes, as [`Header::encode`] writes them.
    pub fn decode(bytes: &[u8]) -> Result<Header, DecodeError> {
        if bytes.len() != HEADER_LEN {
            return Err(DecodeError::Length(bytes.len()));
        }
        let mut r = Reader(bytes);
        if &r.take::<15>()? != DOMAIN {
            return Err(DecodeError::Domain);
        }
        let job = r.u32()?;
        let pc = r.u32()?;
        let mut regs = [0u32; 32];
        for reg in &mut regs {
            *reg = r.u32()?;
        }
        let memory_root = r.take()?;
        let page_table_root = r.take()?;
        let resident_pages = r.u32()?;
        let (brk_start, brk, steps, max_steps) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let status_byte = r.u8()?;
        let status = Status::from_byte(status_byte).ok_or(DecodeError::Status(status_byte))?;
        let kind_byte = r.u8()?;
        let trap_kind = TrapKind::from_byte(kind_byte).ok_or(DecodeError::TrapKind(kind_byte))?;
        let header = Header {
            job,
            pc,
            regs,
            memory_root,
            page_table_root,
            resident_pages,
            brk_start,
            brk,
            steps,
            max_steps,
            status,
            trap_kind,
            status_value: r.u32()?,
            trap_pc: r.u32()?,
            trap_word: r.u32()?,
            input_root: r.take()?,
            input_len: r.u64()?,
            input_pos: r.u64()?,
            open_fds: r.u8()?,
            stdout_len: r.u64()?,
            stdout_acc: r.take()?,
            stderr_len: r.u64()?,
            stderr_acc: r.take()?,
        };
        header.check()?;
        Ok(header)
    }

    /// The rules between fields that decoding enforces (see the module documentation).
    fn check(&self) -> Result<(), DecodeError> {
        let trapped = self.status == Status::Trapped;
        if trapped == (self.trap_kind == TrapKind::None) {
            return Err(DecodeError::TrapMismatch {
                status: self.status,
                trap_kind: self.trap_kind,
            });
        }
        if self.regs[0] != 0 {
            return Err(DecodeError::NonZeroX0(self.regs[0]));
        }
        if self.open_fds & !FD_BITS != 0 {
            return Err(DecodeError::OpenFds(self.open_fds));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            job: 0x0102_0304,
            pc: 0x1_0000,
            regs: std::array::from_fn(|i| {
                if i == 0 {
                    0
                } else {
                    0x0101_0101u32.wrapping_mul(i as u32)
                }
            }),
            memory_root: [1; 32],
            page_table_root: [2; 32],
            resident_pages: 3,
            brk_start: 1 << 32,
            brk: 1 << 32,
            steps: 5,
            max_steps: u64::MAX,
            status: Status::Trapped,
            trap_kind: TrapKind::LoadFault,
            status_value: 4,
            trap_pc: 0x1_0008,
            trap_word: 0x0002_a303,
            input_root: [3; 32],
            input_len: 8,
            input_pos: 4,
            open_fds: 0b101,
            stdout_len: 3,
            stdout_acc: [4; 32],
            stderr_len: 0,
            stderr_acc: [0; 32],
        }
    }

    #[test]
    fn header_round_trips_big_endian() {
        let h = sample();
        let bytes = h.encode();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(&bytes[..15], DOMAIN);
        assert_eq!(&bytes[15..19], &[1, 2, 3, 4], "job, big-endian");
        assert_eq!(Header::decode(&bytes), Ok(h.clone()));
        assert_eq!(h.commitment(), <[u8; 32]>::from(Keccak256::digest(&bytes)));
    }

    #[test]
    fn header_refuses_bad_lengths_domains_and_enums() {
        let bytes = sample().encode();
        for len in [0, 1, 15, 393, 395, 788] {
            let mut b = bytes.clone();
            b.resize(len, 0);
            assert_eq!(Header::decode(&b), Err(DecodeError::Length(len)));
        }
        let mut b = bytes.clone();
        b[0] ^= 1;
        assert_eq!(Header::decode(&b), Err(DecodeError::Domain));
        // status at 251, trap kind at 252, x0 at 23..27, open_fds at 313.
        let mut b = bytes.clone();
        b[251] = 4;
        assert_eq!(Header::decode(&b), Err(DecodeError::Status(4)));
        let mut b = bytes.clone();
        b[252] = 9;
        assert_eq!(Header::decode(&b), Err(DecodeError::TrapKind(9)));
        let mut b = bytes.clone();
        b[252] = 0;
        assert!(matches!(
            Header::decode(&b),
            Err(DecodeError::TrapMismatch { .. })
        ));
        let mut b = bytes.clone();
        b[251] = 1;
        assert!(matches!(
            Header::decode(&b),
            Err(DecodeError::TrapMismatch { .. })
        ));
        let mut b = bytes.clone();
        b[26] = 1;
        assert_eq!(Header::decode(&b), Err(DecodeError::NonZeroX0(1)));
        let mut b = bytes;
        b[313] = 8;
        assert_eq!(Header::decode(&b), Err(DecodeError::OpenFds(8)));
    }
}
