//! The on-chain one-step verifier (contracts/src/PoieStep.sol, run in revm) held to the Rust
//! referee: every step proof the one-step differential checks goes to both, and they must
//! agree: a proof the referee accepts gives the same post-state commitment and chunk on-chain,
//! and a proof it refuses reverts. Each test thread has its own chain.
//!
//! The gas of every accepted step is kept by instruction class, for the gas table.

use poie_chain::contracts::StepContract;
use poie_chain::{Evm, Gas};
use poie_referee::{Header, StepError, StepProof, StepResult};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Who sends the step transactions.
const CALLER: poie_chain::Address = poie_chain::Address::new([0x22; 20]);

thread_local! {
    static CHAIN: RefCell<Option<(Evm, StepContract)>> = const { RefCell::new(None) };
}

/// Every accepted step's gas and proof size, by class, while [`COLLECT`] is set (the gas
/// table's test sets it; the differential tests need only the agreement).
pub static GAS: Mutex<BTreeMap<&'static str, Vec<(Gas, usize)>>> = Mutex::new(BTreeMap::new());
pub static COLLECT: AtomicBool = AtomicBool::new(false);
static CHECKED: AtomicU64 = AtomicU64::new(0);

/// How many steps of whole runs the EVM checks per test binary (`common::one_step::check_run`):
/// `POIE_EVM_STEPS`, default 400,000.
pub fn budget() -> u64 {
    std::env::var("POIE_EVM_STEPS").map_or(400_000, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("POIE_EVM_STEPS: not a number"))
    })
}

/// The step proofs the EVM checked in this test binary, accepted or refused.
pub fn steps_checked() -> u64 {
    CHECKED.load(Ordering::Relaxed)
}

/// The instruction class of a step, for the gas table.
pub fn class(pre: &Header, word: u32, proof: &StepProof, result: &StepResult) -> &'static str {
    if result.chunk.is_none() {
        return "trap";
    }
    match word & 0x7f {
        0x33 if word >> 25 == 1 => "M op",
        0x13 | 0x33 | 0x37 | 0x17 => "ALU",
        0x03 => "load",
        0x23 => "store",
        0x63 | 0x6f | 0x67 => "branch/jump",
        0x0f => "fence",
        0x73 => match pre.regs[17] {
            63 if !proof.input.is_empty() => "ecall read",
            63 => "ecall read (no input)",
            64 => "ecall write",
            214 if !proof.page_memory.is_empty() => "ecall brk (unmap)",
            214 => "ecall brk",
            93 | 94 => "ecall exit",
            _ => "ecall other",
        },
        _ => "other",
    }
}

/// Runs `proof` on-chain and asserts it agrees with the referee's `result` for it.
pub fn agree(pre: &Header, proof: &StepProof, result: &Result<StepResult, StepError>) {
    CHAIN.with(|chain| {
        let mut chain = chain.borrow_mut();
        let (evm, contract) = chain.get_or_insert_with(|| {
            let mut evm = Evm::new();
            let contract = StepContract::deploy(&mut evm).expect("PoieStep deploys");
            (evm, contract)
        });
        let bytes = proof.encode();
        let got = contract
            .step(evm, CALLER, pre.commitment(), &bytes)
            .expect("the EVM runs the call");
        CHECKED.fetch_add(1, Ordering::Relaxed);
        match (result, got) {
            (Ok(r), Ok(s)) => {
                assert_eq!(
                    s.post_state, r.post_commitment,
                    "on-chain post-state differs at pc {:#x} step {}: want header {:?}",
                    pre.pc, pre.steps, r.post
                );
                assert_eq!(
                    s.chunk, r.chunk,
                    "on-chain chunk differs at pc {:#x}",
                    pre.pc
                );
                if COLLECT.load(Ordering::Relaxed) {
                    let word = super::one_step::fetched_word(pre, proof);
                    GAS.lock()
                        .expect("gas table")
                        .entry(class(pre, word, proof, r))
                        .or_default()
                        .push((s.gas, bytes.len()));
                }
            }
            (Err(_), Err(_)) => {}
            (Ok(r), Err(rev)) => panic!(
                "the referee accepts the step at pc {:#x} ({:?}) but the contract reverts with {}",
                pre.pc,
                r.chunk,
                hex::encode(rev.data)
            ),
            (Err(e), Ok(s)) => panic!(
                "the referee refuses ({e}) but the contract accepts, post-state {}",
                hex::encode(s.post_state)
            ),
        }
    });
}
