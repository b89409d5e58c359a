//! The verifier's side of the VM state commitment (docs/SPEC.md 1.6), the next piece of a
//! one-step referee (as in Optimism's Cannon and Asterisc).
//!
//! Written from the specification alone: it uses nothing of poie's, so that it checks the VM
//! (`poie-vm`'s `Vm::state_commitment` and its proofs) rather than repeats it, and so that it
//! reads as a model for the on-chain verifier.
//!
//! - [`merkle`]: the trees' hashing: [`node`], [`zero_hashes`], [`verify_leaf`];
//! - [`header`]: the 394-byte header, [`Header::decode`], [`Header::encode`] and the state
//!   commitment [`Header::commitment`];
//! - [`initial`]: a job's initial state loaded from its ELF and input (SPEC 1.2, 1.3) and its
//!   commitment, [`initial_state`], with nothing run; a refused file gives an [`InitialError`];
//! - [`open`]: one 32-byte leaf of memory, of the page table or of the input checked against
//!   a decoded header's roots;
//! - [`mod@step`]: the one-step verifier: a [`StepProof`] of one instruction checked and executed
//!   against a pre-state header, giving the post-state and the trace chunk ([`step::step`]);
//!   its system calls are in `syscall`;
//! - [`dispute`]: the game's second phase without running anything: the bisection over a job's
//!   states ([`Bisection`]) and the ruling from one step proof ([`judge`]).
//!
//! Nothing here panics on hostile bytes: decoding fails with a [`DecodeError`], and a proof of
//! the wrong shape is simply rejected.

pub mod dispute;
pub mod header;
pub mod initial;
pub mod merkle;
pub mod open;
pub mod step;
mod syscall;
pub mod wire;

pub use dispute::{judge, replay, Bisection, BisectionError, Claim, ReplayError, Round, Ruling};
pub use header::{DecodeError, Header, Status, TrapKind, DOMAIN, HEADER_LEN};
pub use initial::{initial_header, initial_state, InitialError};
pub use merkle::{
    node, verify_leaf, zero_hashes, Hash, INPUT_DEPTH, LEAF_BYTES, MEMORY_DEPTH, PAGE_TABLE_DEPTH,
};
pub use step::{step, LeafProof, StepError, StepProof, StepResult, MAX_RESIDENT_PAGES};
pub use wire::{ProofDecodeError, MAX_PROOF_BYTES};
