//! A bounded, seeded, stable-Rust run of the properties the fuzz targets (`fuzz/`) check
//! without bound: every parser of untrusted bytes (the JSON files, the challenge game's
//! messages, manifests, ELF images) returns a value or an error, never a panic or a hang,
//! whatever it is fed. Inputs are honest ones, mutated: bit flips, byte changes, cuts,
//! repeats, and numbers swapped for extremes. A failure prints the seed and iteration that
//! reproduce it.

mod common;

use common::fixtures;
use poie::proof::{Address, HashId, Hasher, Layout, Params, ProverConfig, Salt, Simd};
use poie::protocol::audit::{self, AuditResponse};
use poie::protocol::challenge::{Msg, Node, Tree};
use poie::protocol::keys::Key;
use poie::protocol::leak::{self, LeakClaim};
use poie::protocol::vote::{self, Reveal, Vote};
use poie::protocol::windback::{self, Job};
use poie::trace::{NullSink, VecSink};
use poie::vm::Vm;

/// xorshift64*: small, seeded, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const EXTREMES: [&str; 9] = [
    "0",
    "1",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e999",
    "65537",
];

/// One to four mutations of `seed`.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len());
        match rng.below(7) {
            0 if !v.is_empty() => v[at] ^= 1 << rng.below(8),
            1 if !v.is_empty() => v[at] = rng.next() as u8,
            2 => v.truncate(at),
            3 if !v.is_empty() => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let piece = v[at..end].to_vec();
                v.splice(at..at, piece);
            }
            4 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            // A number (a run of digits) swapped for an extreme one.
            _ => {
                if let Some(start) = (at..v.len()).find(|&i| v[i].is_ascii_digit()) {
                    let end = (start..v.len())
                        .find(|&i| !v[i].is_ascii_digit())
                        .unwrap_or(v.len());
                    let x = EXTREMES[rng.below(EXTREMES.len())].as_bytes();
                    v.splice(start..end, x.iter().copied());
                }
            }
        }
    }
    v
}

/// Feeds `cases` mutations of each seed to `property`, which must not panic.
fn run(name: &str, seed: u64, cases: usize, seeds: &[Vec<u8>], mut property: impl FnMut(&[u8])) {
    let mut rng = Rng(seed);
    for i in 0..cases {
        let base = &seeds[i % seeds.len()];
        let input = mutate(&mut rng, base);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(&input)));
        assert!(
            r.is_ok(),
            "{name}: seed {seed}, case {i} panicked on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

fn jobs() -> Vec<Job> {
    vec![Job {
        program: "hello".into(),
        elf: poie::guests::find("hello").expect("hello").elf.into(),
        input: Vec::new().into(),
    }]
}

fn params() -> Params {
    Params {
        hash: HashId::Blake3,
        layout: Layout::new(3, true).expect("valid"),
    }
}

fn cfg() -> ProverConfig {
    ProverConfig {
        threads: 0,
        ..ProverConfig::default()
    }
}

#[test]
fn json_documents_never_panic_their_readers() {
    let (key, salt) = (Key::from_seed(&[7; 32]), Salt::from([8; 32]));
    let jobs = jobs();
    let v = vote::vote(&key, &jobs, params(), cfg(), &salt, 100_000).expect("votes");
    let r = fixtures::reveal(&v, salt);
    let challenge = audit::AuditChallenge {
        version: audit::AUDIT_VERSION,
        root: v.root,
        nonce: [3; 32],
        samples: 4,
    };
    let resp = audit::respond(&v, &salt, &jobs, &challenge, cfg()).expect("responds");
    let secret = poie::proof::unique_secret(HashId::Blake3, &salt, &v.address);
    let claim = leak::claim(&v, secret, Address::from([9; 20]), 1);
    let seeds = vec![
        serde_json::to_vec(&v).expect("json"),
        serde_json::to_vec(&r).expect("json"),
        serde_json::to_vec(&resp).expect("json"),
        serde_json::to_vec(&challenge).expect("json"),
        serde_json::to_vec(&claim).expect("json"),
    ];
    run("json", 1, 8000, &seeds, |bytes| {
        if let Ok(m) = serde_json::from_slice::<Vote>(bytes) {
            // A parsed vote is safe to use: its layout was checked as it was read.
            assert!((1..=poie::proof::layout::MAX_LANES).contains(&m.params.layout.lanes));
            let _ = m.authentic();
            let _ = m.params.layout.lane_len(m.n, m.params.layout.lanes - 1);
            let _ = audit::sample_indices(&m.root, &[3; 32], m.n, 8);
        }
        let _ = serde_json::from_slice::<Reveal>(bytes);
        if let Ok(c) = serde_json::from_slice::<audit::AuditChallenge>(bytes) {
            let _ = c.indices(v.n);
            let _ = audit::audit(&v, &r, &jobs, &c, &resp);
        }
        if let Ok(a) = serde_json::from_slice::<AuditResponse>(bytes) {
            // Openings from a hostile file are verified, never trusted.
            let h = Hasher::for_executor(HashId::Blake3, &salt, &v.address, Simd::detect())
                .expect("hasher");
            for o in &a.openings {
                let _ = poie::proof::opening::verify(&h, o, &o.params, o.n, &v.root);
            }
            let _ = audit::audit(&v, &r, &jobs, &challenge, &a);
        }
        if let Ok(c) = serde_json::from_slice::<LeakClaim>(bytes) {
            let _ = leak::judge(&c, &v, &r, 10);
        }
    });
}

#[test]
fn challenge_messages_never_panic_the_executor() {
    let mut trace = VecSink::default();
    windback::execute(&jobs(), &mut trace, u64::MAX).expect("runs");
    let h = Hasher::new(HashId::Blake3, [5; 32], Simd::detect()).expect("hasher");
    let tree = Tree::new(params(), h, trace.0);
    let n = tree.n();
    let seeds: Vec<Vec<u8>> = [
        Msg::Query {
            node: Node::Top { lo: 0, hi: 3 },
        },
        Msg::Query {
            node: Node::Lane {
                lane: 1,
                lo: 0,
                hi: n / 3,
            },
        },
        Msg::Open { index: n / 2 },
        Msg::Hello { root: [1; 32] },
        Msg::Children {
            left: [2; 32],
            right: [3; 32],
        },
    ]
    .iter()
    .map(|m| serde_json::to_vec(m).expect("json"))
    .collect();
    run("challenge", 2, 10000, &seeds, |bytes| {
        if let Ok(m) = serde_json::from_slice::<Msg>(bytes) {
            // An answer or a refusal, never a panic; a refused node is not answered.
            if let Msg::Query { node } = m {
                if tree.check_node(node).is_err() {
                    assert!(tree.respond(&m).is_err(), "{node:?} answered");
                }
            }
            let _ = tree.respond(&m);
        }
    });
}

#[test]
fn manifests_never_panic_the_loader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("in.txt"), "20 1").expect("write");
    std::fs::write(
        d.join("prog.elf"),
        poie::guests::find("hello").expect("hello").elf,
    )
    .expect("write");
    let seeds = vec![
        b"# jobs\nsort in.txt\nhello\n".to_vec(),
        b"prog.elf in.txt\n\nsort ./in.txt\n".to_vec(),
    ];
    let path = d.join("m.txt");
    run("manifest", 3, 600, &seeds, |bytes| {
        std::fs::write(&path, bytes).expect("write");
        if let Ok(jobs) = windback::load(&path) {
            assert!(!jobs.is_empty());
        }
    });
}

#[test]
fn elf_images_never_panic_the_loader_or_the_vm() {
    let seeds: Vec<Vec<u8>> = ["hello", "sort"]
        .iter()
        .map(|g| poie::guests::find(g).expect("guest").elf.to_vec())
        .collect();
    run("elf", 4, 600, &seeds, |bytes| {
        if let Ok(mut vm) = Vm::new(bytes, b"5 1".to_vec()) {
            let _ = vm.run(&mut NullSink, 20_000);
        }
    });
}
