//! Where a trace comes from: the VM running a guest, a recorded trace file, or a deterministic
//! synthetic trace generated at memory speed (to measure the Merkleisation alone).
//!
//! [`Source::feed`] streams any source into any sink; [`Source::prove`] proves it, letting the
//! hashing workers produce the blocks of sources that can be split (synthetic: chunk `i` is a
//! function of the seed and `i`; a trace file: reads at offsets).

use crate::proof::{prove_indexed, Hasher, Params, Proof, Prover, ProverConfig};
use crate::trace::{Chunk, TraceSink, CHUNK_LEN};
use crate::vm::{LoadError, Outcome, Vm};
use std::io::{self, Read};
use std::path::PathBuf;
use thiserror::Error;

/// A trace source.
#[derive(Clone, Debug)]
pub enum Source {
    /// Run a guest ELF with these stdin bytes, for at most `max_steps` instructions.
    Vm {
        elf: Vec<u8>,
        input: Vec<u8>,
        max_steps: u64,
    },
    /// Raw chunks, as `poie run --trace-out` writes them.
    File(PathBuf),
    /// `n` pseudo-random chunks from `seed` (see [`synthetic_chunk`]).
    Synthetic { n: u64, seed: u64 },
}

#[derive(Debug, Error)]
pub enum SourceError {
    // The cause is the source, so a chain printer (anyhow) shows it once.
    #[error("loading the program")]
    Load(#[from] LoadError),
    #[error("trace file {path}: {len} bytes is not a whole number of 32-byte chunks")]
    Ragged { path: PathBuf, len: u64 },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What feeding a source produced besides the chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fed {
    pub chunks: u64,
    /// How the guest ended (VM sources only).
    pub outcome: Option<Outcome>,
}

/// Chunks handed to the sink at a time by the file and synthetic sources.
const FEED: usize = 1024;

/// Chunk `i` of the synthetic trace for `seed`: word `k` of the four 64-bit words is
/// `mix(seed + 4i + k)`, a cheap multiply-xorshift mix, so generation stays far cheaper than
/// hashing.
#[inline]
pub fn synthetic_chunk(seed: u64, i: u64) -> Chunk {
    let mut c = [0u8; CHUNK_LEN];
    synthetic_words(seed.wrapping_add(i.wrapping_mul(4)), &mut c);
    c
}

/// The mix of [`synthetic_chunk`]: a splitmix64-style finaliser.
#[inline(always)]
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z ^= z >> 29;
    z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^ (z >> 32)
}

/// Writes `mix(base + j)` little-endian into the `j`-th 8 bytes of `out`: one loop over
/// independent words, which the compiler vectorises wherever the target has the instructions.
#[inline(always)]
fn synthetic_words(base: u64, out: &mut [u8]) {
    for (j, w) in out.chunks_exact_mut(8).enumerate() {
        w.copy_from_slice(&mix(base.wrapping_add(j as u64)).to_le_bytes());
    }
}

/// Chunks `first..first + out.len()` of the synthetic trace for `seed`.
///
/// The chunks' words are consecutive mixes, so a block is one vectorisable loop. It runs with
/// AVX-512 or AVX2 where the CPU has them: at the baseline x86-64 target the 64-bit
/// multiplies stay scalar and generation costs about a seventh of hashing the chunk, which
/// the bench would charge to the prover. The words are the same on every path.
pub fn synthetic_fill(seed: u64, first: u64, out: &mut [Chunk]) {
    let base = seed.wrapping_add(first.wrapping_mul(4));
    let bytes = out.as_flattened_mut();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { synthetic_words_avx512(base, bytes) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { synthetic_words_avx2(base, bytes) };
        }
    }
    synthetic_words(base, bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn synthetic_words_avx512(base: u64, out: &mut [u8]) {
    synthetic_words(base, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn synthetic_words_avx2(base: u64, out: &mut [u8]) {
    synthetic_words(base, out)
}

impl Source {
    /// Streams the whole trace into `sink` (and calls its `finish`).
    pub fn feed<S: TraceSink>(&self, sink: &mut S) -> Result<Fed, SourceError> {
        match self {
            Source::Vm {
                elf,
                input,
                max_steps,
            } => {
                let mut vm = Vm::new(elf, input.clone())?;
                vm.set_stdout(crate::vm::Output::Discard);
                vm.set_stderr(crate::vm::Output::Discard);
                let r = vm.run(sink, *max_steps)?;
                Ok(Fed {
                    chunks: r.steps,
                    outcome: Some(r.outcome),
                })
            }
            Source::Synthetic { n, seed } => {
                let mut buf = vec![[0u8; CHUNK_LEN]; FEED];
                let mut i = 0u64;
                while i < *n {
                    let m = (*n - i).min(FEED as u64) as usize;
                    synthetic_fill(*seed, i, &mut buf[..m]);
                    sink.consume(&buf[..m])?;
                    i += m as u64;
                }
                sink.finish()?;
                Ok(Fed {
                    chunks: *n,
                    outcome: None,
                })
            }
            Source::File(path) => {
                let mut f = std::fs::File::open(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                let len = f.metadata()?.len();
                if len % CHUNK_LEN as u64 != 0 {
                    return Err(SourceError::Ragged {
                        path: path.clone(),
                        len,
                    });
                }
                let mut bytes = vec![0u8; FEED * CHUNK_LEN];
                let mut buf = vec![[0u8; CHUNK_LEN]; FEED];
                let mut total = 0u64;
                loop {
                    let got = read_full(&mut f, &mut bytes)?;
                    if got % CHUNK_LEN != 0 {
                        return Err(SourceError::Ragged {
                            path: path.clone(),
                            len,
                        });
                    }
                    let m = got / CHUNK_LEN;
                    for (c, b) in buf.iter_mut().zip(bytes[..got].chunks_exact(CHUNK_LEN)) {
                        c.copy_from_slice(b);
                    }
                    sink.consume(&buf[..m])?;
                    total += m as u64;
                    if got < bytes.len() {
                        break;
                    }
                }
                sink.finish()?;
                Ok(Fed {
                    chunks: total,
                    outcome: None,
                })
            }
        }
    }
}

/// Counts the chunks a streaming producer hands the prover, for a progress display, in
/// reports of at least [`PROGRESS_EVERY`] chunks: the VM hands over a batch every 256 steps, and
/// a progress bar's update per batch (a clock read, an atomic) cost the producer about 6% of its
/// time, which is the proof's time wherever the cores outrun the VM.
struct Counted<'a, S> {
    inner: S,
    progress: &'a (dyn Fn(u64) + Sync),
    unreported: u64,
}

/// Chunks between two progress reports of a streaming producer (a few hundred microseconds of
/// the VM).
const PROGRESS_EVERY: u64 = 1 << 16;

impl<S> Counted<'_, S> {
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

impl Source {
    /// Proves the whole trace. The VM streams into a [`Prover`]; the synthetic generator and
    /// trace files are filled block by block by the hashing workers themselves, in parallel.
    /// `progress` hears how many chunks were produced, now and then (it must be cheap).
    pub fn prove(
        &self,
        params: Params,
        hasher: Hasher,
        cfg: ProverConfig,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(Proof, Fed), SourceError> {
        match self {
            Source::Synthetic { n, seed } => {
                let fill = |first: u64, out: &mut [Chunk]| {
                    synthetic_fill(*seed, first, out);
                    progress(out.len() as u64);
                    Ok(())
                };
                let proof = prove_indexed(params, hasher, cfg, *n, &fill)?;
                let fed = Fed {
                    chunks: *n,
                    outcome: None,
                };
                Ok((proof, fed))
            }
            #[cfg(unix)]
            Source::File(path) => {
                use std::os::unix::fs::FileExt;
                let named =
                    |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
                let f = std::fs::File::open(path).map_err(named)?;
                let len = f.metadata().map_err(named)?.len();
                if len % CHUNK_LEN as u64 != 0 {
                    return Err(SourceError::Ragged {
                        path: path.clone(),
                        len,
                    });
                }
                let fill = |first: u64, out: &mut [Chunk]| {
                    // A file that shrinks while it is proved fails here, with its name.
                    f.read_exact_at(out.as_flattened_mut(), first * CHUNK_LEN as u64)
                        .map_err(named)?;
                    progress(out.len() as u64);
                    Ok(())
                };
                let n = len / CHUNK_LEN as u64;
                let proof = prove_indexed(params, hasher, cfg, n, &fill)?;
                Ok((
                    proof,
                    Fed {
                        chunks: n,
                        outcome: None,
                    },
                ))
            }
            _ => {
                let mut sink = Counted {
                    inner: Prover::new(params, hasher, cfg),
                    progress,
                    unreported: 0,
                };
                let fed = self.feed(&mut sink)?;
                Ok((sink.inner.into_proof()?, fed))
            }
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            k => got += k,
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised block fill is the per-chunk definition, whatever the CPU runs, for
    /// offsets that wrap the 64-bit counter too.
    #[test]
    fn synthetic_fill_is_chunk_by_chunk() {
        for seed in [0, 3, u64::MAX - 5] {
            for first in [0, 1, 7, u64::MAX / 4 - 2, u64::MAX - 3] {
                for len in [0usize, 1, 2, 5, 16, 37] {
                    let mut block = vec![[0xa5u8; 32]; len];
                    synthetic_fill(seed, first, &mut block);
                    for (j, c) in block.iter().enumerate() {
                        let i = first.wrapping_add(j as u64);
                        assert_eq!(*c, synthetic_chunk(seed, i), "seed {seed} chunk {i}");
                    }
                }
            }
        }
        // Every path this CPU can run writes the same words as the portable loop.
        let base = 0x0123_4567_89ab_cdefu64;
        let mut portable = vec![0u8; 8 * 67];
        synthetic_words(base, &mut portable);
        #[cfg(target_arch = "x86_64")]
        {
            let mut v = vec![0u8; portable.len()];
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                unsafe { synthetic_words_avx2(base, &mut v) };
                assert_eq!(v, portable, "avx2");
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                v.fill(0);
                // SAFETY: the CPU has the AVX-512 subsets the function is compiled for.
                unsafe { synthetic_words_avx512(base, &mut v) };
                assert_eq!(v, portable, "avx512");
            }
        }
        // Word k of chunk i is mix(seed + 4i + k), pinned by hand for one word.
        let c = synthetic_chunk(1, 2);
        let z = 9u64.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let z = (z ^ (z >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        assert_eq!(c[..8], (z ^ (z >> 32)).to_le_bytes());
    }
}
