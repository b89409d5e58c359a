//! `poie prove --device cuda` from the command line, on every machine: where CUDA is usable it
//! gives the CPU's commitment; where it is not, it exits 125 with a message naming CUDA and
//! the reason, never a panic.

mod common;

// The binary under test is Cargo's, or `POIE_BIN` (scripts/gpu-check.sh runs this test binary on
// a GPU machine, where Cargo's build folder does not exist).
use common::cli::bin as poie;
use common::fixtures;

/// A usable CUDA device, or why there is none (this poie may be built without CUDA).
fn probe() -> Result<String, String> {
    #[cfg(feature = "cuda")]
    return poie::proof::gpu::probe()
        .map(|info| format!("{info:?}"))
        .map_err(|e| e.to_string());
    #[cfg(not(feature = "cuda"))]
    Err(poie::source::DeviceError::NoCuda.to_string())
}

const ADDRESS: &str = "0x1111111111111111111111111111111111111111";

fn prove(salt: &std::path::Path, device: &str, extra: &[&str]) -> std::process::Output {
    poie()
        .args([
            "prove",
            "--synthetic",
            "5000",
            "--lanes",
            "8",
            "--address",
            ADDRESS,
        ])
        .arg("--salt-file")
        .arg(salt)
        .args(["--device", device])
        .args(extra)
        .output()
        .expect("run poie")
}

fn assert_clean_failure(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("CUDA"), "the message names CUDA: {err}");
    assert!(
        err.contains(needle),
        "the message says why ({needle}): {err}"
    );
    assert!(!err.contains("panicked"), "no panic: {err}");
    assert!(out.stdout.is_empty(), "no commitment on failure");
}

#[test]
fn cuda_gives_the_cpu_commitment_or_says_why_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let salt = fixtures::salt(dir.path(), "salt");
    let cpu = prove(&salt, "cpu", &[]);
    assert!(cpu.status.success(), "{cpu:?}");
    let gpu = prove(&salt, "cuda", &[]);
    match probe() {
        Ok(info) => {
            eprintln!("CUDA device: {info}");
            assert!(
                gpu.status.success(),
                "{}",
                String::from_utf8_lossy(&gpu.stderr)
            );
            assert_eq!(gpu.stdout, cpu.stdout, "same commitment on CPU and GPU");
        }
        Err(e) => {
            eprintln!("no CUDA device here ({e}): checking the error path");
            // The reason the library gives is the one the command prints.
            let why = e.to_string();
            let why = why.split(':').nth(1).unwrap_or("").trim();
            assert_clean_failure(&gpu, why);
        }
    }
}

#[test]
fn an_absent_device_number_fails_cleanly_everywhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let salt = fixtures::salt(dir.path(), "salt");
    // No machine has a millionth device; one without CUDA fails earlier, as cleanly.
    let out = prove(&salt, "cuda:1000000", &[]);
    assert_clean_failure(&out, "");
}

#[test]
fn keccak_on_cuda_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let salt = fixtures::salt(dir.path(), "salt");
    let out = prove(&salt, "cuda", &["--hash", "keccak"]);
    // Without the cuda feature there is no CUDA backend to refuse it: that is what is said.
    let why = if cfg!(feature = "cuda") {
        "blake3 only"
    } else {
        "without the cuda feature"
    };
    assert_clean_failure(&out, why);
}

#[test]
fn unknown_devices_are_argument_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let salt = fixtures::salt(dir.path(), "salt");
    let out = prove(&salt, "tpu", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected cpu, cuda or cuda:N"));
}

/// `poie bench --gpu` where CUDA is unusable fails before the CPU sweep (a second, not minutes)
/// and writes no report; where a GPU exists the bench is too slow for this test.
#[test]
fn bench_gpu_without_cuda_fails_before_the_sweep() {
    if probe().is_ok() {
        eprintln!("skipped: a CUDA device is present (scripts/gpu-check.sh runs bench --gpu)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let start = std::time::Instant::now();
    let out = poie()
        .args(["bench", "--quick", "--gpu", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("run poie");
    assert_clean_failure(&out, "not available");
    assert!(
        start.elapsed().as_secs() < 20,
        "failed before the sweep, not after it"
    );
    let left = std::fs::read_dir(dir.path()).expect("read dir").count();
    assert_eq!(left, 0, "no report written");
}
