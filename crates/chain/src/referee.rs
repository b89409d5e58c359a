//! A game's last step judged again on-chain (`poie referee --evm`): the judgement the Rust
//! referee reached from a transcript (`challenge::judge_to_last_step`) replayed through the
//! contracts in revm, with its gas, so that a user sees what their own dispute's final
//! judgement costs on a chain. A claimed state or state root goes to `judgeState`, an opened
//! chunk to `judgeOpening` (the leaf under the vote's root by the branches the executor
//! signed on the way down, its opening under the revealed salt, then the step).

use crate::contracts::{StepContract, DEPLOYER};
use crate::game::{GameContract, JudgeLeaf, Sent};
use crate::{Address, Evm, EvmError, Gas};
use poie_protocol::challenge::LastStep;
use poie_protocol::profile::Profile;
use poie_protocol::vote::{Reveal, Vote};
use poie_referee::Claim;

/// Who sends the judgement: anyone may.
const JUDGE: Address = Address::new([0x33; 20]);
/// The game's move time; no move is made here.
const MOVE_SECONDS: u64 = 3600;

/// What the chain ruled, and what the transaction cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainRuling {
    pub executor_loses: bool,
    /// `judgeState` or `judgeOpening`.
    pub function: &'static str,
    pub gas: Gas,
}

/// Why the last step cannot be judged on-chain.
#[derive(Debug, thiserror::Error)]
pub enum OnChainError {
    #[error("a claimed chunk is judged on-chain only for a version-4 (on-chain profile, keccak) vote; this vote is version {0}: its salt commitment and tree are not what a contract can check affordably")]
    OffChainVote(u32),
    #[error("the claimed chunk's opening is missing from the last step")]
    NoOpening,
    #[error(transparent)]
    Evm(#[from] EvmError),
    #[error("the contract reverted: {0}")]
    Reverted(String),
}

/// Judges `last` on a fresh chain with the committed contracts.
pub fn judge_on_chain(
    v: &Vote,
    r: &Reveal,
    last: &LastStep,
) -> Result<OnChainRuling, OnChainError> {
    let mut evm = Evm::new();
    let step = StepContract::deploy(&mut evm)?;
    let game = GameContract::deploy(&mut evm, DEPLOYER, step.address, MOVE_SECONDS)?;
    let (sent, function): (Sent<bool>, _) = match &last.claim {
        Claim::State(h) => (
            game.judge_state(&mut evm, JUDGE, last.agreed, false, *h, &last.proof)?,
            "judgeState",
        ),
        Claim::Final(h) => (
            game.judge_state(&mut evm, JUDGE, last.agreed, true, *h, &last.proof)?,
            "judgeState",
        ),
        Claim::Chunk(_) => {
            if Profile::of_version(v.version) != Some(Profile::OnChain) {
                return Err(OnChainError::OffChainVote(v.version));
            }
            let o = last.opening.as_ref().ok_or(OnChainError::NoOpening)?;
            let x = JudgeLeaf {
                root: v.root,
                lanes: v.params.layout.lanes,
                chained: v.params.layout.chained,
                n: v.n,
                executor: Address::new(*v.address.as_bytes()),
                salt: *r.salt.expose(),
                salt_commitment: v.salt_commitment,
                index: o.index,
                leaf: o.leaf,
                lane_branch: o.lane_branch.clone(),
                top_branch: o.top_branch.clone(),
                link: o.link,
                prev_branch: Vec::new(),
                agreed: last.agreed,
                step_proof: last.proof.clone(),
            };
            (
                game.judge_opening(&mut evm, JUDGE, &x, o.chunk)?,
                "judgeOpening",
            )
        }
    };
    match sent.out {
        Ok(executor_loses) => Ok(OnChainRuling {
            executor_loses,
            function,
            gas: sent.gas,
        }),
        Err(data) => Err(OnChainError::Reverted(hex::encode(data))),
    }
}
