//! The execution trace: one 32-byte chunk per retired instruction, delivered in batches to a
//! [`TraceSink`].
//!
//! The byte layout is specified in `docs/SPEC.md` ("Trace chunks"). All fields are little-endian
//! `u32` words:
//!
//! | offset | field                                                            |
//! |--------|------------------------------------------------------------------|
//! | 0      | `pc` of the instruction                                          |
//! | 4      | the instruction word                                             |
//! | 8      | value read from `rs1` (0 if the format has no `rs1`)             |
//! | 12     | value read from `rs2` (0 if the format has no `rs2`)             |
//! | 16     | result written to `rd` (0 if none; recorded even when `rd = x0`) |
//! | 20     | memory address of a load or store (0 otherwise)                  |
//! | 24     | memory value loaded or stored, zero-extended (0 otherwise)       |
//! | 28     | `pc` of the next instruction                                     |

pub mod synthetic;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Size of one trace chunk in bytes.
pub const CHUNK_LEN: usize = 32;

/// One trace chunk, exactly as it is hashed.
pub type Chunk = [u8; CHUNK_LEN];

/// The fields of a chunk, for tests and tools that inspect a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub pc: u32,
    pub word: u32,
    pub rs1_val: u32,
    pub rs2_val: u32,
    pub rd_val: u32,
    pub mem_addr: u32,
    pub mem_val: u32,
    pub next_pc: u32,
}

impl Step {
    #[inline(always)]
    pub fn to_chunk(&self) -> Chunk {
        let words = [
            self.pc,
            self.word,
            self.rs1_val,
            self.rs2_val,
            self.rd_val,
            self.mem_addr,
            self.mem_val,
            self.next_pc,
        ];
        let mut out = [0u8; CHUNK_LEN];
        for (dst, w) in out.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub fn from_chunk(c: &Chunk) -> Self {
        let w = |i: usize| u32::from_le_bytes([c[4 * i], c[4 * i + 1], c[4 * i + 2], c[4 * i + 3]]);
        Step {
            pc: w(0),
            word: w(1),
            rs1_val: w(2),
            rs2_val: w(3),
            rd_val: w(4),
            mem_addr: w(5),
            mem_val: w(6),
            next_pc: w(7),
        }
    }
}

/// Receives the trace in batches, in order. The VM is generic over its sink, so a sink's
/// `consume` is inlined into the run loop rather than called through a vtable.
pub trait TraceSink {
    /// When false the VM does not build chunks at all (a pure interpreter run); `consume` is
    /// then called with empty slices only.
    const RECORDS: bool = true;

    /// Takes the next batch of chunks. An error stops the run.
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()>;

    /// Lends room for up to `max` (at least 1) chunks that the producer writes in place and
    /// then hands over with [`TraceSink::commit`], saving a copy. `None` (the default): the
    /// sink has no buffer to lend, so the producer uses its own and calls `consume`.
    #[inline(always)]
    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        let _ = max;
        None
    }

    /// Takes the first `written` chunks of the room the last [`TraceSink::lend`] returned.
    fn commit(&mut self, written: usize) -> io::Result<()> {
        let _ = written;
        Err(io::Error::other("this sink lends no buffer"))
    }

    /// Called once after the last batch.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: TraceSink + ?Sized> TraceSink for &mut S {
    const RECORDS: bool = S::RECORDS;
    #[inline(always)]
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        (**self).consume(chunks)
    }
    #[inline(always)]
    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        (**self).lend(max)
    }
    fn commit(&mut self, written: usize) -> io::Result<()> {
        (**self).commit(written)
    }
    fn finish(&mut self) -> io::Result<()> {
        (**self).finish()
    }
}

/// Records nothing: the VM skips building chunks. Measures the interpreter alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTrace;

impl TraceSink for NoTrace {
    const RECORDS: bool = false;
    #[inline(always)]
    fn consume(&mut self, _: &[Chunk]) -> io::Result<()> {
        Ok(())
    }
}

/// Receives every chunk and drops it: the cost of producing the trace, without consuming it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl TraceSink for NullSink {
    #[inline(always)]
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        std::hint::black_box(chunks);
        Ok(())
    }
}

/// Counts chunks and batches.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingSink {
    pub chunks: u64,
    pub batches: u64,
}

impl TraceSink for CountingSink {
    #[inline(always)]
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        self.chunks += chunks.len() as u64;
        self.batches += 1;
        Ok(())
    }
}

/// Collects the whole trace in memory (tests and the naive reference only).
#[derive(Debug, Default, Clone)]
pub struct VecSink(pub Vec<Chunk>);

impl TraceSink for VecSink {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        self.0.extend_from_slice(chunks);
        Ok(())
    }
}

/// Feeds the same trace to two sinks (e.g. the prover and an opening collector).
pub struct Tee<A, B>(pub A, pub B);

impl<A: TraceSink, B: TraceSink> TraceSink for Tee<A, B> {
    const RECORDS: bool = A::RECORDS || B::RECORDS;
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        self.0.consume(chunks)?;
        self.1.consume(chunks)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.0.finish()?;
        self.1.finish()
    }
}

/// Writes raw chunks, back to back, to any writer.
pub struct WriterSink<W: Write>(pub W);

impl<W: Write> TraceSink for WriterSink<W> {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        self.0.write_all(chunks.as_flattened())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Writes raw chunks to a file: `n * 32` bytes, no header.
pub type FileSink = WriterSink<BufWriter<File>>;

impl FileSink {
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(WriterSink(BufWriter::with_capacity(
            1 << 20,
            File::create(path)?,
        )))
    }
}

/// Counts the chunks a producer hands a sink, for a progress display, in reports of at least
/// [`PROGRESS_EVERY`] chunks: the VM hands over a batch every 256 steps, and a progress bar's
/// update per batch (a clock read, an atomic) cost the producer about 6% of its time, which is
/// the proof's time wherever the cores outrun the VM. The last chunks are reported at
/// `finish`.
pub struct Counted<'a, S> {
    inner: S,
    progress: &'a (dyn Fn(u64) + Sync),
    unreported: u64,
}

/// Chunks between two progress reports of [`Counted`] (a few hundred microseconds of the VM).
pub const PROGRESS_EVERY: u64 = 1 << 16;

impl<'a, S> Counted<'a, S> {
    pub fn new(inner: S, progress: &'a (dyn Fn(u64) + Sync)) -> Self {
        Counted {
            inner,
            progress,
            unreported: 0,
        }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    fn count(&mut self, chunks: usize) {
        self.unreported = self.unreported.saturating_add(chunks as u64);
        if self.unreported >= PROGRESS_EVERY {
            (self.progress)(std::mem::take(&mut self.unreported));
        }
    }
}

impl<S: TraceSink> TraceSink for Counted<'_, S> {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        self.count(chunks.len());
        self.inner.consume(chunks)
    }
    #[inline(always)]
    fn lend(&mut self, max: usize) -> Option<&mut [Chunk]> {
        self.inner.lend(max)
    }
    fn commit(&mut self, written: usize) -> io::Result<()> {
        self.count(written);
        self.inner.commit(written)
    }
    fn finish(&mut self) -> io::Result<()> {
        if self.unreported > 0 {
            (self.progress)(std::mem::take(&mut self.unreported));
        }
        self.inner.finish()
    }
}

/// Passes the trace on with step `at` corrupted (its first byte flipped): how drills and tests
/// play a lying executor whose vote and tree agree with each other but not with the real
/// execution.
pub struct Corrupting<S> {
    pub inner: S,
    pub at: Option<u64>,
    pub seen: u64,
}

impl<S: TraceSink> TraceSink for Corrupting<S> {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let end = self.seen + chunks.len() as u64;
        match self.at.filter(|&a| a >= self.seen && a < end) {
            Some(a) => {
                let mut copy = chunks.to_vec();
                if let Some(c) = copy.get_mut((a - self.seen) as usize) {
                    c[0] ^= 1;
                }
                self.inner.consume(&copy)?;
            }
            None => self.inner.consume(chunks)?,
        }
        self.seen = end;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_layout_is_little_endian_words_in_order() {
        let s = Step {
            pc: 0x0001_0074,
            word: 0x00a5_0533,
            rs1_val: 0x1122_3344,
            rs2_val: 5,
            rd_val: 0xdead_beef,
            mem_addr: 0x8000_0000,
            mem_val: 0xff,
            next_pc: 0x0001_0078,
        };
        let c = s.to_chunk();
        let golden: [u8; 32] = [
            0x74, 0x00, 0x01, 0x00, 0x33, 0x05, 0xa5, 0x00, 0x44, 0x33, 0x22, 0x11, 0x05, 0x00,
            0x00, 0x00, 0xef, 0xbe, 0xad, 0xde, 0x00, 0x00, 0x00, 0x80, 0xff, 0x00, 0x00, 0x00,
            0x78, 0x00, 0x01, 0x00,
        ];
        assert_eq!(c, golden);
        assert_eq!(Step::from_chunk(&c), s);
    }
}
