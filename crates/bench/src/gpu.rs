//! The GPU section of `poie bench --gpu`: what a CUDA device does with the same construction,
//! measured rather than assumed (issue 12).
//!
//! - the device's fingerprint;
//! - the unchained rate with the trace resident in device memory (the GPU's hashing alone) and
//!   streamed from host memory through the prover's pinned, double-buffered blocks;
//! - the pinned host-to-device copy bandwidth, as chunks per second (the streamed ceiling);
//! - the chained rate for each L: one GPU thread walks each lane, so the rate is about
//!   `L x` one thread's sequential compression rate until the device is full.
//!
//! Every measured proof is checked against the CPU prover on a prefix (see
//! [`GpuReport::verified`]), so a figure never comes from a kernel that computes something
//! else. [`GpuReport::model_rate`] and [`GpuReport::gain_over`] give the report's GPU term and
//! its gain over a CPU figure at the same L.

use poie_proof::gpu_info::DeviceInfo;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

#[cfg(feature = "cuda")]
mod measure;
#[cfg(feature = "cuda")]
pub use measure::{attach, measure, measure_on, MeasureError};

/// Version of [`GpuReport`]'s JSON.
pub const GPU_SCHEMA_VERSION: u32 = 1;

/// What to measure.
#[derive(Clone, Debug)]
pub struct GpuOptions {
    /// CUDA device number.
    pub ordinal: usize,
    /// Chunks of the resident and streamed unchained runs (and the most any chained run uses).
    pub chunks: u64,
    /// The chained sweep's lane counts.
    pub lanes: Vec<u32>,
    /// Positions per lane a chained run aims for (capped by `chunks`): at about 1 M sequential
    /// compressions per second per GPU thread, 2^19 makes each run about half a second.
    pub per_lane: u64,
    /// Timed repetitions; the fastest counts.
    pub reps: usize,
    /// CPU threads filling the pinned blocks in the streamed run.
    pub threads: usize,
}

impl GpuOptions {
    /// The default sweep: 2^27 chunks (4 GiB, as the reference kernel's figures), the L of
    /// those figures, three repetitions. About a minute on an H100.
    pub fn standard() -> GpuOptions {
        GpuOptions {
            ordinal: 0,
            chunks: 1 << 27,
            lanes: vec![1, 16, 64, 256, 1024, 4096, 16384, 65536],
            per_lane: 1 << 19,
            reps: 3,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// A few seconds: small traces, for a smoke test.
    pub fn quick() -> GpuOptions {
        GpuOptions {
            chunks: 1 << 22,
            lanes: vec![1, 16, 1024],
            per_lane: 1 << 12,
            reps: 1,
            ..GpuOptions::standard()
        }
    }
}

/// One timed run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub chunks: u64,
    pub seconds: f64,
    pub chunks_per_s: f64,
}

impl Rate {
    pub fn new(chunks: u64, seconds: f64) -> Rate {
        Rate {
            chunks,
            seconds,
            chunks_per_s: chunks as f64 / seconds.max(1e-12),
        }
    }
}

/// Pinned host-to-device copies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bandwidth {
    pub bytes: u64,
    pub bytes_per_s: f64,
    /// `bytes_per_s / 32`: the most chunks per second a streamed proof can get.
    pub chunks_per_s: f64,
}

/// The chained rate at one L (trace resident).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chained {
    pub lanes: u32,
    pub rate: Rate,
    /// `rate / L`: one lane's sequential rate, one GPU thread's compressions per second.
    pub per_lane_chunks_per_s: f64,
}

/// The GPU section of a bench report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpuReport {
    pub schema_version: u32,
    pub device: DeviceInfo,
    /// L = 1 unchained, trace in device memory: leaves and the whole tree.
    pub resident_unchained: Rate,
    /// L = 1 unchained, trace streamed from host memory (pinned blocks, copies overlapped).
    pub streamed_unchained: Rate,
    pub copy: Bandwidth,
    pub chained: Vec<Chained>,
    /// Every layout measured gave the CPU prover's root on a prefix of its trace.
    pub verified: bool,
}

impl GpuReport {
    /// The measured chained rate at `lanes`, chunks per second.
    pub fn chained_rate(&self, lanes: u32) -> Option<f64> {
        self.chained
            .iter()
            .find(|c| c.lanes == lanes)
            .map(|c| c.rate.chunks_per_s)
    }

    /// The model's sequential term: one lane's rate (one GPU thread), the median over the
    /// chained runs that were lane-bound (below half the parallel rate).
    pub fn per_lane_rate(&self) -> f64 {
        let mut v: Vec<f64> = self
            .chained
            .iter()
            .filter(|c| c.rate.chunks_per_s < self.parallel_rate() / 2.0)
            .map(|c| c.per_lane_chunks_per_s)
            .collect();
        if v.is_empty() {
            v = self
                .chained
                .iter()
                .map(|c| c.per_lane_chunks_per_s)
                .collect();
        }
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }

    /// The model's parallel term: the unchained rate with the trace resident.
    pub fn parallel_rate(&self) -> f64 {
        self.resident_unchained.chunks_per_s
    }

    /// The model's GPU rate for a layout, chunks per second: unchained, the parallel rate;
    /// chained, `min(L x per-lane rate, parallel rate)`. With `streamed`, also capped by the
    /// copy bandwidth and the measured streamed rate (a trace produced on the host).
    pub fn model_rate(&self, lanes: u32, chained: bool, streamed: bool) -> f64 {
        let mut r = self.parallel_rate();
        if chained {
            r = r.min(f64::from(lanes) * self.per_lane_rate());
        }
        if streamed {
            r = r
                .min(self.copy.chunks_per_s)
                .min(self.streamed_unchained.chunks_per_s);
        }
        r
    }

    /// The GPU's gain over a CPU figure (`cpu_chunks_per_s`, this machine's best at the same
    /// layout): the measured chained rate at `lanes` when there is one, else the model's.
    pub fn gain_over(&self, cpu_chunks_per_s: f64, lanes: u32, chained: bool) -> f64 {
        let gpu = if chained {
            self.chained_rate(lanes)
                .unwrap_or_else(|| self.model_rate(lanes, true, false))
        } else {
            self.parallel_rate()
        };
        gpu / cpu_chunks_per_s.max(1e-12)
    }
}

fn m(r: f64) -> String {
    if r >= 1e9 {
        format!("{:.2} G", r / 1e9)
    } else {
        format!("{:.1} M", r / 1e6)
    }
}

/// The GPU section as Markdown (a `## GPU` heading, the device, a table per measurement).
pub fn markdown(r: &GpuReport) -> String {
    let d = &r.device;
    let mut s = String::new();
    let _ = writeln!(s, "## GPU: {} (CUDA device {})\n", d.name, d.ordinal);
    let _ =
        writeln!(
        s,
        "Compute capability {}, {} multiprocessors at {} MHz, {:.1} GiB on a {}-bit bus, driver \
         CUDA {}. Roots checked against the CPU prover: {}.\n",
        d.compute_capability,
        d.multiprocessors,
        d.clock_mhz,
        d.memory_bytes as f64 / f64::from(1u32 << 30),
        d.memory_bus_bits,
        d.driver_version,
        if r.verified { "yes" } else { "**NO: the figures below are void**" }
    );
    let _ = writeln!(s, "| what | chunks | seconds | chunks/s |");
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for (what, rate) in [
        ("L=1 unchained, trace resident", &r.resident_unchained),
        (
            "L=1 unchained, streamed from the host",
            &r.streamed_unchained,
        ),
    ] {
        let _ = writeln!(
            s,
            "| {what} | {} | {:.4} | {} |",
            rate.chunks,
            rate.seconds,
            m(rate.chunks_per_s)
        );
    }
    let _ = writeln!(
        s,
        "| host-to-device copy, pinned ({:.1} GB/s) | {} | {:.4} | {} |",
        r.copy.bytes_per_s / 1e9,
        r.copy.bytes / 32,
        r.copy.bytes as f64 / r.copy.bytes_per_s.max(1e-12),
        m(r.copy.chunks_per_s)
    );
    let _ = writeln!(
        s,
        "\n| L (chained, resident) | chunks | seconds | chunks/s | per lane |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|");
    for c in &r.chained {
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {} | {} |",
            c.lanes,
            c.rate.chunks,
            c.rate.seconds,
            m(c.rate.chunks_per_s),
            m(c.per_lane_chunks_per_s)
        );
    }
    let _ = writeln!(
        s,
        "\nModel: parallel rate {} chunks/s, per-lane sequential rate {} chunks/s, so a chained \
         layout of L lanes runs at min(L x {}, {}) on this GPU.",
        m(r.parallel_rate()),
        m(r.per_lane_rate()),
        m(r.per_lane_rate()),
        m(r.parallel_rate())
    );
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plausible H100-like report, for tests of the report's GPU rows.
    pub(crate) fn sample() -> GpuReport {
        let rate = |n: u64, s: f64| Rate::new(n, s);
        GpuReport {
            schema_version: GPU_SCHEMA_VERSION,
            device: DeviceInfo {
                ordinal: 0,
                name: "Test GPU".into(),
                compute_capability: "9.0".into(),
                multiprocessors: 132,
                clock_mhz: 1980,
                memory_bytes: 80 << 30,
                memory_bus_bits: 5120,
                driver_version: "12.4".into(),
            },
            resident_unchained: rate(1 << 27, 0.01),
            streamed_unchained: rate(1 << 27, 0.1),
            copy: Bandwidth {
                bytes: 1 << 31,
                bytes_per_s: 50e9,
                chunks_per_s: 50e9 / 32.0,
            },
            chained: [1u32, 16, 1024, 65536]
                .iter()
                .map(|&l| {
                    // 1 M/s per lane up to the parallel ceiling.
                    let r = (f64::from(l) * 1e6).min(1.3e10);
                    Chained {
                        lanes: l,
                        rate: rate(1 << 20, (1 << 20) as f64 / r),
                        per_lane_chunks_per_s: r / f64::from(l),
                    }
                })
                .collect(),
            verified: true,
        }
    }

    #[test]
    fn model_terms_follow_the_measurements() {
        let r = sample();
        assert!((r.parallel_rate() - (1u64 << 27) as f64 / 0.01).abs() < 1.0);
        assert!(
            (r.per_lane_rate() - 1e6).abs() < 1.0,
            "{}",
            r.per_lane_rate()
        );
        assert!((r.model_rate(16, true, false) - 16e6).abs() < 1.0);
        assert_eq!(r.model_rate(16, false, false), r.parallel_rate());
        assert!(r.model_rate(1, false, true) <= r.copy.chunks_per_s);
        assert!((r.gain_over(30e6, 16, true) - 16.0 / 30.0).abs() < 1e-9);
        assert_eq!(r.chained_rate(3), None);
    }

    #[test]
    fn json_round_trips_and_markdown_shows_every_row() {
        let r = sample();
        let back: GpuReport =
            serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
        assert_eq!(back, r);
        let md = markdown(&r);
        assert!(md.contains("Test GPU"));
        for l in [1, 16, 1024, 65536] {
            assert!(md.contains(&format!("| {l} |")), "{md}");
        }
        assert!(md.contains("streamed from the host"));
        assert!(!md.contains("void"));
    }
}
