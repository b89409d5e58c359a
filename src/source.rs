//! Where a trace comes from: the VM running a guest, a recorded trace file, or a deterministic
//! synthetic trace generated at memory speed (to measure the Merkleisation alone).

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
    #[error("loading the program: {0}")]
    Load(#[from] LoadError),
    #[error("trace file {path}: {len} bytes is not a whole number of 32-byte chunks")]
    Ragged { path: PathBuf, len: u64 },
    #[error("{0}")]
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
    let base = seed.wrapping_add(i.wrapping_mul(4));
    for (k, part) in c.chunks_exact_mut(8).enumerate() {
        let mut z = base
            .wrapping_add(k as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z ^= z >> 29;
        z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        part.copy_from_slice(&(z ^ (z >> 32)).to_le_bytes());
    }
    c
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
                    for (k, c) in buf[..m].iter_mut().enumerate() {
                        *c = synthetic_chunk(*seed, i + k as u64);
                    }
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
