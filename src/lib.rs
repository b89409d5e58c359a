//! poie: proof of independent execution over a deterministic RV32IM VM.
//!
//! - [`vm`]: the RV32IM user-mode interpreter that emits the execution trace.
//! - [`trace`]: the 32-byte trace chunk and the [`trace::TraceSink`] trait the VM streams into.
//! - [`guests`]: the built-in guest programs embedded in the binary.

pub mod atomic;
pub mod bench;
pub mod files;
pub mod guests;
pub mod hexser;
pub mod limit;
pub mod proof;
pub mod protocol;
pub mod source;
pub mod trace;
pub mod vm;
