//! poie: proof of independent execution over a deterministic RV32IM VM.
//!
//! This crate is the `poie` command and, for the tests, examples and benchmarks, one name for
//! the layers it is built from, each a crate of its own (docs/ARCHITECTURE.md):
//!
//! - [`trace`]: the 32-byte trace chunk, the sinks a trace streams into, the synthetic trace;
//! - [`files`], [`atomic`], [`json`], [`hexser`], [`limit`]: reading and writing hostile
//!   files;
//! - [`vm`]: the RV32IM user-mode interpreter that emits the trace;
//! - [`guests`]: the built-in guest programs;
//! - [`proof`]: the salted, lane-bounded, streaming Merkleisation;
//! - [`source`]: where a trace comes from, and proving it on the CPU or a GPU;
//! - [`protocol`]: votes, reveals, checks, audits, the challenge game, leak claims;
//! - [`bench`]: the hardware benchmark harness.

pub use poie_bench as bench;
pub use poie_files::{atomic, files, hexser, json, limit};
pub use poie_guests as guests;
pub use poie_proof as proof;
pub use poie_protocol as protocol;
pub use poie_referee as referee;
pub use poie_source as source;
pub use poie_trace as trace;
pub use poie_vm as vm;
