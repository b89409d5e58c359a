//! The challenge game to one step (SPEC 6.7) over TCP, on real votes: the first phase opens the
//! executor's wrong chunk, the second bisects over the job's states, and the challenger's step
//! proof decides. The referee that does not execute (`challenge::judge`) must reach the same
//! verdict from the transcript alone: it is given no way to run the windback, and a job's
//! initial state only when the transcript ends at the opening.
//!
//! Outcomes: a lying executor (a wrong chunk at the first step, in the middle, at the first
//! step of the second job, at the last step; both hashes; chained and unchained lanes) loses;
//! a false challenge (the challenger's own trace is the wrong one) loses; an honest executor is
//! never convicted. Hostile peers: an executor that answers no state queries, a refused round,
//! and transcripts tampered after the game.

mod common;

use poie::proof::{HashId, Layout, Params, ProverConfig, Salt};
use poie::protocol::challenge::{
    challenge, fresh_nonce, judge_to_last_step, serve_one, Behaviour, Disputed, Executor,
    JudgeError, Msg, Outcome, Refusal, SecondPhase, Transcript, Tree,
};
use poie::protocol::keys::Key;
use poie::protocol::profile::Profile;
use poie::protocol::vote::{self, reveal, Reveal, Vote};
use poie::protocol::windback::Job;
use std::net::TcpListener;
use std::time::Duration;

fn jobs() -> Vec<Job> {
    let job = |name: &str, input: &[u8]| Job {
        program: name.into(),
        elf: poie::guests::find(name).expect("a guest").elf.into(),
        input: input.to_vec().into(),
    };
    vec![job("sort", b"60 3"), job("hello", b"")]
}

fn params(hash: HashId, lanes: u32, chained: bool) -> Params {
    Params {
        hash,
        layout: Layout::new(lanes, chained).expect("a layout"),
    }
}

struct Case {
    vote: Vote,
    reveal: Reveal,
    salt: Salt,
    key: Key,
    jobs: Vec<Job>,
}

/// A vote whose trace is corrupted at `lie_at` (or honest), with its reveal: in the on-chain
/// profile (version 4) for keccak, so that its games can be judged on-chain too.
fn case(p: Params, lie_at: Option<u64>) -> Case {
    let key = Key::from_seed(&[3; 32]);
    let salt = Salt::from([4; 32]);
    let jobs = jobs();
    let cfg = ProverConfig::default();
    let profile = match p.hash {
        HashId::Keccak => Profile::OnChain,
        HashId::Blake3 => Profile::OffChain,
    };
    let vote = vote::vote_as(profile, &key, &jobs, p, cfg, &salt, u64::MAX, lie_at).expect("votes");
    let reveal = reveal(&vote, salt).expect("its salt");
    Case {
        vote,
        reveal,
        salt,
        key,
        jobs,
    }
}

/// One game over TCP: the executor serves its tree for the vote (corrupted at `served_lie`),
/// answering state queries when `states`; the challenger judges by `challenger_tree`.
fn play(
    c: &Case,
    served_lie: Option<u64>,
    states: bool,
    challenger_tree: &Tree,
) -> (Outcome, Transcript) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr").to_string();
    let served = Tree::for_vote(&c.vote, &c.salt, &c.jobs, served_lie).expect("its tree");
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let exec = Executor::new(&served, &c.key);
            let exec = Executor {
                root: c.vote.root,
                ..exec
            };
            let exec = if states {
                exec.with_states(&c.jobs, c.vote.max_steps)
            } else {
                exec
            };
            serve_one(&listener, &exec, Behaviour::Honest, Duration::from_secs(5))
        });
        let r = challenge(
            &addr,
            challenger_tree,
            &Disputed::of(&c.vote),
            &fresh_nonce().expect("randomness"),
            Some(SecondPhase::of(&c.vote, &c.jobs)),
            Duration::from_secs(5),
        )
        .expect("connects");
        let _ = server.join();
        r
    })
}

/// The referee that does not execute (`challenge::judge`); with the `evm` feature, the last
/// step it rests on is judged again by the contracts in revm, which must rule the same (a
/// claimed chunk only for a version-4 vote: a contract cannot check a blake3 tree).
fn judge(
    v: &Vote,
    r: &Reveal,
    initial_state: &dyn Fn(usize) -> Result<[u8; 32], String>,
    t: &Transcript,
) -> Result<Outcome, JudgeError> {
    let (outcome, last) = judge_to_last_step(v, r, initial_state, t)?;
    #[cfg(feature = "evm")]
    if let Some(last) = last {
        let chunk = matches!(last.claim, poie_referee::Claim::Chunk(_));
        if !chunk || Profile::of_version(v.version) == Some(Profile::OnChain) {
            let chain = poie_chain::referee::judge_on_chain(v, r, &last).expect("judged on-chain");
            assert_eq!(
                chain.executor_loses,
                matches!(outcome, Outcome::Challenger(_)),
                "{} rules otherwise than the referee ({outcome})",
                chain.function
            );
            ON_CHAIN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    #[cfg(not(feature = "evm"))]
    let _ = last;
    Ok(outcome)
}

/// The judgements this test binary replayed on-chain.
#[cfg(feature = "evm")]
static ON_CHAIN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The referee that does not execute: it may not load any job here.
fn judged(c: &Case, t: &Transcript) -> Result<Outcome, JudgeError> {
    judge(
        &c.vote,
        &c.reveal,
        &|job| panic!("the referee loaded job {job}"),
        t,
    )
}

fn correct(c: &Case) -> Tree {
    Tree::correct(&c.vote, &c.reveal, &c.jobs).expect("the correct tree")
}

#[test]
fn one_step_game_convicts_a_lying_executor_and_the_referee_agrees_without_running_anything() {
    let n = case(params(HashId::Blake3, 4, true), None).vote.n;
    let second_job_starts = n - 104; // hello's 104 chunks end the trace
    let cases = [
        (params(HashId::Blake3, 4, true), 0),
        (params(HashId::Blake3, 4, true), n / 2),
        (params(HashId::Keccak, 16, true), second_job_starts),
        (params(HashId::Keccak, 1, false), n - 1),
        (params(HashId::Blake3, 64, false), 777),
    ];
    for (p, lie) in cases {
        let c = case(p, Some(lie));
        let (outcome, t) = play(&c, Some(lie), true, &correct(&c));
        assert!(
            matches!(&outcome, Outcome::Challenger(why) if why.contains("one step proves")),
            "lie at {lie}: {outcome}"
        );
        assert!(
            t.entries
                .iter()
                .any(|e| matches!(e.msg, Some(Msg::Prove { .. }))),
            "a step proof in the record"
        );
        assert_eq!(judged(&c, &t), Ok(outcome), "lie at {lie}");
    }
    // The two keccak (version-4) cases were judged on-chain too.
    #[cfg(feature = "evm")]
    assert!(ON_CHAIN.load(std::sync::atomic::Ordering::Relaxed) >= 2);
}

/// The challenger's own trace is the corrupted one, the executor's is right: the challenger
/// opens a leaf it wrongly disputes, and the step proof clears the executor.
#[test]
fn one_step_game_a_false_challenge_loses() {
    let c = case(params(HashId::Blake3, 4, true), None);
    let lie = c.vote.n / 3;
    let wrong_tree = Tree::for_vote(&c.vote, &c.reveal.salt, &c.jobs, Some(lie)).expect("a tree");
    let (outcome, t) = play(&c, None, true, &wrong_tree);
    assert!(
        matches!(&outcome, Outcome::Executor(why) if why.contains("one step agrees")),
        "{outcome}"
    );
    assert_eq!(judged(&c, &t), Ok(outcome));
}

/// Against an honest executor the challenger finds no divergence and stops: the referee, who
/// holds no trace, finds nothing proven, and never convicts.
#[test]
fn one_step_game_an_honest_executor_is_not_convicted() {
    let c = case(params(HashId::Keccak, 8, true), None);
    let (outcome, t) = play(&c, None, true, &correct(&c));
    assert!(matches!(outcome, Outcome::Executor(_)), "{outcome}");
    assert!(matches!(judged(&c, &t), Ok(Outcome::Unproven(_))));
}

/// An executor that answers no state queries ends the game unproven at the first round, and
/// the referee agrees; the executor refuses malformed rounds, unsigned.
#[test]
fn one_step_game_refusals_are_unproven() {
    let c = case(params(HashId::Blake3, 4, true), Some(1000));
    let (outcome, t) = play(&c, Some(1000), false, &correct(&c));
    assert!(matches!(outcome, Outcome::Unproven(_)), "{outcome}");
    assert!(matches!(judged(&c, &t), Ok(Outcome::Unproven(_))));

    let tree = Tree::for_vote(&c.vote, &c.salt, &c.jobs, None).expect("a tree");
    let exec = Executor::new(&tree, &c.key).with_states(&c.jobs, u64::MAX);
    let nonce = [1; 32];
    let hello = Msg::Hello { root: exec.root };
    assert!(exec.answer(&nonce, 0, &hello).is_ok());
    let states = |job: u32, points: Vec<u64>| Msg::States {
        job,
        disputed: None,
        points,
    };
    let refused = |m: Msg| exec.answer(&nonce, 1, &m).expect_err("refused");
    assert!(matches!(refused(states(2, vec![1])), Refusal::NoJob { .. }));
    assert!(matches!(refused(states(0, vec![])), Refusal::BadRound(0)));
    assert!(matches!(
        refused(states(0, vec![5, 5])),
        Refusal::BadRound(2)
    ));
    assert!(matches!(
        refused(states(0, (1..=256).collect())),
        Refusal::BadRound(256)
    ));
    assert!(matches!(
        refused(states(1, vec![1, 1_000_000])),
        Refusal::NoState { job: 1, .. }
    ));
    let answered = exec
        .answer(&nonce, 1, &states(1, vec![0, 5, 104]))
        .expect("answered");
    assert!(matches!(answered.msg, Msg::Commitments { ref states } if states.len() == 3));
}

/// A record altered after the game: a commitment or a round's points changed (the executor's
/// signature no longer covers them: unproven), the step proof's bytes changed or an entry
/// appended (refused).
#[test]
fn one_step_game_tampered_transcripts_are_refused_or_unproven() {
    let c = case(params(HashId::Blake3, 4, true), Some(2000));
    let (outcome, t) = play(&c, Some(2000), true, &correct(&c));
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome}");
    let find = |t: &Transcript, f: &dyn Fn(&Msg) -> bool| {
        t.entries
            .iter()
            .position(|e| e.msg.as_ref().is_some_and(f))
            .expect("an entry")
    };
    let mut forged = t.clone();
    let at = find(&forged, &|m| matches!(m, Msg::Commitments { .. }));
    if let Some(Msg::Commitments { states }) = &mut forged.entries[at].msg {
        states[0][0] ^= 1;
    }
    assert!(matches!(judged(&c, &forged), Ok(Outcome::Unproven(_))));

    let mut forged = t.clone();
    let at = find(&forged, &|m| matches!(m, Msg::Prove { .. }));
    if let Some(Msg::Prove { proof, .. }) = &mut forged.entries[at].msg {
        proof[500] ^= 1;
    }
    assert!(judged(&c, &forged).is_err(), "an altered step proof");

    let mut forged = t.clone();
    let at = find(&forged, &|m| matches!(m, Msg::States { .. }));
    if let Some(Msg::States { points, .. }) = &mut forged.entries[at].msg {
        points[0] += 1;
    }
    // The executor signed its answer to the points asked: other points void its signature.
    assert!(matches!(judged(&c, &forged), Ok(Outcome::Unproven(_))));

    let mut forged = t.clone();
    forged.entries.push(forged.entries[0].clone());
    assert!(matches!(
        judged(&c, &forged),
        Err(JudgeError::AfterTheEnd { .. })
    ));
}

/// An honest executor's record, mutated at random (hex digits flipped anywhere: digests,
/// signatures, the step proof, the nonce), never convicts it, and never panics the referee.
#[test]
fn one_step_game_mutated_records_never_convict_an_honest_executor() {
    use poie::json::VersionedFile;
    use poie::protocol::transcript::TranscriptFile;
    let c = case(params(HashId::Keccak, 4, true), None);
    let lie = c.vote.n / 2;
    let wrong_tree = Tree::for_vote(&c.vote, &c.reveal.salt, &c.jobs, Some(lie)).expect("a tree");
    let (outcome, t) = play(&c, None, true, &wrong_tree);
    assert!(matches!(outcome, Outcome::Executor(_)), "{outcome}");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    TranscriptFile::new(c.vote.root, t, outcome)
        .save(&path)
        .expect("saved");
    let text = std::fs::read(&path).expect("read");
    let mut rng = common::rng::Rng(0x0e57);
    let hex = b"0123456789abcdef";
    let mut judged_ok = 0;
    for _ in 0..300 {
        let mut bytes = text.clone();
        let at = (rng.next() % bytes.len() as u64) as usize;
        if bytes[at].is_ascii_hexdigit() {
            bytes[at] = hex[(rng.next() % 16) as usize];
        }
        std::fs::write(&path, &bytes).expect("write");
        let Ok(file) = TranscriptFile::load(&path) else {
            continue;
        };
        if let Ok(o) = judged(&c, &file.transcript()) {
            judged_ok += 1;
            assert!(!matches!(o, Outcome::Challenger(_)), "{o}");
        }
    }
    assert!(judged_ok > 100, "{judged_ok}");
}

/// What the executor signs binds it: a top root, children or an opening that do not hash as
/// they must, re-signed with the executor's key, convict it before the referee; so does a top
/// root that is another tree's (the server's trace differs from the one it voted on).
#[test]
fn one_step_game_signed_contradictions_convict_in_the_referee() {
    use poie::protocol::challenge::reply_message;
    let c = case(params(HashId::Blake3, 4, true), Some(3000));
    let (outcome, t) = play(&c, Some(3000), true, &correct(&c));
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome}");
    let resign = |t: &mut Transcript, at: usize, edit: &dyn Fn(&mut Msg)| {
        let request = t.entries[at - 1].msg.clone().expect("a request");
        let reply = t.entries[at].msg.as_mut().expect("a reply");
        edit(reply);
        let bytes = reply_message(&t.nonce, &c.vote.root, (at / 2) as u64, &request, reply);
        t.entries[at].sig = Some(c.key.sign(&bytes));
        t.entries.truncate(at + 1);
    };
    let kind_at = |t: &Transcript, kind: &str| {
        t.entries
            .iter()
            .position(|e| e.msg.as_ref().is_some_and(|m| m.kind() == kind))
            .expect("an entry of that kind")
    };
    for (kind, expect) in [
        ("top", "top root does not hash"),
        ("children", "do not hash to it"),
        ("leaf", "does not hash to its parent"),
    ] {
        let mut forged = t.clone();
        let at = kind_at(&forged, kind);
        resign(&mut forged, at, &|m| match m {
            Msg::Top { digest } => digest[0] ^= 1,
            Msg::Children { left, .. } => left[0] ^= 1,
            Msg::Leaf { link, .. } => link[0] ^= 1,
            _ => {}
        });
        let o = judged(&c, &forged).expect("a game");
        assert!(
            matches!(&o, Outcome::Challenger(w) if w.contains(expect)),
            "{kind}: {o}"
        );
    }
    // The server plays another trace than the vote's (its lie is elsewhere).
    let (outcome, t) = play(&c, Some(10), true, &correct(&c));
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("top root")),
        "{outcome}"
    );
    let o = judged(&c, &t).expect("a game");
    assert!(
        matches!(&o, Outcome::Challenger(w) if w.contains("top root")),
        "{o}"
    );
}

/// A job's initial state as loading it gives: the referee's loader in a claim dispute.
fn loader(c: &Case) -> impl Fn(usize) -> Result<[u8; 32], String> + '_ {
    |job| {
        let j = &c.jobs[job];
        let vm = poie::vm::Vm::new(&j.elf.load().expect("elf"), j.input.load().expect("input"))
            .map_err(|e| e.to_string())?;
        Ok(vm.state_commitment(job as u32, c.vote.max_steps))
    }
}

/// A session against `served`, which defends `v` (signing with the case's key): the
/// challenger disputes job `job`'s claim.
fn claim_game(c: &Case, v: &Vote, served: &Tree, job: usize) -> (Outcome, Transcript) {
    use poie::protocol::challenge::challenge_claim;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let exec = Executor {
                root: v.root,
                ..Executor::new(served, &c.key).with_states(&c.jobs, v.max_steps)
            };
            serve_one(&listener, &exec, Behaviour::Honest, Duration::from_secs(5))
        });
        let r = challenge_claim(
            &addr,
            v,
            &fresh_nonce().expect("randomness"),
            SecondPhase::of(v, &c.jobs),
            job,
            Duration::from_secs(5),
        )
        .expect("connects");
        let _ = server.join();
        r
    })
}

/// The windback skipper: it proves its trace only up to 50 steps before the end of the last
/// job, claims that job that much shorter (with the true state root copied from an honest
/// vote), and signs. Its tree and root are consistent, so only the job's claim is wrong: the
/// claim dispute ends at its claimed last step, from which the job goes on. A vote whose
/// claims are copied whole (their steps no longer add up to its `n`) loses from the vote
/// alone; a wrong state root after the right steps loses at the job's end.
#[test]
fn one_step_game_the_windback_skipper_and_wrong_state_roots_lose() {
    use poie::proof::{Hasher, Simd};
    use poie::protocol::challenge::ChunkCollector;
    let p = params(HashId::Blake3, 4, true);
    let mut c = case(p, None);
    let mut all = ChunkCollector {
        chunks: Vec::new(),
        corrupt_at: None,
    };
    poie::protocol::windback::execute(&c.jobs, &mut all, u64::MAX).expect("runs");
    let short = c.vote.n - 50;
    let h = Hasher::for_executor(p.hash, &c.salt, &c.key.address(), Simd::Portable).expect("h");
    let skipped = Tree::new(p, h, all.chunks[..short as usize].to_vec());
    let mut skipper = c.vote.clone();
    skipper.n = short;
    skipper.root = skipped.root();
    skipper.jobs[1].steps -= 50;
    skipper.sign(&c.key);
    c.reveal = reveal(&skipper, c.salt).expect("its salt");
    let (outcome, t) = claim_game(&c, &skipper, &skipped, 1);
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("claimed step count is short")),
        "{outcome}"
    );
    let judged = judge(&skipper, &c.reveal, &loader(&c), &t);
    assert_eq!(judged, Ok(outcome));

    // The claims copied whole: they add up to the honest n, not the skipper's.
    let mut copier = skipper.clone();
    copier.jobs[1].steps += 50;
    copier.sign(&c.key);
    c.reveal = reveal(&copier, c.salt).expect("its salt");
    let (outcome, t) = claim_game(&c, &copier, &skipped, 0);
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("add up")),
        "{outcome}"
    );
    assert_eq!(judge(&copier, &c.reveal, &loader(&c), &t), Ok(outcome));

    // A wrong state root: the honest tree, the last job's root flipped.
    let honest = case(p, None);
    let mut wrong_root = honest.vote.clone();
    wrong_root.jobs[1].state_root[0] ^= 1;
    wrong_root.sign(&honest.key);
    let mut c2 = honest;
    c2.reveal = reveal(&wrong_root, c2.salt).expect("its salt");
    let tree = Tree::for_vote(&c2.vote, &c2.salt, &c2.jobs, None).expect("a tree");
    let (outcome, t) = claim_game(&c2, &wrong_root, &tree, 1);
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("not the claimed state root")),
        "{outcome}"
    );
    assert_eq!(
        judge(&wrong_root, &c2.reveal, &loader(&c2), &t),
        Ok(outcome)
    );
    // Disputing the honest claim instead: the challenger loses.
    let (outcome, t) = claim_game(&c2, &c2.vote.clone(), &tree, 1);
    assert!(matches!(&outcome, Outcome::Executor(_)), "{outcome}");
    let honest_reveal = reveal(&c2.vote, c2.salt).expect("its salt");
    assert_eq!(
        judge(&c2.vote, &honest_reveal, &loader(&c2), &t),
        Ok(outcome)
    );
}

/// An executor whose chunk is right and whose link is not: the challenger disputes the link
/// by a descent from the lane's root to the previous leaf, and the executor's own signed digest
/// of that leaf convicts it; the referee follows the descent by the tree's shape. A link that is
/// not zero at a lane's first leaf convicts at once.
#[test]
fn one_step_game_a_wrong_link_loses_without_re_execution() {
    use poie::proof::{Hasher, Simd};
    use poie::protocol::challenge::ChunkCollector;
    let p = params(HashId::Keccak, 4, true);
    let honest = case(p, None);
    let mut all = ChunkCollector {
        chunks: Vec::new(),
        corrupt_at: None,
    };
    poie::protocol::windback::execute(&honest.jobs, &mut all, u64::MAX).expect("runs");
    for (at, expect) in [
        (4 * 100 + 2, "not the previous leaf of its lane"),
        (1, "not zero"),
    ] {
        let h = Hasher::for_executor(p.hash, &honest.salt, &honest.vote.address, Simd::Portable)
            .expect("h");
        let lying = Tree::with_link_lie(p, h, all.chunks.clone(), Some(at));
        let mut v = honest.vote.clone();
        v.root = lying.root();
        v.sign(&honest.key);
        let r = reveal(&v, honest.salt).expect("its salt");
        let correct = Tree::correct(&v, &r, &honest.jobs).expect("the correct tree");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr").to_string();
        let (outcome, t) = std::thread::scope(|s| {
            let server = s.spawn(|| {
                let exec =
                    Executor::new(&lying, &honest.key).with_states(&honest.jobs, v.max_steps);
                serve_one(&listener, &exec, Behaviour::Honest, Duration::from_secs(5))
            });
            let played = challenge(
                &addr,
                &correct,
                &Disputed::of(&v),
                &fresh_nonce().expect("randomness"),
                Some(SecondPhase::of(&v, &honest.jobs)),
                Duration::from_secs(5),
            )
            .expect("connects");
            let _ = server.join();
            played
        });
        assert!(
            matches!(&outcome, Outcome::Challenger(w) if w.contains(expect)),
            "link lie at {at}: {outcome}"
        );
        let judged = judge(&v, &r, &|job| panic!("the referee loaded job {job}"), &t);
        assert_eq!(judged, Ok(outcome), "link lie at {at}");
    }
}
