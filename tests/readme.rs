//! The README's examples, typed literally: every ```sh block marked `<!-- readme-test: run -->`
//! runs, in order, in one empty folder, with `poie` on PATH meaning the binary under test. The
//! only change made to the text is the challenge game's port (a free one instead of 7700, so
//! parallel runs cannot collide). `poie bench` lines would be skipped (too slow); there are
//! none in the marked blocks.

mod common;

use common::cli;
use common::fixtures::read_json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARK: &str = "<!-- readme-test: run -->";

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The ```sh blocks of `text`, each with whether the marker line precedes it.
fn sh_blocks(text: &str) -> Vec<(bool, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    let mut prev = "";
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let marked = prev.trim() == MARK;
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push((marked, body.join("\n") + "\n"));
        }
        prev = line;
    }
    blocks
}

/// The commands of a block: lines joined at trailing backslashes.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in block.lines() {
        match line.strip_suffix('\\') {
            Some(head) => cur.push_str(head),
            None => {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn readme_examples_run_literally() {
    let text = readme();
    let blocks = sh_blocks(&text);
    let marked: Vec<&str> = blocks
        .iter()
        .filter(|(m, _)| *m)
        .map(|(_, b)| b.as_str())
        .collect();
    assert!(marked.len() >= 2, "no marked example blocks in README.md");
    every_poie_example_is_marked_or_a_benchmark(&blocks);
    let script = script(&marked, &free_port().to_string());
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    let (out, err) = run_with_poie_on_path(dir.path(), &work, &script);
    what_the_examples_say_they_do(&out, &err);
    what_the_examples_wrote(&work, &out);
}

/// Every example that uses poie is either run here or only benchmarks (too slow to run).
fn every_poie_example_is_marked_or_a_benchmark(blocks: &[(bool, String)]) {
    for (m, b) in blocks {
        if !m {
            for c in commands(b) {
                let c = c.trim_start();
                assert!(
                    !c.starts_with("poie ") || c.starts_with("poie bench"),
                    "README example not marked `{MARK}` (so not tested): {c}"
                );
            }
        }
    }
}

/// The marked blocks' commands as one bash script, benchmarks left out, the challenge game on
/// `port`.
fn script(marked: &[&str], port: &str) -> String {
    let mut script =
        String::from("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n");
    for b in marked {
        for c in commands(b) {
            if c.trim_start().starts_with("poie bench") {
                continue;
            }
            let c = c
                .replace(
                    "poie serve ",
                    &format!("poie serve --listen 127.0.0.1:{port} "),
                )
                .replace("127.0.0.1:7700", &format!("127.0.0.1:{port}"));
            script.push_str(&c);
            script.push('\n');
        }
    }
    script
}

/// Runs `script` with bash in the new folder `work`, with `poie` on PATH meaning the binary
/// under test (a link in `dir`/bin), for 300 s at most; it must succeed. Its stdout and stderr.
fn run_with_poie_on_path(dir: &Path, work: &Path, script: &str) -> (String, String) {
    let bin = dir.join("bin");
    std::fs::create_dir(work).expect("mkdir");
    std::fs::create_dir(&bin).expect("mkdir");
    std::os::unix::fs::symlink(cli::bin_path(), bin.join("poie")).expect("symlink");
    std::fs::write(dir.join("readme.sh"), script).expect("write");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new("bash")
            .arg(dir.join("readme.sh"))
            .current_dir(work)
            .env("PATH", path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("bash runs")
    };
    // Output is read on threads so a full pipe cannot stall the script; the whole run is bounded.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            // The script's process group only: bash and whatever it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("the README examples ran for over 300 s:\n{script}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().expect("stdout"), err.join().expect("stderr"));
    assert!(
        status.success(),
        "{status}\n--- script\n{script}--- stdout\n{out}--- stderr\n{err}"
    );
    (out, err)
}

fn what_the_examples_say_they_do(out: &str, err: &str) {
    assert!(
        out.contains("valid: chunk 12345 opens against root"),
        "{out}"
    );
    assert!(out.lines().any(|l| l == "valid"), "{out}");
    assert!(out.contains("passed: 16 sampled leaves"), "{out}");
    assert!(out.contains("executor loses:"), "{out}");
    assert!(out.contains("| executor | strategy |"), "{out}");
    // Every command that writes a file says so, in one style.
    for line in [
        "poie: generated a ledger block of 5000 transfers (seed 7); wrote block.txt",
        "poie: opened chunk 12345 of ",
        "poie: revealed the salt of vote 0x",
        "poie: opened 16 sampled leaves of root ",
        "poie: transcript written to t.json",
        "poie: voted on 2 jobs, ",
        "; wrote vote.json, and the salt to vote.salt (mode 0600)",
        "poie: this server exits after 1 game",
        "poie: 1 game played; exiting",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
}

fn what_the_examples_wrote(work: &Path, out: &str) {
    // One spelling of addresses: `key new` printed the vote's and the reveal's.
    let json = |name: &str| -> serde_json::Value { read_json(work.join(name)) };
    let address = json("vote.json")["address"]
        .as_str()
        .expect("address")
        .to_string();
    assert!(
        address.starts_with("0x") && address.len() == 42,
        "{address}"
    );
    assert!(out.lines().any(|l| l == address), "{out}");
    assert_eq!(json("reveal.json")["address"], address.as_str());
    assert_eq!(
        json("commitment.json")["address"],
        "0x00112233445566778899aabbccddeeff00112233"
    );
    // The sort example's trace is small (1000 words), and nothing was written unasked.
    let trace = std::fs::metadata(work.join("t.trace"))
        .expect("trace")
        .len();
    assert!(
        trace > 0 && trace.is_multiple_of(32) && trace < 16 << 20,
        "{trace}"
    );
    assert!(!work.join("stakes.json").exists());
    assert!(!work.join("transcript.json").exists());
}
