//! The second phase of a dispute (SPEC 6.7): bisection over one job's state commitments down to
//! one step, ruled on by a step proof that the challenger builds itself, and replayed by the
//! referee (`poie_referee::dispute::replay`) without running the job.
//!
//! Outcomes: an honest executor never loses, against the honest challenger and against
//! challengers that dispute at random; an executor loses for a wrong chunk (first, middle and
//! last step), a dishonest intermediate state, a truncated or an extended job, a wrong state
//! root (also of a job that traps), and a wrong initial state; silence during the bisection is
//! unproven, silence after the last round is not (the challenger needs nothing more). Every
//! game's record replays to the same ruling, and a tampered record is refused or ruled the
//! other way.

mod common;

use common::fixtures::guest_job;
use common::rng::Rng;
use common::rv32::*;
use poie::protocol::dispute::{play_states, Disputed, JobReplay, PhaseEnd, StateGame};
use poie::protocol::windback::Job;
use poie_referee::dispute::{replay, rounds, Bisection, ReplayError};
use poie_referee::{Claim, Round, Ruling};

const MAX: u64 = u64::MAX;
type Hash = [u8; 32];

/// A job that computes a little, then traps on `ebreak`.
fn trap_job() -> Job {
    let code = [
        li(5, 7),
        vec![addi(5, 5, 1), addi(5, 5, 2), sw(5, 0, 0x100)],
    ]
    .concat();
    let elf = elf(&[code, vec![addi(6, 0, 3), EBREAK]].concat(), &[0; 64]);
    Job {
        program: "trap".into(),
        elf: elf.into(),
        input: Vec::new().into(),
    }
}

/// What an executor answers: its claimed state at each step (`None`: it claims none).
struct Executor<'a> {
    states: &'a mut dyn FnMut(u64) -> Option<Hash>,
    /// Rounds it answers before falling silent.
    answers_left: usize,
}

impl Executor<'_> {
    fn ask(&mut self, points: &[u64]) -> Result<Vec<Hash>, String> {
        if self.answers_left == 0 {
            return Err("silent".into());
        }
        self.answers_left -= 1;
        Ok(points
            .iter()
            .map(|&p| (self.states)(p).unwrap_or([0xee; 32]))
            .collect())
    }
}

/// The challenger's game against `states`, and the referee's replay of it, which must agree.
fn game(
    job: &Job,
    disputed: &Disputed,
    initial: Hash,
    arity: u64,
    states: &mut dyn FnMut(u64) -> Option<Hash>,
    answers: usize,
) -> PhaseEnd {
    let mut truth = JobReplay::new(job, 0, MAX).expect("replays");
    let mut ex = Executor {
        states,
        answers_left: answers,
    };
    let end = play_states(&mut truth, &initial, disputed, arity, |_, p| ex.ask(p)).expect("plays");
    if let PhaseEnd::Ruled(g) = &end {
        let again = replay(&initial, &g.at_hi, g.hi, arity, &g.rounds, &g.proof).expect("replays");
        assert_eq!(again, g.ruling, "the referee re-derives the ruling");
        assert!(g.rounds.len() as u32 <= rounds(g.hi, arity));
    }
    end
}

fn ruling(end: &PhaseEnd) -> &Ruling {
    match end {
        PhaseEnd::Ruled(g) => &g.ruling,
        other => panic!("not ruled: {other:?}"),
    }
}

fn executor_loses(end: &PhaseEnd) -> bool {
    matches!(ruling(end), Ruling::ExecutorLoses(_))
}

/// The honest executor's answers: the job's true states.
fn honest(job: &Job) -> impl FnMut(u64) -> Option<Hash> {
    let mut r = JobReplay::new(job, 0, MAX).expect("replays");
    move |p| r.state(p).expect("replays")
}

/// The true chunk at step `step` of `job`.
fn chunk_at(job: &Job, step: u64) -> [u8; 32] {
    let mut vm = poie::vm::Vm::new(&job.elf.load().expect("elf"), job.input.load().expect("in"))
        .expect("loads");
    vm.run(&mut poie::trace::NoTrace, step).expect("runs");
    let mut sink = poie::trace::VecSink::default();
    vm.run(&mut sink, 1).expect("runs");
    sink.0[0]
}

#[test]
fn dispute_a_wrong_chunk_loses_at_the_first_a_middle_and_the_last_step() {
    let job = guest_job("sort", b"40 3");
    let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
    let initial = truth.state(0).expect("runs").expect("state 0");
    let (_, n) = truth.end().expect("runs");
    for step in [0, n / 2, n - 1] {
        for arity in [2, 16] {
            let mut wrong = chunk_at(&job, step);
            wrong[20] ^= 1;
            let lie = Disputed::Chunk { step, chunk: wrong };
            let end = game(&job, &lie, initial, arity, &mut honest(&job), usize::MAX);
            assert!(executor_loses(&end), "step {step} arity {arity}: {end:?}");
            // The same dispute of the true chunk: the challenger loses.
            let fair = Disputed::Chunk {
                step,
                chunk: chunk_at(&job, step),
            };
            let end = game(&job, &fair, initial, arity, &mut honest(&job), usize::MAX);
            assert!(!executor_loses(&end), "step {step}: {end:?}");
        }
    }
}

/// An executor whose execution went wrong at step `k`: its states from `k` on are another
/// run's (the same program on another input), and so is the chunk it opened.
#[test]
fn dispute_a_dishonest_intermediate_state_loses_at_its_first_step() {
    let job = guest_job("sieve", b"300");
    let other = guest_job("sieve", b"301");
    let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
    let initial = truth.state(0).expect("runs").expect("state 0");
    let (_, n) = truth.end().expect("runs");
    for k in [5u64, n / 3] {
        let mut mine = JobReplay::new(&job, 0, MAX).expect("replays");
        let mut theirs = JobReplay::new(&other, 0, MAX).expect("replays");
        let mut states = |p: u64| {
            if p < k {
                mine.state(p).expect("runs")
            } else {
                theirs.state(p).expect("runs")
            }
        };
        let j = n - 2;
        let lie = Disputed::Chunk {
            step: j,
            chunk: chunk_at(&other, j),
        };
        let end = game(&job, &lie, initial, 2, &mut states, usize::MAX);
        let PhaseEnd::Ruled(g) = &end else {
            panic!("{end:?}")
        };
        assert!(executor_loses(&end), "{end:?}");
        // It ends at the first wrong state: the step from k - 1.
        let pre = poie_referee::Header::decode(&g.proof.header).expect("decodes");
        assert_eq!(pre.steps, k - 1, "{}", g.ruling);
    }
}

#[test]
fn dispute_truncated_extended_and_wrong_state_roots_lose() {
    for job in [guest_job("hello", b""), trap_job()] {
        let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
        let initial = truth.state(0).expect("runs").expect("state 0");
        let (root, n) = truth.end().expect("runs");
        let before_end = truth.state(n).expect("runs").expect("the last state");
        // Honest: the challenger loses.
        let fair = Disputed::Final { steps: n, root };
        let end = game(&job, &fair, initial, 4, &mut honest(&job), usize::MAX);
        assert!(!executor_loses(&end), "{end:?}");
        // A wrong root after the right steps.
        let mut bad = root;
        bad[0] ^= 1;
        let wrong_root = Disputed::Final {
            steps: n,
            root: bad,
        };
        let end = game(&job, &wrong_root, initial, 4, &mut honest(&job), usize::MAX);
        assert!(executor_loses(&end), "{end:?}");
        // Truncated: the job claimed to end two steps early, in the state it had there (the
        // windback skipper: true states, a short count).
        let cut = n - 2;
        let short_root = JobReplay::new(&job, 0, MAX)
            .expect("replays")
            .state(cut)
            .expect("runs")
            .expect("a state");
        let short = Disputed::Final {
            steps: cut,
            root: short_root,
        };
        let end = game(&job, &short, initial, 2, &mut honest(&job), usize::MAX);
        assert!(executor_loses(&end), "{end:?}");
        // Extended: three more steps, the states after the end made up.
        let long = Disputed::Final {
            steps: n + 3,
            root: before_end,
        };
        let mut made_up = {
            let mut h = honest(&job);
            move |p: u64| h(p).or(Some([p as u8; 32]))
        };
        let end = game(&job, &long, initial, 2, &mut made_up, usize::MAX);
        assert!(executor_loses(&end), "{end:?}");
    }
}

#[test]
fn dispute_a_wrong_initial_state_needs_no_game() {
    let job = guest_job("hello", b"");
    let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
    let (root, n) = truth.end().expect("runs");
    let claim = Disputed::Final { steps: n, root };
    let end = game(&job, &claim, [7; 32], 2, &mut honest(&job), usize::MAX);
    assert!(matches!(end, PhaseEnd::WrongInitialState), "{end:?}");
}

/// Silence during the bisection proves nothing; after the last round the challenger needs no
/// answer, so a lying executor that falls silent then still loses.
#[test]
fn dispute_silence_during_the_bisection_is_unproven_but_not_at_the_last_step() {
    let job = guest_job("sort", b"30 1");
    let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
    let initial = truth.state(0).expect("runs").expect("state 0");
    let (_, n) = truth.end().expect("runs");
    let step = n / 2;
    let mut wrong = chunk_at(&job, step);
    wrong[0] ^= 4;
    let lie = Disputed::Chunk { step, chunk: wrong };
    let full = rounds(step + 1, 2) as usize;
    let end = game(&job, &lie, initial, 2, &mut honest(&job), 3);
    assert!(matches!(end, PhaseEnd::Unproven(_)), "{end:?}");
    let end = game(&job, &lie, initial, 2, &mut honest(&job), full);
    assert!(executor_loses(&end), "{end:?}");
}

/// An honest executor against challengers that choose at random which point to dispute: the
/// bisection ends wherever they steer it, and the step proof from the executor's (true) state
/// always agrees with its (true) claim.
#[test]
fn dispute_an_honest_executor_never_loses_against_any_challenger() {
    let job = guest_job("ledger", b"1 2 30\n2 3 5\n7 1 9\n");
    let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
    let initial = truth.state(0).expect("runs").expect("state 0");
    let (root, n) = truth.end().expect("runs");
    let mut rng = Rng(0xd15b);
    for game_no in 0..40 {
        let arity = [2, 3, 8][game_no % 3];
        let (hi, at_hi) = if game_no % 2 == 0 {
            (n + 1, Claim::Final(root))
        } else {
            let step = rng.next() % n;
            (step + 1, Claim::Chunk(chunk_at(&job, step)))
        };
        let mut b = Bisection::new(0, hi, arity).expect("a bisection");
        let mut recorded = Vec::new();
        while !b.done() {
            let points = b.points();
            let answers: Vec<Hash> = points
                .iter()
                .map(|&p| truth.state(p).expect("runs").expect("a true state"))
                .collect();
            let choice = match rng.next() % (points.len() as u64 + 1) {
                0 => None,
                t => Some(t as usize - 1),
            };
            b.narrow(choice).expect("a point of the round");
            recorded.push(Round {
                points,
                answers,
                disputed: choice,
            });
        }
        let lo = b.range().0;
        let proof = truth.step_proof(lo).expect("runs").expect("a state");
        let r = replay(&initial, &at_hi, hi, arity, &recorded, &proof).expect("a valid game");
        assert!(
            matches!(r, Ruling::ChallengerLoses(_)),
            "game {game_no}: {r}"
        );
    }
}

/// A record altered after the game is refused, or no longer convicts.
#[test]
fn dispute_tampered_records_are_refused() {
    let job = guest_job("sort", b"20 5");
    let mut truth = JobReplay::new(&job, 0, MAX).expect("replays");
    let initial = truth.state(0).expect("runs").expect("state 0");
    let (_, n) = truth.end().expect("runs");
    let mut wrong = chunk_at(&job, n / 3);
    wrong[9] ^= 2;
    let lie = Disputed::Chunk {
        step: n / 3,
        chunk: wrong,
    };
    let PhaseEnd::Ruled(g) = game(&job, &lie, initial, 2, &mut honest(&job), usize::MAX) else {
        panic!("ruled")
    };
    let StateGame {
        hi,
        at_hi,
        rounds: recorded,
        proof,
        ..
    } = *g;
    let again = |r: &[Round], p: &poie_referee::StepProof| replay(&initial, &at_hi, hi, 2, r, p);
    assert!(matches!(
        again(&recorded, &proof),
        Ok(Ruling::ExecutorLoses(_))
    ));
    // Another point asked, a round dropped or added.
    let mut r = recorded.clone();
    r[0].points[0] += 1;
    assert_eq!(again(&r, &proof), Err(ReplayError::Points { round: 0 }));
    let mut r = recorded.clone();
    r.pop();
    assert!(matches!(
        again(&r, &proof),
        Err(ReplayError::Unfinished { .. })
    ));
    let mut r = recorded.clone();
    r.push(recorded[0].clone());
    assert!(matches!(again(&r, &proof), Err(ReplayError::Extra { .. })));
    // The step proof from another state than the agreed one.
    let other = truth.step_proof(1).expect("runs").expect("a state");
    assert!(matches!(
        again(&recorded, &other),
        Err(ReplayError::Proof(_))
    ));
    // An answer changed on the agreed side moves the agreed state: the proof no longer fits.
    let mut r = recorded.clone();
    let last_agreed = r
        .iter_mut()
        .rev()
        .find(|round| round.disputed != Some(0))
        .expect("a round with an agreed point");
    let t = last_agreed
        .disputed
        .map_or(last_agreed.answers.len() - 1, |t| t - 1);
    last_agreed.answers[t][0] ^= 1;
    assert!(matches!(again(&r, &proof), Err(ReplayError::Proof(_))));
}

/// Rounds of a bisection for the figures of docs/PROTOCOL.md.
#[test]
fn dispute_rounds_for_a_billion_steps() {
    assert_eq!(rounds(1_000_000, 2), 20);
    assert_eq!(rounds(1_000_000_000, 2), 30);
    for (len, arity) in [
        (1_000_000u64, 16u64),
        (1_000_000_000, 16),
        (1_000_000_000, 40),
    ] {
        let r = rounds(len, arity);
        let ideal = (len as f64).log(arity as f64).ceil() as u32;
        assert!(r >= ideal && r <= ideal + 1, "{len} at {arity}: {r} rounds");
        eprintln!("{len} steps at arity {arity}: {r} rounds");
    }
}
