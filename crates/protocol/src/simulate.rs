//! `poie simulate`: one epoch with executors following different strategies, honest checkers,
//! challengers and whistleblowers. Deterministic for a seed: keys, salts and the windback come
//! from it, and work is counted (steps executed, chunks hashed), not timed.

use super::challenge::{self, play, ChunkCollector, Disputed, Outcome, Tree};
use super::keys::Key;
use super::leak::{claim, judge, LeakVerdict};
use super::vote::VOTE_VERSION;
use super::vote::{self, check, salt_commitment, ProveError, Reveal, Verdict, Vote, WrongSalt};
use super::windback::{self, Blob, ExecuteError, Job};
use poie_guests as guests;
use poie_proof::backend::SimdError;
use poie_proof::{Hasher, Params, Prover, ProverConfig, Salt};
use poie_trace::{CountingSink, Tee};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    Honest,
    /// Re-signs another executor's vote without executing.
    Copycat,
    /// Executes only the first job of the windback and copies the other state roots.
    Skipper,
    /// Hands its unique secret to a worker who does the work; the worker blows the whistle.
    OutsourcerCaught,
    /// The same, with a worker who keeps quiet.
    OutsourcerQuiet,
    /// Executes once and proves for two identities.
    SelfPooler,
    /// Executes and proves correctly but votes a false state root for the last job.
    WrongStateRoot,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Strategy::Honest,
        Strategy::Copycat,
        Strategy::Skipper,
        Strategy::OutsourcerCaught,
        Strategy::OutsourcerQuiet,
        Strategy::SelfPooler,
        Strategy::WrongStateRoot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Honest => "honest",
            Strategy::Copycat => "copycat",
            Strategy::Skipper => "windback skipper",
            Strategy::OutsourcerCaught => "outsourcer (worker blows the whistle)",
            Strategy::OutsourcerQuiet => "outsourcer (quiet worker)",
            Strategy::SelfPooler => "self-pooler (2 identities)",
            Strategy::WrongStateRoot => "wrong state root",
        }
    }
}

/// One row of the result table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub executor: String,
    pub strategy: Strategy,
    pub caught: bool,
    pub mechanism: String,
    pub stake_lost: u64,
    /// Work the strategy spent: guest steps executed and trace chunks hashed.
    pub steps_executed: u64,
    pub chunks_hashed: u64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub strategies: Vec<Strategy>,
    /// Ledger blocks in the windback; at least 2 are simulated, so that the skipper has a job
    /// to skip.
    pub blocks: usize,
    pub transfers: usize,
    pub stake: u64,
    pub params: Params,
    pub prover: ProverConfig,
}

fn derive(seed: u64, tag: &str, i: usize) -> [u8; 32] {
    *blake3::Hasher::new()
        .update(b"poie/v1/simulate")
        .update(&seed.to_le_bytes())
        .update(tag.as_bytes())
        .update(&(i as u64).to_le_bytes())
        .finalize()
        .as_bytes()
}

/// The epoch's windback: `blocks` ledger blocks generated from the seed.
pub fn windback_for(seed: u64, blocks: usize, transfers: usize) -> Vec<Job> {
    let elf = Blob::from(guests::find("ledger").expect("ledger is built in").elf);
    (0..blocks)
        .map(|k| Job {
            program: "ledger".into(),
            elf: elf.clone(),
            input: guests::ledger::generate_block(seed.wrapping_add(k as u64), transfers)
                .into_bytes()
                .into(),
        })
        .collect()
}

/// Why an epoch could not be simulated.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error(transparent)]
    Prove(#[from] ProveError),
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    #[error(transparent)]
    Simd(#[from] SimdError),
    #[error(transparent)]
    Reveal(#[from] WrongSalt),
}

/// When the reveal period starts, on the protocol's clock; whistleblowers claim before it.
const REVEAL_START: u64 = 10;
/// When a whistleblower submits its leak claim.
const CLAIMED_AT: u64 = 5;

/// Runs the epoch; returns the table and the final stakes by address.
pub fn run(cfg: &Config) -> Result<(Vec<Row>, BTreeMap<String, u64>), SimulateError> {
    let jobs = windback_for(cfg.seed, cfg.blocks.max(2), cfg.transfers);
    let mut epoch = Epoch {
        cfg,
        full_steps: steps_of(&jobs)?,
        jobs,
        stakes: BTreeMap::new(),
        honest_vote: None,
    };
    let mut execs = Vec::new();
    for (i, &strategy) in cfg.strategies.iter().enumerate() {
        if let Some(e) = epoch.act(i, strategy)? {
            execs.push(e);
        }
    }
    // Then the reveal, and checkers, challengers and whistleblowers act.
    let mut rows = Vec::with_capacity(execs.len());
    for e in &execs {
        rows.push(epoch.judge(e)?);
    }
    Ok((rows, epoch.stakes))
}

/// An executor of the epoch: its identity and strategy, its votes (each with its reveal and
/// the unique secret its worker leaks, if one does), and the work it spent.
struct Executor {
    name: String,
    strategy: Strategy,
    key: Key,
    salt: Salt,
    votes: Vec<(Vote, Reveal, Option<[u8; 32]>)>,
    steps: u64,
    hashed: u64,
}

impl Executor {
    /// Executor number `i` of the epoch of `seed`, before it acts.
    fn new(seed: u64, i: usize, strategy: Strategy) -> Executor {
        let key = Key::from_seed(&derive(seed, "key", i));
        let name = format!("0x{}", hex::encode(&key.address().as_bytes()[..4]));
        Executor {
            name,
            strategy,
            key,
            salt: Salt::from(derive(seed, "salt", i)),
            votes: Vec::new(),
            steps: 0,
            hashed: 0,
        }
    }

    /// Publishes vote `v`, and at the reveal its salt `salt`; `leaked` is the unique secret a
    /// worker of its blows the whistle with.
    fn publish(&mut self, v: Vote, salt: Salt, leaked: Option<[u8; 32]>) -> Result<(), WrongSalt> {
        let r = vote::reveal(&v, salt)?;
        self.votes.push((v, r, leaked));
        Ok(())
    }
}

/// The epoch: its windback, and what the executors' acts leave behind.
struct Epoch<'a> {
    cfg: &'a Config,
    jobs: Vec<Job>,
    /// Steps of one full execution of the windback.
    full_steps: u64,
    stakes: BTreeMap<String, u64>,
    /// The first honest vote: what the copycat and the skipper copy.
    honest_vote: Option<Vote>,
}

impl Epoch<'_> {
    /// Executor number `i`, staked, votes by `strategy`; `None` for one that copies when there
    /// is no honest vote to copy.
    fn act(&mut self, i: usize, strategy: Strategy) -> Result<Option<Executor>, SimulateError> {
        let mut e = Executor::new(self.cfg.seed, i, strategy);
        self.stake(&e.key);
        match strategy {
            Strategy::Honest | Strategy::OutsourcerCaught | Strategy::OutsourcerQuiet => {
                self.work(&mut e)?
            }
            Strategy::Copycat | Strategy::Skipper => {
                let Some(h) = self.honest_vote.clone() else {
                    return Ok(None);
                };
                if strategy == Strategy::Copycat {
                    copycat(&mut e, h)?
                } else {
                    self.skip(&mut e, h)?
                }
            }
            Strategy::SelfPooler => self.pool(&mut e, i)?,
            Strategy::WrongStateRoot => self.misstate(&mut e)?,
        }
        Ok(Some(e))
    }

    fn stake(&mut self, key: &Key) {
        self.stakes
            .insert(key.address().to_string(), self.cfg.stake);
    }

    /// Honest work under the executor's secret: its own, or (an outsourcer) a worker's, which
    /// costs the executor nothing; the caught outsourcer's worker leaks the secret.
    fn work(&mut self, e: &mut Executor) -> Result<(), SimulateError> {
        let cfg = self.cfg;
        let v = vote::vote(
            &e.key,
            &self.jobs,
            cfg.params,
            cfg.prover,
            &e.salt,
            u64::MAX,
        )?;
        if e.strategy == Strategy::Honest {
            (e.steps, e.hashed) = (self.full_steps, v.n);
            self.honest_vote.get_or_insert_with(|| v.clone());
        }
        let leaked = (e.strategy == Strategy::OutsourcerCaught).then(|| v.unique_secret(&e.salt));
        e.publish(v, e.salt, leaked)?;
        Ok(())
    }

    /// The skipper executes and proves only the first job, and copies the honest vote's other
    /// state roots.
    fn skip(&self, e: &mut Executor, honest: Vote) -> Result<(), SimulateError> {
        let mut p = self.prover(&e.key, &e.salt)?;
        let first = self.jobs.get(..1).unwrap_or_default();
        let mut claims = windback::execute(first, &mut p, u64::MAX)?;
        claims.extend_from_slice(honest.jobs.get(1..).unwrap_or_default());
        let proof = p.into_proof().map_err(ProveError::Prover)?;
        (e.steps, e.hashed) = (proof.n, proof.n);
        let mut v = Vote {
            address: e.key.address(),
            public_key: e.key.public(),
            salt_commitment: salt_commitment(&e.salt),
            jobs: claims,
            n: proof.n,
            root: proof.root,
            ..honest
        };
        v.sign(&e.key);
        e.publish(v, e.salt, None)?;
        Ok(())
    }

    /// The self-pooler executes once and proves the trace for a second identity too, staked
    /// as its own.
    fn pool(&mut self, e: &mut Executor, i: usize) -> Result<(), SimulateError> {
        let cfg = self.cfg;
        let second = Key::from_seed(&derive(cfg.seed, "second-key", i));
        let salt2 = Salt::from(derive(cfg.seed, "second-salt", i));
        self.stake(&second);
        let mut both = Tee(self.prover(&e.key, &e.salt)?, self.prover(&second, &salt2)?);
        let claims = windback::execute(&self.jobs, &mut both, u64::MAX)?;
        let Tee(pa, pb) = both;
        let proved = [
            (&e.key, e.salt, pa.into_proof().map_err(ProveError::Prover)?),
            (&second, salt2, pb.into_proof().map_err(ProveError::Prover)?),
        ];
        let votes: Vec<(Vote, Salt)> = proved
            .into_iter()
            .map(|(k, s, proof)| {
                let mut v = Vote {
                    version: VOTE_VERSION,
                    address: k.address(),
                    public_key: k.public(),
                    salt_commitment: salt_commitment(&s),
                    windback: windback::digest(&self.jobs),
                    jobs: claims.clone(),
                    n: proof.n,
                    max_steps: u64::MAX,
                    params: cfg.params,
                    root: proof.root,
                    signature: [0; 64],
                    eth_signature: None,
                };
                v.sign(k);
                (v, s)
            })
            .collect();
        for (v, s) in votes {
            e.hashed = e.hashed.saturating_add(v.n);
            e.publish(v, s, None)?;
        }
        e.steps = self.full_steps;
        Ok(())
    }

    /// Executes and proves correctly, but votes a false state root for the last job.
    fn misstate(&self, e: &mut Executor) -> Result<(), SimulateError> {
        let cfg = self.cfg;
        let mut v = vote::vote(
            &e.key,
            &self.jobs,
            cfg.params,
            cfg.prover,
            &e.salt,
            u64::MAX,
        )?;
        if let Some(last) = v.jobs.last_mut() {
            last.state_root[0] ^= 0xff;
        }
        v.sign(&e.key);
        (e.steps, e.hashed) = (self.full_steps, v.n);
        e.publish(v, e.salt, None)?;
        Ok(())
    }

    /// A prover for the identity of `key` with `salt`.
    fn prover(&self, key: &Key, salt: &Salt) -> Result<Prover, SimdError> {
        let cfg = self.cfg;
        let h = Hasher::for_executor(cfg.params.hash, salt, &key.address(), cfg.prover.simd)?;
        Ok(Prover::new(cfg.params, h, cfg.prover))
    }

    /// What the whistleblowers, checkers and challengers make of `e`'s votes: its row, and its
    /// slashed stakes.
    fn judge(&mut self, e: &Executor) -> Result<Row, SimulateError> {
        let mut caught = Vec::new();
        let mut lost: u64 = 0;
        for (v, r, leaked) in &e.votes {
            if let Some(slashed) = leaked.and_then(|secret| self.leak_claim(v, r, secret)) {
                caught.push("leak claim".to_string());
                lost = lost.saturating_add(slashed);
                continue;
            }
            if let Some(mechanism) = self.check(e, v, r)? {
                caught.push(mechanism);
                let slashed = self.stakes.insert(v.address.to_string(), 0);
                lost = lost.saturating_add(slashed.unwrap_or(0));
            }
        }
        Ok(Row {
            executor: e.name.clone(),
            strategy: e.strategy,
            caught: !caught.is_empty(),
            mechanism: if caught.is_empty() {
                "not caught".into()
            } else {
                caught.join("; ")
            },
            stake_lost: lost,
            steps_executed: e.steps,
            chunks_hashed: e.hashed,
        })
    }

    /// A whistleblower's claim with the leaked `secret`, before the reveal period: if it holds,
    /// the executor's stake is slashed (returned) and the whistleblower gets half.
    fn leak_claim(&mut self, v: &Vote, r: &Reveal, secret: [u8; 32]) -> Option<u64> {
        let worker = Key::from_seed(&derive(self.cfg.seed, "worker", 0)).address();
        let LeakVerdict::Slash { claimant, .. } =
            judge(&claim(v, secret, worker, CLAIMED_AT), v, r, REVEAL_START)
        else {
            return None;
        };
        let slashed = self.stakes.insert(v.address.to_string(), 0).unwrap_or(0);
        let reward = self.stakes.entry(claimant.to_string()).or_insert(0);
        *reward = reward.saturating_add(slashed / 2);
        Some(slashed)
    }

    /// What catches vote `v` of `e` after its reveal `r`: the full check, or the challenge game
    /// where the check cannot locate the fault; `None` when nothing does.
    fn check(&self, e: &Executor, v: &Vote, r: &Reveal) -> Result<Option<String>, SimulateError> {
        Ok(match check(v, r, &self.jobs, self.cfg.prover)? {
            Verdict::Valid => None,
            Verdict::WrongStateRoot { .. } => Some("full check (wrong state root)".to_string()),
            Verdict::BadProof {
                first_divergent: Some(i),
                ..
            } => Some(format!("full check (trace ends early at leaf {i})")),
            Verdict::TraceTooLong { n } => {
                Some(format!("full check (trace ends early at leaf {n})"))
            }
            Verdict::BadProof {
                first_divergent: None,
                ..
            } => Some(self.challenge(e, v, r)?),
            other => Some(format!("full check ({other})")),
        })
    }

    /// A challenger bisects the tree `e` defends for `v` against the correct one of reveal `r`.
    fn challenge(&self, e: &Executor, v: &Vote, r: &Reveal) -> Result<String, SimulateError> {
        let cfg = self.cfg;
        // The executor can only answer with the tree its secret gives the trace it has.
        let mut chunks = ChunkCollector {
            chunks: Vec::new(),
            corrupt_at: None,
        };
        windback::execute(&self.jobs, &mut chunks, u64::MAX)?;
        let h = |s: &Salt| Hasher::for_executor(cfg.params.hash, s, &v.address, cfg.prover.simd);
        let correct = Tree::new(cfg.params, h(&r.salt)?, chunks.chunks.clone());
        let theirs = Tree::new(cfg.params, h(&e.salt)?, chunks.chunks);
        // It defends the root it voted, signing with its key; the game convicts only on such
        // signed replies.
        let exec = challenge::Executor {
            tree: &theirs,
            key: &e.key,
            root: v.root,
            states: None,
        };
        let nonce = derive(cfg.seed, "nonce", 0);
        let outcome = play(
            &correct,
            &Disputed::of(v),
            &nonce,
            exec.responder(nonce),
            &mut Vec::new(),
        );
        Ok(match outcome {
            Outcome::Challenger(why) => format!("challenge game ({why})"),
            Outcome::Executor(_) | Outcome::Unproven(_) => "full check (bad proof)".to_string(),
        })
    }
}

/// The copycat re-signs the honest vote as its own, without executing.
fn copycat(e: &mut Executor, honest: Vote) -> Result<(), WrongSalt> {
    let mut v = Vote {
        address: e.key.address(),
        public_key: e.key.public(),
        salt_commitment: salt_commitment(&e.salt),
        ..honest
    };
    v.sign(&e.key);
    e.publish(v, e.salt, None)
}

/// Steps of one full execution of the windback.
fn steps_of(jobs: &[Job]) -> Result<u64, ExecuteError> {
    let mut c = CountingSink::default();
    windback::execute(jobs, &mut c, u64::MAX)?;
    Ok(c.chunks)
}

/// The table `poie simulate` prints.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from("| executor | strategy | caught | by | stake lost | steps executed | chunks hashed |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.executor,
            r.strategy.name(),
            if r.caught { "yes" } else { "no" },
            r.mechanism,
            r.stake_lost,
            r.steps_executed,
            r.chunks_hashed
        ));
    }
    s
}
