//! An in-process EVM (revm) at a pinned hardfork, to deploy poie's contracts and call them as
//! transactions would, with every transaction's gas split as the gas tables report it.
//!
//! Gas: a transaction pays its intrinsic gas (21,000, plus calldata at 4 gas per zero byte and
//! 16 per other byte), then what its execution costs; since Prague (EIP-7623) it pays at least
//! a floor of 21,000 + 10 per calldata token (a zero byte is 1 token, another byte 4). What a
//! contract's code costs is the **execution** gas: the gas used less the intrinsic gas, so
//! that it can be compared with figures that leave calldata out.

use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};
use std::collections::HashMap;

/// The hardfork every call runs under: the one whose rules the gas tables assume (EIP-7623's
/// calldata floor included), and the compiler's `evmVersion` (contracts/build.js).
pub const HARDFORK: SpecId = SpecId::PRAGUE;
/// Enough for any call of poie's contracts; a block holds more.
const GAS_LIMIT: u64 = 30_000_000;
const TX_BASE: u64 = 21_000;

/// Why the EVM refused a transaction outright (not a revert: a revert is an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    #[error("the EVM refused the transaction: {0}")]
    Refused(String),
    #[error("the deployment did not create a contract: {0}")]
    NotDeployed(String),
}

/// What a transaction's calldata costs (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calldata {
    pub bytes: u64,
    pub nonzero: u64,
}

impl Calldata {
    pub fn of(data: &[u8]) -> Calldata {
        let nonzero = data.iter().filter(|&&b| b != 0).count() as u64;
        Calldata {
            bytes: data.len() as u64,
            nonzero,
        }
    }

    /// 4 gas per zero byte, 16 per other byte (EIP-2028).
    pub fn gas(&self) -> u64 {
        4 * (self.bytes - self.nonzero) + 16 * self.nonzero
    }

    /// EIP-7623's floor for the calldata alone: 10 gas per token, a zero byte 1 token, another
    /// byte 4 (so 40 gas per non-zero byte).
    pub fn floor_gas(&self) -> u64 {
        10 * ((self.bytes - self.nonzero) + 4 * self.nonzero)
    }
}

/// A transaction's gas, split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gas {
    /// What the transaction paid (a receipt's `gasUsed`): at least the EIP-7623 floor.
    pub used: u64,
    /// `used` before the floor, less 21,000 and the calldata's gas: what the code cost.
    pub execution: u64,
    pub calldata: Calldata,
}

/// A transaction's result: its output (the return data, or the revert data) and gas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// False when the call reverted or halted.
    pub success: bool,
    pub output: Vec<u8>,
    pub gas: Gas,
}

/// The chain: one EVM with its state, kept across transactions.
pub struct Evm {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
    nonces: HashMap<Address, u64>,
}

impl Default for Evm {
    fn default() -> Self {
        Self::new()
    }
}

impl Evm {
    /// An empty chain at [`HARDFORK`], base fee 0 (so no account needs a balance).
    pub fn new() -> Evm {
        let ctx = Context::mainnet()
            .modify_cfg_chained(|c| c.set_spec_and_mainnet_gas_params(HARDFORK))
            .modify_block_chained(|b| {
                b.gas_limit = GAS_LIMIT;
                b.basefee = 0;
            })
            .with_db(CacheDB::<EmptyDB>::default());
        Evm {
            evm: ctx.build_mainnet(),
            nonces: HashMap::new(),
        }
    }

    /// The block timestamp the next transactions see (the game's deadlines read it).
    pub fn set_timestamp(&mut self, seconds: u64) {
        self.evm.ctx.block.timestamp = revm::primitives::U256::from(seconds);
    }

    pub fn timestamp(&self) -> u64 {
        self.evm.ctx.block.timestamp.saturating_to()
    }

    /// Deploys `initcode` from `from`; the new contract's address.
    pub fn deploy(&mut self, from: Address, initcode: &[u8]) -> Result<Address, EvmError> {
        match self.transact(from, TxKind::Create, initcode)? {
            (
                ExecutionResult::Success {
                    output: Output::Create(_, Some(at)),
                    ..
                },
                _,
            ) => Ok(at),
            (other, _) => Err(EvmError::NotDeployed(format!("{other:?}"))),
        }
    }

    /// Calls `to` with `data` from `from` as a transaction, committing what it changes.
    pub fn call(&mut self, from: Address, to: Address, data: &[u8]) -> Result<Outcome, EvmError> {
        let (result, calldata) = self.transact(from, TxKind::Call(to), data)?;
        let gas = result.gas();
        let spent = gas.total_gas_spent().saturating_sub(gas.inner_refunded());
        let gas = Gas {
            used: result.tx_gas_used(),
            execution: spent.saturating_sub(TX_BASE + calldata.gas()),
            calldata,
        };
        Ok(match result {
            ExecutionResult::Success { output, .. } => Outcome {
                success: true,
                output: output.into_data().to_vec(),
                gas,
            },
            ExecutionResult::Revert { output, .. } => Outcome {
                success: false,
                output: output.to_vec(),
                gas,
            },
            ExecutionResult::Halt { reason, .. } => Outcome {
                success: false,
                output: format!("halt: {reason:?}").into_bytes(),
                gas,
            },
        })
    }

    fn transact(
        &mut self,
        from: Address,
        kind: TxKind,
        data: &[u8],
    ) -> Result<(ExecutionResult, Calldata), EvmError> {
        let nonce = self.nonces.entry(from).or_insert(0);
        let tx = TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::copy_from_slice(data))
            .gas_limit(GAS_LIMIT)
            .gas_price(0)
            .nonce(*nonce)
            .build()
            .map_err(|e| EvmError::Refused(format!("{e:?}")))?;
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| EvmError::Refused(format!("{e:?}")))?;
        *nonce += 1;
        Ok((result, Calldata::of(data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Initcode that deploys `runtime` (at most 255 bytes).
    fn deployer(runtime: &[u8]) -> Vec<u8> {
        let n = runtime.len() as u8;
        // CODECOPY(0, 12, n); RETURN(0, n): 12 bytes, then the runtime.
        let mut code = vec![0x60, n, 0x60, 12, 0x60, 0, 0x39, 0x60, n, 0x60, 0, 0xf3];
        code.extend_from_slice(runtime);
        code
    }

    #[test]
    fn calls_return_and_revert_with_their_gas_split() {
        let mut evm = Evm::new();
        let from = Address::new([5; 20]);
        // MSTORE(0, 42); RETURN(0, 32): 5 pushes, an MSTORE and one word of memory = 18 gas.
        let answer = [0x60, 42, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3];
        let at = evm.deploy(from, &deployer(&answer)).expect("deploys");
        let data = [0, 0, 7, 0, 0, 0, 0, 1];
        let out = evm.call(from, at, &data).expect("runs");
        assert!(out.success);
        assert_eq!(out.output.len(), 32);
        assert_eq!(out.output[31], 42);
        assert_eq!(
            out.gas.calldata,
            Calldata {
                bytes: 8,
                nonzero: 2
            }
        );
        assert_eq!(out.gas.calldata.gas(), 6 * 4 + 2 * 16);
        assert_eq!(out.gas.calldata.floor_gas(), 10 * (6 + 8));
        assert_eq!(out.gas.execution, 18);
        // 21,000 + 56 + 18 is below the EIP-7623 floor of 21,000 + 140: the floor is paid.
        assert_eq!(out.gas.used, 21_000 + 140);
        // REVERT(0, 0): reverted, not refused, and the nonce moved on (a second call works).
        let no = evm
            .deploy(from, &deployer(&[0x60, 0, 0x60, 0, 0xfd]))
            .expect("deploys");
        let out = evm.call(from, no, &[]).expect("runs");
        assert!(!out.success);
        assert_eq!(out.gas.execution, 6);
        assert!(evm.call(from, at, &[]).expect("runs").success);
    }

    #[test]
    fn a_large_calldata_pays_the_eip7623_floor() {
        let mut evm = Evm::new();
        let from = Address::new([6; 20]);
        let at = evm.deploy(from, &deployer(&[0x00])).expect("deploys");
        let data = vec![0xff; 1000];
        let out = evm.call(from, at, &data).expect("runs");
        assert!(out.success);
        // 21,000 + 16,000 of calldata, but the floor is 21,000 + 40,000.
        assert_eq!(out.gas.used, 21_000 + 40_000);
        assert_eq!(out.gas.execution, 0);
    }
}
