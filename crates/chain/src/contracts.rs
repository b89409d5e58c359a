//! The compiled contracts, as committed in `contracts/out` by `contracts/build.js` (a test
//! rebuilds them with the pinned compiler and compares byte for byte), and typed calls to them.

use crate::abi::{self, Arg};
use crate::evm::{Evm, EvmError, Gas};
use revm::primitives::Address;

/// `PoieStep`'s creation bytecode, hex.
const STEP_BIN: &str = include_str!("../../../contracts/out/PoieStep.bin");
/// `PoieGame`'s creation bytecode, hex (its constructor's arguments follow it).
const GAME_BIN: &str = include_str!("../../../contracts/out/PoieGame.bin");

/// `PoieGame`'s creation bytecode, without the constructor's arguments.
pub fn game_initcode() -> Vec<u8> {
    initcode(GAME_BIN)
}

/// Creation bytecode from committed hex.
fn initcode(hex_text: &str) -> Vec<u8> {
    // The committed file is build.js's output, checked by a test: not hostile input.
    hex::decode(hex_text.trim()).unwrap_or_default()
}

/// What `PoieStep.step` returns for a proof it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stepped {
    pub post_state: [u8; 32],
    /// None when the instruction trapped.
    pub chunk: Option<[u8; 32]>,
    pub gas: Gas,
}

/// What a reverted call said: the error's selector and its arguments' bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reverted {
    pub data: Vec<u8>,
    pub gas: Gas,
}

/// The one-step verifier deployed on a chain.
pub struct StepContract {
    pub address: Address,
}

/// Who deploys the contracts in tests and `poie referee --evm`.
pub const DEPLOYER: Address = Address::new([0x11; 20]);

impl StepContract {
    pub fn deploy(evm: &mut Evm) -> Result<StepContract, EvmError> {
        Ok(StepContract {
            address: evm.deploy(DEPLOYER, &initcode(STEP_BIN))?,
        })
    }

    /// `step(preState, proof)`: the post-state and chunk, or what the revert said.
    pub fn step(
        &self,
        evm: &mut Evm,
        from: Address,
        pre_state: [u8; 32],
        proof: &[u8],
    ) -> Result<Result<Stepped, Reverted>, EvmError> {
        let data = abi::encode_call(
            "step(bytes32,bytes)",
            &[Arg::Word(pre_state), Arg::Bytes(proof)],
        );
        let out = evm.call(from, self.address, &data)?;
        if !out.success {
            return Ok(Err(Reverted {
                data: out.output,
                gas: out.gas,
            }));
        }
        let bad = |e: abi::AbiError| EvmError::Refused(e.to_string());
        let post_state = abi::word_at(&out.output, 0).map_err(bad)?;
        let retired = abi::bool_at(&out.output, 1).map_err(bad)?;
        let chunk = abi::word_at(&out.output, 2).map_err(bad)?;
        Ok(Ok(Stepped {
            post_state,
            chunk: retired.then_some(chunk),
            gas: out.gas,
        }))
    }
}
