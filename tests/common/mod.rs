//! The integration tests' shared helpers; each test file includes them with `mod common;`.
//!
//! - [`rv32`]: a tiny RV32IM encoder and ELF32 writers, so tests can build exact programs;
//! - [`cli`]: running the `poie` binary, and the checks on its output;
//! - `evm` (feature `evm`): the on-chain one-step verifier held to the Rust referee;
//! - [`fixtures`]: salts, keys, the arguments of the vote and challenge-game commands, written
//!   inputs, JSON documents;
//! - [`game`]: the challenge game's trees, keys, servers and lines;
//! - [`golden`]: the golden roots;
//! - [`one_step`]: the VM stepped under the one-step verifier, every step compared;
//! - [`random_programs`]: the one-step differential's random instruction and system-call
//!   programs;
//! - [`rng`]: a seedable generator for random test data;
//! - [`tools`]: `qemu-riscv32` and the RISC-V gcc, found or skipped.

// Each test file is a crate of its own that compiles all of this module and uses a different
// part of it: what one of them leaves unused is not dead code.
#![allow(dead_code)]

pub mod cli;
#[cfg(feature = "evm")]
pub mod evm;
pub mod fixtures;
pub mod game;
pub mod golden;
pub mod one_step;
pub mod random_programs;
pub mod rng;
pub mod rv32;
pub mod tools;
