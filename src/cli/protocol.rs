//! `poie key`, `vote`, `reveal` and `check`.

use super::prove::{LayoutArgs, RunArgs};
use super::secret;
use anyhow::{anyhow, bail, Context, Result};
use poie::json::VersionedFile;
use poie::proof::Address;
use poie::protocol::keys::Key;
use poie::protocol::vote::{self, Reveal, Verdict, Vote};
use poie::protocol::windback;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a new key file (hex seed, mode 0600) and print its address (the off-chain one,
    /// of version-3 votes); its Ethereum address (on-chain, version-4 votes) goes to stderr.
    /// Refuses to overwrite.
    New {
        /// Where to write the key.
        file: PathBuf,
    },
    /// Print a key file's two addresses, labelled: the off-chain one (ed25519, version-3
    /// votes, `--hash blake3`) and the Ethereum one (secp256k1, version-4 votes, `--hash
    /// keccak`). Nothing secret is printed.
    Address {
        /// The key file (`poie key new`).
        file: PathBuf,
    },
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
            let k = Key::from_seed(&secret::random32()?);
            // Refused before writing: one key file gives both accounts or none.
            let eth = k.eth_address()?;
            secret::write_secret(&file, secret::SecretKind::Key, &k.seed())?;
            // stdout stays the one address scripts read, as before.
            println!("{}", k.address());
            eprintln!("poie: wrote a new key to {} (mode 0600)", file.display());
            eprintln!(
                "poie: its Ethereum address (on-chain, version-4 votes with --hash keccak): {eth}"
            );
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Address { file } => {
            let k = read_key(&file)?;
            println!("address (off-chain, version-3 votes): {}", k.address());
            println!(
                "ethereum address (on-chain, version-4 votes): {}",
                k.eth_address()?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_key(path: &Path) -> Result<Key> {
    Ok(Key::from_seed(&secret::read_secret(
        path,
        secret::SecretKind::Key,
    )?))
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
    /// Stop each job after N instructions. The limit goes into the signed vote, and every
    /// verifier replays the windback under it.
    #[arg(long, value_name = "N", default_value_t = u64::MAX, hide_default_value = true)]
    max_steps: u64,
    /// Drill: prove a trace with step I corrupted (a lying executor; see `poie serve --lie-at`).
    #[arg(long, value_name = "I", hide = true)]
    lie_at: Option<u64>,
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
    // Every output is checked before the work, so a bad path fails without leaving a salt
    // behind that a retry would then refuse to overwrite.
    super::check_out(&a.salt_out)?;
    if let Some(out) = &a.out {
        super::check_out(out)?;
    }
    let key = read_key(&a.key)?;
    let jobs = windback::load(&a.windback)?;
    let salt = secret::random_salt()?;
    let params = a.layout.params()?;
    // keccak votes are on-chain (version 4: every commitment a contract checks is keccak),
    // blake3 votes off-chain (version 3).
    let v = vote::vote_as(
        vote::Profile::for_hash(params.hash),
        &key,
        &jobs,
        params,
        a.run.config()?,
        &salt,
        a.max_steps,
        a.lie_at,
    )?;
    secret::write_salt(&a.salt_out, &salt)?;
    super::write_json(a.out.as_deref(), &v)?;
    eprintln!(
        "poie: voted on {} job{}, {} chunks; root {}; {}, and the salt to {} (mode 0600)",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" },
        v.n,
        hex::encode(v.root),
        super::wrote(a.out.as_deref()),
        a.salt_out.display()
    );
    eprintln!(
        "poie: vote version {} ({}), address {}",
        v.version,
        match v.version {
            vote::ONCHAIN_VOTE_VERSION => "on-chain profile: keccak commitments, Ethereum address",
            _ => "off-chain profile",
        },
        v.address
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn load_vote(path: &Path) -> Result<Vote> {
    Ok(Vote::load(path)?)
}

/// Writes the reveal (the salt) for a vote.
#[derive(clap::Args, Debug)]
pub struct RevealArgs {
    /// The vote to reveal (`poie vote --out`).
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The salt saved by `poie vote --salt-out`; refused unless it is the one the vote
    /// committed to.
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    /// Write the reveal JSON here (atomically); stdout if absent.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn reveal(a: RevealArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let salt = secret::read_salt(&a.salt_file)?;
    let r = vote::reveal(&v, salt).map_err(|vote::WrongSalt| {
        anyhow!(
            "{} is not the salt {} committed to: refusing to publish it",
            a.salt_file.display(),
            a.vote.display()
        )
    })?;
    super::write_json(a.out.as_deref(), &r)?;
    eprintln!(
        "poie: revealed the salt of vote {} (root {}); {}",
        r.address,
        hex::encode(r.root),
        super::wrote(a.out.as_deref())
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks a vote after its reveal: signature, re-execution, state roots and proof root.
/// Exit code 0 when valid, 1 when not.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The vote to check (`poie vote --out`).
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's reveal (`poie reveal --out`).
    #[arg(long, value_name = "FILE")]
    reveal: PathBuf,
    /// The windback manifest the vote is for: one `PROGRAM [INPUT]` per line.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let r: Reveal = Reveal::load(&a.reveal)?;
    let jobs = windback::load(&a.windback)?;
    let verdict = vote::check(&v, &r, &jobs, a.run.config()?)?;
    match v.authenticate() {
        // What exactly is wrong: the ed25519 signature, the address, the eth signature.
        Err(why) if verdict == Verdict::BadSignature => println!("{verdict}: {why}"),
        _ => println!("{verdict}"),
    }
    Ok(if verdict == Verdict::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes an executor's unique secret `s~` (mode 0600), e.g. to hand to an outsourced worker,
/// which is exactly what leak claims punish.
#[derive(clap::Args, Debug)]
pub struct DeriveSecretArgs {
    /// The executor's vote (its address and hash pick the secret).
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's salt (`poie vote --salt-out`).
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    /// Write the unique secret here (a `poie-unique-secret-v1` file, mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn derive_secret(a: DeriveSecretArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let salt = secret::read_salt(&a.salt_file)?;
    let s = v.unique_secret(&salt);
    secret::write_secret(&a.out, secret::SecretKind::UniqueSecret, &s)?;
    eprintln!(
        "poie: wrote the unique secret of {} to {} (mode 0600)",
        v.address,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Claims that an executor leaked its unique secret before the reveal.
#[derive(clap::Args, Debug)]
pub struct LeakClaimArgs {
    /// The accused executor's vote.
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// File holding the leaked unique secret (hex).
    #[arg(long, value_name = "FILE")]
    secret_file: PathBuf,
    /// Address to reward: 0x + 40 hex digits.
    #[arg(long, value_name = "ADDRESS")]
    claimant: Address,
    /// Submission time on the protocol's clock (must precede the reveal period).
    #[arg(long, value_name = "T")]
    at: u64,
    /// Write the claim here (mode 0600: it holds the leaked secret until submitted).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn leak_claim(a: LeakClaimArgs) -> Result<ExitCode> {
    let v = load_vote(&a.vote)?;
    let s = secret::read_secret(&a.secret_file, secret::SecretKind::UniqueSecret)?;
    let c = poie::protocol::leak::claim(&v, s, a.claimant, a.at);
    // The claim carries the unique secret: private until it is submitted.
    c.save_secret(&a.out)?;
    eprintln!(
        "poie: wrote a leak claim against {} to {} (mode 0600)",
        c.address,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Judges a leak claim at reveal time. Prints `slash: ...` (exit 0) or `rejected: ...` (exit 1).
#[derive(clap::Args, Debug)]
pub struct JudgeLeakArgs {
    /// The leak claim (`poie leak-claim --out`).
    #[arg(long, value_name = "FILE")]
    claim: PathBuf,
    /// The accused executor's vote.
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's reveal (`poie reveal --out`).
    #[arg(long, value_name = "FILE")]
    reveal: PathBuf,
    /// When the reveal period started; claims submitted at or after it have expired.
    #[arg(long, value_name = "T")]
    reveal_start: u64,
}

pub fn judge_leak(a: JudgeLeakArgs) -> Result<ExitCode> {
    use poie::protocol::leak::{judge, LeakClaim, LeakVerdict};
    let c = LeakClaim::load(&a.claim)?;
    let v = load_vote(&a.vote)?;
    let r: Reveal = Reveal::load(&a.reveal)?;
    let verdict = judge(&c, &v, &r, a.reveal_start);
    println!("{verdict}");
    Ok(if matches!(verdict, LeakVerdict::Slash { .. }) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The executor's side of the challenge game: answers challengers over TCP, several at once,
/// until `--games` games have been played (one by default: then it exits), signing every
/// answer with the vote's key. A session
/// that breaks the protocol (a node outside the tree, a malformed, oversized or late message)
/// is reported on stderr and ends; the server goes on.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The executor's vote (`poie vote --out`): the tree served is the one it commits to.
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's key file (`poie key new`): every answer is signed with it.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The vote's salt (`poie vote --salt-out`): the tree is rebuilt with it.
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    /// The windback manifest the vote is for.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    /// Address to listen on (loopback by default).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7700")]
    listen: String,
    /// Drill: corrupt step I of the trace (a lying executor; the vote must have been made with
    /// the same `--lie-at`, as the served tree must give the vote's root).
    #[arg(long, value_name = "I")]
    lie_at: Option<u64>,
    /// Drill: read queries, never answer.
    #[arg(long)]
    silent: bool,
    /// Per-message timeout in milliseconds (1 to 3600000): each whole message from a
    /// challenger must arrive within it.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=u64::from(poie::protocol::challenge::MAX_TIMEOUT_MS)))]
    timeout_ms: u64,
    /// Exit after N games (default: one game, then exit): sessions that reached a leaf
    /// opening (the end of a bisection) and that the challenger then closed. Sessions closed
    /// before it (a hello alone), ended by a protocol error or refused as busy do not count.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    games: u64,
    /// Most challengers served at once (1 to 64); one more is told the server is busy.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    max_sessions: u32,
    /// Most sessions at once from one address (an IPv4 address, or an IPv6 /64), 1 to 64; one
    /// more from it is told the server is busy.
    #[arg(long, value_name = "N", default_value_t = poie::protocol::challenge::DEFAULT_PER_PEER as u32, value_parser = clap::value_parser!(u32).range(1..=64))]
    per_peer: u32,
}

pub fn serve(a: ServeArgs) -> Result<ExitCode> {
    use poie::protocol::challenge::{check_key, Behaviour, Executor, ServeOptions, Tree};
    let v = load_vote(&a.vote)?;
    let key = read_key(&a.key)?;
    // Before the work: the answers are signed with this key and checked against the vote's.
    check_key(&key, &v).with_context(|| format!("{}", a.key.display()))?;
    let salt = secret::read_salt(&a.salt_file)?;
    let jobs = windback::load(&a.windback)?;
    // Built on a thread of its own, which ends before any session starts: glibc hands a
    // finished thread's allocator arena, with the build VM's freed pages in it, to the next
    // thread, so the session threads reuse that memory instead of growing the process by a
    // guest's memory more (961 against 688 MiB measured, docs/PROTOCOL.md).
    let tree = std::thread::scope(|s| {
        s.spawn(|| Tree::for_vote(&v, &salt, &jobs, a.lie_at))
            .join()
            .map_err(|_| anyhow::anyhow!("building the tree panicked"))
    })??;
    let exec = Executor::for_vote(&tree, &key, &v)?.with_states(&jobs, v.max_steps);
    let listener = std::net::TcpListener::bind(&a.listen)
        .with_context(|| format!("listening on {}", a.listen))?;
    eprintln!(
        "poie: this server exits after {} (--games N for more)",
        games_text(a.games)
    );
    eprintln!(
        "poie: serving the challenge game on {}",
        listener.local_addr()?
    );
    let behaviour = if a.silent {
        Behaviour::Silent
    } else {
        Behaviour::Honest
    };
    let opts = ServeOptions {
        behaviour,
        timeout: std::time::Duration::from_millis(a.timeout_ms),
        games: a.games,
        max_sessions: usize::try_from(a.max_sessions).context("--max-sessions")?,
        per_peer: usize::try_from(a.per_peer).context("--per-peer")?,
    };
    let games = poie::protocol::challenge::serve(&listener, &exec, &opts, &|peer, end| {
        eprintln!("poie: session with {peer}: {end}");
    })
    .with_context(|| format!("serving on {}", a.listen))?;
    eprintln!("poie: {} played; exiting", games_text(games));
    Ok(ExitCode::SUCCESS)
}

/// "1 game", "3 games".
fn games_text(n: u64) -> String {
    if n == 1 {
        "1 game".into()
    } else {
        format!("{n} games")
    }
}

/// The challenger's side: bisects the executor's tree against the correct one.
#[derive(clap::Args, Debug)]
pub struct ChallengeArgs {
    /// The executor's `poie serve` address.
    #[arg(long, value_name = "HOST:PORT")]
    connect: String,
    /// The disputed vote (`poie vote --out`).
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's reveal (`poie reveal --out`): the challenger rebuilds the correct tree with
    /// it.
    #[arg(long, value_name = "FILE")]
    reveal: PathBuf,
    /// The windback manifest the vote is for.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    /// Write the transcript (the executor's signed replies, for `poie referee`) here,
    /// atomically.
    #[arg(long, value_name = "FILE", default_value = "transcript.json")]
    transcript: PathBuf,
    /// Timeout in milliseconds (1 to 3600000) for connecting (a refused connection is retried
    /// until then, while the server starts), and for each whole reply.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=u64::from(poie::protocol::challenge::MAX_TIMEOUT_MS)))]
    timeout_ms: u64,
}

pub fn challenge(a: ChallengeArgs) -> Result<ExitCode> {
    use poie::protocol::challenge::{fresh_nonce, Disputed, SecondPhase, Tree};
    use poie::protocol::transcript::TranscriptFile;
    super::check_out(&a.transcript)?;
    let v = load_vote(&a.vote)?;
    let r: Reveal = Reveal::load(&a.reveal)?;
    let jobs = windback::load(&a.windback)?;
    let timeout = std::time::Duration::from_millis(a.timeout_ms);
    let second = SecondPhase::of(&v, &jobs);
    // A job whose claim the replay contradicts is disputed directly (SPEC 6.7): the tree the
    // vote proves may not be the windback's trace at all (a job cut short, say).
    let (outcome, transcript) = match first_wrong_job(&v, &r, &jobs)? {
        Some(job) => {
            eprintln!(
                "poie: the vote's claim about job {job} is not what the job does: disputing it"
            );
            poie::protocol::challenge::challenge_claim(
                &a.connect,
                &v,
                &fresh_nonce()?,
                second,
                job,
                timeout,
            )
        }
        None => {
            let correct = Tree::correct(&v, &r, &jobs)?;
            poie::protocol::challenge::challenge(
                &a.connect,
                &correct,
                &Disputed::of(&v),
                &fresh_nonce()?,
                Some(second),
                timeout,
            )
        }
    }
    .with_context(|| format!("connecting to {}", a.connect))?;
    println!("{outcome}");
    TranscriptFile::new(v.root, transcript, outcome).save(&a.transcript)?;
    eprintln!("poie: transcript written to {}", a.transcript.display());
    Ok(ExitCode::SUCCESS)
}

/// The first job whose claim in `v` (initial state, steps, state root) the windback's replay
/// under the vote's step limit contradicts, for an authentic vote with its own reveal.
fn first_wrong_job(v: &Vote, r: &Reveal, jobs: &[windback::Job]) -> Result<Option<usize>> {
    use poie::protocol::vote::{first_wrong_claim, Verdict, MAX_VOTE_CHUNKS};
    use poie::protocol::windback::Execution;
    if !v.authentic() || !r.belongs_to(v) || !v.is_for(jobs)? {
        return Ok(None); // Tree::correct says why
    }
    let truth = match windback::execute_within(
        jobs,
        &mut poie::trace::NullSink,
        v.max_steps,
        MAX_VOTE_CHUNKS,
    )? {
        Execution::Complete(claims) => claims,
        Execution::TooLong => anyhow::bail!(
            "the windback's trace passes the protocol's cap of {MAX_VOTE_CHUNKS} chunks: no vote on it is valid"
        ),
    };
    let sum = v
        .jobs
        .iter()
        .try_fold(0u64, |acc, j| acc.checked_add(j.steps));
    Ok(match first_wrong_claim(&truth, &v.jobs) {
        Some(Verdict::WrongJobStart { job } | Verdict::WrongStateRoot { job }) => Some(job),
        // Claims that do not add up to `n` convict from the vote alone; the session records it.
        _ if sum != Some(v.n) => Some(0),
        _ => None,
    })
}

/// Re-judges a challenge transcript offline without running the windback: it follows what the
/// executor signed and rules on the challenger's one-step proof (docs/SPEC.md 6.7). Convicts
/// only on a reply the executor signed; a transcript that ends in silence, a refusal or an
/// unsigned or badly signed reply is "unproven". Exit 0 on a proven verdict (either side
/// loses), 1 when the transcript proves nothing or is invalid.
#[derive(clap::Args, Debug)]
pub struct RefereeArgs {
    /// The transcript to judge (`poie challenge --transcript`).
    #[arg(long, value_name = "FILE")]
    transcript: PathBuf,
    /// The disputed vote.
    #[arg(long, value_name = "FILE")]
    vote: PathBuf,
    /// The vote's reveal.
    #[arg(long, value_name = "FILE")]
    reveal: PathBuf,
    /// The windback manifest the vote is for: only its digest is checked, and a disputed job's
    /// initial state computed by loading it; nothing runs.
    #[arg(long, value_name = "FILE")]
    windback: PathBuf,
    /// Also judge the last step on-chain: the contracts (contracts/) in an EVM (revm, Prague),
    /// printing the chain's verdict and the transaction's gas. A claimed chunk needs a
    /// version-4 (`poie vote --hash keccak`) vote.
    #[arg(long)]
    evm: bool,
}

pub fn referee(a: RefereeArgs) -> Result<ExitCode> {
    use poie::protocol::transcript::TranscriptFile;
    let t = TranscriptFile::load(&a.transcript)?;
    let v = load_vote(&a.vote)?;
    let r: Reveal = Reveal::load(&a.reveal)?;
    t.about(&v)?;
    let jobs = windback::load(&a.windback)?;
    if !v.is_for(&jobs)? {
        anyhow::bail!("{}: not the vote's windback", a.windback.display());
    }
    // The disputed job's initial state from the referee crate's own loader (SPEC 1.2, 1.3),
    // not the VM's, so that a loader bug in one is caught by the other; nothing runs.
    let initial_state = |job: usize| -> std::result::Result<[u8; 32], String> {
        let j = jobs.get(job).ok_or_else(|| format!("no job {job}"))?;
        let elf = j.elf.load().map_err(|e| e.to_string())?;
        let input = j.input.load().map_err(|e| e.to_string())?;
        let index = u32::try_from(job).map_err(|e| format!("job {job}: {e}"))?;
        poie::referee::initial_state(&elf, &input, index, v.max_steps)
            .map_err(|e| format!("job {job}: invalid ELF: {e}"))
    };
    match poie::protocol::challenge::judge_to_last_step(&v, &r, &initial_state, &t.transcript()) {
        Ok((outcome, last)) => {
            println!("{outcome}");
            if outcome != t.outcome {
                // The file's own text: escaped, so it cannot drive a terminal.
                println!(
                    "(the transcript claimed: {})",
                    t.outcome.to_string().escape_debug()
                );
            }
            if a.evm && !super::evm::judge(&v, &r, last.as_ref(), &outcome)? {
                return Ok(ExitCode::from(1));
            }
            Ok(if outcome.is_proven() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(why) => {
            println!("invalid transcript: {why}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Simulates one epoch: executors with different strategies, honest checkers, challengers and
/// whistleblowers, over a generated ledger windback. Deterministic for a seed. Prints a table;
/// writes the final stakes only with `--out`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Seed of everything random in the epoch (keys, salts, ledger blocks): the same seed
    /// gives the same table.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Ledger blocks in the windback.
    #[arg(long, default_value_t = 2)]
    blocks: usize,
    /// Transfers per block.
    #[arg(long, default_value_t = 300)]
    transfers: usize,
    /// Every identity's stake.
    #[arg(long, default_value_t = 1000)]
    stake: u64,
    /// Write the final stakes (address -> stake, JSON) here, atomically. Nothing is written
    /// without it.
    #[arg(long, value_name = "FILE", alias = "ledger")]
    out: Option<PathBuf>,
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(flatten)]
    run: RunArgs,
}

pub fn simulate(a: SimulateArgs) -> Result<ExitCode> {
    use poie::protocol::simulate::{run, table, Config, Strategy};
    if let Some(out) = &a.out {
        super::check_out(out)?;
    }
    let cfg = Config {
        seed: a.seed,
        strategies: Strategy::ALL.to_vec(),
        blocks: a.blocks,
        transfers: a.transfers,
        stake: a.stake,
        params: a.layout.params()?,
        prover: a.run.config()?,
    };
    let (rows, stakes) = run(&cfg)?;
    print!("{}", table(&rows));
    if let Some(out) = &a.out {
        // An output for people and scripts, never read back by poie: plain JSON.
        let json = serde_json::to_string_pretty(&stakes)? + "\n";
        poie::atomic::write(out, json.as_bytes(), false)?;
        eprintln!("poie: stakes written to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
