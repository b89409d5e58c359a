//! The tools some tests compare against or build with: `qemu-riscv32` (the oracle) and
//! `riscv64-unknown-elf-gcc` (the guests' compiler). On a developer machine a missing tool
//! makes the test say so and pass; in CI (`CI` set), where scripts/test.sh installs them, it
//! fails.

use std::process::{Command, Stdio};

/// Whether `tool` runs (`tool --version`). Where it does not: a failure in CI, and elsewhere a
/// line saying the test skips `what`.
pub fn installed(tool: &str, what: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI (scripts/test.sh installs it)"
        );
        eprintln!("{tool} not installed: skipping {what}");
    }
    found
}

/// The built-in guests rebuilt from source by scripts/build-guests.sh, in a temporary folder
/// (`NAME.elf` each); `None` where riscv64-unknown-elf-gcc is missing outside CI.
pub fn rebuilt_guests() -> Option<tempfile::TempDir> {
    if !installed("riscv64-unknown-elf-gcc", "the rebuild check") {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/build-guests.sh"
        ))
        .arg(dir.path())
        .output()
        .expect("build script runs");
    assert!(
        o.status.success(),
        "scripts/build-guests.sh failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(dir)
}

/// Runs an ELF under `qemu-riscv32` with an empty environment, returning its stdout and exit
/// code (128 + signal when killed by one, as a shell reports it); `None` if qemu is missing.
pub fn qemu_run(elf: &[u8], input: &[u8]) -> Option<(Vec<u8>, i32)> {
    use std::io::Write;
    Command::new("qemu-riscv32")
        .arg("--version")
        .output()
        .ok()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("guest.elf");
    std::fs::write(&path, elf).expect("write elf");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut child = Command::new("qemu-riscv32")
        .arg(&path)
        .env_clear()
        // A guest killed by a signal may leave a core file: keep it out of the source tree.
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu starts");
    let mut stdin = child.stdin.take().expect("stdin");
    // A guest may exit without reading: a broken pipe is no error here.
    let _ = stdin.write_all(input);
    drop(stdin);
    let out = child.wait_with_output().expect("qemu runs");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = out.status.signal() {
            return Some((out.stdout, 128 + sig));
        }
    }
    Some((out.stdout, out.status.code().unwrap_or(-1)))
}
