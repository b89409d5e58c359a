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

/// The revert data `PoieStep` gives for bytes that are no step proof.
fn revert_of_encoding(d: &poie_referee::ProofDecodeError) -> Vec<u8> {
    use poie_chain::abi::{encode_call, word, Arg};
    use poie_referee::ProofDecodeError as P;
    let (reason, value) = match d {
        P::TooLong(n) => (1, *n as u64),
        P::Short(at) => (2, *at as u64),
        P::List(n) => (3, u64::from(*n)),
        P::Siblings(n) => (4, u64::from(*n)),
        P::Trailing(n) => (5, *n as u64),
    };
    encode_call(
        "BadEncoding(uint8,uint256)",
        &[Arg::Word(word(reason)), Arg::Word(word(value))],
    )
}

/// The revert data `PoieStep` gives for the referee's refusal `e` (contracts/src/StepErrors.sol:
/// one custom error per refusal, with the Rust error's values).
pub fn revert_of(e: &StepError) -> Vec<u8> {
    use poie_chain::abi::{encode_call, word, Arg};
    use poie_referee::DecodeError;
    let what = |w: &str| match w {
        "fetch" => 1,
        "fetch page" => 2,
        "data" => 3,
        "data page" => 4,
        "input" => 5,
        "page memory" => 6,
        other => panic!("no code for the proof {other:?}"),
    };
    let call = |sig: &str, args: &[u64]| {
        let args: Vec<Arg> = args.iter().map(|&a| Arg::Word(word(a))).collect();
        encode_call(sig, &args)
    };
    match e {
        StepError::Header(d) => {
            let (reason, value) = match d {
                // A proof shorter than the header ends inside the header: the encoding's error.
                DecodeError::Length(_) => return call("BadEncoding(uint8,uint256)", &[2, 0]),
                DecodeError::Domain => (1, 0),
                DecodeError::Status(b) => (2, u64::from(*b)),
                DecodeError::TrapKind(b) => (3, u64::from(*b)),
                DecodeError::TrapMismatch { status, trap_kind } => {
                    (4, *status as u64 * 256 + *trap_kind as u64)
                }
                DecodeError::NonZeroX0(x) => (5, u64::from(*x)),
                DecodeError::OpenFds(b) => (6, u64::from(*b)),
            };
            call("BadHeader(uint8,uint256)", &[reason, value])
        }
        StepError::HeaderMismatch => call("HeaderMismatch()", &[]),
        StepError::Finished(s) => call("Finished(uint8)", &[*s as u64]),
        StepError::StepLimit { steps, max_steps } => {
            call("StepLimit(uint64,uint64)", &[*steps, *max_steps])
        }
        StepError::MisalignedPc(pc) => call("MisalignedPc(uint32)", &[u64::from(*pc)]),
        StepError::FlatInput => call("FlatInput()", &[]),
        StepError::ProofCount {
            what: w,
            expected,
            got,
        } => call(
            "ProofCount(uint8,uint256,uint256)",
            &[what(w), *expected as u64, *got as u64],
        ),
        StepError::WrongLeaf {
            what: w,
            expected,
            got,
        } => call(
            "WrongLeaf(uint8,uint64,uint64)",
            &[what(w), *expected, *got],
        ),
        StepError::BadProof { what: w, index } => {
            call("BadProof(uint8,uint64)", &[what(w), *index])
        }
    }
}

/// Runs `proof` on-chain and asserts it agrees with the referee's `result` for it: the same
/// post-state and chunk, or a revert that names the referee's reason for refusing.
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
            (Err(e), Err(rev)) => assert_eq!(
                hex::encode(&rev.data),
                // The contract reads the bytes: a proof that does not decode is refused as such.
                hex::encode(match StepProof::decode(&bytes) {
                    Err(d) => revert_of_encoding(&d),
                    Ok(_) => revert_of(e),
                }),
                "the contract refuses the step at pc {:#x} for another reason than the referee's ({e})",
                pre.pc
            ),
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
