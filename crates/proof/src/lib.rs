//! The proof of independent execution: salted leaves over the trace, striped over lanes
//! (optionally hash-chained), Merkleised while the trace streams. `docs/SPEC.md` has the bytes.
//!
//! - [`salt`]: the executor's secret salt.
//! - [`hash`]: unique secret, leaf, node and commitment hashing for blake3 and keccak256.
//! - [`backend`]: blake3 SIMD backend selection (the `--simd` choice keccak shares).
//! - [`keccak`]: multi-buffer keccak256 (portable, AVX2 4-way, AVX-512 8-way).
//! - [`layout`]: lanes, parameters and their committed encoding.
//! - [`tree`]: RFC 6962 trees, the streaming frontier, audit paths.
//! - [`engine`]: the block hashing kernels (leaves, perfect subtrees).
//! - [`schedule`]: the tasks of a proof over a window of blocks, and the worker loop.
//! - [`pipeline`]: the prover's entry points: streaming ([`Prover`]) and indexable sources.
//! - [`opening`]: opening one leaf and verifying it.
//! - [`reference`]: the naive whole-trace implementation tests compare against.

pub mod backend;
pub mod commitment;
pub mod engine;
#[doc(hidden)]
pub mod golden;
#[cfg(feature = "cuda")]
pub mod gpu;
pub mod gpu_info;
pub mod hash;
pub mod keccak;
pub mod layout;
pub mod opening;
pub mod pipeline;
pub mod reference;
pub mod salt;
mod schedule;
pub mod tree;

pub use backend::{Simd, SimdChoice};
pub use hash::{unique_secret, Digest32, HashId, Hasher, UnknownHash};
pub use layout::{Layout, LayoutError, Params};
pub use pipeline::{prove_chunks, prove_indexed, ConfigError, Proof, Prover, ProverConfig};
pub use poie_files::Address;
pub use salt::Salt;
pub use schedule::FillFn;
