//! `poie salt`, `prove`, `open`, `verify-opening` end to end, including bad files and secrets.

use std::path::Path;
use std::process::{Command, Output};

fn poie(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poie"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("poie runs")
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const ADDR: &str = "0x00112233445566778899aabbccddeeff00112233";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = poie(dir.path(), &["salt", "new", "s.salt"]);
    assert!(o.status.success(), "{}", err(&o));
    std::fs::write(dir.path().join("in.txt"), "2000 3").expect("write");
    dir
}

fn prove(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "prove",
        "sort",
        "--input",
        "in.txt",
        "--salt-file",
        "s.salt",
        "--address",
        ADDR,
    ];
    args.extend_from_slice(extra);
    poie(dir, &args)
}

#[test]
fn salt_file_is_private_and_never_overwritten_or_printed() {
    let dir = setup();
    let path = dir.path().join("s.salt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("salt").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).expect("salt");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("poie-salt-v1"));
    let salt = lines.next().expect("hex line").to_string();
    assert_eq!(salt.len(), 64);
    let o = poie(dir.path(), &["salt", "new", "s.salt"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("refusing to overwrite"));
    assert_eq!(std::fs::read_to_string(&path).expect("salt"), text);
    let o = prove(dir.path(), &["--out", "c.json"]);
    assert!(o.status.success(), "{}", err(&o));
    let all = format!(
        "{}{}{}",
        err(&o),
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(dir.path().join("c.json")).expect("c")
    );
    assert!(!all.contains(&salt), "the salt leaked into output");
}

#[test]
fn prove_open_verify_round_trip_and_tampering() {
    let dir = setup();
    let d = dir.path();
    let o = prove(d, &["--lanes", "4", "--out", "c.json"]);
    assert!(o.status.success(), "{}", err(&o));
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("c.json")).expect("c")).expect("json");
    assert_eq!(c["params"]["layout"]["lanes"], 4);
    assert_eq!(c["source"]["outcome"], "exited with status 0");
    let n = c["n"].as_u64().expect("n");

    // Same root for any threads / SIMD / batch.
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

    for index in [0, n / 2, n - 1] {
        let i = index.to_string();
        let o = poie(
            d,
            &[
                "open",
                "sort",
                "--input",
                "in.txt",
                "--commitment",
                "c.json",
                "--salt-file",
                "s.salt",
                "--index",
                &i,
                "--out",
                "o.json",
            ],
        );
        assert!(o.status.success(), "{}", err(&o));
        let o = poie(
            d,
            &[
                "verify-opening",
                "--commitment",
                "c.json",
                "--opening",
                "o.json",
                "--salt-file",
                "s.salt",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert!(String::from_utf8_lossy(&o.stdout).starts_with("valid"));
    }

    // A tampered opening is invalid (exit 1), not an error.
    let text = std::fs::read_to_string(d.join("o.json")).expect("o");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let chunk = v["chunk"].as_str().expect("hex").to_string();
    let first = if chunk.starts_with('0') { '1' } else { '0' };
    let flipped = format!("{first}{}", &chunk[1..]);
    v["chunk"] = serde_json::Value::String(flipped);
    std::fs::write(d.join("bad.json"), v.to_string()).expect("write");
    let o = poie(
        d,
        &[
            "verify-opening",
            "--commitment",
            "c.json",
            "--opening",
            "bad.json",
            "--salt-file",
            "s.salt",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("invalid"));

    // A wrong salt cannot open.
    assert!(poie(d, &["salt", "new", "other.salt"]).status.success());
    let o = poie(
        d,
        &[
            "open",
            "sort",
            "--input",
            "in.txt",
            "--commitment",
            "c.json",
            "--salt-file",
            "other.salt",
            "--index",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(125));
    assert!(err(&o).contains("wrong salt"), "{}", err(&o));
    // A genuine opening checked with the wrong salt is invalid, and the message says the salt
    // (or the executor) may be what is wrong, not only the opening.
    let o = poie(
        d,
        &[
            "verify-opening",
            "--commitment",
            "c.json",
            "--opening",
            "o.json",
            "--salt-file",
            "other.salt",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("invalid: "), "{out}");
    assert!(
        out.contains("the salt file is not the executor's revealed salt")
            && out.contains(&ADDR[2..]),
        "{out}"
    );
    // Nor can a different input.
    std::fs::write(d.join("in2.txt"), "2000 4").expect("write");
    let o = poie(
        d,
        &[
            "open",
            "sort",
            "--input",
            "in2.txt",
            "--commitment",
            "c.json",
            "--salt-file",
            "s.salt",
            "--index",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(125), "{}", err(&o));
}

#[test]
fn bad_files_and_arguments_give_clear_errors() {
    let dir = setup();
    let d = dir.path();
    assert!(prove(d, &["--out", "c.json"]).status.success());
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
        let o = poie(
            d,
            &[
                "open",
                "sort",
                "--input",
                "in.txt",
                "--commitment",
                name,
                "--salt-file",
                "s.salt",
                "--index",
                "0",
            ],
        );
        assert_eq!(o.status.code(), Some(125), "{name}");
        assert!(err(&o).contains(msg), "{name}: {}", err(&o));
        assert!(!err(&o).contains("panicked"));
    }
    std::fs::write(d.join("short.salt"), "poie-salt-v1\nabcd").expect("write");
    let o = poie(
        d,
        &[
            "prove",
            "hello",
            "--salt-file",
            "short.salt",
            "--address",
            ADDR,
        ],
    );
    assert!(
        err(&o).contains("expected 64 hex characters"),
        "{}",
        err(&o)
    );
    let o = poie(
        d,
        &[
            "prove",
            "hello",
            "--salt-file",
            "s.salt",
            "--address",
            "0x1234",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("bad address"), "{}", err(&o));
    let o = poie(
        d,
        &[
            "prove",
            "hello",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
            "--simd",
            "neon",
        ],
    );
    assert!(err(&o).contains("unknown SIMD backend"), "{}", err(&o));
    let o = poie(
        d,
        &[
            "prove",
            "hello",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
            "--lanes",
            "0",
        ],
    );
    assert!(err(&o).contains("lanes must be at least 1"), "{}", err(&o));
    std::fs::write(d.join("ragged.trace"), [0u8; 33]).expect("write");
    let o = poie(
        d,
        &[
            "prove",
            "--trace-file",
            "ragged.trace",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
        ],
    );
    assert!(
        err(&o).contains("not a whole number of 32-byte chunks"),
        "{}",
        err(&o)
    );
    // An existing output is left intact when proving fails.
    std::fs::write(d.join("keep.json"), "precious").expect("write");
    let o = poie(
        d,
        &[
            "prove",
            "--trace-file",
            "ragged.trace",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
            "--out",
            "keep.json",
        ],
    );
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
    let from_file = poie(
        d,
        &[
            "prove",
            "--trace-file",
            "t.trace",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
        ],
    );
    let root = |o: &Output| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")["root"].clone()
    };
    assert_eq!(root(&from_vm), root(&from_file));
    let s1 = poie(
        d,
        &[
            "prove",
            "--synthetic",
            "5000",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
        ],
    );
    let s2 = poie(
        d,
        &[
            "prove",
            "--synthetic",
            "5000",
            "--seed",
            "1",
            "--salt-file",
            "s.salt",
            "--address",
            ADDR,
        ],
    );
    assert!(s1.status.success() && s2.status.success());
    assert_ne!(root(&s1), root(&s2));
}

#[test]
fn addresses_are_written_with_0x_and_read_with_or_without() {
    let dir = setup();
    let d = dir.path();
    let o = prove(d, &["--out", "c.json"]);
    assert!(o.status.success(), "{}", err(&o));
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("c.json")).expect("c")).expect("json");
    assert_eq!(c["address"], ADDR);
    // The bare 40 hex digits are the same address: same root.
    let mut args = vec![
        "prove",
        "sort",
        "--input",
        "in.txt",
        "--salt-file",
        "s.salt",
    ];
    args.extend_from_slice(&["--address", &ADDR[2..]]);
    let o = poie(d, &args);
    assert!(o.status.success(), "{}", err(&o));
    let bare: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(bare["root"], c["root"]);
    assert_eq!(bare["address"], ADDR);
    // A commitment written with a bare address (older files) still opens, and `open` says
    // what it wrote.
    let text = std::fs::read_to_string(d.join("c.json"))
        .expect("c")
        .replace(ADDR, &ADDR[2..]);
    std::fs::write(d.join("bare.json"), text).expect("write");
    let o = poie(
        d,
        &[
            "open",
            "sort",
            "--input",
            "in.txt",
            "--commitment",
            "bare.json",
            "--salt-file",
            "s.salt",
            "--index",
            "7",
            "--out",
            "o.json",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("poie: opened chunk 7 of ") && err(&o).contains("wrote o.json"),
        "{}",
        err(&o)
    );
}
