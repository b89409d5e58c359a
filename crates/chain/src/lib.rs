//! The on-chain referee from the Rust side: the compiled contracts of `contracts/` (their
//! committed bytecode, [`contracts`]), an EVM to run them ([`evm`]: revm at a pinned hardfork,
//! with gas split as the gas tables report it), the calls' ABI encoding ([`abi`]), typed calls
//! to the dispute game ([`game`]), and a transcript's last step judged on-chain ([`referee`]).

pub mod abi;
pub mod contracts;
pub mod evm;
pub mod game;
pub mod referee;

pub use evm::{Calldata, Evm, EvmError, Gas, Outcome, HARDFORK};
pub use revm::primitives::Address;
