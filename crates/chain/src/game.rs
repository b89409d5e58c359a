//! Typed calls to `PoieGame` (contracts/src/PoieGame.sol), the on-chain challenge game: each
//! move is a transaction from a party's account, returning what it returned (or the revert
//! data) and its gas. The game's rules are the contract's; this module only encodes the calls
//! and decodes the views.

use crate::abi::{self, Arg};
use crate::evm::{Evm, EvmError, Gas};
use revm::primitives::Address;

/// The game's stages (`status(id).stage`), as the contract numbers them.
pub mod stage {
    /// The executor reveals its top root.
    pub const TOP: u8 = 1;
    /// The executor reveals the current node's children.
    pub const REVEAL: u8 = 2;
    /// The challenger picks a child.
    pub const PICK: u8 = 3;
    /// The executor opens the disputed leaf's link.
    pub const LINK: u8 = 4;
    /// The challenger starts the second phase on the leaf (or disputes a job's claim).
    pub const LEAF: u8 = 5;
    /// A vote of no chunks: the challenger may only dispute a job's claim.
    pub const CLAIMS: u8 = 6;
    /// The executor commits to the round's states.
    pub const COMMIT: u8 = 7;
    /// The challenger names the first state it disputes.
    pub const DISPUTE: u8 = 8;
    /// Anyone submits the step proof; the challenger loses at the deadline.
    pub const PROVE: u8 = 9;
    pub const EXECUTOR_LOST: u8 = 10;
    pub const CHALLENGER_LOST: u8 = 11;
}

/// `outcome(id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GameOutcome {
    Running,
    ExecutorLost,
    ChallengerLost,
}

/// A transaction's result: `Ok` with its decoded return, or `Err` with the revert data; and
/// its gas either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent<T> {
    pub out: Result<T, Vec<u8>>,
    pub gas: Gas,
}

impl<T> Sent<T> {
    /// Whether the transaction reverted with the custom error `signature` (e.g.
    /// `"WrongPath()"`): its first four bytes are that error's selector.
    pub fn reverted_with(&self, signature: &str) -> bool {
        matches!(&self.out, Err(data) if data.get(..4) == Some(&abi::selector(signature)[..]))
    }
}

/// Whose move it is: `status(id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub stage: u8,
    /// The party that must move; the zero address for anyone (the step proof) or after the end.
    pub mover: Address,
    /// The last second at which the move is accepted.
    pub deadline: u64,
}

/// The descent's state: `descent(id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descent {
    pub in_lane: bool,
    pub lane: u64,
    pub lo: u64,
    pub hi: u64,
    pub left: [u8; 32],
    pub right: [u8; 32],
    pub at_right: bool,
    pub lane_root_or_link: [u8; 32],
    pub leaf_index: u64,
}

/// The second phase's state: `bisection(id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bisection {
    pub job: u64,
    pub lo: u64,
    pub hi: u64,
    pub end: u64,
    pub final_claim: bool,
    pub at_lo: [u8; 32],
    pub at_hi: [u8; 32],
}

/// The inputs of `judgeLeaf` (the contract's `JudgeLeafInput`): a vote's commitment, the
/// executor and its salt, the opening of leaf `index` (SPEC 3.7: the executor's digest, its
/// link and audit paths), the agreed state one step before it and the step proof from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JudgeLeaf {
    pub root: [u8; 32],
    pub lanes: u32,
    pub chained: bool,
    pub n: u64,
    pub executor: Address,
    pub salt: [u8; 32],
    pub salt_commitment: [u8; 32],
    pub index: u64,
    pub leaf: [u8; 32],
    pub lane_branch: Vec<[u8; 32]>,
    pub top_branch: Vec<[u8; 32]>,
    pub link: [u8; 32],
    pub prev_branch: Vec<[u8; 32]>,
    pub agreed: [u8; 32],
    pub step_proof: Vec<u8>,
}

const JUDGE_LEAF: &str = "judgeLeaf((bytes32,uint32,bool,uint64,address,bytes32,bytes32,uint64,bytes32,bytes32[],bytes32[],bytes32,bytes32[],bytes32,bytes))";

const JUDGE_OPENING: &str = "judgeOpening((bytes32,uint32,bool,uint64,address,bytes32,bytes32,uint64,bytes32,bytes32[],bytes32[],bytes32,bytes32[],bytes32,bytes),bytes32)";

/// The ABI tuple of a [`JudgeLeaf`].
fn judge_leaf_tuple(x: &JudgeLeaf) -> Arg<'_> {
    Arg::Tuple(vec![
        Arg::Word(x.root),
        Arg::Word(abi::word(u64::from(x.lanes))),
        Arg::Word(bool_word(x.chained)),
        Arg::Word(abi::word(x.n)),
        Arg::Word(address_word(x.executor)),
        Arg::Word(x.salt),
        Arg::Word(x.salt_commitment),
        Arg::Word(abi::word(x.index)),
        Arg::Word(x.leaf),
        Arg::Words(&x.lane_branch),
        Arg::Words(&x.top_branch),
        Arg::Word(x.link),
        Arg::Words(&x.prev_branch),
        Arg::Word(x.agreed),
        Arg::Bytes(&x.step_proof),
    ])
}

fn address_word(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

fn bool_word(b: bool) -> [u8; 32] {
    abi::word(u64::from(b))
}

fn bad(e: abi::AbiError) -> EvmError {
    EvmError::Refused(e.to_string())
}

/// `PoieGame` deployed on a chain.
pub struct GameContract {
    pub address: Address,
}

impl GameContract {
    /// Deploys the committed `PoieGame` from `from`, with its constructor's arguments: the step
    /// verifier's address and the seconds a party has for each move.
    pub fn deploy(
        evm: &mut Evm,
        from: Address,
        step_verifier: Address,
        move_seconds: u64,
    ) -> Result<GameContract, EvmError> {
        let mut code = crate::contracts::game_initcode();
        code.extend_from_slice(&abi::encode_args(&[
            Arg::Word(address_word(step_verifier)),
            Arg::Word(abi::word(move_seconds)),
        ]));
        Ok(GameContract {
            address: evm.deploy(from, &code)?,
        })
    }

    /// Sends `signature(args)` from `from` and decodes the return with `decode`.
    fn send<T>(
        &self,
        evm: &mut Evm,
        from: Address,
        signature: &str,
        args: &[Arg],
        decode: impl FnOnce(&[u8]) -> Result<T, abi::AbiError>,
    ) -> Result<Sent<T>, EvmError> {
        let out = evm.call(from, self.address, &abi::encode_call(signature, args))?;
        let result = match out.success {
            true => Ok(decode(&out.output).map_err(bad)?),
            false => Err(out.output),
        };
        Ok(Sent {
            out: result,
            gas: out.gas,
        })
    }

    /// A move that returns nothing.
    fn mv(
        &self,
        evm: &mut Evm,
        from: Address,
        signature: &str,
        args: &[Arg],
    ) -> Result<Sent<()>, EvmError> {
        self.send(evm, from, signature, args, |_| Ok(()))
    }

    /// `open(message, ethSig, salt)`: the game's id.
    pub fn open(
        &self,
        evm: &mut Evm,
        from: Address,
        message: &[u8],
        eth_sig: &[u8],
        salt: [u8; 32],
    ) -> Result<Sent<u64>, EvmError> {
        let args = [Arg::Bytes(message), Arg::Bytes(eth_sig), Arg::Word(salt)];
        self.send(evm, from, "open(bytes,bytes,bytes32)", &args, |d| {
            abi::u64_at(d, 0)
        })
    }

    pub fn reveal_top(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        top: [u8; 32],
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Word(top)];
        self.mv(evm, from, "revealTop(uint256,bytes32)", &args)
    }

    pub fn reveal(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        left: [u8; 32],
        right: [u8; 32],
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Word(left), Arg::Word(right)];
        self.mv(evm, from, "reveal(uint256,bytes32,bytes32)", &args)
    }

    pub fn pick(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        right: bool,
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Word(bool_word(right))];
        self.mv(evm, from, "pick(uint256,bool)", &args)
    }

    pub fn open_link(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        link: [u8; 32],
        path: &[[u8; 32]],
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Word(link), Arg::Words(path)];
        self.mv(evm, from, "openLink(uint256,bytes32,bytes32[])", &args)
    }

    /// `startStates(id, jobs)`: `jobs` is the vote's jobs region (72 bytes a job).
    pub fn start_states(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        jobs: &[u8],
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Bytes(jobs)];
        self.mv(evm, from, "startStates(uint256,bytes)", &args)
    }

    pub fn dispute_job(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        jobs: &[u8],
        job: u32,
    ) -> Result<Sent<()>, EvmError> {
        let args = [
            Arg::Word(abi::word(id)),
            Arg::Bytes(jobs),
            Arg::Word(abi::word(u64::from(job))),
        ];
        self.mv(evm, from, "disputeJob(uint256,bytes,uint32)", &args)
    }

    pub fn commit_states(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        states: &[[u8; 32]],
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Words(states)];
        self.mv(evm, from, "commitStates(uint256,bytes32[])", &args)
    }

    /// `disputeAt(id, states, firstDisputed)`: `None` disputes no point.
    pub fn dispute_at(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        states: &[[u8; 32]],
        first_disputed: Option<usize>,
    ) -> Result<Sent<()>, EvmError> {
        let first = match first_disputed {
            Some(t) => abi::word(t as u64),
            None => [0xff; 32],
        };
        let args = [
            Arg::Word(abi::word(id)),
            Arg::Words(states),
            Arg::Word(first),
        ];
        self.mv(evm, from, "disputeAt(uint256,bytes32[],uint256)", &args)
    }

    pub fn prove(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
        step_proof: &[u8],
    ) -> Result<Sent<()>, EvmError> {
        let args = [Arg::Word(abi::word(id)), Arg::Bytes(step_proof)];
        self.mv(evm, from, "prove(uint256,bytes)", &args)
    }

    pub fn timeout(&self, evm: &mut Evm, from: Address, id: u64) -> Result<Sent<()>, EvmError> {
        self.mv(evm, from, "timeout(uint256)", &[Arg::Word(abi::word(id))])
    }

    /// `judgeLeaf(x)`: whether the executor loses on the leaf.
    pub fn judge_leaf(
        &self,
        evm: &mut Evm,
        from: Address,
        x: &JudgeLeaf,
    ) -> Result<Sent<bool>, EvmError> {
        self.send(evm, from, JUDGE_LEAF, &[judge_leaf_tuple(x)], |d| {
            abi::bool_at(d, 0)
        })
    }

    /// `judgeOpening(x, chunk)`: whether the executor loses on the chunk it opened (with the
    /// link it signed; `x.prev_branch` empty).
    pub fn judge_opening(
        &self,
        evm: &mut Evm,
        from: Address,
        x: &JudgeLeaf,
        chunk: [u8; 32],
    ) -> Result<Sent<bool>, EvmError> {
        let args = [judge_leaf_tuple(x), Arg::Word(chunk)];
        self.send(evm, from, JUDGE_OPENING, &args, |d| abi::bool_at(d, 0))
    }

    /// `judgeState(agreed, finalClaim, claimed, stepProof)`: whether the executor loses on its
    /// claim one step after `agreed` (the next state, or the job's state root if `final_claim`).
    pub fn judge_state(
        &self,
        evm: &mut Evm,
        from: Address,
        agreed: [u8; 32],
        final_claim: bool,
        claimed: [u8; 32],
        step_proof: &[u8],
    ) -> Result<Sent<bool>, EvmError> {
        let args = [
            Arg::Word(agreed),
            Arg::Word(bool_word(final_claim)),
            Arg::Word(claimed),
            Arg::Bytes(step_proof),
        ];
        self.send(
            evm,
            from,
            "judgeState(bytes32,bool,bytes32,bytes)",
            &args,
            |d| abi::bool_at(d, 0),
        )
    }

    // Views, sent as transactions (the EVM commits nothing they could change).

    pub fn outcome(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
    ) -> Result<Sent<GameOutcome>, EvmError> {
        self.send(
            evm,
            from,
            "outcome(uint256)",
            &[Arg::Word(abi::word(id))],
            |d| match abi::u64_at(d, 0)? {
                0 => Ok(GameOutcome::Running),
                1 => Ok(GameOutcome::ExecutorLost),
                2 => Ok(GameOutcome::ChallengerLost),
                _ => Err(abi::AbiError("an outcome other than 0, 1 or 2")),
            },
        )
    }

    /// Why the game ended (0 while it runs; 13 a timeout, which proves no fault).
    pub fn end_reason(&self, evm: &mut Evm, from: Address, id: u64) -> Result<Sent<u8>, EvmError> {
        self.send(
            evm,
            from,
            "endReason(uint256)",
            &[Arg::Word(abi::word(id))],
            |d| u8::try_from(abi::u64_at(d, 0)?).map_err(|_| abi::AbiError("a reason past 255")),
        )
    }

    pub fn status(&self, evm: &mut Evm, from: Address, id: u64) -> Result<Sent<Status>, EvmError> {
        self.send(
            evm,
            from,
            "status(uint256)",
            &[Arg::Word(abi::word(id))],
            |d| {
                let mover = abi::word_at(d, 1)?;
                Ok(Status {
                    stage: u8::try_from(abi::u64_at(d, 0)?).map_err(|_| abi::AbiError("stage"))?,
                    mover: Address::from_slice(&mover[12..]),
                    deadline: abi::u64_at(d, 2)?,
                })
            },
        )
    }

    pub fn descent(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
    ) -> Result<Sent<Descent>, EvmError> {
        self.send(
            evm,
            from,
            "descent(uint256)",
            &[Arg::Word(abi::word(id))],
            |d| {
                Ok(Descent {
                    in_lane: abi::bool_at(d, 0)?,
                    lane: abi::u64_at(d, 1)?,
                    lo: abi::u64_at(d, 2)?,
                    hi: abi::u64_at(d, 3)?,
                    left: abi::word_at(d, 4)?,
                    right: abi::word_at(d, 5)?,
                    at_right: abi::bool_at(d, 6)?,
                    lane_root_or_link: abi::word_at(d, 7)?,
                    leaf_index: abi::u64_at(d, 8)?,
                })
            },
        )
    }

    pub fn bisection(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
    ) -> Result<Sent<Bisection>, EvmError> {
        self.send(
            evm,
            from,
            "bisection(uint256)",
            &[Arg::Word(abi::word(id))],
            |d| {
                Ok(Bisection {
                    job: abi::u64_at(d, 0)?,
                    lo: abi::u64_at(d, 1)?,
                    hi: abi::u64_at(d, 2)?,
                    end: abi::u64_at(d, 3)?,
                    final_claim: abi::bool_at(d, 4)?,
                    at_lo: abi::word_at(d, 5)?,
                    at_hi: abi::word_at(d, 6)?,
                })
            },
        )
    }

    /// The points the executor must commit to in this round.
    pub fn points(
        &self,
        evm: &mut Evm,
        from: Address,
        id: u64,
    ) -> Result<Sent<Vec<u64>>, EvmError> {
        self.send(
            evm,
            from,
            "points(uint256)",
            &[Arg::Word(abi::word(id))],
            |d| abi::u64s_at(d, 0),
        )
    }
}
