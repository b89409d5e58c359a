//! `poie referee --evm`: the transcript's last step judged again by the contracts in an EVM
//! (revm, Prague), with the verdict and what the transaction costs.

use anyhow::Result;
use poie::protocol::challenge::{LastStep, Outcome};
use poie::protocol::vote::{Reveal, Vote};

/// Prints the chain's ruling on `last` and its gas; false when the chain rules otherwise than
/// the referee did (`outcome`), which would be a bug in one of them.
#[cfg(feature = "evm")]
pub fn judge(v: &Vote, r: &Reveal, last: Option<&LastStep>, outcome: &Outcome) -> Result<bool> {
    let Some(last) = last else {
        println!("on-chain: nothing to judge: no step proof decided this transcript");
        return Ok(true);
    };
    let ruling = poie_chain::referee::judge_on_chain(v, r, last)?;
    let verdict = match ruling.executor_loses {
        true => "executor loses",
        false => "challenger loses",
    };
    println!(
        "on-chain ({} in revm, {:?}): {verdict}",
        ruling.function,
        poie_chain::HARDFORK
    );
    let g = ruling.gas;
    println!(
        "gas {} used: {} execution, {} calldata bytes ({} non-zero: {} gas at 16 per non-zero byte and 4 per zero byte, {} at the EIP-7623 floor)",
        g.used,
        g.execution,
        g.calldata.bytes,
        g.calldata.nonzero,
        g.calldata.gas(),
        g.calldata.floor_gas()
    );
    let agrees = match outcome {
        Outcome::Challenger(_) => ruling.executor_loses,
        Outcome::Executor(_) => !ruling.executor_loses,
        Outcome::Unproven(_) => false,
    };
    if !agrees {
        println!("the chain's ruling differs from the referee's");
    }
    Ok(agrees)
}

#[cfg(not(feature = "evm"))]
pub fn judge(_: &Vote, _: &Reveal, _: Option<&LastStep>, _: &Outcome) -> Result<bool> {
    anyhow::bail!("poie referee --evm: this poie was built without the `evm` feature")
}
