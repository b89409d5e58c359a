#![cfg(feature = "evm")]
//! The challenge game on-chain (contracts/src/PoieGame.sol) played through revm against real
//! version-4 votes: the first phase's descent over the executor's tree, the link, the second
//! phase's 16-way bisection over a job's states, and the ruling by the step verifier
//! (PoieStep.sol, deployed beside it). The players are the Rust ones' pieces: `Tree` for the
//! trees, `JobReplay` for states and step proofs.
//!
//! Outcomes: an honest executor beats a false leaf dispute; a wrong chunk, a wrong state root, a
//! dishonest intermediate state and a job claimed short lose; an honest final claim (of a job
//! that exits, of one that traps, of a vote of no chunks) stands; a silent executor and a
//! silent challenger lose on the deadline; votes the game refuses revert, and one whose steps
//! do not add up loses at open. The stateless judges (`judgeLeaf`, `judgeState`) rule as the
//! game does. Every transaction's gas is printed (`--nocapture`).

mod common;

use common::rv32::{addi, elf, EBREAK};
use poie::proof::tree::audit_path;
use poie::proof::{unique_secret, Address as PoieAddress, HashId, Hasher, Layout, Params, Simd};
use poie::protocol::challenge::{ChunkCollector, Node, Tree};
use poie::protocol::dispute::JobReplay;
use poie::protocol::keys::{keccak256, Key};
use poie::protocol::windback::{self, Job, JobClaim};
use poie_chain::contracts::{StepContract, DEPLOYER};
use poie_chain::game::{stage, GameContract, GameOutcome, JudgeLeaf, Sent};
use poie_chain::{Address, Evm, EvmError, Gas};
use poie_referee::dispute::{Bisection, GAME_ARITY};
use poie_referee::{Claim, Ruling, StepProof};

type Hash = [u8; 32];
/// What a typed call of `GameContract` returns.
type Call<T> = Result<Sent<T>, EvmError>;
/// A change to a judgement's input.
type Edit = dyn Fn(&mut JudgeLeaf);

const MOVE_SECONDS: u64 = 3600;
/// `endReason` of a game lost on a timeout.
const TIMEOUT_REASON: u8 = 13;
const T0: u64 = 1_700_000_000;
const CHALLENGER: Address = Address::new([0xc1; 20]);
const ANYONE: Address = Address::new([0xa0; 20]);
const MAX_STEPS: u64 = u64::MAX;

/// The chain with both contracts, and the gas of every move sent through it.
struct Chain {
    evm: Evm,
    game: GameContract,
    gas: Vec<(String, Gas)>,
}

impl Chain {
    fn new() -> Chain {
        let mut evm = Evm::new();
        evm.set_timestamp(T0);
        let step = StepContract::deploy(&mut evm).expect("PoieStep deploys");
        let game = GameContract::deploy(&mut evm, DEPLOYER, step.address, MOVE_SECONDS)
            .expect("PoieGame deploys");
        Chain {
            evm,
            game,
            gas: Vec::new(),
        }
    }

    /// A transaction that must succeed; its gas is recorded under `label`.
    fn tx<T>(&mut self, label: &str, f: impl FnOnce(&GameContract, &mut Evm) -> Call<T>) -> T {
        let s = self.try_tx(f);
        self.gas.push((label.to_string(), s.gas));
        match s.out {
            Ok(t) => t,
            Err(data) => panic!("{label} reverted: {}", hex::encode(data)),
        }
    }

    /// A transaction whose result is the caller's to judge (a revert it expects).
    fn try_tx<T>(&mut self, f: impl FnOnce(&GameContract, &mut Evm) -> Call<T>) -> Sent<T> {
        f(&self.game, &mut self.evm).expect("the EVM runs the transaction")
    }

    /// A view: its result, not recorded.
    fn view<T>(&mut self, f: impl FnOnce(&GameContract, &mut Evm) -> Call<T>) -> T {
        match self.try_tx(f).out {
            Ok(t) => t,
            Err(data) => panic!("a view reverted: {}", hex::encode(data)),
        }
    }

    fn stage(&mut self, id: u64) -> u8 {
        self.view(|g, e| g.status(e, ANYONE, id)).stage
    }

    fn outcome(&mut self, id: u64) -> GameOutcome {
        self.view(|g, e| g.outcome(e, ANYONE, id))
    }

    fn end_reason(&mut self, id: u64) -> u8 {
        self.view(|g, e| g.end_reason(e, ANYONE, id))
    }

    fn wait(&mut self, seconds: u64) {
        let now = self.evm.timestamp();
        self.evm.set_timestamp(now + seconds);
    }

    fn print(&self, title: &str) {
        println!("gas, {title}: move, used, execution, calldata bytes");
        for (label, g) in &self.gas {
            let (used, exec, bytes) = (g.used, g.execution, g.calldata.bytes);
            println!("  {label:<14} {used:>8} {exec:>8} {bytes:>6}");
        }
        let sum = |f: fn(&Gas) -> u64| self.gas.iter().map(|(_, g)| f(g)).sum::<u64>();
        println!(
            "  total: {} transactions, {} used, {} execution, {} calldata bytes ({} gas at 16/4, {} at the EIP-7623 floor)",
            self.gas.len(),
            sum(|g| g.used),
            sum(|g| g.execution),
            sum(|g| g.calldata.bytes),
            sum(|g| g.calldata.gas()),
            sum(|g| g.calldata.floor_gas()),
        );
    }
}

/// A windback executed honestly: its chunks, its job claims, and the executor's keys.
struct World {
    jobs: Vec<Job>,
    params: Params,
    key: Key,
    eth: PoieAddress,
    /// The executor's account: the vote's address.
    exec: Address,
    salt: Hash,
    chunks: Vec<Hash>,
    claims: Vec<JobClaim>,
}

fn guest(name: &str, input: &[u8]) -> Job {
    common::fixtures::guest_job(name, input)
}

fn sort_and_hello() -> Vec<Job> {
    vec![guest("sort", b"60 3"), guest("hello", b"")]
}

/// A job that retires `before` instructions, then traps on `ebreak`.
fn trap_job(before: usize) -> Job {
    let mut code = vec![addi(5, 5, 1); before];
    code.push(EBREAK);
    Job {
        program: "trap".into(),
        elf: elf(&code, &[0; 64]).into(),
        input: Vec::new().into(),
    }
}

fn params(lanes: u32, chained: bool) -> Params {
    Params {
        hash: HashId::Keccak,
        layout: Layout::new(lanes, chained).expect("a layout"),
    }
}

fn salt_commitment(salt: &Hash) -> Hash {
    keccak256(&[b"poie/v1/salt".as_slice(), salt].concat())
}

impl World {
    fn new(jobs: Vec<Job>, params: Params) -> World {
        let key = Key::from_seed(&[3; 32]);
        let eth = key.eth_address().expect("an on-chain key");
        let mut all = ChunkCollector {
            chunks: Vec::new(),
            corrupt_at: None,
        };
        let claims = windback::execute(&jobs, &mut all, MAX_STEPS).expect("runs");
        World {
            jobs,
            params,
            key,
            eth,
            exec: Address::from_slice(eth.as_bytes()),
            salt: [4; 32],
            chunks: all.chunks,
            claims,
        }
    }

    fn hasher(&self) -> Hasher {
        let salt = poie::proof::Salt::from(self.salt);
        let secret = unique_secret(HashId::Keccak, &salt, &self.eth);
        Hasher::new(HashId::Keccak, secret, Simd::detect()).expect("a hasher")
    }

    /// The tree of the first `n` chunks, chunk `corrupt_at`'s first byte flipped.
    fn tree(&self, n: usize, corrupt_at: Option<u64>) -> Tree {
        let mut chunks = self.chunks[..n].to_vec();
        if let Some(i) = corrupt_at {
            chunks[i as usize][0] ^= 1;
        }
        Tree::new(self.params, self.hasher(), chunks)
    }

    fn replay(&self, k: usize) -> JobReplay {
        JobReplay::new(&self.jobs[k], k as u32, MAX_STEPS).expect("a replay")
    }

    /// The signed version-4 vote (SPEC 6.3) on `claims`, `n` chunks and `root`.
    fn vote(&self, claims: &[JobClaim], n: u64, root: Hash) -> Vote4 {
        let mut jobs = Vec::new();
        for c in claims {
            jobs.extend_from_slice(&c.initial_state);
            jobs.extend_from_slice(&c.steps.to_le_bytes());
            jobs.extend_from_slice(&c.state_root);
        }
        let mut m = b"poie/v1/vote".to_vec();
        m.extend_from_slice(&4u32.to_le_bytes());
        m.extend_from_slice(self.eth.as_bytes());
        m.extend_from_slice(&self.key.public());
        m.extend_from_slice(&salt_commitment(&self.salt));
        m.extend_from_slice(&[0x77; 32]); // the windback's digest: not the game's business
        m.extend_from_slice(&(claims.len() as u64).to_le_bytes());
        m.extend_from_slice(&jobs);
        m.extend_from_slice(&n.to_le_bytes());
        m.extend_from_slice(&MAX_STEPS.to_le_bytes());
        m.extend_from_slice(&self.params.encode());
        m.extend_from_slice(&root);
        let sig = self.key.sign_eth(&keccak256(&m)).expect("signs");
        Vote4 {
            message: m,
            sig,
            jobs,
        }
    }

    /// The job of trace index `index`, and its step within the job.
    fn locate(&self, index: u64) -> (usize, u64) {
        let mut prefix = 0;
        for (k, c) in self.claims.iter().enumerate() {
            if index < prefix + c.steps {
                return (k, index - prefix);
            }
            prefix += c.steps;
        }
        panic!("index {index} is past the trace");
    }

    fn state_fn(&self, k: usize) -> impl FnMut(u64) -> Hash + '_ {
        let mut r = self.replay(k);
        move |p| r.state(p).expect("replays").expect("a state")
    }
}

struct Vote4 {
    message: Vec<u8>,
    sig: [u8; 65],
    jobs: Vec<u8>,
}

fn open(chain: &mut Chain, w: &World, v: &Vote4) -> u64 {
    chain.tx("open", |g, e| {
        g.open(e, CHALLENGER, &v.message, &v.sig, w.salt)
    })
}

/// The descent: the executor reveals `exec`'s digests, the challenger picks the leftmost child
/// whose digest differs from `mine`'s. The contract's node is checked against the Rust tree's
/// at every step. Returns the leaf's lane and position.
fn descend(chain: &mut Chain, id: u64, w: &World, exec: &Tree, mine: &Tree) -> (u32, u64) {
    let top = exec.digest(exec.root_node()).expect("digest");
    chain.tx("revealTop", |g, e| g.reveal_top(e, w.exec, id, top));
    let mut node = exec.normalize(exec.root_node());
    loop {
        let d = chain.view(|g, e| g.descent(e, ANYONE, id));
        let want = match node {
            Node::Top { lo, hi } => (false, d.lane, u64::from(lo), u64::from(hi)),
            Node::Lane { lane, lo, hi } => (true, u64::from(lane), lo, hi),
        };
        assert_eq!((d.in_lane, d.lane, d.lo, d.hi), want, "{node:?}");
        let Some((l, r)) = exec.children(node) else {
            break;
        };
        let (dl, dr) = (exec.digest(l).expect("l"), exec.digest(r).expect("r"));
        chain.tx("reveal", |g, e| g.reveal(e, w.exec, id, dl, dr));
        let right = mine.digest(l).expect("mine") == dl;
        chain.tx("pick", |g, e| g.pick(e, CHALLENGER, id, right));
        node = exec.normalize(if right { r } else { l });
    }
    let Node::Lane { lane, lo, .. } = node else {
        panic!("the descent ends in a lane: {node:?}");
    };
    (lane, lo)
}

/// Lane `lane`'s leaves in `t`.
fn lane_leaves(t: &Tree, lane: u32) -> Vec<Hash> {
    let m = t.params.layout.lane_len(t.n(), lane);
    let leaf = |q| Node::Lane {
        lane,
        lo: q,
        hi: q + 1,
    };
    (0..m).map(|q| t.digest(leaf(q)).expect("leaf")).collect()
}

/// The executor's link move, when the leaf needs one.
fn open_link(chain: &mut Chain, id: u64, w: &World, exec: &Tree, (lane, pos): (u32, u64)) {
    if !(w.params.layout.chained && pos > 0) {
        assert_eq!(chain.stage(id), stage::LEAF);
        return;
    }
    assert_eq!(chain.stage(id), stage::LINK);
    let leaves = lane_leaves(exec, lane);
    let path = audit_path(&w.hasher(), &leaves, pos - 1);
    let link = leaves[pos as usize - 1];
    chain.tx("openLink", |g, e| g.open_link(e, w.exec, id, link, &path));
}

/// The rounds: the executor commits `exec_state(p)` at each point, the challenger disputes the
/// first that differs from `mine(p)`. The points are checked against `Bisection`'s.
fn bisect(
    chain: &mut Chain,
    id: u64,
    w: &World,
    exec_state: &mut dyn FnMut(u64) -> Hash,
    mine: &mut dyn FnMut(u64) -> Hash,
) {
    while chain.stage(id) == stage::COMMIT {
        let b = chain.view(|g, e| g.bisection(e, ANYONE, id));
        let points = chain.view(|g, e| g.points(e, ANYONE, id));
        let want = Bisection::new(b.lo, b.hi, GAME_ARITY).expect("a shape");
        assert_eq!(points, want.points(), "the round's points");
        let states: Vec<Hash> = points.iter().map(|&p| exec_state(p)).collect();
        chain.tx("commitStates", |g, e| {
            g.commit_states(e, w.exec, id, &states)
        });
        let first = points.iter().zip(&states).position(|(&p, s)| mine(p) != *s);
        chain.tx("disputeAt", |g, e| {
            g.dispute_at(e, CHALLENGER, id, &states, first)
        });
    }
}

/// Anyone proves the step from the agreed state (the challenger's own replay builds it).
fn prove(chain: &mut Chain, id: u64, w: &World) -> GameOutcome {
    assert_eq!(chain.stage(id), stage::PROVE);
    let b = chain.view(|g, e| g.bisection(e, ANYONE, id));
    let proof = w.replay(b.job as usize).step_proof(b.lo).expect("replays");
    let proof = proof.expect("a state at lo").encode();
    chain.tx("prove", |g, e| g.prove(e, ANYONE, id, &proof));
    chain.outcome(id)
}

/// A whole leaf game: the executor's tree `exec` (its vote's), the challenger's `mine`, both
/// committing honest states. Returns the outcome and the leaf's index.
fn leaf_game(w: &World, exec: &Tree, mine: &Tree, title: &str) -> (GameOutcome, u64) {
    let mut chain = Chain::new();
    let v = w.vote(&w.claims, exec.n(), exec.root());
    let id = open(&mut chain, w, &v);
    assert_eq!(chain.stage(id), stage::TOP);
    let (lane, pos) = descend(&mut chain, id, w, exec, mine);
    let index = w.params.layout.index(lane, pos).expect("an index");
    open_link(&mut chain, id, w, exec, (lane, pos));
    chain.tx("startStates", |g, e| {
        g.start_states(e, CHALLENGER, id, &v.jobs)
    });
    let (k, step) = w.locate(index);
    let b = chain.view(|g, e| g.bisection(e, ANYONE, id));
    assert_eq!((b.job, b.end, b.final_claim), (k as u64, step + 1, false));
    let (mut exec_s, mut mine_s) = (w.state_fn(k), w.state_fn(k));
    bisect(&mut chain, id, w, &mut exec_s, &mut mine_s);
    let outcome = prove(&mut chain, id, w);
    chain.print(&format!("{title}, leaf {index}"));
    (outcome, index)
}

#[test]
fn game_an_honest_executor_beats_a_false_leaf_dispute() {
    let w = World::new(sort_and_hello(), params(4, true));
    let n = w.chunks.len();
    let exec = w.tree(n, None);
    // The challenger's own trace is the wrong one: it disputes a right leaf.
    let lie = n as u64 / 3;
    let mine = w.tree(n, Some(lie));
    let (outcome, index) = leaf_game(&w, &exec, &mine, "false leaf dispute");
    assert_eq!(index, lie);
    assert_eq!(outcome, GameOutcome::ChallengerLost);
}

#[test]
fn game_a_wrong_chunk_loses() {
    let probe = World::new(sort_and_hello(), params(1, false));
    let n = probe.chunks.len() as u64;
    let second = probe.claims[0].steps;
    for (lanes, chained, lie) in [
        (4, true, n / 2 + 3),
        (1, false, 0),
        (16, true, second),
        (3, false, n - 1),
    ] {
        let w = World::new(sort_and_hello(), params(lanes, chained));
        let exec = w.tree(n as usize, Some(lie));
        let mine = w.tree(n as usize, None);
        let title = format!("wrong chunk, L = {lanes} chained {chained}");
        let (outcome, index) = leaf_game(&w, &exec, &mine, &title);
        assert_eq!(index, lie, "{title}");
        assert_eq!(outcome, GameOutcome::ExecutorLost, "{title}");
    }
}

/// A dispute of job `k`'s claim in a vote of `claims` over the first `n` chunks: the executor
/// commits `exec_state`, the challenger disputes by the honest states, anyone proves.
fn claim_game(
    w: &World,
    claims: &[JobClaim],
    n: usize,
    k: u32,
    exec_state: &mut dyn FnMut(u64) -> Hash,
    title: &str,
) -> GameOutcome {
    let mut chain = Chain::new();
    let v = w.vote(claims, n as u64, w.tree(n, None).root());
    let id = open(&mut chain, w, &v);
    let first = if n == 0 { stage::CLAIMS } else { stage::TOP };
    assert_eq!(chain.stage(id), first);
    chain.tx("disputeJob", |g, e| {
        g.dispute_job(e, CHALLENGER, id, &v.jobs, k)
    });
    let b = chain.view(|g, e| g.bisection(e, ANYONE, id));
    assert_eq!((b.end, b.final_claim), (claims[k as usize].steps + 1, true));
    let mut mine = w.state_fn(k as usize);
    bisect(&mut chain, id, w, exec_state, &mut mine);
    let outcome = prove(&mut chain, id, w);
    // A step's ruling ended it: one of GameRuling's reasons, not a timeout.
    assert!((1..=11).contains(&chain.end_reason(id)), "{title}");
    chain.print(title);
    outcome
}

#[test]
fn game_job_claims_wrong_roots_states_and_counts_lose_honest_ones_stand() {
    let w = World::new(sort_and_hello(), params(4, true));
    let n = w.chunks.len();
    let honest = claim_game(
        &w,
        &w.claims,
        n,
        1,
        &mut w.state_fn(1),
        "honest final claim",
    );
    assert_eq!(honest, GameOutcome::ChallengerLost);
    // A wrong state root after honest states: the job ends elsewhere.
    let mut wrong = w.claims.clone();
    wrong[1].state_root[0] ^= 1;
    let o = claim_game(&w, &wrong, n, 1, &mut w.state_fn(1), "wrong state root");
    assert_eq!(o, GameOutcome::ExecutorLost);
    // The same lie defended by made-up states from step 40 on: one step contradicts them.
    let mut honest_state = w.state_fn(1);
    let mut made_up = move |p: u64| match p {
        p if p < 40 => honest_state(p),
        p => keccak256(&p.to_le_bytes()),
    };
    let o = claim_game(&w, &wrong, n, 1, &mut made_up, "made-up states");
    assert_eq!(o, GameOutcome::ExecutorLost);
    // The windback skipper: the last job claimed 50 steps short (n and root to match).
    let mut short = w.claims.clone();
    short[1].steps -= 50;
    let o = claim_game(
        &w,
        &short,
        n - 50,
        1,
        &mut w.state_fn(1),
        "job claimed short",
    );
    assert_eq!(o, GameOutcome::ExecutorLost);

    // A job that traps: its state root is the state after the trapping instruction.
    let t = World::new(vec![trap_job(4)], params(2, false));
    assert_eq!(t.claims[0].steps, 4);
    let o = claim_game(&t, &t.claims, 4, 0, &mut t.state_fn(0), "trapping job");
    assert_eq!(o, GameOutcome::ChallengerLost);
    let mut wrong = t.claims.clone();
    wrong[0].state_root[0] ^= 1;
    let o = claim_game(
        &t,
        &wrong,
        4,
        0,
        &mut t.state_fn(0),
        "trapping job, wrong root",
    );
    assert_eq!(o, GameOutcome::ExecutorLost);

    // A vote of no chunks (its one job traps at once): no descent, but its claim is disputed.
    let z = World::new(vec![trap_job(0)], params(1, false));
    assert_eq!((z.chunks.len(), z.claims[0].steps), (0, 0));
    let o = claim_game(&z, &z.claims, 0, 0, &mut z.state_fn(0), "no chunks");
    assert_eq!(o, GameOutcome::ChallengerLost);
    let mut wrong = z.claims.clone();
    wrong[0].state_root = wrong[0].initial_state;
    let o = claim_game(
        &z,
        &wrong,
        0,
        0,
        &mut z.state_fn(0),
        "no chunks, wrong root",
    );
    assert_eq!(o, GameOutcome::ExecutorLost);
}

#[test]
fn game_silence_loses_and_moves_are_the_movers_own() {
    let w = World::new(vec![guest("hello", b"")], params(2, true));
    let n = w.chunks.len();
    let exec = w.tree(n, None);
    let v = w.vote(&w.claims, n as u64, exec.root());
    let top = exec.digest(exec.root_node()).expect("top");

    // A silent executor; moves by the wrong account or after the deadline are refused.
    let mut chain = Chain::new();
    let id = open(&mut chain, &w, &v);
    let sent = chain.try_tx(|g, e| g.timeout(e, ANYONE, id));
    assert!(sent.reverted_with("NotExpired()"));
    let sent = chain.try_tx(|g, e| g.reveal_top(e, CHALLENGER, id, top));
    assert!(sent.reverted_with("NotYourMove()"));
    chain.wait(MOVE_SECONDS + 1);
    let sent = chain.try_tx(|g, e| g.reveal_top(e, w.exec, id, top));
    assert!(sent.reverted_with("DeadlinePassed()"));
    assert_eq!(chain.end_reason(id), 0);
    chain.tx("timeout", |g, e| g.timeout(e, ANYONE, id));
    assert_eq!(chain.outcome(id), GameOutcome::ExecutorLost);
    // The loss is on record as a timeout, not a proven fault.
    assert_eq!(chain.end_reason(id), TIMEOUT_REASON);

    // A silent challenger, after a reveal; a wrong top root and wrong children refused.
    let mut chain = Chain::new();
    let id = open(&mut chain, &w, &v);
    let sent = chain.try_tx(|g, e| g.reveal_top(e, w.exec, id, [1; 32]));
    assert!(sent.reverted_with("WrongTop()"));
    chain.tx("revealTop", |g, e| g.reveal_top(e, w.exec, id, top));
    let (l, r) = exec.children(exec.root_node()).expect("children");
    let (dl, dr) = (exec.digest(l).expect("l"), exec.digest(r).expect("r"));
    let sent = chain.try_tx(|g, e| g.reveal(e, w.exec, id, dr, dl));
    assert!(sent.reverted_with("WrongChildren()"));
    chain.tx("reveal", |g, e| g.reveal(e, w.exec, id, dl, dr));
    assert_eq!(chain.stage(id), stage::PICK);
    chain.wait(MOVE_SECONDS + 1);
    chain.tx("timeout", |g, e| g.timeout(e, ANYONE, id));
    assert_eq!(chain.outcome(id), GameOutcome::ChallengerLost);

    // Nobody proves: the challenger, who always can, loses.
    let mut chain = Chain::new();
    let id = open(&mut chain, &w, &v);
    let sent = chain.try_tx(|g, e| g.dispute_job(e, CHALLENGER, id, &v.jobs[..71], 0));
    assert!(sent.reverted_with("WrongJobs()"));
    chain.tx("disputeJob", |g, e| {
        g.dispute_job(e, CHALLENGER, id, &v.jobs, 0)
    });
    bisect(&mut chain, id, &w, &mut w.state_fn(0), &mut w.state_fn(0));
    assert_eq!(chain.stage(id), stage::PROVE);
    // A proof that shows nothing changes nothing: here, another state's.
    let b = chain.view(|g, e| g.bisection(e, ANYONE, id));
    let other = w.replay(0).step_proof(b.lo - 1).expect("r").expect("p");
    let sent = chain.try_tx(|g, e| g.prove(e, ANYONE, id, &other.encode()));
    assert!(sent.reverted_with("HeaderNotAgreed()"));
    assert_eq!(chain.stage(id), stage::PROVE);
    chain.wait(MOVE_SECONDS + 1);
    chain.tx("timeout", |g, e| g.timeout(e, ANYONE, id));
    assert_eq!(chain.outcome(id), GameOutcome::ChallengerLost);
    assert_eq!(chain.end_reason(id), TIMEOUT_REASON);
    chain.print("silence");

    // A game deployed with less than an hour to move is refused: a vote names no deployment,
    // and seconds to move would let a deployer win on timeouts against any revealed vote.
    let mut evm = Evm::new();
    let step = StepContract::deploy(&mut evm).expect("PoieStep deploys");
    assert!(GameContract::deploy(&mut evm, DEPLOYER, step.address, 3599).is_err());
    assert!(GameContract::deploy(&mut evm, DEPLOYER, step.address, 3600).is_ok());
}

#[test]
fn game_refuses_bad_votes_and_a_vote_that_does_not_add_up_loses_at_open() {
    let w = World::new(vec![guest("hello", b"")], params(2, false));
    let n = w.chunks.len() as u64;
    let root = w.tree(n as usize, None).root();
    let mut chain = Chain::new();
    let mut try_open = |v: &Vote4, salt: Hash| -> Sent<u64> {
        chain.try_tx(|g, e| g.open(e, CHALLENGER, &v.message, &v.sig, salt))
    };
    let good = w.vote(&w.claims, n, root);
    let mut v = w.vote(&w.claims, n, root);
    v.message[200] ^= 1;
    assert!(try_open(&v, w.salt).reverted_with("BadSignature()"));
    // The malleable twin (s -> order - s, v flipped) of a valid signature.
    let order = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        .expect("hex");
    let mut v = w.vote(&w.claims, n, root);
    let mut borrow = 0i32;
    for i in (0..32).rev() {
        let d = i32::from(order[i]) - i32::from(good.sig[32 + i]) - borrow;
        v.sig[32 + i] = d.rem_euclid(256) as u8;
        borrow = i32::from(d < 0);
    }
    v.sig[64] ^= 27 ^ 28;
    assert!(try_open(&v, w.salt).reverted_with("BadSignature()"));
    assert!(try_open(&good, [5; 32]).reverted_with("WrongSalt()"));
    let mut v = w.vote(&w.claims, n, root);
    v.message[12] = 3;
    assert!(try_open(&v, w.salt).reverted_with("BadVote(uint8)"));
    let beyond = w.vote(&w.claims, (1 << 28) + 1, root);
    assert!(try_open(&beyond, w.salt).reverted_with("BadVote(uint8)"));
    // Signed, but the steps add up to n, not n - 1: the executor's own contradiction.
    let sent = try_open(&w.vote(&w.claims, n - 1, root), w.salt);
    let id = sent.out.expect("opens");
    assert_eq!(chain.outcome(id), GameOutcome::ExecutorLost);
    println!("gas, open of a vote that does not add up: {:?}", sent.gas);
}

/// `judgeLeaf`'s input for leaf `index` of `exec`, from the agreed state before it.
fn judge_input(w: &World, exec: &Tree, index: u64) -> JudgeLeaf {
    let h = w.hasher();
    let layout = w.params.layout;
    let (lane, pos) = layout.locate(index);
    let leaves = lane_leaves(exec, lane);
    let lane_roots: Vec<Hash> = (0..layout.used_lanes(exec.n()))
        .map(|j| {
            exec.digest(Node::Top { lo: j, hi: j + 1 })
                .expect("a lane root")
        })
        .collect();
    let (k, step) = w.locate(index);
    let mut replay = w.replay(k);
    let linked = layout.chained && pos > 0;
    let proof = replay.step_proof(step).expect("replays").expect("a proof");
    JudgeLeaf {
        root: exec.root(),
        lanes: layout.lanes,
        chained: layout.chained,
        n: exec.n(),
        executor: w.exec,
        salt: w.salt,
        salt_commitment: salt_commitment(&w.salt),
        index,
        leaf: leaves[pos as usize],
        lane_branch: audit_path(&h, &leaves, pos),
        top_branch: audit_path(&h, &lane_roots, u64::from(lane)),
        link: if linked {
            leaves[pos as usize - 1]
        } else {
            [0; 32]
        },
        prev_branch: match linked {
            true => audit_path(&h, &leaves, pos - 1),
            false => Vec::new(),
        },
        agreed: replay.state(step).expect("replays").expect("a state"),
        step_proof: proof.encode(),
    }
}

#[test]
fn game_stateless_judges_rule_as_the_game_does() {
    let w = World::new(sort_and_hello(), params(4, true));
    let n = w.chunks.len();
    let lie = n as u64 / 2 + 5;
    let (liar, honest) = (w.tree(n, Some(lie)), w.tree(n, None));
    let mut chain = Chain::new();
    let mut judge = |x: &JudgeLeaf| chain.try_tx(|g, e| g.judge_leaf(e, ANYONE, x));
    let x = judge_input(&w, &liar, lie);
    let s = judge(&x);
    assert_eq!(s.out, Ok(true), "the liar's leaf");
    println!("gas, judgeLeaf (executor loses): {:?}", s.gas);
    assert!(s.gas.execution <= 250_000, "{:?}", s.gas);
    for index in [lie, 0, 3, n as u64 - 1] {
        let s = judge(&judge_input(&w, &honest, index));
        assert_eq!(s.out, Ok(false), "honest leaf {index}");
        println!("gas, judgeLeaf (honest leaf {index}): {:?}", s.gas);
        assert!(s.gas.execution <= 250_000, "{:?}", s.gas);
    }
    // Inclusion that does not hold, a proof of another state, a leaf that does not verify.
    let edits: [(&Edit, &str); 5] = [
        (&|x| x.top_branch[0][0] ^= 1, "WrongPath()"),
        (
            &|x| x.lane_branch.truncate(x.lane_branch.len() - 1),
            "WrongPath()",
        ),
        (&|x| x.link[0] ^= 1, "WrongPath()"),
        (&|x| x.agreed[0] ^= 1, "HeaderNotAgreed()"),
        (&|x| x.step_proof[394 + 8 + 3] ^= 1, "BadProof(uint8)"),
    ];
    for (edit, error) in edits {
        let mut bad = x.clone();
        edit(&mut bad);
        let s = judge(&bad);
        // The step verifier's errors are its own; only a revert is required of them.
        assert!(s.out.is_err(), "{error}");
        if !error.starts_with("BadProof") {
            assert!(s.reverted_with(error), "{error}");
        }
    }

    // State and final claims, ruled as the Rust referee rules them: after a step that retires,
    // at the job's end (exited), and after a step that traps (no state follows a trap).
    let mut r = w.replay(1);
    let steps = w.claims[1].steps;
    let mut state = |p| r.state(p).expect("r").expect("s");
    let (s10, s11, fin) = (state(10), state(11), state(steps));
    let p10 = r.step_proof(10).expect("r").expect("p").encode();
    let pend = r.step_proof(steps).expect("r").expect("p").encode();
    let root = w.claims[1].state_root;
    let t = World::new(vec![trap_job(4)], params(1, false));
    let mut rt = t.replay(0);
    let before_trap = rt.state(4).expect("r").expect("s");
    let ptrap = rt.step_proof(4).expect("r").expect("p").encode();
    let trapped = t.claims[0].state_root;
    for (agreed, final_claim, claimed, proof, loses) in [
        (s10, false, s11, &p10, false),
        (s10, false, s10, &p10, true),
        (s10, true, root, &p10, true),
        (fin, true, root, &pend, false),
        (fin, true, s11, &pend, true),
        (fin, false, root, &pend, true),
        (before_trap, true, trapped, &ptrap, false),
        (before_trap, true, before_trap, &ptrap, true),
        (before_trap, false, trapped, &ptrap, true),
    ] {
        let s = chain.try_tx(|g, e| g.judge_state(e, ANYONE, agreed, final_claim, claimed, proof));
        assert_eq!(s.out, Ok(loses), "final {final_claim}, loses {loses}");
        let claim = match final_claim {
            true => Claim::Final(claimed),
            false => Claim::State(claimed),
        };
        let decoded = StepProof::decode(proof).expect("decodes");
        let rust = poie_referee::dispute::judge(&agreed, &claim, &decoded).expect("a ruling");
        assert_eq!(matches!(rust, Ruling::ExecutorLoses(_)), loses, "{rust}");
        println!("gas, judgeState ({rust}): {:?}", s.gas);
    }
}
