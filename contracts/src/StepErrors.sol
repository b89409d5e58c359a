// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

// Why `PoieStep` refuses a step proof: one error per refusal of the Rust referee
// (`poie-referee`: `ProofDecodeError`, `DecodeError`, `StepError`), raised in the same order as
// the Rust code checks, so that a test can map each revert onto the Rust error one to one.
// A trap is never a refusal: it is a post-state (SPEC 1.7).

/// The bytes are not a step proof (`ProofDecodeError`, wire.rs). `reason`:
/// 1 `TooLong` (more than 8192 bytes; `value` the length),
/// 2 `Short` (the bytes end inside a field; `value` the offset where that field starts),
/// 3 `List` (a list of more than 2 leaf proofs; `value` the count),
/// 4 `Siblings` (a leaf proof with more than 27 siblings; `value` the count),
/// 5 `Trailing` (bytes after the last list; `value` how many).
error BadEncoding(uint8 reason, uint256 value);

/// The 394-byte header does not decode (`DecodeError`, header.rs). `reason`:
/// 1 `Domain` (not "poie/v1/vmstate"; `value` 0),
/// 2 `Status` (status byte above 3; `value` the byte),
/// 3 `TrapKind` (trap kind byte above 8; `value` the byte),
/// 4 `TrapMismatch` (trapped without a kind, or a kind without the trapped status;
///   `value` status * 256 + trap kind),
/// 5 `NonZeroX0` (`value` x0),
/// 6 `OpenFds` (bits above fd 2; `value` open_fds).
error BadHeader(uint8 reason, uint256 value);

/// `StepError::HeaderMismatch`: keccak256 of the proof's header is not the claimed pre-state.
error HeaderMismatch();

/// `StepError::Finished`: the pre-state has exited (status 1) or trapped (status 2).
error Finished(uint8 status);

/// `StepError::StepLimit`: the pre-state has status 3, or status 0 with `steps >= maxSteps`.
error StepLimit(uint64 steps, uint64 maxSteps);

/// `StepError::MisalignedPc`: the pre-state's pc is not 4-byte aligned.
error MisalignedPc(uint32 pc);

/// `StepError::FlatInput`: a `read` needs input leaves, but the input is longer than 2^32 bytes
/// and committed flat.
error FlatInput();

// In the three errors below `what` names the proof (the Rust error's `what` string):
// 1 "fetch", 2 "fetch page", 3 "data", 4 "data page", 5 "input", 6 "page memory".

/// `StepError::ProofCount`: a list holds `got` leaf proofs where the step needs `expected`.
error ProofCount(uint8 what, uint256 expected, uint256 got);

/// `StepError::WrongLeaf`: the proof is of leaf `got` where the step needs leaf `expected`.
error WrongLeaf(uint8 what, uint64 expected, uint64 got);

/// `StepError::BadProof`: leaf `index` does not verify against the pre-state's root (wrong
/// number of siblings, an index too wide for the tree, or a path to another root).
error BadProof(uint8 what, uint64 index);
