//! `poie key`, `vote`, `reveal` and `check`.

use super::prove::{LayoutArgs, RunArgs};
use super::secret;
use anyhow::{bail, Context, Result};
use poie::atomic;
use poie::proof::commitment::load_json;
use poie::protocol::keys::Key;
use poie::protocol::vote::{self, Reveal, Verdict, Vote, VOTE_VERSION};
use poie::protocol::windback;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a new ed25519 key file (hex seed, mode 0600) and print its address. Refuses to
    /// overwrite.
    New { file: PathBuf },
}

fn random32() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(b)
}

pub fn key(cmd: KeyCommand) -> Result<ExitCode> {
    match cmd {
        KeyCommand::New { file } => {
            if file.exists() {
                bail!(
                    "{} already exists: refusing to overwrite a key",
                    file.display()
                );
            }
            let k = Key::from_seed(&random32()?);
            atomic::write(
                &file,
                format!("{}\n", hex::encode(k.seed())).as_bytes(),
                true,
            )?;
            println!("0x{}", hex::encode(k.address()));
            eprintln!("poie: wrote a new key to {} (mode 0600)", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_key(path: &Path) -> Result<Key> {
    // A key file has the same shape as a salt file: 64 hex characters.
    let seed =
        secret::read_salt(path).with_context(|| format!("reading key {}", path.display()))?;
    Ok(Key::from_seed(&seed))
}

/// Executes a windback, proves it with a fresh salt and writes a signed vote.
#[derive(clap::Args, Debug)]
pub struct VoteArgs {
    /// The executor's key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The windback manifest: one `PROGRAM [INPUT]` per line.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    /// Where to save the fresh salt (mode 0600); keep it secret until the reveal.
    #[arg(long, value_name = "FILE")]
    salt_out: PathBuf,
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Stop each job after N instructions.
    #[arg(long, value_name = "N", default_value_t = u64::MAX, hide_default_value = true)]
    max_steps: u64,
    /// Write the vote here (atomically); stdout if absent.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn vote(a: VoteArgs) -> Result<ExitCode> {
    if a.salt_out.exists() {
        bail!(
            "{} already exists: a vote needs a fresh salt",
            a.salt_out.display()
        );
    }
    let key = read_key(&a.key)?;
    let jobs = windback::load(&a.windback)?;
    let salt = random32()?;
    let v = vote::vote(
        &key,
        &jobs,
        a.layout.params()?,
        a.run.config()?,
        &salt,
        a.max_steps,
    )?;
    atomic::write(
        &a.salt_out,
        format!("{}\n", hex::encode(salt)).as_bytes(),
        true,
    )?;
    let json = serde_json::to_string_pretty(&v)? + "\n";
    match &a.out {
        Some(p) => atomic::write(p, json.as_bytes(), false)?,
        None => print!("{json}"),
    }
    eprintln!(
        "poie: voted on {} jobs, {} chunks; root {}",
        jobs.len(),
        v.n,
        hex::encode(v.root)
    );
    Ok(ExitCode::SUCCESS)
}

fn load_vote(path: &Path) -> Result<Vote> {
    Ok(load_json(path, "vote", VOTE_VERSION, |v: &Vote| v.version)?)
}

/// Writes the reveal (the salt) for a vote.
#[derive(clap::Args, Debug)]
pub struct RevealArgs {
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The salt saved by `poie vote --salt-out`.
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn reveal(a: RevealArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let salt = secret::read_salt(&a.salt_file)?;
    let r = Reveal {
        version: VOTE_VERSION,
        address: v.address,
        root: v.root,
        salt,
    };
    let json = serde_json::to_string_pretty(&r)? + "\n";
    match &a.out {
        Some(p) => atomic::write(p, json.as_bytes(), false)?,
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks a vote after its reveal: signature, re-execution, state roots and proof root.
/// Exit code 0 when valid, 1 when not.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    #[arg(long, value_name = "FILE")]
    reveal: PathBuf,
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    #[arg(long, value_name = "N", default_value_t = u64::MAX, hide_default_value = true)]
    max_steps: u64,
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let r: Reveal = load_json(&a.reveal, "reveal", VOTE_VERSION, |r: &Reveal| r.version)?;
    let jobs = windback::load(&a.windback)?;
    let verdict = vote::check(&v, &r, &jobs, a.run.config()?, a.max_steps)?;
    println!("{verdict}");
    Ok(if verdict == Verdict::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
