//! Running the `poie` command: the binary under test, a run in a folder (with or without a
//! deadline), and the checks on its output that many tests share.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The path of the binary under test: Cargo's, or the one `POIE_BIN` names (scripts/gpu-check.sh
/// runs the gpu_cli test binary on a GPU machine, where Cargo's build folder does not exist).
pub fn bin_path() -> OsString {
    std::env::var_os("POIE_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_poie").into())
}

/// A command running the binary under test ([`bin_path`]).
pub fn bin() -> Command {
    Command::new(bin_path())
}

/// Runs `poie ARGS` in the test's own working directory.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("poie runs")
}

/// Runs `poie ARGS` in `dir`.
pub fn poie(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("poie runs")
}

/// Runs `poie ARGS` in `dir`, killing it (and failing the test) after `secs` seconds, so a hang
/// fails the test instead of stalling the suite. Its output must fit the pipes' buffers: it is
/// read once the command has exited.
pub fn poie_within(dir: &Path, secs: u64, args: &[&str]) -> Output {
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().expect("waits").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("poie {args:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The command's stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command's stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The command succeeded; its stderr is the message where it did not.
pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// Exit `code` (125: poie's own error, 2: usage), a message mentioning `what`, and no panic.
pub fn refused(o: &Output, code: i32, what: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert!(
        stderr(o).contains(what),
        "expected '{what}' in: {}",
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}
