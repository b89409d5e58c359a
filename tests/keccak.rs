//! The multi-buffer keccak backends (`poie::proof::keccak`): every backend this CPU has against
//! the Keccak team's published Keccak-f[1600] values, against the `sha3` crate's permutation
//! and keccak256, and the proof's roots across backends against the golden roots.

mod common;

use common::golden::{self, Golden};
use common::rng::Rng;
use poie::proof::hash::{KECCAK_LEAF, KECCAK_NODE};
use poie::proof::keccak::{squeeze, KeccakMany, Template};
use poie::proof::{
    prove_chunks, reference, unique_secret, HashId, Hasher, Layout, Params, Prover, ProverConfig,
    Simd,
};
use poie::proof::{Address, Salt};
use poie::trace::{Chunk, TraceSink};
use sha3::digest::common::hazmat::SerializableState;
use sha3::{Digest, Keccak256, Keccak256Full};

/// KeccakF-1600-IntermediateValues.txt (Keccak team, XKCP TestVectors): the all-zero state
/// after one permutation...
const ZERO_ONCE: [u64; 25] = [
    0xF1258F7940E1DDE7,
    0x84D5CCF933C0478A,
    0xD598261EA65AA9EE,
    0xBD1547306F80494D,
    0x8B284E056253D057,
    0xFF97A42D7F8E6FD4,
    0x90FEE5A0A44647C4,
    0x8C5BDA0CD6192E76,
    0xAD30A6F71B19059C,
    0x30935AB7D08FFC64,
    0xEB5AA93F2317D635,
    0xA9A6E6260D712103,
    0x81A57C16DBCF555F,
    0x43B831CD0347C826,
    0x01F22F1A11A5569F,
    0x05E5635A21D9AE61,
    0x64BEFEF28CC970F2,
    0x613670957BC46611,
    0xB87C5A554FD00ECB,
    0x8C3EE88A1CCF32C8,
    0x940C7922AE3A2614,
    0x1841F924A2C509E4,
    0x16F53526E70465C2,
    0x75F644E97F30A13B,
    0xEAF1FF7B5CECA249,
];

/// ...and after a second permutation of that.
const ZERO_TWICE: [u64; 25] = [
    0x2D5C954DF96ECB3C,
    0x6A332CD07057B56D,
    0x093D8D1270D76B6C,
    0x8A20D9B25569D094,
    0x4F9C4F99E5E7F156,
    0xF957B9A2DA65FB38,
    0x85773DAE1275AF0D,
    0xFAF4F247C3D810F7,
    0x1F1B9EE6F79A8759,
    0xE4FECC0FEE98B425,
    0x68CE61B6B9CE68A1,
    0xDEEA66C4BA8F974F,
    0x33C43D836EAFB1F5,
    0xE00654042719DBD9,
    0x7CF8A9F009831265,
    0xFD5449A6BF174743,
    0x97DDAD33D8994B40,
    0x48EAD5FC5D0BE774,
    0xE3B8C8EE55B7B03C,
    0x91A0226E649E42E9,
    0x900E3129E7BADD7B,
    0x202A9EC5FAA3CCE8,
    0x5B3402464E1C3DB6,
    0x609F4E62A44C1059,
    0x20D06CD26A8FBF5C,
];

/// States per call that reach every kernel and remainder path: 8-way groups, the 4-way kernel,
/// padded calls and single states.
const COUNTS: [usize; 12] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 37];

/// Random test data.
impl Rng {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.next() as u8;
        }
        out
    }
    fn state(&mut self) -> [u64; 25] {
        let mut s = [0u64; 25];
        for l in &mut s {
            *l = self.next();
        }
        s
    }
}

/// The `sha3` crate's Keccak-f[1600] of any state. `Keccak256Full` squeezes the whole 200-byte
/// state after one permutation; its finalisation XORs keccak's padding for an empty block
/// (0x01 into byte 0, 0x80 into byte 135) first, so the padding is XORed out beforehand, and the
/// state goes in through the crate's serialised form (200 state bytes and the cursor, 0).
fn sha3_f1600(state: &[u64; 25]) -> [u64; 25] {
    let mut s = *state;
    s[0] ^= 0x01;
    s[16] ^= 0x80 << 56;
    let mut ser = [0u8; 201];
    for (d, l) in ser.chunks_exact_mut(8).zip(&s) {
        d.copy_from_slice(&l.to_le_bytes());
    }
    let h = Keccak256Full::deserialize(&ser.into()).expect("a valid serialised state");
    let full = h.finalize();
    let mut out = [0u64; 25];
    for (o, b) in out.iter_mut().zip(full.chunks_exact(8)) {
        *o = u64::from_le_bytes(b.try_into().expect("8 bytes"));
    }
    out
}

fn backends() -> Vec<(Simd, KeccakMany)> {
    Simd::available()
        .into_iter()
        .map(|s| (s, KeccakMany::new(s).expect("available backend")))
        .collect()
}

#[test]
fn the_vectors_are_the_sha3_crates_permutation() {
    // The oracle itself: sha3's permutation gives the published values.
    let once = sha3_f1600(&[0; 25]);
    assert_eq!(once, ZERO_ONCE);
    assert_eq!(once[0], 0xF1258F7940E1DDE7);
    assert_eq!(sha3_f1600(&once), ZERO_TWICE);
    // And it is a permutation oracle, not a hash of the zero state alone.
    let mut rng = Rng(1);
    let (a, b) = (rng.state(), rng.state());
    assert_ne!(sha3_f1600(&a), sha3_f1600(&b));
}

#[test]
fn every_backend_gives_the_published_permutation_values() {
    for (simd, k) in backends() {
        for n in COUNTS {
            let mut states = vec![[0u64; 25]; n];
            k.permute(&mut states);
            assert!(states.iter().all(|s| *s == ZERO_ONCE), "{simd}, {n} states");
            k.permute(&mut states);
            assert!(
                states.iter().all(|s| *s == ZERO_TWICE),
                "{simd}, {n} states"
            );
        }
    }
}

#[test]
fn every_backend_permutes_random_states_as_sha3_does() {
    let mut rng = Rng(2);
    for (simd, k) in backends() {
        for n in COUNTS {
            // Distinct states, so a lane that crossed between states would show.
            let before: Vec<[u64; 25]> = (0..n).map(|_| rng.state()).collect();
            let mut after = before.clone();
            k.permute(&mut after);
            for (b, a) in before.iter().zip(&after) {
                assert_eq!(*a, sha3_f1600(b), "{simd}, {n} states");
            }
        }
    }
}

fn sha3_keccak256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Every backend's `prefix || x` hashing equals sha3's keccak256 for this prefix length, over
/// random prefixes and inputs and every call size in `COUNTS`.
fn check_template<const P: usize>(rng: &mut Rng) {
    let prefix: [u8; P] = rng.bytes();
    let t = Template::new(&prefix);
    assert_eq!(t.first_input_lane(), P / 8);
    for (simd, k) in backends() {
        for n in COUNTS {
            let inputs: Vec<[u8; 64]> = (0..n).map(|_| rng.bytes()).collect();
            let mut out = vec![0u8; 32 * n];
            k.hash_64(&t, &inputs, &mut out);
            for (x, o) in inputs.iter().zip(out.chunks_exact(32)) {
                assert_eq!(o, sha3_keccak256(&[&prefix, x]), "{simd}, prefix {P}, {n}");
                // The one-state path the SIMD kernels are built from.
                let mut s = t.absorb(x);
                poie::proof::keccak::portable::permute(&mut s);
                assert_eq!(o, squeeze(&s));
            }
        }
    }
}

#[test]
fn every_backend_equals_sha3_keccak256_for_every_template_length() {
    let mut rng = Rng(3);
    // 65 bytes (nodes: 0x01 || left || right) and 97 (leaves: 0x00 || s~ || chunk || link)
    // are what the proof hashes; the rest put the input at every lane a template allows.
    check_template::<1>(&mut rng);
    check_template::<9>(&mut rng);
    check_template::<17>(&mut rng);
    check_template::<25>(&mut rng);
    check_template::<33>(&mut rng);
    check_template::<41>(&mut rng);
    check_template::<49>(&mut rng);
    check_template::<57>(&mut rng);
    check_template::<65>(&mut rng);
}

#[test]
fn every_backend_hashes_the_proofs_leaves_and_nodes_as_sha3_does() {
    let mut rng = Rng(4);
    for simd in Simd::available() {
        let secret: [u8; 32] = rng.bytes();
        let h = Hasher::new(HashId::Keccak, secret, simd).expect("available");
        assert_eq!(h.simd(), simd);
        for n in COUNTS.into_iter().chain([256]) {
            let inputs: Vec<[u8; 64]> = (0..n).map(|_| rng.bytes()).collect();
            let (mut leaves, mut nodes) = (vec![0u8; 32 * n], vec![0u8; 32 * n]);
            h.leaves(&inputs, &mut leaves);
            h.nodes(&inputs, &mut nodes);
            for ((x, l), d) in inputs
                .iter()
                .zip(leaves.chunks_exact(32))
                .zip(nodes.chunks_exact(32))
            {
                // 97 bytes: 0x00 || s~ || chunk || link; 65 bytes: 0x01 || left || right.
                assert_eq!(l, sha3_keccak256(&[&[KECCAK_LEAF], &secret, x]), "{simd}");
                assert_eq!(d, sha3_keccak256(&[&[KECCAK_NODE], x]), "{simd}");
            }
        }
    }
}

#[test]
fn backends_report_their_width_and_unavailable_ones_are_refused() {
    for simd in Simd::ALL {
        let k = KeccakMany::new(simd);
        let h = Hasher::new(HashId::Keccak, [1; 32], simd);
        if Simd::available().contains(&simd) {
            let (k, h) = (k.expect("available"), h.expect("available"));
            let width = match simd {
                Simd::Portable | Simd::Sse41 => 1,
                Simd::Avx2 => 4,
                Simd::Avx512 => 8,
            };
            assert_eq!(k.degree(), width, "{simd}");
            assert_eq!(h.simd_width(), width, "{simd}");
        } else {
            assert!(k.is_err() && h.is_err(), "{simd} is refused");
        }
    }
}

#[test]
fn keccak_roots_are_the_golden_roots_on_every_backend_thread_count_and_batch() {
    let all = golden::load();
    let keccak: Vec<&Golden> = all.iter().filter(|g| g.hash == HashId::Keccak).collect();
    assert!(keccak.len() >= 12, "the golden file has keccak cases");
    let mut traces: Vec<((String, String), Vec<Chunk>)> = Vec::new();
    for g in keccak {
        let key = (g.guest.clone(), g.input.clone());
        if !traces.iter().any(|(k, _)| *k == key) {
            traces.push((key.clone(), golden::trace(&g.guest, &g.input)));
        }
        let trace = &traces.iter().find(|(k, _)| *k == key).expect("recorded").1;
        assert_eq!(trace.len() as u64, g.n, "{}", g.guest);
        let params = g.params();
        let secret = unique_secret(HashId::Keccak, &g.salt(), &g.address());
        let want = g.root();
        for simd in Simd::available() {
            for (threads, batch) in [(0, 8192), (0, 64), (1, 256), (2, 8192), (2, 64), (3, 1)] {
                let cfg = ProverConfig {
                    threads,
                    simd,
                    batch,
                    ..ProverConfig::default()
                };
                let h = Hasher::new(HashId::Keccak, secret, simd).expect("available");
                // Both entry points: the streaming prover, fed unevenly, and indexed blocks.
                let root = if threads % 2 == 0 {
                    let mut p = Prover::new(params, h, cfg);
                    for part in trace.chunks(1000) {
                        p.consume(part).expect("consume");
                    }
                    p.into_proof().expect("proof").root
                } else {
                    prove_chunks(params, h, cfg, trace).expect("proof").root
                };
                assert_eq!(
                    root, want,
                    "{} {:?} {simd} threads {threads} batch {batch}",
                    g.guest, params.layout
                );
            }
        }
    }
}

#[test]
fn keccak_roots_agree_across_backends_for_lane_counts_around_the_simd_widths() {
    // Chained rows of 1..=17 lanes reach every call size a chain makes: 1, a padded 4- or
    // 8-way call, full groups plus a remainder. The naive reference is the oracle.
    let trace = golden::trace("sort", "120 3");
    let secret = unique_secret(
        HashId::Keccak,
        &Salt::from([5; 32]),
        &Address::from([6; 20]),
    );
    for (lanes, chained) in [
        (2, true),
        (3, true),
        (5, true),
        (7, true),
        (8, true),
        (9, true),
        (12, true),
        (17, true),
        (8, false),
        (33, false),
    ] {
        let params = Params {
            hash: HashId::Keccak,
            layout: Layout { lanes, chained },
        };
        let want = reference::root(&params, &secret, &trace);
        for simd in Simd::available() {
            for threads in [0, 2] {
                let cfg = ProverConfig {
                    threads,
                    simd,
                    batch: 512,
                    ..ProverConfig::default()
                };
                let h = Hasher::new(HashId::Keccak, secret, simd).expect("available");
                let root = prove_chunks(params, h, cfg, &trace).expect("proof").root;
                assert_eq!(root, want, "L={lanes} chained={chained} {simd} t{threads}");
            }
        }
    }
}
