//! A vote's tree in bounded memory (lane digests down to a block, checkpoints of the VM, the
//! rest recomputed by re-execution) against the simple reference: the whole trace's chunks,
//! links and leaves in memory. Every node of the tree has the same digest, every step the same
//! chunk and link, and the root is the vote's, for chained and unchained lanes, both hashes,
//! lying executors, jobs that trap or hit the step limit, blocks of 1 to 32 leaves, and
//! checkpoints thinned to fit their limits.

mod common;

use common::rv32::*;
use poie::proof::{HashId, Hasher, Layout, Params, ProverConfig, Salt, Simd};
use poie::protocol::challenge::{ChunkCollector, Limits, Node, Tree};
use poie::protocol::keys::Key;
use poie::protocol::vote;
use poie::protocol::windback::{self, Job};

fn job(program: &str, elf: &[u8], input: &[u8]) -> Job {
    Job {
        program: program.into(),
        elf: elf.to_vec().into(),
        input: input.to_vec().into(),
    }
}

fn guest(name: &str, input: &[u8]) -> Job {
    job(name, poie::guests::find(name).expect("a guest").elf, input)
}

/// Counts down from 300 with a store each time, then traps on `ebreak`.
fn trapping() -> Job {
    let bne = |rs1, rs2, imm| b(imm, rs2, rs1, 1);
    let code = [
        li(5, 300),
        li(6, DATA),
        vec![sw(5, 6, 0), addi(5, 5, -1), bne(5, 0, -8), EBREAK],
    ]
    .concat();
    job("trap", &elf(&code, &[0; 1024]), b"")
}

/// Every node of `t`, from the root down by its splits.
fn all_nodes(t: &Tree) -> Vec<Node> {
    let mut out = Vec::new();
    let mut todo = vec![t.root_node()];
    while let Some(node) = todo.pop() {
        out.push(node);
        if let Some((l, r)) = t.children(node) {
            todo.push(l);
            todo.push(r);
        }
    }
    out
}

struct Case {
    jobs: Vec<Job>,
    max_steps: u64,
    lanes: u32,
    chained: bool,
    hash: HashId,
    lie: Option<u64>,
    limits: Limits,
}

/// Builds the vote's bounded tree and the reference tree and compares them everywhere; returns
/// the number of checkpoints the bounded tree kept.
fn compare(c: &Case) -> usize {
    let p = Params {
        hash: c.hash,
        layout: Layout::new(c.lanes, c.chained).expect("a layout"),
    };
    let key = Key::from_seed(&[7; 32]);
    let salt = Salt::from([8; 32]);
    let cfg = ProverConfig::default();
    let v = vote::vote_with_lie(&key, &c.jobs, p, cfg, &salt, c.max_steps, c.lie).expect("votes");
    let bounded = Tree::for_vote_within(&v, &salt, &c.jobs, c.lie, c.limits).expect("its tree");

    let mut chunks = ChunkCollector {
        chunks: Vec::new(),
        corrupt_at: c.lie,
    };
    windback::execute(&c.jobs, &mut chunks, c.max_steps).expect("runs");
    let h = Hasher::for_executor(c.hash, &salt, &key.address(), Simd::Portable).expect("h");
    let reference = Tree::new(p, h, chunks.chunks);

    let what = format!(
        "{} lanes, chained {}, {:?}, lie {:?}, {:?}",
        c.lanes, c.chained, c.hash, c.lie, c.limits
    );
    assert_eq!(bounded.n(), reference.n(), "{what}");
    assert_eq!(bounded.root(), v.root, "{what}: the vote's root");
    assert_eq!(bounded.root(), reference.root(), "{what}");
    let nodes = all_nodes(&reference);
    assert_eq!(nodes, all_nodes(&bounded), "{what}: the same shape");
    for node in nodes {
        assert_eq!(
            bounded.digest(node).expect("recomputed"),
            reference.digest(node).expect("in memory"),
            "{what}: {node:?}"
        );
    }
    for i in 0..=reference.n() {
        assert_eq!(
            bounded.leaf_at(i).expect("recomputed"),
            reference.leaf_at(i).expect("in memory"),
            "{what}: step {i}"
        );
    }
    let b = bounded.bounded().expect("a vote's tree is bounded");
    assert!(
        b.checkpoints() as u64 <= c.limits.max_checkpoints,
        "{what}: {} checkpoints",
        b.checkpoints()
    );
    b.checkpoints()
}

fn small(block_leaves: u64, max_checkpoints: u64, n: u64) -> Limits {
    Limits {
        // Two kept digests per block: the block is the smallest power of two that fits.
        digest_bytes: n.div_ceil(block_leaves) * 64,
        link_bytes: 1 << 30,
        snapshot_bytes: 1 << 30,
        max_checkpoints,
        min_spacing: 1,
    }
}

#[test]
fn a_bounded_tree_answers_every_node_and_leaf_as_the_whole_trace_does() {
    // sort then hello: a job boundary inside a lane block.
    let jobs = vec![guest("sort", b"12 3"), guest("hello", b"")];
    let n = {
        let mut count = poie::trace::CountingSink::default();
        windback::execute(&jobs, &mut count, u64::MAX).expect("runs");
        count.chunks
    };
    for (lanes, chained, hash, lie, block, cps) in [
        (1, true, HashId::Blake3, None, 32, 5),
        (4, true, HashId::Keccak, Some(n / 2), 8, 7),
        (3, false, HashId::Blake3, Some(0), 4, 3),
        (16, true, HashId::Blake3, Some(n - 1), 1, 9),
        (64, true, HashId::Keccak, None, 16, 4),
    ] {
        let checkpoints = compare(&Case {
            jobs: jobs.clone(),
            max_steps: u64::MAX,
            lanes,
            chained,
            hash,
            lie,
            limits: small(block, cps, n),
        });
        assert!(checkpoints > 1, "{checkpoints} checkpoints");
    }
    assert!(n > 1_000, "{n} steps");
}

#[test]
fn step_limits_traps_and_thinned_checkpoints_change_nothing() {
    // A job cut by the step limit, a job that traps, and jobs after them.
    let jobs = vec![
        guest("sieve", b"500"),
        trapping(),
        guest("hello", b""),
        guest("sort", b"20 1"),
    ];
    // A snapshot budget of one byte thins the checkpoints at every one taken, down to the
    // first; the default budget keeps them.
    for (max_steps, snapshot_bytes) in [(1_000, 1), (2_500, Limits::default().snapshot_bytes)] {
        let limits = Limits {
            snapshot_bytes,
            ..small(8, 16, 8_000)
        };
        let checkpoints = compare(&Case {
            jobs: jobs.clone(),
            max_steps,
            lanes: 5,
            chained: true,
            hash: HashId::Blake3,
            lie: Some(1_234),
            limits,
        });
        if snapshot_bytes == 1 {
            assert_eq!(checkpoints, 1);
        } else {
            assert!(checkpoints > 8, "{checkpoints} checkpoints");
        }
    }
}

#[test]
fn the_default_limits_keep_every_leaf_of_a_small_trace() {
    let jobs = vec![guest("hello", b"")];
    let p = Params {
        hash: HashId::Blake3,
        layout: Layout::new(4, true).expect("a layout"),
    };
    let key = Key::from_seed(&[7; 32]);
    let salt = Salt::from([8; 32]);
    let v = vote::vote_with_lie(
        &key,
        &jobs,
        p,
        ProverConfig::default(),
        &salt,
        u64::MAX,
        None,
    )
    .expect("votes");
    let t = Tree::for_vote(&v, &salt, &jobs, None).expect("a tree");
    let b = t.bounded().expect("bounded");
    assert_eq!(b.block_bits(), 0, "a small trace keeps its leaves");
    assert_eq!(b.checkpoints(), 1, "one checkpoint, at the start");
    assert_eq!(t.root(), v.root);
}
