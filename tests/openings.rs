//! Openings: the streaming collector against the in-memory trees, verification, and rejection
//! of every kind of tampering.

use poie::proof::opening::{verify, Opening, OpeningCollector, OpeningError};
use poie::proof::tree::audit_path;
use poie::proof::{
    reference, unique_secret, HashId, Hasher, Layout, Params, Prover, ProverConfig, Simd,
};
use poie::proof::{Address, Salt};
use poie::trace::synthetic::chunk as synthetic_chunk;
use poie::trace::{Chunk, Tee, TraceSink};

fn trace(n: u64) -> Vec<Chunk> {
    (0..n).map(|i| synthetic_chunk(9, i)).collect()
}

fn hasher(hash: HashId) -> Hasher {
    Hasher::new(
        hash,
        unique_secret(hash, &Salt::from([1; 32]), &Address::from([2; 20])),
        Simd::detect(),
    )
    .expect("backend")
}

/// Streams the trace through a prover and a collector; returns (root, opening).
fn open(params: Params, t: &[Chunk], index: u64) -> ([u8; 32], Opening) {
    let h = hasher(params.hash);
    let cfg = ProverConfig {
        threads: 2,
        batch: 64,
        ..ProverConfig::default()
    };
    let mut tee = Tee(
        Prover::new(params, h.clone(), cfg),
        OpeningCollector::new(h, params, t.len() as u64, &[index]).expect("index in range"),
    );
    for part in t.chunks(100) {
        tee.consume(part).expect("consume");
    }
    let proof = tee.0.into_proof().expect("proof");
    (
        proof.root,
        tee.1
            .into_openings(&proof.lane_roots)
            .expect("opening")
            .remove(0),
    )
}

/// The same opening from the whole trace in memory.
fn naive_open(params: Params, t: &[Chunk], index: u64) -> Opening {
    let h = hasher(params.hash);
    let secret = unique_secret(params.hash, &Salt::from([1; 32]), &Address::from([2; 20]));
    let all = reference::leaves(&params, &secret, t);
    let lanes = u64::from(params.layout.lanes);
    let (j, p) = ((index % lanes) as usize, index / lanes);
    let lane = reference::lane_leaves(&params, &all, j);
    let prev_branch = (params.layout.chained && p > 0).then(|| audit_path(&h, &lane, p - 1));
    Opening {
        version: 1,
        params,
        n: t.len() as u64,
        index,
        chunk: t[index as usize],
        link: if params.layout.chained && p > 0 {
            lane[(p - 1) as usize]
        } else {
            [0; 32]
        },
        lane_branch: audit_path(&h, &lane, p),
        prev_branch,
        top_branch: audit_path(&h, &reference::lane_roots(&params, &all), j as u64),
    }
}

#[test]
fn streaming_openings_match_naive_and_verify() {
    for (lanes, chained, hash, n) in [
        (1, false, HashId::Blake3, 1000u64),
        (4, true, HashId::Blake3, 1001),
        (16, true, HashId::Keccak, 300),
        (7, false, HashId::Keccak, 50),
        (64, true, HashId::Blake3, 40), // fewer chunks than lanes
        (3, true, HashId::Blake3, 1),
    ] {
        let params = Params {
            hash,
            layout: Layout::new(lanes, chained).expect("lanes"),
        };
        let t = trace(n);
        let secret = unique_secret(hash, &Salt::from([1; 32]), &Address::from([2; 20]));
        let expect_root = reference::root(&params, &secret, &t);
        let indices = [
            0,
            n / 3,
            n / 2,
            n.saturating_sub(2),
            n - 1,
            (n * 7 / 11).min(n - 1),
        ];
        for index in indices {
            let (root, o) = open(params, &t, index);
            assert_eq!(root, expect_root);
            assert_eq!(o, naive_open(params, &t, index), "{params:?} index {index}");
            assert_eq!(verify(&hasher(hash), &o, &params, n, &root), Ok(()));
        }
    }
}

/// Every index of a trace opened by one collector in one pass (repeats included, in the order
/// asked) matches the naive openings, and the pass costs at most one leaf and one node hash per
/// chunk however many indices are asked: the cost of 4096 samples is the cost of one.
#[test]
fn one_pass_opens_many_indices_for_the_cost_of_one() {
    for (lanes, chained, n) in [(1, true, 333u64), (3, true, 1000), (5, false, 77)] {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(lanes, chained).expect("lanes"),
        };
        let t = trace(n);
        let h = hasher(params.hash);
        let mut indices: Vec<u64> = (0..n).rev().collect();
        indices.extend([0, n / 2, n - 1]);
        let run = |indices: &[u64]| {
            let mut tee = Tee(
                Prover::new(params, h.clone(), ProverConfig::default()),
                OpeningCollector::new(h.clone(), params, n, indices).expect("in range"),
            );
            for part in t.chunks(61) {
                tee.consume(part).expect("consume");
            }
            let hashes = tee.1.hashes();
            let proof = tee.0.into_proof().expect("proof");
            let openings = tee.1.into_openings(&proof.lane_roots).expect("openings");
            (hashes, openings)
        };
        let (hashes, openings) = run(&indices);
        assert_eq!(openings.len(), indices.len());
        for (o, &index) in openings.iter().zip(&indices) {
            assert_eq!(
                *o,
                naive_open(params, &t, index),
                "{params:?} index {index}"
            );
        }
        assert!(hashes <= 2 * n, "{hashes} hashes for {n} chunks");
        let many: Vec<u64> = (0..4096).map(|k| k % lanes as u64).collect();
        let (hashes_many, _) = run(&many);
        let (hashes_one, _) = run(&[0]);
        assert!(
            hashes_many <= lanes as u64 * hashes_one + n,
            "{hashes_many} hashes for 4096 samples, {hashes_one} for one"
        );
    }
}

#[test]
fn any_changed_byte_is_rejected() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 4,
            chained: true,
        },
    };
    let t = trace(777);
    let h = hasher(HashId::Blake3);
    let (root, o) = open(params, &t, 501);
    assert!(o.prev_branch.is_some());
    let rejects = |o: &Opening, root: &[u8; 32]| verify(&h, o, &params, 777, root).is_err();
    for byte in 0..32 {
        let mut bad = o.clone();
        bad.chunk[byte] ^= 0x10;
        assert!(rejects(&bad, &root), "chunk byte {byte}");
        let mut bad = o.clone();
        bad.link[byte] ^= 0x10;
        assert!(rejects(&bad, &root), "link byte {byte}");
        let mut bad_root = root;
        bad_root[byte] ^= 0x10;
        assert!(rejects(&o, &bad_root), "root byte {byte}");
    }
    let count =
        o.lane_branch.len() + o.top_branch.len() + o.prev_branch.as_ref().map_or(0, Vec::len);
    for k in 0..count {
        for byte in [0, 17, 31] {
            let mut bad = o.clone();
            let mut all: Vec<&mut [u8; 32]> = bad.lane_branch.iter_mut().collect();
            all.extend(bad.top_branch.iter_mut());
            all.extend(bad.prev_branch.iter_mut().flatten());
            all[k][byte] ^= 1;
            assert!(rejects(&bad, &root), "branch digest {k} byte {byte}");
        }
    }
    let mut bad = o.clone();
    bad.index += 4; // same lane, next position
    assert!(rejects(&bad, &root));
    let mut bad = o.clone();
    bad.prev_branch = None;
    assert_eq!(
        verify(&h, &bad, &params, 777, &root),
        Err(OpeningError::MissingPrevBranch)
    );
    let mut bad = o.clone();
    bad.lane_branch.pop();
    assert!(rejects(&bad, &root));
    // Another executor's secret cannot verify it.
    let other = Hasher::new(
        HashId::Blake3,
        unique_secret(
            HashId::Blake3,
            &Salt::from([1; 32]),
            &Address::from([3; 20]),
        ),
        Simd::Portable,
    )
    .expect("portable");
    assert!(verify(&other, &o, &params, 777, &root).is_err());
}

#[test]
fn collector_refuses_a_trace_of_another_length() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 2,
            chained: true,
        },
    };
    let t = trace(100);
    let h = hasher(HashId::Blake3);
    let mut c = OpeningCollector::new(h.clone(), params, 101, &[5]).expect("in range");
    c.consume(&t).expect("consume");
    assert!(c.into_openings(&[[0; 32]; 2]).is_err());
    assert!(OpeningCollector::new(h.clone(), params, 100, &[3, 100]).is_err());
    let mut c = OpeningCollector::new(h, params, 99, &[5]).expect("in range");
    assert!(
        c.consume(&t).is_err(),
        "a longer trace is refused as it streams"
    );
}
