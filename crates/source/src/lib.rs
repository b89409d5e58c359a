//! Where a trace comes from: the VM running a guest, a recorded trace file, or a deterministic
//! synthetic trace generated at memory speed (to measure the Merkleisation alone).
//!
//! [`Source::feed`] streams any source into any sink; [`Source::prove`] proves it, letting the
//! hashing workers produce the blocks of sources that can be split (synthetic: chunk `i` is a
//! function of the seed and `i`; a trace file: reads at offsets).

pub mod device;
#[cfg(feature = "cuda")]
mod gpu;

pub use device::{commit, prove_on, Device, DeviceError, Run};
use poie_proof::{prove_indexed, Hasher, Params, Proof, Prover, ProverConfig};
use poie_trace::{synthetic, Chunk, Counted, TraceSink, CHUNK_LEN};
use poie_vm::{LoadError, Outcome, Vm};
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
    /// `n` pseudo-random chunks from `seed` (see [`poie_trace::synthetic::chunk`]).
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
    /// The blake3 of a trace file's bytes, hashed as they streamed (file sources only).
    pub blake3: Option<[u8; 32]>,
}

/// Chunks handed to the sink at a time by the file and synthetic sources.
const FEED: usize = 1024;

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
                vm.set_stdout(poie_vm::Output::Discard);
                vm.set_stderr(poie_vm::Output::Discard);
                let r = vm.run(sink, *max_steps)?;
                Ok(Fed {
                    chunks: r.steps,
                    outcome: Some(r.outcome),
                    blake3: None,
                })
            }
            Source::Synthetic { n, seed } => {
                let mut buf = vec![[0u8; CHUNK_LEN]; FEED];
                let mut i = 0u64;
                while i < *n {
                    let m = (*n - i).min(FEED as u64) as usize;
                    synthetic::fill(*seed, i, &mut buf[..m]);
                    sink.consume(&buf[..m])?;
                    i += m as u64;
                }
                sink.finish()?;
                Ok(Fed {
                    chunks: *n,
                    outcome: None,
                    blake3: None,
                })
            }
            Source::File(path) => {
                let mut f = poie_files::files::open_regular(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                let len = f.metadata()?.len();
                let mut digest = blake3::Hasher::new();
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
                    digest.update(&bytes[..got]);
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
                    blake3: Some(*digest.finalize().as_bytes()),
                })
            }
        }
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
                    synthetic::fill(*seed, first, out);
                    progress(out.len() as u64);
                    Ok(())
                };
                let proof = prove_indexed(params, hasher, cfg, *n, &fill)?;
                let fed = Fed {
                    chunks: *n,
                    outcome: None,
                    blake3: None,
                };
                Ok((proof, fed))
            }
            _ => {
                let mut sink = Counted::new(Prover::new(params, hasher, cfg), progress);
                let fed = self.feed(&mut sink)?;
                Ok((sink.into_inner().into_proof()?, fed))
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
