//! The GPU measurement (`poie::bench::gpu`), runnable before `poie bench --gpu` exists:
//!
//!   POIE_GPU_OUT=DIR cargo test --release --test gpu_bench -- --ignored --nocapture
//!
//! writes DIR/gpu.json and DIR/gpu.md (`POIE_GPU_QUICK=1`: a few-second sweep). Without a CUDA
//! device the measurement is an error naming CUDA, which the always-on test checks.
#![cfg(feature = "cuda")]

use poie::bench::gpu::{markdown, measure, GpuOptions, MeasureError};
use poie::proof::gpu::GpuError;

#[test]
fn measuring_without_a_device_is_a_clean_error() {
    match measure(&GpuOptions {
        ordinal: 1_000_000,
        ..GpuOptions::quick()
    }) {
        Ok(_) => panic!("no machine has a millionth CUDA device"),
        Err(e) => assert!(e.to_string().contains("CUDA"), "{e}"),
    }
}

#[test]
#[ignore = "needs a CUDA device; run by scripts/gpu-check.sh"]
fn gpu_measurement() {
    let opts = if std::env::var_os("POIE_GPU_QUICK").is_some() {
        GpuOptions::quick()
    } else {
        GpuOptions::standard()
    };
    let report = match measure(&opts) {
        Ok(r) => r,
        Err(MeasureError::Gpu(GpuError::Unavailable(why))) => {
            eprintln!("skipped: no CUDA device ({why})");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let md = markdown(&report);
    println!("{md}");
    assert!(report.verified, "GPU roots differ from the CPU's");
    if let Some(dir) = std::env::var_os("POIE_GPU_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("output folder");
        std::fs::write(
            dir.join("gpu.json"),
            serde_json::to_string_pretty(&report).expect("json") + "\n",
        )
        .expect("write gpu.json");
        std::fs::write(dir.join("gpu.md"), md).expect("write gpu.md");
    }
}
