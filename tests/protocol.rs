//! Votes, reveals and checks: the honest path and the cheating strategies a full check catches.

mod common;

use common::cli::{assert_ok, poie, stderr, stdout};
use common::fixtures::{self, check_args, read_json, referee_args, reveal, reveal_args, vote_args};
use poie::proof::{unique_secret, HashId, Hasher, Layout, Params, Prover, ProverConfig, Salt};
use poie::protocol::keys::Key;
use poie::protocol::vote::{self, check, Verdict, Vote, VOTE_VERSION};
use poie::protocol::windback::{self, Job};
use std::path::Path;

fn jobs() -> Vec<Job> {
    let sort = poie::guests::find("sort").expect("sort").elf.to_vec();
    let block = poie::guests::ledger::generate_block(4, 50).into_bytes();
    vec![
        Job {
            program: "sort".into(),
            elf: sort.clone().into(),
            input: b"300 7".to_vec().into(),
        },
        Job {
            program: "ledger".into(),
            elf: poie::guests::find("ledger").expect("ledger").elf.into(),
            input: block.into(),
        },
        Job {
            program: "sort".into(),
            elf: sort.into(),
            input: b"500 9".to_vec().into(),
        },
    ]
}

fn params() -> Params {
    Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 4,
            chained: true,
        },
    }
}

fn cfg() -> ProverConfig {
    ProverConfig {
        threads: 2,
        ..ProverConfig::default()
    }
}

/// The hasher of the executor with `key` and `salt`.
fn hasher(salt: &Salt, key: &Key) -> Hasher {
    Hasher::new(
        params().hash,
        unique_secret(params().hash, salt, &key.address()),
        cfg().simd,
    )
    .expect("backend")
}

/// The vote on `jobs` of an honest executor (key seed 1, salt 2).
fn honest_vote(jobs: &[Job]) -> Vote {
    vote::vote(
        &Key::from_seed(&[1; 32]),
        jobs,
        params(),
        cfg(),
        &Salt::from([2; 32]),
        u64::MAX,
    )
    .expect("votes")
}

#[test]
fn honest_vote_checks_valid() {
    let (key, salt, jobs) = (Key::from_seed(&[1; 32]), Salt::from([2; 32]), jobs());
    let v = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    assert!(v.authentic());
    assert_eq!(v.jobs.len(), 3);
    assert_eq!(v.jobs.iter().map(|j| j.steps).sum::<u64>(), v.n);
    // Each claim is the VM's state commitment (SPEC 1.6) before and after its job, decoded by
    // the referee's own reading of the header: status exited, the claimed step count.
    for (k, (job, claim)) in jobs.iter().zip(&v.jobs).enumerate() {
        let elf = job.elf.load().expect("in memory");
        let mut vm = poie::vm::Vm::new(&elf, job.input.load().expect("in memory")).expect("loads");
        assert_eq!(vm.state_commitment(k as u32, u64::MAX), claim.initial_state);
        vm.run(&mut poie::trace::NoTrace, u64::MAX).expect("runs");
        let end =
            poie_referee::Header::decode(&vm.state(k as u32, u64::MAX).encode()).expect("decodes");
        assert_eq!(end.commitment(), claim.state_root);
        assert_eq!(
            (end.status, end.steps, end.job),
            (poie_referee::Status::Exited, claim.steps, k as u32)
        );
    }
    assert_eq!(
        check(&v, &reveal(&v, salt), &jobs, cfg()).expect("checks"),
        Verdict::Valid
    );
    // The vote survives its JSON form.
    let back: Vote =
        serde_json::from_str(&serde_json::to_string(&v).expect("json")).expect("parses");
    assert_eq!(back, v);
}

#[test]
fn a_signed_n_other_than_the_replays_is_a_bad_proof_even_with_the_right_root() {
    // The root is right for the true length; the executor signs a longer (or shorter) `n`,
    // which is what bounds every verifier's replay. The vote is false, whatever its root.
    let (key, salt, jobs) = (Key::from_seed(&[3; 32]), Salt::from([4; 32]), jobs());
    let honest = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    for n in [honest.n + 1, honest.n - 1] {
        let mut v = honest.clone();
        v.n = n;
        v.sign(&key);
        assert!(v.authentic());
        let verdict = check(&v, &reveal(&v, salt), &jobs, cfg()).expect("checks");
        assert!(
            matches!(verdict, Verdict::BadProof { first_divergent: Some(i), expected_n } if i == n.min(honest.n) && expected_n == honest.n)
                || (n < honest.n && verdict == (Verdict::TraceTooLong { n })),
            "n = {n} (true {}): {verdict}",
            honest.n
        );
    }
}

#[test]
fn copycat_is_caught() {
    let jobs = jobs();
    let honest = honest_vote(&jobs);
    // The copycat re-signs the honest executor's results under its own key without executing.
    let copycat = Key::from_seed(&[3; 32]);
    let own_salt = Salt::from([4; 32]);
    let mut copied = honest.clone();
    copied.address = copycat.address();
    copied.public_key = copycat.public();
    // It commits to its own salt, which it will have to reveal.
    copied.salt_commitment = vote::salt_commitment(&own_salt);
    copied.sign(&copycat);
    assert!(copied.authentic());
    let verdict = check(&copied, &reveal(&copied, own_salt), &jobs, cfg()).expect("checks");
    assert_eq!(
        verdict,
        Verdict::BadProof {
            first_divergent: None,
            expected_n: honest.n
        }
    );
    // Passing the vote off unchanged fails on the signature's key.
    let mut stolen = honest.clone();
    stolen.address = copycat.address();
    assert_eq!(
        check(&stolen, &reveal(&stolen, own_salt), &jobs, cfg()).expect("checks"),
        Verdict::BadSignature
    );
}

#[test]
fn windback_skipping_is_caught_with_the_first_missing_index() {
    let jobs = jobs();
    let key = Key::from_seed(&[5; 32]);
    let salt = Salt::from([6; 32]);
    let honest = honest_vote(&jobs);
    // The skipper executes only the first job, copies the later state roots, and proves the
    // shorter trace under the full windback's digest.
    let h = hasher(&salt, &key);
    let mut prover = Prover::new(params(), h, cfg());
    let mut claims = windback::execute(&jobs[..1], &mut prover, u64::MAX).expect("runs");
    claims.extend_from_slice(&honest.jobs[1..]);
    let proof = prover.into_proof().expect("proof");
    let mut v = Vote {
        jobs: claims,
        n: proof.n,
        root: proof.root,
        ..honest.clone()
    };
    v.address = key.address();
    v.public_key = key.public();
    v.salt_commitment = vote::salt_commitment(&salt);
    v.sign(&key);
    let verdict = check(&v, &reveal(&v, salt), &jobs, cfg()).expect("checks");
    // Replay stops one chunk past the vote's n: the first missing leaf is index n.
    assert_eq!(verdict, Verdict::TraceTooLong { n: proof.n });
    assert!(honest.n > proof.n);
}

#[test]
fn wrong_state_root_signature_reveal_and_windback_are_caught() {
    let (key, salt, jobs) = (Key::from_seed(&[7; 32]), Salt::from([8; 32]), jobs());
    let v = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    let mut wrong = v.clone();
    wrong.jobs[1].state_root[0] ^= 1;
    wrong.sign(&key);
    assert_eq!(
        check(&wrong, &reveal(&wrong, salt), &jobs, cfg()).expect("checks"),
        Verdict::WrongStateRoot { job: 1 }
    );
    // Each job's claimed start: its initial state, its step count, and the number of jobs.
    let mut claims_wrong: Vec<Vote> = vec![v.clone(), v.clone(), v.clone(), v.clone()];
    claims_wrong[0].jobs[2].initial_state[31] ^= 1;
    claims_wrong[1].jobs[0].steps += 1;
    claims_wrong[2].jobs.pop();
    let extra = claims_wrong[3].jobs[0];
    claims_wrong[3].jobs.push(extra);
    for (wrong, job) in claims_wrong.iter_mut().zip([2, 0, 2, 3]) {
        wrong.sign(&key);
        assert_eq!(
            check(wrong, &reveal(wrong, salt), &jobs, cfg()).expect("checks"),
            Verdict::WrongJobStart { job }
        );
    }

    let mut forged = v.clone();
    forged.signature[10] ^= 1;
    assert_eq!(
        check(&forged, &reveal(&v, salt), &jobs, cfg()).expect("checks"),
        Verdict::BadSignature
    );

    let mut other_reveal = reveal(&v, salt);
    other_reveal.root[0] ^= 1;
    assert_eq!(
        check(&v, &other_reveal, &jobs, cfg()).expect("checks"),
        Verdict::RevealMismatch
    );

    // A salt the vote did not commit to is refused before any work.
    let wrong_salt = reveal(&v, Salt::from([9; 32]));
    assert_eq!(
        check(&v, &wrong_salt, &jobs, cfg()).expect("checks"),
        Verdict::RevealMismatch
    );
    // A vote committing to a salt other than the one its proof used: a bad proof.
    let mut mismatched = v.clone();
    mismatched.salt_commitment = vote::salt_commitment(&Salt::from([9; 32]));
    mismatched.sign(&key);
    assert!(matches!(
        check(&mismatched, &wrong_salt, &jobs, cfg()).expect("checks"),
        Verdict::BadProof { .. }
    ));

    assert_eq!(
        check(&v, &reveal(&v, salt), &jobs[..2], cfg()).expect("checks"),
        Verdict::WindbackMismatch
    );
}

#[test]
fn cli_key_vote_reveal_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let printed = fixtures::windback_and_key(d, "400 3", "# a windback\nsort in.txt\nhello\n");
    fixtures::assert_private(&d.join("k.key"));
    let o = poie(
        d,
        &vote_args("v.salt", &["--lanes", "8", "--out", "vote.json"]),
    );
    assert_ok(&o);
    fixtures::assert_private(&d.join("v.salt"));
    assert!(poie(d, &reveal_args("vote.json", "v.salt", "reveal.json"))
        .status
        .success());
    let o = poie(d, &check_args("vote.json", "reveal.json", "wb.txt"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "valid");
    one_spelling_of_the_address_everywhere(d, &printed);
    // A second vote refuses to reuse a salt file.
    let o = poie(d, &vote_args("v.salt", &[]));
    assert!(!o.status.success());
    tampered_votes_are_invalid_and_malformed_files_errors(d);
}

/// What `key new` printed, `0x` + 40 hex digits, in the vote and the reveal; files with the
/// bare 40 digits (older files) are still read.
fn one_spelling_of_the_address_everywhere(d: &Path, printed: &str) {
    assert!(
        printed.starts_with("0x") && printed.len() == 42,
        "{printed}"
    );
    let json = |name: &str| -> serde_json::Value { read_json(d.join(name)) };
    assert_eq!(json("vote.json")["address"], printed);
    assert_eq!(json("reveal.json")["address"], printed);
    for name in ["vote.json", "reveal.json"] {
        let text = std::fs::read_to_string(d.join(name)).expect("file");
        let bare = text.replace(printed, &printed[2..]);
        assert_ne!(bare, text);
        std::fs::write(d.join(format!("bare-{name}")), bare).expect("write");
    }
    let o = poie(
        d,
        &check_args("bare-vote.json", "bare-reveal.json", "wb.txt"),
    );
    assert_eq!(stdout(&o).trim(), "valid", "{}", stderr(&o));
}

/// A tampered vote file is invalid (exit 1); a malformed vote or windback is an error (125).
fn tampered_votes_are_invalid_and_malformed_files_errors(d: &Path) {
    let text = std::fs::read_to_string(d.join("vote.json")).expect("vote");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let n = v["n"].as_u64().expect("n");
    std::fs::write(
        d.join("bad.json"),
        text.replace(&format!("\"n\": {n}"), &format!("\"n\": {}", n + 1)),
    )
    .expect("write");
    let o = poie(d, &check_args("bad.json", "reveal.json", "wb.txt"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("bad signature"));
    std::fs::write(d.join("junk.json"), "{\"version\": 1}").expect("write");
    let o = poie(d, &check_args("junk.json", "reveal.json", "wb.txt"));
    assert_eq!(o.status.code(), Some(125));
    std::fs::write(d.join("wb2.txt"), "sort a b c\n").expect("write");
    let o = poie(d, &check_args("vote.json", "reveal.json", "wb2.txt"));
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
}

fn audit_challenge(v: &Vote, nonce: u8, samples: u32) -> poie::protocol::audit::AuditChallenge {
    poie::protocol::audit::AuditChallenge {
        version: poie::protocol::audit::AUDIT_VERSION,
        root: v.root,
        nonce: [nonce; 32],
        samples,
    }
}

#[test]
fn audit_passes_honest_openings_and_catches_bad_ones() {
    use poie::protocol::audit::{audit, challenge, respond, AuditVerdict};
    let (key, salt, jobs) = (Key::from_seed(&[11; 32]), Salt::from([12; 32]), jobs());
    let v = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    let r = reveal(&v, salt);
    let c = challenge(&v, 8).expect("challenges");
    let idx = c.indices(v.n);
    assert_eq!(idx.len(), 8);
    assert!(idx.iter().all(|&i| i < v.n));
    assert_ne!(
        idx,
        challenge(&v, 8).expect("challenges").indices(v.n),
        "every challenge draws a fresh nonce, so fresh indices"
    );
    let resp = respond(&v, &salt, &jobs, &c, cfg()).expect("responds");
    assert_eq!(
        audit(&v, &r, &jobs, &c, &resp).expect("audits"),
        AuditVerdict::Passed { samples: 8 }
    );
    // A response to another challenge (say, one the executor drew itself) is not an answer.
    let other = audit_challenge(&v, 1, 8);
    let resp_other = respond(&v, &salt, &jobs, &other, cfg()).expect("responds");
    assert_eq!(
        audit(&v, &r, &jobs, &c, &resp_other).expect("audits"),
        AuditVerdict::NotThisChallenge
    );
    let mut forged = resp_other.clone();
    forged.nonce = c.nonce;
    assert!(matches!(
        audit(&v, &r, &jobs, &c, &forged).expect("audits"),
        AuditVerdict::BadOpening { .. }
    ));

    let mut bad = resp.clone();
    bad.openings[3].chunk[0] ^= 1;
    assert!(
        matches!(audit(&v, &r, &jobs, &c, &bad).expect("audits"), AuditVerdict::BadOpening { index, .. } if index == idx[3])
    );
    let mut bad = resp.clone();
    bad.openings[5].lane_branch[0][0] ^= 1;
    assert!(matches!(
        audit(&v, &r, &jobs, &c, &bad).expect("audits"),
        AuditVerdict::BadOpening { .. }
    ));
    // A challenge of no samples (or too many) is refused, not passed; so is an extra opening.
    for samples in [0, poie::protocol::audit::MAX_SAMPLES + 1] {
        let mut none = c.clone();
        none.samples = samples;
        assert!(audit(&v, &r, &jobs, &none, &resp).is_err(), "{samples}");
    }
    let mut bad = resp.clone();
    bad.openings.push(resp.openings[0].clone());
    assert!(matches!(
        audit(&v, &r, &jobs, &c, &bad).expect("audits"),
        AuditVerdict::BadOpening { .. }
    ));
    let mut bad = resp.clone();
    bad.openings.truncate(7);
    assert!(matches!(
        audit(&v, &r, &jobs, &c, &bad).expect("audits"),
        AuditVerdict::BadOpening { .. }
    ));
    // Openings of an executor that proved another trace cannot match this execution.
    let lazy_jobs = vec![jobs[0].clone(), jobs[0].clone(), jobs[2].clone()];
    let honest_lazy =
        vote::vote(&key, &lazy_jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    let lazy_c = audit_challenge(&honest_lazy, 2, 8);
    let lazy_resp = respond(&honest_lazy, &salt, &lazy_jobs, &lazy_c, cfg()).expect("responds");
    let mut lazy = honest_lazy.clone();
    lazy.windback = v.windback;
    lazy.jobs = v.jobs.clone();
    lazy.sign(&key);
    // Our own `respond` refuses to open a vote for another windback than it is given, and a
    // challenge for another vote.
    assert!(respond(&lazy, &salt, &lazy_jobs, &lazy_c, cfg()).is_err());
    assert!(respond(&v, &salt, &jobs, &lazy_c, cfg()).is_err());
    let verdict = audit(&lazy, &reveal(&lazy, salt), &jobs, &lazy_c, &lazy_resp).expect("audits");
    assert!(!matches!(verdict, AuditVerdict::Passed { .. }), "{verdict}");
    // An auditor refuses to challenge a vote whose signature does not verify.
    let mut unsigned = v.clone();
    unsigned.root[0] ^= 1;
    assert!(challenge(&unsigned, 8).is_err());
}

/// The grinding attack on audits whose indices came from the root alone: a cheater executes
/// half the windback, fills the rest with zeros and varies the last chunk until every index
/// derived from its root lands in the honest half. With the auditor's nonce drawn after the
/// vote, the ground root is worth nothing: the cheater's openings fail.
#[test]
fn a_root_ground_for_good_indices_fails_the_nonce_audit() {
    use poie::proof::opening::OpeningCollector;
    use poie::protocol::audit::{audit, AuditResponse, AuditVerdict, AUDIT_VERSION};
    use poie::trace::{Tee, TraceSink, VecSink};
    let (key, salt, jobs) = (Key::from_seed(&[21; 32]), Salt::from([22; 32]), jobs());
    let honest = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    let mut trace = VecSink::default();
    windback::execute(&jobs, &mut trace, u64::MAX).expect("runs");
    let n = honest.n;
    let half = n / 2;
    let mut fake = trace.0.clone();
    fake[half as usize..].fill([0; 32]);
    let h = hasher(&salt, &key);
    let root_of = |t: &[[u8; 32]]| {
        let mut p = Prover::new(params(), h.clone(), cfg());
        p.consume(t).expect("consume");
        p.into_proof().expect("proof").root
    };
    // The old rule: `blake3("poie/v1/audit" || root || k)` mod n, 4 samples.
    let old_indices = |root: &[u8; 32]| -> Vec<u64> {
        (0u32..4)
            .map(|k| {
                let d = blake3::Hasher::new()
                    .update(b"poie/v1/audit")
                    .update(root)
                    .update(&k.to_le_bytes())
                    .finalize();
                u64::from_le_bytes(d.as_bytes()[..8].try_into().expect("8 bytes")) % n
            })
            .collect()
    };
    let mut tries = 0u32;
    let root = loop {
        tries += 1;
        fake[n as usize - 1] = [0; 32];
        fake[n as usize - 1][..4].copy_from_slice(&tries.to_le_bytes());
        let root = root_of(&fake);
        if old_indices(&root).iter().all(|&i| i < half) {
            break root;
        }
        assert!(tries < 10_000, "grinding 4 indices takes about 16 tries");
    };
    let mut cheat = honest.clone();
    cheat.root = root;
    cheat.sign(&key);
    let r = reveal(&cheat, salt);
    // The auditor's nonce comes after the vote; the cheater opens its own (fake) tree.
    let c = audit_challenge(&cheat, 0x5a, 16);
    let mut tee = Tee(
        Prover::new(params(), h.clone(), cfg()),
        OpeningCollector::new(h.clone(), params(), n, &c.indices(n)).expect("in range"),
    );
    tee.consume(&fake).expect("consume");
    let proof = tee.0.into_proof().expect("proof");
    assert_eq!(proof.root, root);
    let resp = AuditResponse {
        version: AUDIT_VERSION,
        root,
        nonce: c.nonce,
        openings: tee.1.into_openings(&proof.lane_roots).expect("opens"),
    };
    let verdict = audit(&cheat, &r, &jobs, &c, &resp).expect("audits");
    assert!(
        matches!(verdict, AuditVerdict::BadOpening { index, .. } if index >= half),
        "{verdict}"
    );
}

#[test]
fn outsourcing_is_caught_by_a_leak_claim_and_false_or_late_claims_are_rejected() {
    use poie::protocol::leak::{claim, judge, LeakVerdict};
    let (key, salt, jobs) = (Key::from_seed(&[13; 32]), Salt::from([14; 32]), jobs());
    let v = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    let r = reveal(&v, salt);
    // To outsource, the executor must hand the worker its unique secret; the worker blows the
    // whistle before the reveal period (which starts at 10).
    let leaked = unique_secret(v.params.hash, &salt, &v.address);
    let worker = Key::from_seed(&[15; 32]).address();
    assert_eq!(
        judge(&claim(&v, leaked, worker, 5), &v, &r, 10),
        LeakVerdict::Slash {
            executor: v.address,
            claimant: worker
        }
    );
    // A guessed secret, a late claim and a claim against another vote are rejected: an honest
    // executor is never slashed.
    assert!(matches!(
        judge(&claim(&v, [0; 32], worker, 5), &v, &r, 10),
        LeakVerdict::Rejected(_)
    ));
    assert!(
        matches!(judge(&claim(&v, leaked, worker, 10), &v, &r, 10), LeakVerdict::Rejected(w) if w.contains("expired"))
    );
    let mut other = claim(&v, leaked, worker, 5);
    other.root[0] ^= 1;
    assert!(matches!(
        judge(&other, &v, &r, 10),
        LeakVerdict::Rejected(_)
    ));
    // Framing: the victim's published vote with its salt commitment swapped for one of a salt
    // the framer holds. The forged vote's reveal, secret and claim are all consistent with each
    // other, but the victim never signed that vote: the claim is rejected.
    let evil = Salt::from([99; 32]);
    let mut forged = v.clone();
    forged.salt_commitment = vote::salt_commitment(&evil);
    let forged_reveal = reveal(&forged, evil);
    let framed = claim(&forged, forged.unique_secret(&evil), worker, 5);
    assert!(
        matches!(judge(&framed, &forged, &forged_reveal, 10), LeakVerdict::Rejected(ref w) if w.contains("not signed")),
        "{}",
        judge(&framed, &forged, &forged_reveal, 10)
    );
}

#[test]
fn self_pooling_works_one_execution_feeds_two_identities() {
    // Not prevented by design (docs/PROTOCOL.md): the owner of two identities executes once and
    // hashes the same trace once per secret. Both votes check valid.
    let jobs = jobs();
    let (a, b) = (Key::from_seed(&[21; 32]), Key::from_seed(&[22; 32]));
    let (sa, sb) = (Salt::from([23; 32]), Salt::from([24; 32]));
    let (ha, hb) = (hasher(&sa, &a), hasher(&sb, &b));
    let mut both = poie::trace::Tee(
        Prover::new(params(), ha, cfg()),
        Prover::new(params(), hb, cfg()),
    );
    let claims = windback::execute(&jobs, &mut both, u64::MAX).expect("one execution");
    let poie::trace::Tee(pa, pb) = both;
    for (key, salt, proof) in [
        (&a, sa, pa.into_proof().expect("proof")),
        (&b, sb, pb.into_proof().expect("proof")),
    ] {
        let mut v = Vote {
            version: VOTE_VERSION,
            address: key.address(),
            public_key: key.public(),
            salt_commitment: vote::salt_commitment(&salt),
            windback: windback::digest(&jobs),
            jobs: claims.clone(),
            n: proof.n,
            max_steps: u64::MAX,
            params: params(),
            root: proof.root,
            signature: [0; 64],
            eth_signature: None,
        };
        v.sign(key);
        assert_eq!(
            check(&v, &reveal(&v, salt), &jobs, cfg()).expect("checks"),
            Verdict::Valid
        );
    }
}

#[test]
fn cli_serve_challenge_referee_over_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures::windback_and_key(d, "300 3", "sort in.txt\nhello\n");
    // A lying executor: votes on (and later serves) a trace with step 1234 corrupted.
    let lie = ["--lie-at", "1234"];
    let o = poie(
        d,
        &vote_args(
            "s",
            &["--lanes", "4", "--lie-at", "1234", "--out", "v.json"],
        ),
    );
    assert_ok(&o);
    assert!(poie(d, &reveal_args("v.json", "s", "r.json"))
        .status
        .success());
    let o = fixtures::serve_and_challenge(d, &lie);
    let out = stdout(&o);
    assert!(
        out.contains("executor loses: one step proves the executor wrong at step 1234"),
        "{out}{}",
        stderr(&o)
    );
    let referee = || poie(d, &referee_args());
    let o = referee();
    assert!(stdout(&o).contains("executor loses: one step proves the executor wrong at step 1234"));
    assert_eq!(o.status.code(), Some(0));
    // The conviction rests on the executor's signature over its opening: altered, the same
    // transcript proves nothing.
    let mut t: serde_json::Value = read_json(d.join("t.json"));
    let leaf = t["entries"]
        .as_array_mut()
        .and_then(|e| e.iter_mut().find(|e| e["msg"]["type"] == "leaf"))
        .expect("the opening");
    let sig = leaf["sig"].as_str().expect("a signed opening");
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    leaf["sig"] = serde_json::Value::String(format!("{flipped}{}", &sig[1..]));
    std::fs::write(d.join("t.json"), serde_json::to_vec(&t).expect("json")).expect("write");
    let o = referee();
    let out = stdout(&o);
    assert!(out.starts_with("unproven: the signature of reply"), "{out}");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn simulate_is_deterministic_and_catches_each_strategy_by_its_mechanism() {
    use poie::protocol::simulate::{run, Config, Strategy};
    let cfg = Config {
        seed: 7,
        strategies: Strategy::ALL.to_vec(),
        blocks: 2,
        transfers: 20,
        stake: 100,
        params: params(),
        prover: cfg(),
    };
    let (rows, stakes) = run(&cfg).expect("simulates");
    let (rows2, stakes2) = run(&cfg).expect("simulates");
    assert_eq!(
        (&rows, &stakes),
        (&rows2, &stakes2),
        "same seed, same epoch"
    );
    let by = |s: Strategy| rows.iter().find(|r| r.strategy == s).expect("row");
    assert!(!by(Strategy::Honest).caught && by(Strategy::Honest).stake_lost == 0);
    assert!(by(Strategy::Copycat)
        .mechanism
        .starts_with("challenge game"));
    assert!(by(Strategy::Skipper).mechanism.contains("trace ends early"));
    assert_eq!(by(Strategy::OutsourcerCaught).mechanism, "leak claim");
    assert!(
        !by(Strategy::OutsourcerQuiet).caught,
        "without a whistleblower outsourcing is not detectable"
    );
    let pooler = by(Strategy::SelfPooler);
    assert!(!pooler.caught, "self-pooling is not prevented");
    assert_eq!(
        pooler.chunks_hashed,
        2 * pooler.steps_executed,
        "one execution, two hashings"
    );
    assert!(by(Strategy::WrongStateRoot)
        .mechanism
        .contains("wrong state root"));
    // Slashed stakes are gone; the whistleblower got half of one.
    assert_eq!(stakes.values().filter(|&&v| v == 0).count(), 4);
    assert!(stakes.values().any(|&v| v == 50));
}

#[test]
fn cli_simulate_writes_stakes_only_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let small = [
        "simulate",
        "--seed",
        "3",
        "--transfers",
        "20",
        "--lanes",
        "4",
    ];
    let o = poie(d, &small);
    assert_ok(&o);
    assert!(stdout(&o).contains("| executor |"));
    let left: Vec<_> = std::fs::read_dir(d).expect("dir").collect();
    assert!(left.is_empty(), "simulate wrote {left:?} unasked");
    let mut args = small.to_vec();
    args.extend_from_slice(&["--out", "stakes.json"]);
    let o = poie(d, &args);
    assert_ok(&o);
    let stakes: std::collections::BTreeMap<String, u64> = read_json(d.join("stakes.json"));
    assert!(stakes.len() >= 7, "{stakes:?}");
    assert!(
        stakes.keys().all(|a| a.starts_with("0x") && a.len() == 42),
        "{stakes:?}"
    );
}

/// A vote may not demand unbounded work: `n` beyond the protocol's cap makes it invalid, a
/// verdict every verifier reaches before any work (here before even comparing the windback,
/// which it is not: the jobs given are another windback's).
#[test]
fn a_vote_beyond_the_chunk_cap_is_invalid_before_any_work() {
    use poie::protocol::audit::{self, AuditVerdict};
    use poie::protocol::challenge::{SetupError, Tree};
    use poie::protocol::vote::MAX_VOTE_CHUNKS;
    let (key, salt, jobs) = (Key::from_seed(&[31; 32]), Salt::from([32; 32]), jobs());
    let honest = vote::vote(&key, &jobs, params(), cfg(), &salt, u64::MAX).expect("votes");
    let r = reveal(&honest, salt);
    let other_jobs = vec![jobs[0].clone()];
    let mut inflated = honest.clone();
    inflated.n = MAX_VOTE_CHUNKS + 1;
    inflated.sign(&key);
    assert!(inflated.authentic());
    assert_eq!(
        check(&inflated, &r, &other_jobs, cfg()).expect("checks"),
        Verdict::BeyondCap(inflated.within_cap().expect_err("beyond"))
    );
    let c = audit_challenge(&inflated, 4, 8);
    let resp = audit::respond(
        &honest,
        &salt,
        &jobs,
        &audit_challenge(&honest, 4, 8),
        cfg(),
    )
    .expect("responds");
    assert_eq!(
        audit::audit(&inflated, &r, &other_jobs, &c, &resp).expect("audits"),
        AuditVerdict::BeyondCap(inflated.within_cap().expect_err("beyond"))
    );
    assert!(audit::respond(&inflated, &salt, &jobs, &c, cfg()).is_err());
    assert!(matches!(
        Tree::correct(&inflated, &r, &other_jobs),
        Err(SetupError::BeyondCap(_))
    ));
    let mut many_jobs = honest.clone();
    many_jobs.jobs = vec![honest.jobs[0]; poie::protocol::windback::MAX_JOBS + 1];
    many_jobs.sign(&key);
    assert!(matches!(
        check(&many_jobs, &r, &other_jobs, cfg()).expect("checks"),
        Verdict::BeyondCap(_)
    ));
    // At the cap itself the vote is judged on its merits (its trace is shorter than it says).
    let mut at_cap = honest.clone();
    at_cap.n = MAX_VOTE_CHUNKS;
    at_cap.sign(&key);
    assert!(matches!(
        check(&at_cap, &r, &jobs, cfg()).expect("checks"),
        Verdict::BadProof { .. }
    ));
}
