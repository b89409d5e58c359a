//! Argument parsing and dispatch. Each subcommand has one module with one `run` function.

mod audit;
mod bench;
mod evm;
mod program;
mod progress;
mod protocol;
mod prove;
mod run;
mod secret;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Proof of independent execution over a deterministic RV32IM VM.
#[derive(Parser, Debug)]
#[command(name = "poie", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a guest program in the VM.
    Run(run::Args),
    /// Benchmark this machine: the unfair-parallelism bound, with a report under results/.
    Bench(bench::BenchArgs),
    /// Compare benchmark reports from several machines.
    Report(bench::ReportArgs),
    /// Recommend a lane count from the performance model.
    Tune(bench::TuneArgs),
    /// List the built-in guest programs.
    Guests,
    /// Manage salt files.
    #[command(subcommand)]
    Salt(secret::SaltCommand),
    /// Prove a trace: print or write its commitment (salted, lane-bounded Merkle root).
    Prove(Box<prove::ProveArgs>),
    /// Open one chunk of a committed trace (re-executes with the salt).
    Open(Box<prove::OpenArgs>),
    /// Check an opening against a commitment and the revealed salt.
    VerifyOpening(prove::VerifyOpeningArgs),
    /// Manage executor keys.
    #[command(subcommand)]
    Key(protocol::KeyCommand),
    /// Execute a windback, prove it with a fresh salt and write a signed vote.
    Vote(Box<protocol::VoteArgs>),
    /// Write the reveal (salt) of a vote.
    Reveal(protocol::RevealArgs),
    /// Check a revealed vote by re-execution.
    Check(protocol::CheckArgs),
    /// Auditor side of an audit: draw a fresh random nonce for a published vote.
    AuditChallenge(audit::AuditChallengeArgs),
    /// Executor side of an audit: open the leaves the auditor's challenge samples.
    AuditRespond(Box<audit::AuditRespondArgs>),
    /// Spot-check a revealed vote: one execution plus K sampled openings.
    Audit(Box<audit::AuditArgs>),
    /// Write a vote's unique secret (what an outsourcing executor would hand a worker).
    DeriveSecret(protocol::DeriveSecretArgs),
    /// Claim that an executor leaked its unique secret before the reveal.
    LeakClaim(protocol::LeakClaimArgs),
    /// Judge a leak claim at reveal time.
    JudgeLeak(protocol::JudgeLeakArgs),
    /// Executor side of the challenge game (TCP); exits after one game unless --games N.
    Serve(Box<protocol::ServeArgs>),
    /// Challenger side of the challenge game (TCP); writes a transcript.
    Challenge(Box<protocol::ChallengeArgs>),
    /// Re-judge a challenge transcript offline.
    Referee(Box<protocol::RefereeArgs>),
    /// Simulate one epoch of executors with different strategies; prints a table.
    Simulate(Box<protocol::SimulateArgs>),
    /// Generate a deterministic ledger block (input for the `ledger` guest).
    GenLedger(GenLedgerArgs),
}

#[derive(clap::Args, Debug)]
struct GenLedgerArgs {
    /// Seed of the pseudo-random transfers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of transfer lines.
    #[arg(long, default_value_t = 20_000)]
    transfers: usize,
    /// Output file (written atomically); stdout if absent.
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Bench(a) => bench::bench(a),
        Command::Report(a) => bench::report(a),
        Command::Tune(a) => bench::tune(a),
        Command::Guests => {
            program::list_guests();
            Ok(ExitCode::SUCCESS)
        }
        Command::GenLedger(a) => gen_ledger(a),
        Command::Salt(c) => secret::salt(c),
        Command::Key(c) => protocol::key(c),
        Command::Vote(a) => protocol::vote(*a),
        Command::Reveal(a) => protocol::reveal(a),
        Command::Check(a) => protocol::check(a),
        Command::AuditChallenge(a) => audit::audit_challenge(a),
        Command::AuditRespond(a) => audit::audit_respond(*a),
        Command::Audit(a) => audit::audit(*a),
        Command::DeriveSecret(a) => protocol::derive_secret(a),
        Command::LeakClaim(a) => protocol::leak_claim(a),
        Command::JudgeLeak(a) => protocol::judge_leak(a),
        Command::Serve(a) => protocol::serve(*a),
        Command::Challenge(a) => protocol::challenge(*a),
        Command::Referee(a) => protocol::referee(*a),
        Command::Simulate(a) => protocol::simulate(*a),
        Command::Prove(a) => prove::prove(*a),
        Command::Open(a) => prove::open(*a),
        Command::VerifyOpening(a) => prove::verify_opening(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("poie: error: {e:#}");
            ExitCode::from(ERROR_EXIT_CODE)
        }
    }
}

/// Exit code for poie's own failures (bad arguments beyond clap's, unreadable or invalid files):
/// 125, as `timeout(1)` and `env(1)` use, so it is not confused with a guest's usual codes.
pub const ERROR_EXIT_CODE: u8 = 125;

fn gen_ledger(a: GenLedgerArgs) -> anyhow::Result<ExitCode> {
    let block = poie::guests::ledger::generate_block(a.seed, a.transfers);
    match &a.out {
        Some(path) => poie::atomic::write(path, block.as_bytes(), false)?,
        None => print!("{block}"),
    }
    eprintln!(
        "poie: generated a ledger block of {} transfers (seed {}); {}",
        a.transfers,
        a.seed,
        wrote(a.out.as_deref())
    );
    Ok(ExitCode::SUCCESS)
}

/// The end of a one-line summary: where the output went ("wrote FILE" or "wrote it to
/// stdout"), so every command that writes a file says so the same way.
pub fn wrote(path: Option<&std::path::Path>) -> String {
    match path {
        Some(p) => format!("wrote {}", p.display()),
        None => "wrote it to stdout".into(),
    }
}

/// Refuses an output path whose folder does not exist, before any work is done.
pub fn check_out(path: &std::path::Path) -> anyhow::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !parent.is_dir() {
        anyhow::bail!(
            "cannot write {}: folder {} does not exist",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

/// Writes a document to `path` (atomically), or to stdout without a path.
pub fn write_json(
    path: Option<&std::path::Path>,
    doc: &impl poie::json::VersionedFile,
) -> anyhow::Result<()> {
    match path {
        Some(p) => doc.save(p)?,
        None => print!("{}", doc.to_json()?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every argument of every subcommand says what it is for in `--help`.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, blank: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    blank.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    blank.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), blank);
            }
        }
        let mut blank = Vec::new();
        walk(&Cli::command(), "poie", &mut blank);
        assert!(blank.is_empty(), "arguments without help: {blank:#?}");
    }

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
