//! `poie simulate`: one epoch with executors following different strategies, honest checkers,
//! challengers and whistleblowers. Deterministic for a seed: keys, salts and the windback come
//! from it, and work is counted (steps executed, chunks hashed), not timed.

use super::challenge::{self, play, Disputed, Outcome, Tree};
use super::keys::Key;
use super::leak::{claim, judge, LeakVerdict};
use super::vote::{self, check, Reveal, Verdict, Vote, VOTE_VERSION};
use super::windback::{self, Job, WindbackError};
use poie_guests as guests;
use poie_proof::{unique_secret, Hasher, Params, Prover, ProverConfig};
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
    let elf = guests::find("ledger")
        .expect("ledger is built in")
        .elf
        .to_vec();
    (0..blocks)
        .map(|k| Job {
            program: "ledger".into(),
            elf: elf.clone(),
            input: guests::ledger::generate_block(seed.wrapping_add(k as u64), transfers)
                .into_bytes(),
        })
        .collect()
}

struct Executor {
    name: String,
    strategy: Strategy,
    key: Key,
    salt: [u8; 32],
    votes: Vec<(Vote, Reveal, Option<[u8; 32]>)>,
    steps: u64,
    hashed: u64,
}

fn reveal_of(v: &Vote, salt: [u8; 32]) -> Reveal {
    Reveal {
        version: VOTE_VERSION,
        address: v.address,
        root: v.root,
        salt,
    }
}

fn steps_of(jobs: &[Job]) -> Result<u64, WindbackError> {
    let mut c = CountingSink::default();
    windback::execute(jobs, &mut c, u64::MAX)?;
    Ok(c.chunks)
}

/// Runs the epoch; returns the table and the final stakes by address.
pub fn run(cfg: &Config) -> Result<(Vec<Row>, BTreeMap<String, u64>), WindbackError> {
    let jobs = windback_for(cfg.seed, cfg.blocks, cfg.transfers);
    let full_steps = steps_of(&jobs)?;
    let mut stakes = BTreeMap::new();
    let mut execs: Vec<Executor> = Vec::new();
    let mut honest_vote: Option<Vote> = None;
    for (i, &strategy) in cfg.strategies.iter().enumerate() {
        let key = Key::from_seed(&derive(cfg.seed, "key", i));
        let salt = derive(cfg.seed, "salt", i);
        let name = format!("0x{}", &hex::encode(key.address())[..8]);
        stakes.insert(
            poie_files::hexser::address_string(&key.address()),
            cfg.stake,
        );
        let mut e = Executor {
            name,
            strategy,
            key,
            salt,
            votes: Vec::new(),
            steps: 0,
            hashed: 0,
        };
        match strategy {
            Strategy::Honest | Strategy::OutsourcerCaught | Strategy::OutsourcerQuiet => {
                // An outsourcer's vote is the worker's honest work under the outsourcer's
                // secret; the executor itself spends nothing.
                let v = vote::vote(&e.key, &jobs, cfg.params, cfg.prover, &salt, u64::MAX)?;
                if strategy == Strategy::Honest {
                    (e.steps, e.hashed) = (full_steps, v.n);
                    honest_vote.get_or_insert_with(|| v.clone());
                }
                let leaked = (strategy == Strategy::OutsourcerCaught)
                    .then(|| unique_secret(cfg.params.hash, &salt, &e.key.address()));
                e.votes.push((v.clone(), reveal_of(&v, salt), leaked));
            }
            Strategy::Copycat => {
                let Some(h) = honest_vote.clone() else {
                    continue;
                };
                let mut v = Vote {
                    address: e.key.address(),
                    public_key: e.key.public(),
                    salt_commitment: crate::vote::salt_commitment(&salt),
                    ..h
                };
                v.sign(&e.key);
                e.votes.push((v.clone(), reveal_of(&v, salt), None));
            }
            Strategy::Skipper => {
                let Some(h) = honest_vote.clone() else {
                    continue;
                };
                let hasher = Hasher::for_executor(
                    cfg.params.hash,
                    &salt,
                    &e.key.address(),
                    cfg.prover.simd,
                )?;
                let mut p = Prover::new(cfg.params, hasher, cfg.prover);
                let mut roots = windback::execute(&jobs[..1], &mut p, u64::MAX)?;
                roots.extend_from_slice(&h.state_roots[1..]);
                let proof = p.into_proof()?;
                (e.steps, e.hashed) = (proof.n, proof.n);
                let mut v = Vote {
                    address: e.key.address(),
                    public_key: e.key.public(),
                    salt_commitment: crate::vote::salt_commitment(&salt),
                    state_roots: roots,
                    n: proof.n,
                    root: proof.root,
                    ..h
                };
                v.sign(&e.key);
                e.votes.push((v.clone(), reveal_of(&v, salt), None));
            }
            Strategy::SelfPooler => {
                let second = Key::from_seed(&derive(cfg.seed, "second-key", i));
                let salt2 = derive(cfg.seed, "second-salt", i);
                stakes.insert(
                    poie_files::hexser::address_string(&second.address()),
                    cfg.stake,
                );
                let mk = |k: &Key, s: &[u8; 32]| {
                    Hasher::for_executor(cfg.params.hash, s, &k.address(), cfg.prover.simd)
                        .map(|h| Prover::new(cfg.params, h, cfg.prover))
                };
                let mut both = Tee(mk(&e.key, &salt)?, mk(&second, &salt2)?);
                let roots = windback::execute(&jobs, &mut both, u64::MAX)?;
                let Tee(pa, pb) = both;
                for (k, s, proof) in [
                    (&e.key, salt, pa.into_proof()?),
                    (&second, salt2, pb.into_proof()?),
                ] {
                    let mut v = Vote {
                        version: VOTE_VERSION,
                        address: k.address(),
                        public_key: k.public(),
                        salt_commitment: crate::vote::salt_commitment(&s),
                        windback: windback::digest(&jobs),
                        state_roots: roots.clone(),
                        n: proof.n,
                        max_steps: u64::MAX,
                        params: cfg.params,
                        root: proof.root,
                        signature: [0; 64],
                    };
                    v.sign(k);
                    e.hashed += proof.n;
                    e.votes.push((v.clone(), reveal_of(&v, s), None));
                }
                e.steps = full_steps;
            }
            Strategy::WrongStateRoot => {
                let mut v = vote::vote(&e.key, &jobs, cfg.params, cfg.prover, &salt, u64::MAX)?;
                if let Some(last) = v.state_roots.last_mut() {
                    last[0] ^= 0xff;
                }
                v.sign(&e.key);
                (e.steps, e.hashed) = (full_steps, v.n);
                e.votes.push((v.clone(), reveal_of(&v, salt), None));
            }
        }
        execs.push(e);
    }

    // Reveal period starts at 10; whistleblowers claim at 5. Then checkers and challengers act.
    let reveal_start = 10;
    let mut rows = Vec::new();
    for e in &execs {
        let mut caught = Vec::new();
        let mut lost = 0;
        for (v, r, leaked) in &e.votes {
            let addr = poie_files::hexser::address_string(&v.address);
            if let Some(secret) = leaked {
                let worker = Key::from_seed(&derive(cfg.seed, "worker", 0)).address();
                if let LeakVerdict::Slash { claimant, .. } =
                    judge(&claim(v, *secret, worker, 5), v, r, reveal_start)
                {
                    caught.push("leak claim".to_string());
                    let slashed = stakes.insert(addr.clone(), 0).unwrap_or(0);
                    lost += slashed;
                    *stakes
                        .entry(poie_files::hexser::address_string(&claimant))
                        .or_insert(0) += slashed / 2;
                    continue;
                }
            }
            let verdict = check(v, r, &jobs, cfg.prover)?;
            let mechanism = match verdict {
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
                } => {
                    // A challenger bisects the executor's own tree: the executor can only answer
                    // with the tree its secret gives the trace it has.
                    let mut chunks = super::challenge::ChunkCollector {
                        chunks: Vec::new(),
                        corrupt_at: None,
                    };
                    windback::execute(&jobs, &mut chunks, u64::MAX)?;
                    let h = |s: &[u8; 32]| {
                        Hasher::for_executor(cfg.params.hash, s, &v.address, cfg.prover.simd)
                    };
                    let correct = Tree::new(cfg.params, h(&r.salt)?, chunks.chunks.clone());
                    let theirs = Tree::new(cfg.params, h(&e.salt)?, chunks.chunks);
                    // It defends the root it voted, signing with its key; the game convicts
                    // only on such signed replies.
                    let exec = challenge::Executor {
                        tree: &theirs,
                        key: &e.key,
                        root: v.root,
                    };
                    let nonce = derive(cfg.seed, "nonce", 0);
                    let outcome = play(
                        &correct,
                        &Disputed::of(v),
                        &nonce,
                        exec.responder(nonce),
                        &mut Vec::new(),
                    );
                    match outcome {
                        Outcome::Challenger(why) => Some(format!("challenge game ({why})")),
                        Outcome::Executor(_) | Outcome::Unproven(_) => {
                            Some("full check (bad proof)".to_string())
                        }
                    }
                }
                other => Some(format!("full check ({other})")),
            };
            if let Some(m) = mechanism {
                caught.push(m);
                lost += stakes.insert(addr, 0).unwrap_or(0);
            }
        }
        rows.push(Row {
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
        });
    }
    Ok((rows, stakes))
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
