//! `poie audit-challenge`, `audit-respond` and `audit`: the three steps of a spot-check audit.

use super::protocol::load_vote;
use super::prove::RunArgs;
use super::secret;
use anyhow::Result;
use poie::json::VersionedFile;
use poie::protocol::audit::{self, AuditChallenge, AuditResponse, AuditVerdict, MAX_SAMPLES};
use poie::protocol::vote::{self, Reveal};
use poie::protocol::windback;
use std::path::PathBuf;
use std::process::ExitCode;

/// Auditor side, first step: draw a fresh random nonce for a published vote.
#[derive(clap::Args, Debug)]
pub struct AuditChallengeArgs {
    /// The published vote to audit (`poie vote --out`); refused unless its signature verifies.
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// Number of sampled leaves (1 to 4096): a cheater with a wrong fraction f of its leaves
    /// passes with probability about (1 - f)^samples.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SAMPLES)))]
    samples: u32,
    /// Write the challenge JSON here (atomically): send it to the executor, keep a copy for
    /// `poie audit --challenge`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn audit_challenge(a: AuditChallengeArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let c = audit::challenge(&v, a.samples)?;
    super::write_json(Some(&a.out), &c)?;
    eprintln!(
        "poie: challenged root {} with a fresh nonce for {} samples; {}",
        hex::encode(c.root),
        c.samples,
        super::wrote(Some(&a.out))
    );
    Ok(ExitCode::SUCCESS)
}

/// Executor side: open the leaves the auditor's challenge samples from the vote.
#[derive(clap::Args, Debug)]
pub struct AuditRespondArgs {
    /// The executor's own vote (`poie vote --out`).
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's salt (`poie vote --salt-out`).
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    /// The windback manifest the vote is for.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    /// The auditor's challenge (`poie audit-challenge --out`).
    #[arg(long, value_name = "FILE")]
    challenge: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    /// Write the openings JSON here (atomically): the file `poie audit --openings` reads.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn audit_respond(a: AuditRespondArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let salt = secret::read_salt(&a.salt_file)?;
    let jobs = windback::load(&a.windback)?;
    let c = AuditChallenge::load(&a.challenge)?;
    let resp = audit::respond(&v, &salt, &jobs, &c, a.run.config()?)?;
    super::write_json(Some(&a.out), &resp)?;
    eprintln!(
        "poie: opened {} sampled leaves of root {}; {}",
        resp.openings.len(),
        hex::encode(resp.root),
        super::wrote(Some(&a.out))
    );
    Ok(ExitCode::SUCCESS)
}

/// Auditor side, last step: execute the windback once (no hashing of the trace) and check the
/// executor's openings of the leaves the auditor's own challenge sampled. Exit 0 when it passes.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// The vote to audit (`poie vote --out`).
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's reveal (`poie reveal --out`).
    #[arg(long, value_name = "FILE")]
    reveal: PathBuf,
    /// The windback manifest the vote is for.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    /// The auditor's own challenge (`poie audit-challenge --out`): never one the executor sent.
    #[arg(long, value_name = "FILE")]
    challenge: PathBuf,
    /// The executor's openings (`poie audit-respond --out`).
    #[arg(long, value_name = "FILE")]
    openings: PathBuf,
    /// Also run the full check and print how much cheaper the audit was.
    #[arg(long)]
    compare_full: bool,
    #[command(flatten)]
    run: RunArgs,
}

pub fn audit(a: AuditArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let r = Reveal::load(&a.reveal)?;
    let jobs = windback::load(&a.windback)?;
    let c = AuditChallenge::load(&a.challenge)?;
    let resp = AuditResponse::load(&a.openings)?;
    let start = std::time::Instant::now();
    let verdict = audit::audit(&v, &r, &jobs, &c, &resp)?;
    let audit_secs = start.elapsed().as_secs_f64();
    println!("{verdict}");
    eprintln!("poie: audit took {audit_secs:.3} s");
    if a.compare_full {
        let start = std::time::Instant::now();
        let full = vote::check(&v, &r, &jobs, a.run.config()?)?;
        let full_secs = start.elapsed().as_secs_f64();
        eprintln!(
            "poie: full check ({full}) took {full_secs:.3} s: the audit cost {:.1}% of it ({:.1}x cheaper)",
            100.0 * audit_secs / full_secs,
            full_secs / audit_secs
        );
    }
    Ok(if matches!(verdict, AuditVerdict::Passed { .. }) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
