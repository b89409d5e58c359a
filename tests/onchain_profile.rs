//! The on-chain profile of votes (version 4, docs/SPEC.md 6.8): `poie vote --hash keccak`
//! makes a vote whose every commitment a contract checks is keccak, whose address is the
//! Ethereum address of the executor's secp256k1 key and whose `eth_signature` `ecrecover`
//! verifies. Each commitment is recomputed here from the files, independently of poie's code
//! (sha3, k256, ed25519-dalek), and every verifier is run on a version-4 vote beside a
//! version-3 one.

mod common;

use common::cli::{assert_ok, poie, refused, stderr, stdout};
use common::fixtures::{self, check_args, read_json, referee_args, reveal_args, vote_args};
use poie::protocol::k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use poie::protocol::keys::Key;
use serde_json::Value;
use sha3::{Digest, Keccak256};
use std::path::Path;

fn keccak(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).expect("hex")
}

/// The 32 bytes of hex on the second line of a secret file (`poie-salt-v1`, `poie-key-v1`).
fn secret_file(path: &Path) -> [u8; 32] {
    let text = std::fs::read_to_string(path).expect("secret file");
    let body = text.lines().nth(1).expect("a second line");
    unhex(body.trim()).try_into().expect("32 bytes")
}

/// The Ethereum address of a secp256k1 public key, as Ethereum derives it.
fn eth_address(vk: &VerifyingKey) -> String {
    let point = vk.to_encoded_point(false);
    format!(
        "0x{}",
        hex::encode(&keccak(&[&point.as_bytes()[1..]])[12..])
    )
}

/// SPEC 6.1, computed here: `sk = keccak256("poie/v1/secp256k1" || seed)`, big-endian.
fn eth_address_of_seed(seed: &[u8; 32]) -> String {
    let sk = keccak(&[b"poie/v1/secp256k1", seed]);
    let key = SigningKey::from_bytes(&sk.into()).expect("in range");
    eth_address(key.verifying_key())
}

/// The signed bytes of a vote file, rebuilt from its JSON by SPEC 6.3's layout.
fn message(v: &Value) -> Vec<u8> {
    let b = |k: &str| unhex(v[k].as_str().expect(k));
    let u64le = |x: u64| x.to_le_bytes().to_vec();
    let mut m = b"poie/v1/vote".to_vec();
    m.extend((v["version"].as_u64().expect("version") as u32).to_le_bytes());
    for k in ["address", "public_key", "salt_commitment", "windback"] {
        m.extend(b(k));
    }
    let jobs = v["jobs"].as_array().expect("jobs");
    m.extend(u64le(jobs.len() as u64));
    for j in jobs {
        m.extend(unhex(j["initial_state"].as_str().expect("initial state")));
        m.extend(u64le(j["steps"].as_u64().expect("steps")));
        m.extend(unhex(j["state_root"].as_str().expect("state root")));
    }
    m.extend(u64le(v["n"].as_u64().expect("n")));
    m.extend(u64le(v["max_steps"].as_u64().unwrap_or(u64::MAX)));
    let hash = match v["params"]["hash"].as_str() {
        Some("blake3") => 1,
        Some("keccak") => 2,
        other => panic!("hash {other:?}"),
    };
    m.extend([1, hash]);
    let lanes = v["params"]["layout"]["lanes"].as_u64().expect("lanes") as u32;
    m.extend(lanes.to_le_bytes());
    m.push(u8::from(v["params"]["layout"]["chained"] == true));
    m.extend(b("root"));
    m
}

/// `ecrecover(keccak256(message), v, r, s)`, with the on-chain profile's rules (v 27 or 28,
/// low s): the address it gives.
fn ecrecover(vote: &Value) -> String {
    let sig = unhex(vote["eth_signature"].as_str().expect("an eth signature"));
    assert_eq!(sig.len(), 65);
    assert!(sig[64] == 27 || sig[64] == 28, "v = {}", sig[64]);
    let s = Signature::from_slice(&sig[..64]).expect("r and s in range");
    assert!(s.normalize_s().is_none(), "low s");
    let digest = keccak(&[&message(vote)]);
    let vk = VerifyingKey::recover_from_prehash(&digest, &s, RecoveryId::new(sig[64] == 28, false))
        .expect("recovers");
    eth_address(&vk)
}

/// `poie key new k.key` in `d` (through the fixture), its two addresses computed here from the
/// key file, and a windback of two jobs.
fn setup(d: &Path) -> (String, String) {
    let printed = fixtures::windback_and_key(d, "300 3", "sort in.txt\nhello\n");
    let seed = secret_file(&d.join("k.key"));
    let ed = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let ours = format!(
        "0x{}",
        hex::encode(
            &blake3::Hasher::new()
                .update(b"poie/v1/address")
                .update(ed.as_bytes())
                .finalize()
                .as_bytes()[..20]
        )
    );
    assert_eq!(printed, ours);
    (printed, eth_address_of_seed(&seed))
}

/// The vote `VOTE` (`--hash HASH`, 4 lanes, `extra`) with salt `SALT`, and its reveal `REVEAL`.
fn vote(d: &Path, hash: &str, vote: &str, salt: &str, reveal: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--hash", hash, "--lanes", "4", "--out", vote];
    args.extend_from_slice(extra);
    assert_ok(&poie(d, &vote_args(salt, &args)));
    assert_ok(&poie(d, &reveal_args(vote, salt, reveal)));
    read_json(d.join(vote))
}

/// Known answer, cross-checked against an independent implementation: the key of seed
/// 0x00 01 .. 1f and its signature of one digest were computed once with Python's `eth-keys`
/// 0.8.0 (native backend) and `eth-utils`' keccak (pycryptodome):
///
/// ```text
/// sk = keccak(b"poie/v1/secp256k1" + bytes(range(32)))
/// PrivateKey(sk).public_key.to_checksum_address()
/// PrivateKey(sk).sign_msg_hash(keccak(b"poie on-chain profile test vector")).to_bytes()
/// ```
///
/// (eth-keys writes v as 0 or 1; Ethereum's, and ours, is 27 or 28.) And Ethereum's own vector
/// for the address of a public key: secret key 0x4c0883a6...3f362318 is account
/// 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 (eth-account's documentation, also eth-keys').
#[test]
fn the_seed_gives_the_known_ethereum_address_and_signature() {
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    let key = Key::from_seed(&seed);
    let sk = keccak(&[b"poie/v1/secp256k1", &seed]);
    assert_eq!(
        hex::encode(sk),
        "96120781040cb36d407962c70dc68341a8f0c2d218cc84031a038ca180eab912"
    );
    let address = key.eth_address().expect("an on-chain key");
    assert_eq!(
        address.to_string(),
        "0x6c9f03c2dffD60A3592AbC92AdC210dF3e5c2dB0".to_lowercase()
    );
    assert_eq!(address.to_string(), eth_address_of_seed(&seed));
    // The ed25519 address of the same seed is another account.
    assert_ne!(key.address(), address);

    let digest = keccak(&[b"poie on-chain profile test vector"]);
    assert_eq!(
        hex::encode(digest),
        "424ee8e7c774c1c63b00b09d15830113a3ce2a1836043ccdc0266aff6d72165a"
    );
    let sig = key.sign_eth(&digest).expect("signs");
    // RFC 6979 nonces on both sides: the same signature, byte for byte.
    assert_eq!(
        hex::encode(sig),
        "8ed73eca3edb3234c2a1a1635682f4d0a344f26e27bc7ae9aa631bc7e32ff15d\
         01e0ff3096cfa6ceea2b56be4f41e36c067edbcc7ca50afea9be6a5cc3f939eb1b"
    );
    assert_eq!(
        poie::protocol::keys::recover_eth(&digest, &sig),
        Ok(address)
    );

    let known = SigningKey::from_bytes(
        &<[u8; 32]>::try_from(unhex(
            "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        ))
        .expect("32 bytes")
        .into(),
    )
    .expect("in range");
    assert_eq!(
        poie::protocol::keys::eth_address_of(known.verifying_key()).to_string(),
        "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23".to_lowercase()
    );
}

/// `poie vote --hash keccak` makes a version-4 vote: keccak salt commitment and windback
/// digest, the key's Ethereum address, an eth signature that recovers to it over the documented
/// message, and a valid check; `--hash blake3` still makes version 3 with blake3 commitments.
#[test]
fn cli_keccak_votes_are_version_4_with_keccak_commitments_and_check_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (off, eth) = setup(d);
    // The key's addresses, labelled; and a new key says its Ethereum address on stderr while
    // stdout stays the one address scripts read.
    let o = poie(d, &["key", "address", "k.key"]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o),
        format!(
            "address (off-chain, version-3 votes): {off}\nethereum address (on-chain, version-4 votes): {eth}\n"
        )
    );
    let o = poie(d, &["key", "new", "k2.key"]);
    assert_ok(&o);
    let seed2 = secret_file(&d.join("k2.key"));
    assert_eq!(stdout(&o).trim().len(), 42);
    assert!(
        stderr(&o).contains(&format!(
            "Ethereum address (on-chain, version-4 votes with --hash keccak): {}",
            eth_address_of_seed(&seed2)
        )),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains(&hex::encode(seed2)),
        "no secret in the output"
    );

    let v4 = vote(d, "keccak", "v4.json", "s4", "r4.json", &[]);
    let v3 = vote(d, "blake3", "v3.json", "s3", "r3.json", &[]);
    assert_eq!(v4["version"], 4);
    assert_eq!(v3["version"], 3);
    assert_eq!(v4["address"], eth.as_str());
    assert_eq!(v3["address"], off.as_str());
    assert_eq!(v4["public_key"], v3["public_key"]);
    assert!(v3.get("eth_signature").is_none());
    assert_eq!(read_json::<Value>(d.join("r4.json"))["version"], 4);
    assert_eq!(read_json::<Value>(d.join("r3.json"))["version"], 3);

    // The salt commitments.
    let (s4, s3) = (secret_file(&d.join("s4")), secret_file(&d.join("s3")));
    assert_eq!(
        v4["salt_commitment"],
        hex::encode(keccak(&[b"poie/v1/salt", &s4]))
    );
    let b3 = |parts: &[&[u8]]| {
        let mut h = blake3::Hasher::new();
        for p in parts {
            h.update(p);
        }
        *h.finalize().as_bytes()
    };
    assert_eq!(
        v3["salt_commitment"],
        hex::encode(b3(&[b"poie/v1/salt", &s3]))
    );

    // The windback digests, from the manifest's files: sort on in.txt, hello on nothing.
    let sort = poie::guests::find("sort").expect("sort").elf;
    let hello = poie::guests::find("hello").expect("hello").elf;
    let input = std::fs::read(d.join("in.txt")).expect("input");
    let count = 2u64.to_le_bytes();
    let (ks, ki, kh, ke) = (
        keccak(&[sort]),
        keccak(&[&input]),
        keccak(&[hello]),
        keccak(&[b""]),
    );
    assert_eq!(
        v4["windback"],
        hex::encode(keccak(&[b"poie/v1/windback", &count, &ks, &ki, &kh, &ke]))
    );
    let (bs, bi, bh, be) = (b3(&[sort]), b3(&[&input]), b3(&[hello]), b3(&[b""]));
    assert_eq!(
        v3["windback"],
        hex::encode(b3(&[b"poie/v1/windback", &count, &bs, &bi, &bh, &be]))
    );

    // The signatures over the message rebuilt here: ecrecover gives the address, and the
    // ed25519 signature verifies over the same bytes; version 3's ed25519 too.
    assert_eq!(ecrecover(&v4), eth);
    for v in [&v4, &v3] {
        let pk: [u8; 32] = unhex(v["public_key"].as_str().expect("key"))
            .try_into()
            .expect("32 bytes");
        let sig: [u8; 64] = unhex(v["signature"].as_str().expect("sig"))
            .try_into()
            .expect("64 bytes");
        ed25519_dalek::VerifyingKey::from_bytes(&pk)
            .expect("a key")
            .verify_strict(&message(v), &ed25519_dalek::Signature::from_bytes(&sig))
            .expect("the ed25519 signature verifies over the rebuilt message");
    }

    for (vote, reveal) in [("v4.json", "r4.json"), ("v3.json", "r3.json")] {
        let o = poie(d, &check_args(vote, reveal, "wb.txt"));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o).trim(), "valid");
    }
    // Each reveal is its own vote's: version 3's is not version 4's, whatever the salt.
    let o = poie(d, &check_args("v4.json", "r3.json", "wb.txt"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o).trim(), "invalid: the reveal is for another vote");
    let mut r = read_json::<Value>(d.join("r4.json"));
    r["version"] = 3.into();
    std::fs::write(d.join("r4as3.json"), r.to_string()).expect("write");
    let o = poie(d, &check_args("v4.json", "r4as3.json", "wb.txt"));
    assert_eq!(stdout(&o).trim(), "invalid: the reveal is for another vote");
    // The version-3 salt of a version-4 vote is refused by `poie reveal` too.
    let o = poie(d, &reveal_args("v4.json", "s3", "x.json"));
    refused(&o, 125, "is not the salt");
}

/// `text` with each run of 16 or more hex digits (a root, an address) replaced by `#`.
fn scrub(text: &str) -> String {
    let (mut out, mut run) = (String::new(), String::new());
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() >= 16 {
            out.push('#');
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Outcomes of each verifier on the lying and honest votes: the same for version 4 as for
/// version 3.
fn verdicts(d: &Path, hash: &str) -> Vec<(Option<i32>, String)> {
    let tag = hash;
    let (honest, lying) = (format!("h-{tag}.json"), format!("l-{tag}.json"));
    let (hs, ls) = (format!("h-{tag}.salt"), format!("l-{tag}.salt"));
    let (hr, lr) = (format!("hr-{tag}.json"), format!("lr-{tag}.json"));
    vote(d, hash, &honest, &hs, &hr, &[]);
    vote(d, hash, &lying, &ls, &lr, &["--lie-at", "1234"]);
    // The cut windback: the vote is for another.
    std::fs::write(d.join("wb1.txt"), "sort in.txt\n").expect("write");
    let run = |args: &[&str]| {
        let o = poie(d, args);
        // The first line of the verdict (stdout) or of the message (stderr), with the file
        // names' tag and the hex (roots, addresses: each profile's own) taken out, is what
        // must agree.
        let text = if stdout(&o).is_empty() {
            stderr(&o)
        } else {
            stdout(&o)
        };
        let first = text.lines().next().unwrap_or_default().replace(tag, "H");
        (o.status.code(), scrub(&first))
    };
    let mut out = vec![
        run(&check_args(&honest, &hr, "wb.txt")),
        run(&check_args(&lying, &lr, "wb.txt")),
        run(&check_args(&honest, &hr, "wb1.txt")),
        run(&check_args(&honest, &lr, "wb.txt")),
    ];
    // Audits: the honest vote passes; the liar cannot open its own vote.
    let (hc, lc) = (format!("hc-{tag}.json"), format!("lc-{tag}.json"));
    let (ho, lo) = (format!("ho-{tag}.json"), format!("lo-{tag}.json"));
    for (vote, salt, c, o) in [(&honest, &hs, &hc, &ho), (&lying, &ls, &lc, &lo)] {
        out.push(run(&[
            "audit-challenge",
            "--vote",
            vote,
            "--samples",
            "8",
            "--out",
            c,
        ]));
        out.push(run(&[
            "audit-respond",
            "--vote",
            vote,
            "--salt-file",
            salt,
            "--windback",
            "wb.txt",
            "--challenge",
            c,
            "--out",
            o,
        ]));
    }
    out.push(run(&[
        "audit",
        "--vote",
        &honest,
        "--reveal",
        &hr,
        "--windback",
        "wb.txt",
        "--challenge",
        &hc,
        "--openings",
        &ho,
    ]));
    // A leak claim with the executor's unique secret, before and after the reveal period.
    let (us, claim) = (format!("u-{tag}.secret"), format!("claim-{tag}.json"));
    out.push(run(&[
        "derive-secret",
        "--vote",
        &honest,
        "--salt-file",
        &hs,
        "--out",
        &us,
    ]));
    out.push(run(&[
        "leak-claim",
        "--vote",
        &honest,
        "--secret-file",
        &us,
        "--claimant",
        "0x00000000000000000000000000000000000000aa",
        "--at",
        "5",
        "--out",
        &claim,
    ]));
    for start in ["10", "5"] {
        let o = poie(
            d,
            &[
                "judge-leak",
                "--claim",
                &claim,
                "--vote",
                &honest,
                "--reveal",
                &hr,
                "--reveal-start",
                start,
            ],
        );
        // The executor's address differs between the profiles: compare the verdict's kind.
        let text = stdout(&o);
        out.push((
            o.status.code(),
            text.split(':').next().unwrap_or_default().to_string(),
        ));
        if start == "10" {
            let executor = read_json::<Value>(d.join(&honest))["address"].clone();
            assert!(text.contains(executor.as_str().expect("address")), "{text}");
        }
    }
    out
}

/// The drills and every verifier give a version-4 vote the verdicts they give version 3.
#[test]
fn dishonest_keccak_votes_get_the_verdicts_of_version_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    setup(d);
    let v4 = verdicts(d, "keccak");
    let v3 = verdicts(d, "blake3");
    assert_eq!(v4, v3);
    let said = |i: usize| v4[i].1.as_str();
    assert_eq!(v4[0], (Some(0), "valid".into()));
    assert_eq!(v4[1].0, Some(1));
    assert!(
        said(1).starts_with("bad proof: the root does not match"),
        "{}",
        said(1)
    );
    assert_eq!(said(2), "invalid: the vote is for another windback");
    assert_eq!(said(3), "invalid: the reveal is for another vote");
    for i in [4, 5, 6, 9, 10] {
        assert_eq!(v4[i].0, Some(0), "{}", said(i));
    }
    // The liar's audit response is refused: re-executing gives another root.
    assert_eq!(v4[7].0, Some(125));
    assert!(said(7).contains("another root"), "{}", said(7));
    assert_eq!(v4[8].0, Some(0));
    assert!(
        said(8).starts_with("passed: 8 sampled leaves"),
        "{}",
        said(8)
    );
    assert_eq!(v4[11], (Some(0), "slash".into()));
    assert_eq!(v4[12], (Some(1), "rejected".into()));
    // The version-4 vote's address is an Ethereum one, and its unique secret is keyed to it.
    let h4: Value = read_json(d.join("h-keccak.json"));
    assert_eq!(ecrecover(&h4), h4["address"].as_str().expect("address"));
}

/// The challenge game over TCP and the referee, on a lying version-4 vote: the executor signs
/// its replies with the vote's ed25519 key as in version 3, and loses at its lie.
#[test]
fn a_challenge_game_over_tcp_convicts_a_lying_version_4_vote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    setup(d);
    let v = vote(d, "keccak", "v.json", "s", "r.json", &["--lie-at", "1234"]);
    assert_eq!(v["version"], 4);
    // Another key is not the vote's: refused before any work.
    fixtures::key(d, "other.key");
    let o = poie(d, &fixtures::serve_args("other.key", "127.0.0.1:1", &[]));
    refused(&o, 125, "is not the vote's");
    let o = fixtures::serve_and_challenge(d, &["--lie-at", "1234"]);
    let out = stdout(&o);
    assert!(
        out.contains("executor loses: one step proves the executor wrong at step 1234"),
        "{out}{}",
        stderr(&o)
    );
    let o = poie(d, &referee_args());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("executor loses: one step proves the executor wrong at step 1234"),
        "{}",
        stdout(&o)
    );
    // The same last step judged on-chain (the contracts in revm): the same verdict, and the
    // transaction's gas.
    #[cfg(feature = "evm")]
    {
        let o = poie(d, &[referee_args(), vec!["--evm"]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("on-chain (judgeOpening in revm, PRAGUE): executor loses"),
            "{out}"
        );
        let gas = out
            .lines()
            .find_map(|l| l.strip_prefix("gas "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|g| g.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no gas line: {out}"));
        assert!((21_000..1_000_000).contains(&gas), "{out}");
    }
    // The referee needs the vote authentic: with its eth signature tampered, it refuses.
    let mut t = v.clone();
    t["eth_signature"] = flip(&v["eth_signature"], 0);
    std::fs::write(d.join("v.json"), t.to_string()).expect("write");
    let o = poie(d, &referee_args());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        "invalid transcript: the vote is not authentic, or the reveal is not its own"
    );
}

/// A hex string with the bits of its byte `at` flipped.
fn flip(hex_str: &Value, at: usize) -> Value {
    let mut b = unhex(hex_str.as_str().expect("hex"));
    b[at] ^= 0x5a;
    Value::String(hex::encode(b))
}

/// Version-4 files that are not what their version says are refused with errors saying what
/// is wrong: a tampered eth signature or swapped address (an invalid vote), a version-4 vote
/// over blake3, one without an eth signature and a version-3 vote carrying one (unreadable).
#[test]
fn forged_and_malformed_version_4_votes_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (off, _) = setup(d);
    let v4 = vote(d, "keccak", "v4.json", "s4", "r4.json", &[]);
    let v3 = vote(d, "blake3", "v3.json", "s3", "r3.json", &[]);
    let write = |name: &str, v: &Value| {
        std::fs::write(d.join(name), serde_json::to_string_pretty(v).expect("json")).expect("write")
    };
    let invalid = |name: &str, reveal: &str, why: &str| {
        let o = poie(d, &check_args(name, reveal, "wb.txt"));
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.starts_with("invalid: bad signature or address: ") && out.contains(why),
            "{name}: {out}"
        );
    };

    // r tampered: the signature recovers another address, or none.
    let mut t = v4.clone();
    t["eth_signature"] = flip(&v4["eth_signature"], 3);
    write("t1.json", &t);
    invalid("t1.json", "r4.json", "the eth signature");
    // v neither 27 nor 28.
    let mut sig = unhex(v4["eth_signature"].as_str().expect("sig"));
    sig[64] = 1;
    t["eth_signature"] = Value::String(hex::encode(&sig));
    write("t2.json", &t);
    invalid("t2.json", "r4.json", "its v is 1, not 27 or 28");
    // The high-s twin of the true signature: ecrecover would take it, the profile does not.
    let mut sig = unhex(v4["eth_signature"].as_str().expect("sig"));
    let s = Signature::from_slice(&sig[..64]).expect("valid");
    let (r, low) = s.split_scalars();
    let high = Signature::from_scalars(r.to_bytes(), (-*low).to_bytes()).expect("valid");
    sig[32..64].copy_from_slice(&high.to_bytes()[32..]);
    sig[64] ^= 27 ^ 28;
    t["eth_signature"] = Value::String(hex::encode(&sig));
    write("t3.json", &t);
    invalid("t3.json", "r4.json", "low-s");
    // The off-chain address in the on-chain vote (reveal to match): the ed25519 signature
    // over the message, which holds the address, no longer verifies; and signed again with
    // the ed25519 key (as its holder could), the eth signature does not recover to it.
    let mut swapped = v4.clone();
    swapped["address"] = off.as_str().into();
    write("t4.json", &swapped);
    let mut r = read_json::<Value>(d.join("r4.json"));
    r["address"] = off.as_str().into();
    write("t4r.json", &r);
    invalid(
        "t4.json",
        "t4r.json",
        "the ed25519 signature does not verify",
    );
    let ed = ed25519_dalek::SigningKey::from_bytes(&secret_file(&d.join("k.key")));
    use ed25519_dalek::Signer;
    swapped["signature"] = hex::encode(ed.sign(&message(&swapped)).to_bytes()).into();
    write("t4s.json", &swapped);
    // (It signed another message: it recovers to some other address, not to `off`.)
    invalid("t4s.json", "t4r.json", "the eth signature recovers to");
    invalid(
        "t4s.json",
        "t4r.json",
        &format!("not the vote's address {off}"),
    );
    // The ed25519 signature still guards the message.
    let mut t = v4.clone();
    t["signature"] = flip(&v4["signature"], 0);
    write("t5.json", &t);
    invalid(
        "t5.json",
        "r4.json",
        "the ed25519 signature does not verify",
    );

    // Unreadable: the profile's rules are checked when the file is read (exit 125).
    let unreadable = |name: &str, v: &Value, why: &str| {
        write(name, v);
        let o = poie(d, &check_args(name, "r4.json", "wb.txt"));
        refused(&o, 125, why);
        let o = poie(d, &["audit-challenge", "--vote", name, "--out", "c.json"]);
        refused(&o, 125, why);
    };
    let mut t = v4.clone();
    t["params"]["hash"] = "blake3".into();
    unreadable(
        "t6.json",
        &t,
        "a version-4 (on-chain) vote must use the keccak hash, not blake3",
    );
    let mut t = v4.clone();
    t.as_object_mut().expect("object").remove("eth_signature");
    unreadable(
        "t7.json",
        &t,
        "a version-4 (on-chain) vote must carry an eth_signature",
    );
    let mut t = v3.clone();
    t["eth_signature"] = v4["eth_signature"].clone();
    unreadable("t8.json", &t, "a version-3 vote carries no eth_signature");
    let mut t = v4.clone();
    t["version"] = 5.into();
    unreadable(
        "t9.json",
        &t,
        "unsupported vote version 5 (this poie reads version 3 or 4)",
    );
    // A version-3 vote relabelled 4 (keeping its blake3 hash): unreadable as well.
    let mut t = v3.clone();
    t["version"] = 4.into();
    unreadable("t10.json", &t, "must use the keccak hash");
    // And one over keccak relabelled: its eth signature is missing.
    let mut t = v4.clone();
    t["version"] = 3.into();
    unreadable("t11.json", &t, "a version-3 vote carries no eth_signature");
    // An audit of the tampered vote is refused before any nonce is drawn.
    let o = poie(
        d,
        &["audit-challenge", "--vote", "t1.json", "--out", "c.json"],
    );
    refused(&o, 125, "does not verify");
}
