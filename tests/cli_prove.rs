//! `poie salt`, `prove`, `open`, `verify-opening` end to end, including bad files and secrets.

mod common;

use common::cli::{assert_ok, poie, stderr, stdout};
use common::fixtures::{self, read_json};
use std::path::Path;
use std::process::Output;

const ADDR: &str = "0x00112233445566778899aabbccddeeff00112233";

/// The sort guest on the input in.txt.
const SORT: [&str; 3] = ["sort", "--input", "in.txt"];

/// A folder with the salt s.salt and the input in.txt.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fixtures::salt(dir.path(), "s.salt");
    std::fs::write(dir.path().join("in.txt"), "2000 3").expect("write");
    dir
}

/// `poie prove SOURCE --salt-file SALT --address ADDRESS`, then `extra`.
fn prove_with(dir: &Path, source: &[&str], salt: &str, address: &str, extra: &[&str]) -> Output {
    let mut args = vec!["prove"];
    args.extend_from_slice(source);
    args.extend_from_slice(&["--salt-file", salt, "--address", address]);
    args.extend_from_slice(extra);
    poie(dir, &args)
}

/// `poie prove` of [`SORT`] with the salt s.salt and the address [`ADDR`], then `extra`.
fn prove(dir: &Path, extra: &[&str]) -> Output {
    prove_with(dir, &SORT, "s.salt", ADDR, extra)
}

/// `poie open sort --input INPUT --commitment COMMITMENT --salt-file SALT --index INDEX`, then
/// `extra`.
fn open(
    dir: &Path,
    input: &str,
    commitment: &str,
    salt: &str,
    index: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "open",
        "sort",
        "--input",
        input,
        "--commitment",
        commitment,
        "--salt-file",
        salt,
        "--index",
        index,
    ];
    args.extend_from_slice(extra);
    poie(dir, &args)
}

/// `poie verify-opening --commitment c.json --opening OPENING --salt-file SALT`.
fn verify_opening(dir: &Path, opening: &str, salt: &str) -> Output {
    poie(
        dir,
        &[
            "verify-opening",
            "--commitment",
            "c.json",
            "--opening",
            opening,
            "--salt-file",
            salt,
        ],
    )
}

#[test]
fn salt_file_is_private_and_never_overwritten_or_printed() {
    let dir = setup();
    let path = dir.path().join("s.salt");
    fixtures::assert_private(&path);
    let text = std::fs::read_to_string(&path).expect("salt");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("poie-salt-v1"));
    let salt = lines.next().expect("hex line").to_string();
    assert_eq!(salt.len(), 64);
    let o = poie(dir.path(), &["salt", "new", "s.salt"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("refusing to overwrite"));
    assert_eq!(std::fs::read_to_string(&path).expect("salt"), text);
    let o = prove(dir.path(), &["--out", "c.json"]);
    assert_ok(&o);
    assert!(stderr(&o).contains("wrote c.json"), "{}", stderr(&o));
    let all = format!(
        "{}{}{}",
        stderr(&o),
        stdout(&o),
        std::fs::read_to_string(dir.path().join("c.json")).expect("c")
    );
    assert!(!all.contains(&salt), "the salt leaked into output");
}

#[test]
fn prove_open_verify_round_trip_and_tampering() {
    let dir = setup();
    let d = dir.path();
    let n = four_lane_commitment(d);
    for index in [0, n / 2, n - 1] {
        open_and_verify(d, index);
    }
    a_tampered_opening_is_invalid(d);
    a_wrong_salt_or_input_cannot_open(d);
}

/// Commits to the sort run on 4 lanes in c.json, checks the root is the same for any threads,
/// SIMD or batch, and returns the trace length.
fn four_lane_commitment(d: &Path) -> u64 {
    let o = prove(d, &["--lanes", "4", "--out", "c.json"]);
    assert_ok(&o);
    let c: serde_json::Value = read_json(d.join("c.json"));
    assert_eq!(c["params"]["layout"]["lanes"], 4);
    assert_eq!(c["source"]["outcome"], "exited with status 0");
    for extra in [
        ["--threads", "0"],
        ["--threads", "3"],
        ["--simd", "portable"],
        ["--batch", "10"],
    ] {
        let mut args = vec!["--lanes", "4"];
        args.extend_from_slice(&extra);
        let o = prove(d, &args);
        let c2: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(c2["root"], c["root"], "{extra:?}");
    }
    c["n"].as_u64().expect("n")
}

/// Opens chunk `index` of c.json into o.json, which verifies.
fn open_and_verify(d: &Path, index: u64) {
    let i = index.to_string();
    assert_ok(&open(
        d,
        "in.txt",
        "c.json",
        "s.salt",
        &i,
        &["--out", "o.json"],
    ));
    let o = verify_opening(d, "o.json", "s.salt");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("valid"));
}

/// A tampered opening is invalid (exit 1), not an error.
fn a_tampered_opening_is_invalid(d: &Path) {
    let mut v: serde_json::Value = read_json(d.join("o.json"));
    let chunk = v["chunk"].as_str().expect("hex").to_string();
    let first = if chunk.starts_with('0') { '1' } else { '0' };
    let flipped = format!("{first}{}", &chunk[1..]);
    v["chunk"] = serde_json::Value::String(flipped);
    std::fs::write(d.join("bad.json"), v.to_string()).expect("write");
    let o = verify_opening(d, "bad.json", "s.salt");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("invalid"));
}

/// Neither a wrong salt nor a different input opens c.json, and a genuine opening checked with
/// a wrong salt is invalid.
fn a_wrong_salt_or_input_cannot_open(d: &Path) {
    fixtures::salt(d, "other.salt");
    let o = open(d, "in.txt", "c.json", "other.salt", "3", &[]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("wrong salt"), "{}", stderr(&o));
    // The message says the salt (or the executor) may be what is wrong, not only the opening.
    let o = verify_opening(d, "o.json", "other.salt");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("invalid: "), "{out}");
    assert!(
        out.contains("the salt file is not the executor's revealed salt")
            && out.contains(&ADDR[2..]),
        "{out}"
    );
    std::fs::write(d.join("in2.txt"), "2000 4").expect("write");
    let o = open(d, "in2.txt", "c.json", "s.salt", "3", &[]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
}

#[test]
fn bad_files_and_arguments_give_clear_errors() {
    let dir = setup();
    let d = dir.path();
    assert!(prove(d, &["--out", "c.json"]).status.success());
    bad_commitment_files_are_refused(d);
    bad_salts_addresses_and_options_are_refused(d);
    a_failed_prove_leaves_its_output_intact(d);
}

/// Truncated, garbage, unknown-version and impossible-layout copies of c.json.
fn bad_commitment_files_are_refused(d: &Path) {
    let good = std::fs::read_to_string(d.join("c.json")).expect("c");
    let cases: [(&str, String, &str); 4] = [
        (
            "trunc.json",
            good[..good.len() / 2].to_string(),
            "not a valid commitment file",
        ),
        (
            "garbage.json",
            "\u{0}\u{1}garbage".into(),
            "not a valid commitment file",
        ),
        (
            "v9.json",
            good.replace("\"version\": 1", "\"version\": 9"),
            "unsupported commitment version 9",
        ),
        (
            "lanes0.json",
            good.replace("\"lanes\": 16", "\"lanes\": 0"),
            "lanes must be at least 1",
        ),
    ];
    for (name, text, msg) in cases {
        std::fs::write(d.join(name), text).expect("write");
        let o = open(d, "in.txt", name, "s.salt", "0", &[]);
        assert_eq!(o.status.code(), Some(125), "{name}");
        assert!(stderr(&o).contains(msg), "{name}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

fn bad_salts_addresses_and_options_are_refused(d: &Path) {
    std::fs::write(d.join("short.salt"), "poie-salt-v1\nabcd").expect("write");
    let o = prove_with(d, &["hello"], "short.salt", ADDR, &[]);
    assert!(
        stderr(&o).contains("expected 64 hex characters"),
        "{}",
        stderr(&o)
    );
    let o = prove_with(d, &["hello"], "s.salt", "0x1234", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad address"), "{}", stderr(&o));
    let o = prove_with(d, &["hello"], "s.salt", ADDR, &["--simd", "neon"]);
    assert!(
        stderr(&o).contains("unknown SIMD backend"),
        "{}",
        stderr(&o)
    );
    let o = prove_with(d, &["hello"], "s.salt", ADDR, &["--lanes", "0"]);
    assert!(
        stderr(&o).contains("lanes must be at least 1"),
        "{}",
        stderr(&o)
    );
}

/// A trace file of a ragged length is refused, and an existing output is left intact.
fn a_failed_prove_leaves_its_output_intact(d: &Path) {
    std::fs::write(d.join("ragged.trace"), [0u8; 33]).expect("write");
    let ragged = ["--trace-file", "ragged.trace"];
    let o = prove_with(d, &ragged, "s.salt", ADDR, &[]);
    assert!(
        stderr(&o).contains("not a whole number of 32-byte chunks"),
        "{}",
        stderr(&o)
    );
    std::fs::write(d.join("keep.json"), "precious").expect("write");
    let o = prove_with(d, &ragged, "s.salt", ADDR, &["--out", "keep.json"]);
    assert!(!o.status.success());
    assert_eq!(
        std::fs::read_to_string(d.join("keep.json")).expect("keep"),
        "precious"
    );
}

#[test]
fn recorded_and_synthetic_sources_prove() {
    let dir = setup();
    let d = dir.path();
    let o = poie(
        d,
        &["run", "sort", "--input", "in.txt", "--trace-out", "t.trace"],
    );
    assert!(o.status.success());
    let from_vm = prove(d, &[]);
    let from_file = prove_with(d, &["--trace-file", "t.trace"], "s.salt", ADDR, &[]);
    let root = |o: &Output| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")["root"].clone()
    };
    assert_eq!(root(&from_vm), root(&from_file));
    let s1 = prove_with(d, &["--synthetic", "5000"], "s.salt", ADDR, &[]);
    let s2 = prove_with(
        d,
        &["--synthetic", "5000", "--seed", "1"],
        "s.salt",
        ADDR,
        &[],
    );
    assert!(s1.status.success() && s2.status.success());
    assert_ne!(root(&s1), root(&s2));
}

#[test]
fn addresses_are_written_with_0x_and_read_with_or_without() {
    let dir = setup();
    let d = dir.path();
    let o = prove(d, &["--out", "c.json"]);
    assert_ok(&o);
    let c: serde_json::Value = read_json(d.join("c.json"));
    assert_eq!(c["address"], ADDR);
    // The bare 40 hex digits are the same address: same root.
    let o = prove_with(d, &SORT, "s.salt", &ADDR[2..], &[]);
    assert_ok(&o);
    let bare: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(bare["root"], c["root"]);
    assert_eq!(bare["address"], ADDR);
    // A commitment written with a bare address (older files) still opens, and `open` says
    // what it wrote.
    let text = std::fs::read_to_string(d.join("c.json"))
        .expect("c")
        .replace(ADDR, &ADDR[2..]);
    std::fs::write(d.join("bare.json"), text).expect("write");
    let o = open(
        d,
        "in.txt",
        "bare.json",
        "s.salt",
        "7",
        &["--out", "o.json"],
    );
    assert_ok(&o);
    assert!(
        stderr(&o).contains("poie: opened chunk 7 of ") && stderr(&o).contains("wrote o.json"),
        "{}",
        stderr(&o)
    );
}
