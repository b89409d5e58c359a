//! Golden roots: fixed (guest, input, salt, address, layout, hash) give these exact roots on
//! every machine. `POIE_BLESS=1 cargo test --test golden` rewrites tests/data/golden-roots.json
//! (only when the construction changes on purpose, with docs/SPEC.md).

mod common;

use common::golden::{self, Golden};
use poie::guests;
use poie::proof::{
    reference, unique_secret, Address, HashId, Hasher, Layout, Params, Prover, ProverConfig, Salt,
    Simd,
};
use poie::source::Source;

fn compute(
    guest: &str,
    input: &str,
    salt: [u8; 32],
    address: [u8; 20],
    params: Params,
    simd: Simd,
    threads: usize,
) -> (u64, [u8; 32]) {
    let g = guests::find(guest).expect("guest");
    let src = Source::Vm {
        elf: g.elf.to_vec(),
        input: input.as_bytes().to_vec(),
        max_steps: u64::MAX,
    };
    let h = Hasher::new(
        params.hash,
        unique_secret(params.hash, &Salt::from(salt), &Address::from(address)),
        simd,
    )
    .expect("backend");
    let mut p = Prover::new(
        params,
        h,
        ProverConfig {
            threads,
            simd,
            ..ProverConfig::default()
        },
    );
    src.feed(&mut p).expect("runs");
    let proof = p.into_proof().expect("proof");
    (proof.n, proof.root)
}

/// (guest, input, salt, address, params)
type Case = (String, String, [u8; 32], [u8; 20], Params);

fn cases() -> Vec<Case> {
    // Small runs: the reference and keccak (scalar) are slow, and the suite runs on 2 cores.
    let inputs = [("hello", ""), ("sort", "300 7"), ("sieve", "3000")];
    let mut out = Vec::new();
    for (guest, input) in inputs {
        for hash in HashId::ALL {
            for (lanes, chained) in [(1, false), (4, true), (16, true), (3, false)] {
                let params = Params {
                    hash,
                    layout: Layout { lanes, chained },
                };
                out.push((
                    guest.to_string(),
                    input.to_string(),
                    [0x11; 32],
                    [0xab; 20],
                    params,
                ));
            }
        }
    }
    out
}

#[test]
fn golden_roots_are_stable() {
    let mut computed = Vec::new();
    for (guest, input, salt, address, params) in cases() {
        let (n, root) = compute(&guest, &input, salt, address, params, Simd::detect(), 2);
        // The streaming root must also be the reference root of the whole trace.
        let trace = golden::trace(&guest, &input);
        let secret = unique_secret(params.hash, &Salt::from(salt), &Address::from(address));
        assert_eq!(
            reference::root(&params, &secret, &trace),
            root,
            "{guest} {params:?}"
        );
        assert_eq!(
            compute(&guest, &input, salt, address, params, Simd::Portable, 0).1,
            root
        );
        computed.push(Golden {
            guest,
            input,
            salt: hex::encode(salt),
            address: format!("0x{}", hex::encode(address)),
            hash: params.hash,
            lanes: params.layout.lanes,
            chained: params.layout.chained,
            n,
            root: hex::encode(root),
        });
    }
    if std::env::var_os("POIE_BLESS").is_some() {
        std::fs::write(
            golden::PATH,
            serde_json::to_string_pretty(&computed).expect("json") + "\n",
        )
        .expect("write");
        return;
    }
    let committed = golden::load();
    assert_eq!(committed.len(), computed.len());
    for (g, c) in committed.iter().zip(&computed) {
        assert_eq!(g, c);
    }
}
