//! `JobReplay`'s checkpoints (`protocol::dispute`): states and step proofs asked in any order
//! are those of a fresh VM run to the step, whatever the checkpoints' interval, count and byte
//! budget; the checkpoints stay within their bounds, evenly spaced; and a job that traps or
//! exits still has no state past its last chunk and the same end.

mod common;

use common::fixtures::guest_job;
use common::rng::Rng;
use common::rv32::*;
use poie::protocol::dispute::{step_proof_of, CheckpointPolicy, JobReplay};
use poie::protocol::windback::Job;
use poie::trace::NoTrace;
use poie::vm::Vm;
use poie_referee::StepProof;

const MAX: u64 = u64::MAX;
const INDEX: u32 = 3;
type Hash = [u8; 32];

/// A job that computes a little, stores, then traps on `ebreak`.
fn trap_job() -> Job {
    let code = prog(&[
        li(5, 7),
        vec![addi(5, 5, 1), addi(5, 5, 2), sw(5, 0, 0x100)],
        li(6, DATA),
        vec![sw(5, 6, 0), addi(6, 0, 3), EBREAK],
    ]);
    Job {
        program: "trap".into(),
        elf: elf(&code, &[0; 64]).into(),
        input: Vec::new().into(),
    }
}

/// The truth, from nothing but a fresh VM: the state after `step` chunks and the step proof
/// from it, or `None` when the job emits fewer.
fn fresh(job: &Job, step: u64, max_steps: u64) -> Option<(Hash, StepProof)> {
    let elf = job.elf.load().expect("elf");
    let mut vm = Vm::new(&elf, job.input.load().expect("input")).expect("loads");
    let ran = vm.run(&mut NoTrace, step.min(max_steps)).expect("runs");
    (ran.steps == step).then(|| {
        (
            vm.state_commitment(INDEX, max_steps),
            step_proof_of(&vm.step_proof(INDEX, max_steps)),
        )
    })
}

/// The job's length in chunks.
fn length(job: &Job) -> u64 {
    let elf = job.elf.load().expect("elf");
    let mut vm = Vm::new(&elf, job.input.load().expect("input")).expect("loads");
    vm.run(&mut NoTrace, MAX).expect("runs").steps
}

/// Checks `replay`'s checkpoints against `policy`: at most `max_count`, within `max_bytes`
/// unless only the initial one is left, at the multiples of the interval from 0 on, the
/// interval the policy's doubled some number of times.
fn assert_bounded(replay: &JobReplay, policy: &CheckpointPolicy) {
    let steps = replay.checkpoint_steps();
    assert_eq!(steps.len(), replay.checkpoints());
    assert!(replay.checkpoints() <= policy.max_count, "{steps:?}");
    assert!(
        replay.checkpoints() == 1 || replay.checkpoint_bytes() <= policy.max_bytes,
        "{} bytes over {}",
        replay.checkpoint_bytes(),
        policy.max_bytes
    );
    let interval = replay.checkpoint_interval();
    assert!(interval >= policy.interval && (interval / policy.interval).is_power_of_two());
    assert_eq!(interval % policy.interval, 0);
    for (k, &s) in (0u64..).zip(&steps) {
        assert_eq!(
            s,
            k * interval,
            "evenly spaced: {steps:?} at interval {interval}"
        );
    }
}

/// Asks `replay` for states and step proofs at `queries` in that order and compares each with
/// a fresh VM's, checking the checkpoints' bounds after each. Returns the most checkpoints
/// it held at once.
fn assert_answers(job: &Job, policy: CheckpointPolicy, queries: &[u64], max_steps: u64) -> usize {
    let mut replay = JobReplay::with_checkpoints(job, INDEX, max_steps, policy).expect("loads");
    let mut most = 0;
    for (k, &q) in queries.iter().enumerate() {
        let truth = fresh(job, q, max_steps);
        if k % 3 == 0 {
            let proof = replay.step_proof(q).expect("replays");
            assert_eq!(proof, truth.map(|t| t.1), "step proof at {q} (query {k})");
        } else {
            let state = replay.state(q).expect("replays");
            assert_eq!(state, truth.map(|t| t.0), "state at {q} (query {k})");
        }
        assert_bounded(&replay, &policy);
        most = most.max(replay.checkpoints());
    }
    most
}

#[test]
fn states_and_proofs_in_random_order_are_a_fresh_vms() {
    let job = guest_job("sort", b"300 4");
    let len = length(&job);
    assert!(len > 50_000, "{len} steps");
    let mut rng = Rng(11);
    let mut queries: Vec<u64> = (0..40).map(|_| rng.below(len + 3)).collect();
    // Backwards, repeated, the ends and past the end too.
    queries.extend([
        len,
        len + 1,
        0,
        len - 1,
        len / 2,
        len / 2,
        len / 2 - 1,
        1,
        0,
    ]);
    let small = |interval, max_count| CheckpointPolicy {
        interval,
        max_bytes: usize::MAX,
        max_count,
    };
    // With checkpoints at small intervals (and thinned), with none (the initial state alone),
    // and with the default (an interval longer than the job).
    for (policy, taken) in [
        (small(1000, 8), true),
        (small(777, 1000), true),
        (CheckpointPolicy::INITIAL_ONLY, false),
        (CheckpointPolicy::default(), false),
    ] {
        let most = assert_answers(&job, policy, &queries, MAX);
        assert_eq!(most > 1, taken, "{policy:?}: at most {most} checkpoints");
    }
}

#[test]
fn a_step_limit_below_the_jobs_length_is_kept() {
    let job = guest_job("sieve", b"2000");
    let len = length(&job);
    let limit = len / 2 + 3;
    let mut rng = Rng(5);
    let mut queries: Vec<u64> = (0..20).map(|_| rng.below(len)).collect();
    queries.extend([limit, limit + 1, limit - 1, 0]);
    let policy = CheckpointPolicy {
        interval: 500,
        max_bytes: usize::MAX,
        max_count: 6,
    };
    assert_answers(&job, policy, &queries, limit);
    let mut replay = JobReplay::with_checkpoints(&job, INDEX, limit, policy).expect("loads");
    let (root, steps) = replay.end().expect("replays");
    assert_eq!(steps, limit);
    assert_eq!(Some(root), fresh(&job, limit, limit).map(|t| t.0));
}

#[test]
fn the_count_cap_thins_every_other_checkpoint_and_doubles_the_interval() {
    let job = guest_job("sort", b"300 4");
    let len = length(&job);
    let policy = CheckpointPolicy {
        interval: 100,
        max_bytes: usize::MAX,
        max_count: 4,
    };
    let mut replay = JobReplay::with_checkpoints(&job, INDEX, MAX, policy).expect("loads");
    assert_eq!(replay.checkpoint_steps(), [0]);
    replay.state(350).expect("replays");
    assert_eq!(replay.checkpoint_steps(), [0, 100, 200, 300]);
    replay.state(400).expect("replays");
    assert_eq!(replay.checkpoint_steps(), [0, 200, 400], "one past the cap");
    assert_eq!(replay.checkpoint_interval(), 200);
    replay.end().expect("replays");
    // Every multiple of the final interval up to the job's end is a checkpoint, and the
    // interval doubled only when a fifth would not fit: 2 interval <= len < 4 interval.
    let interval = replay.checkpoint_interval();
    assert_bounded(&replay, &policy);
    assert!(
        2 * interval <= len && len < 4 * interval,
        "{interval} for {len}"
    );
    assert_eq!(replay.checkpoints() as u64, len / interval + 1);
}

#[test]
fn the_byte_budget_is_kept() {
    let job = guest_job("sort", b"3000 2");
    let len = length(&job);
    // Room for the initial state and a few pages more: the sort rewrites its array all the
    // time, so the budget, not the count, decides.
    let initial = {
        let r = JobReplay::with_checkpoints(&job, INDEX, MAX, CheckpointPolicy::INITIAL_ONLY);
        r.expect("loads").checkpoint_bytes()
    };
    let policy = CheckpointPolicy {
        interval: 2000,
        max_bytes: initial + 40 * 4096,
        max_count: 1000,
    };
    let mut rng = Rng(3);
    let queries: Vec<u64> = (0..12).map(|_| rng.below(len + 1)).collect();
    assert_answers(&job, policy, &queries, MAX);
    let mut replay = JobReplay::with_checkpoints(&job, INDEX, MAX, policy).expect("loads");
    replay.end().expect("replays");
    assert_bounded(&replay, &policy);
    assert!(
        replay.checkpoints() < (len / policy.interval) as usize / 4,
        "the budget thinned them: {} at interval {}",
        replay.checkpoints(),
        replay.checkpoint_interval()
    );
}

#[test]
fn a_trapping_job_has_no_state_past_its_last_chunk_and_the_same_end() {
    let job = trap_job();
    let len = length(&job);
    let truth_end = {
        let elf = job.elf.load().expect("elf");
        let mut vm = Vm::new(&elf, Vec::new()).expect("loads");
        vm.run(&mut NoTrace, MAX).expect("runs");
        (vm.state_commitment(INDEX, MAX), vm.retired())
    };
    assert_eq!(truth_end.1, len);
    let mut rng = Rng(9);
    for interval in [1, 2, 3, len, len + 1] {
        let policy = CheckpointPolicy {
            interval,
            max_bytes: usize::MAX,
            max_count: 5,
        };
        let mut queries: Vec<u64> = (0..30).map(|_| rng.below(len + 3)).collect();
        queries.extend([len + 1, len, len + 1, len - 1, len + 1, len]);
        assert_answers(&job, policy, &queries, MAX);

        let mut replay = JobReplay::with_checkpoints(&job, INDEX, MAX, policy).expect("loads");
        assert_eq!(
            replay.end().expect("replays"),
            truth_end,
            "interval {interval}"
        );
        assert_eq!(replay.state(len + 1).expect("replays"), None);
        assert!(replay.state(len).expect("replays").is_some());
        assert_eq!(replay.state(len + 1).expect("replays"), None);
        assert_eq!(replay.end().expect("replays"), truth_end);
        let (root, _) = replay.end().expect("replays");
        assert_ne!(
            Some(root),
            replay.state(len).expect("replays"),
            "the trap is state"
        );
    }
}

#[test]
fn an_exiting_job_ends_at_its_exit_even_on_a_checkpoint() {
    let job = guest_job("hello", b"");
    let len = length(&job);
    for interval in [1, len, len / 2] {
        let policy = CheckpointPolicy {
            interval,
            max_bytes: usize::MAX,
            max_count: 1 << 20,
        };
        let queries = [len, len + 1, len, len - 1, 0, len + 1, len];
        assert_answers(&job, policy, &queries, MAX);
        let mut replay = JobReplay::with_checkpoints(&job, INDEX, MAX, policy).expect("loads");
        let (root, steps) = replay.end().expect("replays");
        assert_eq!(steps, len);
        assert_eq!(replay.state(len).expect("replays"), Some(root));
    }
}

/// A replay seeded with the first phase's checkpoints of its job (`Tree::snapshots_of`), in a
/// windback where the job is not the first, answers as a fresh VM does, and ends the same.
#[test]
fn a_replay_seeded_with_the_trees_checkpoints_is_a_fresh_vms() {
    use poie::proof::{HashId, Hasher, Layout, Params, Salt, Simd};
    use poie::protocol::challenge::{Limits, Tree};
    let jobs = vec![
        guest_job("hello", b""),
        trap_job(),
        guest_job("sort", b"60 4"),
    ];
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout::new(3, true).expect("a layout"),
    };
    let address = poie::proof::Address::from([2; 20]);
    let h = Hasher::for_executor(params.hash, &Salt::from([1; 32]), &address, Simd::Portable)
        .expect("h");
    let n = jobs.iter().map(length).sum();
    let limits = Limits {
        max_checkpoints: 12,
        min_spacing: 1,
        ..Limits::default()
    };
    let tree = Tree::for_jobs(params, h, &jobs, MAX, n, None, limits).expect("a tree");
    for (k, job) in jobs.iter().enumerate().skip(1) {
        let seeds = tree.snapshots_of(k);
        let len = length(job);
        let mut replay = JobReplay::with_seeds(job, INDEX, MAX, seeds.clone()).expect("loads");
        let mut rng = Rng(5 + k as u64);
        let mut queries: Vec<u64> = (0..30).map(|_| rng.below(len + 2)).collect();
        queries.extend(seeds.iter().map(|s| s.retired()));
        queries.extend([len, len + 1, 0]);
        for q in queries {
            let state = replay.state(q).expect("replays");
            assert_eq!(
                state,
                fresh(job, q, MAX).map(|t| t.0),
                "job {k}, state at {q}"
            );
        }
        let mut plain = JobReplay::new(job, INDEX, MAX).expect("loads");
        assert_eq!(
            replay.end().expect("ends"),
            plain.end().expect("ends"),
            "job {k}"
        );
        if k == 2 {
            assert!(seeds.len() > 3, "{} seeds in the sort job", seeds.len());
        }
    }
}
