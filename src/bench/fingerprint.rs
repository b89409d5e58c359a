//! What machine a report comes from: enough to compare reports and to tell machines apart.

use crate::proof::Simd;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Stable id: the first 12 hex digits of blake3 over the hardware fields below.
    pub machine_id: String,
    pub cpu_model: String,
    pub logical_cores: usize,
    pub physical_cores: usize,
    /// SIMD features the CPU reports (only those that matter here).
    pub simd_features: Vec<String>,
    /// The blake3 backends this CPU can run, and the one blake3 picks.
    pub blake3_backends: Vec<Simd>,
    pub blake3_detected: Simd,
    /// Cache sizes as the kernel reports them, e.g. "L1d 48K".
    pub caches: Vec<String>,
    pub memory_bytes: u64,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
    pub poie_version: String,
    pub git_commit: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn cpu_model(cpuinfo: &str) -> String {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Distinct (physical id, core id) pairs; falls back to the logical count.
fn physical_cores(cpuinfo: &str, logical: usize) -> usize {
    let mut pairs = std::collections::BTreeSet::new();
    let (mut phys, mut core) = (None, None);
    for line in cpuinfo.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if let (Some(p), Some(c)) = (phys.take(), core.take()) {
                pairs.insert((p, c));
            }
            continue;
        }
        let mut kv = line.splitn(2, ':');
        let (k, v) = (
            kv.next().unwrap_or("").trim(),
            kv.next().unwrap_or("").trim().to_string(),
        );
        match k {
            "physical id" => phys = Some(v),
            "core id" => core = Some(v),
            _ => {}
        }
    }
    if pairs.is_empty() {
        logical
    } else {
        pairs.len()
    }
}

fn simd_features() -> Vec<String> {
    let mut f = Vec::new();
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        macro_rules! check {
            ($($name:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($name) {
                    f.push($name.to_string());
                }
            )*};
        }
        check!("sse2", "sse4.1", "avx", "avx2", "avx512f", "avx512vl", "avx512bw");
    }
    f
}

fn caches() -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..8 {
        let base = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        let size = read(&format!("{base}/size"));
        if size.is_empty() {
            break;
        }
        let level = read(&format!("{base}/level"));
        let kind = match read(&format!("{base}/type")).trim() {
            "Data" => "d",
            "Instruction" => "i",
            _ => "",
        };
        out.push(format!("L{}{kind} {}", level.trim(), size.trim()));
    }
    out
}

fn memory_bytes() -> u64 {
    read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn os_name() -> String {
    read("/etc/os-release")
        .lines()
        .find(|l| l.starts_with("PRETTY_NAME="))
        .map(|l| {
            l.trim_start_matches("PRETTY_NAME=")
                .trim_matches('"')
                .to_string()
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string())
}

/// One reading of `/proc/loadavg`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadAvg {
    /// The kernel's 1, 5 and 15 minute load averages (runnable plus uninterruptible tasks).
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
    /// Tasks runnable at the moment of reading, the reader included.
    pub runnable: u32,
}

impl LoadAvg {
    /// Tasks runnable besides the reader: what else wants a core right now.
    pub fn others(&self) -> f64 {
        f64::from(self.runnable.saturating_sub(1))
    }
}

/// Parses `/proc/loadavg` (`0.52 0.58 0.59 2/301 12345`); `None` for anything else.
pub fn parse_loadavg(text: &str) -> Option<LoadAvg> {
    let mut f = text.split_whitespace();
    let mut avg = || {
        f.next()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    let (one, five, fifteen) = (avg()?, avg()?, avg()?);
    let runnable = f.next()?.split('/').next()?.parse::<u32>().ok()?;
    Some(LoadAvg {
        one,
        five,
        fifteen,
        runnable,
    })
}

/// The machine's load now; `None` where `/proc/loadavg` is absent or unreadable.
pub fn loadavg() -> Option<LoadAvg> {
    let mut buf = String::new();
    let file = std::fs::File::open("/proc/loadavg").ok()?;
    // The file is a few dozen bytes; read at most 256 whatever it claims.
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 256), &mut buf).ok()?;
    parse_loadavg(&buf)
}

impl Fingerprint {
    pub fn detect() -> Fingerprint {
        let cpuinfo = read("/proc/cpuinfo");
        let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut f = Fingerprint {
            machine_id: String::new(),
            cpu_model: cpu_model(&cpuinfo),
            logical_cores: logical,
            physical_cores: physical_cores(&cpuinfo, logical),
            simd_features: simd_features(),
            blake3_backends: Simd::available(),
            blake3_detected: Simd::detect(),
            caches: caches(),
            memory_bytes: memory_bytes(),
            os: os_name(),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            rustc: env!("POIE_RUSTC").to_string(),
            poie_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("POIE_GIT").to_string(),
        };
        f.machine_id = f.compute_id();
        f
    }

    /// Hardware fields only (memory rounded to GiB), so software updates keep the id.
    pub fn compute_id(&self) -> String {
        let key = format!(
            "{}|{}|{}|{}|{}|{}",
            self.cpu_model,
            self.logical_cores,
            self.physical_cores,
            self.simd_features.join(","),
            self.caches.join(","),
            (self.memory_bytes + (1 << 29)) >> 30
        );
        blake3::hash(key.as_bytes()).to_hex()[..12].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpuinfo() {
        let info = "processor: 0\nmodel name\t: Test CPU 9000\nphysical id\t: 0\ncore id\t: 0\n\n\
                    processor: 1\nmodel name\t: Test CPU 9000\nphysical id\t: 0\ncore id\t: 0\n\n\
                    processor: 2\nmodel name\t: Test CPU 9000\nphysical id\t: 0\ncore id\t: 1\n";
        assert_eq!(cpu_model(info), "Test CPU 9000");
        assert_eq!(physical_cores(info, 3), 2);
        assert_eq!(physical_cores("", 5), 5);
    }

    #[test]
    fn parses_loadavg_and_refuses_garbage() {
        let l = parse_loadavg("0.52 0.58 0.59 3/301 12345\n").expect("parses");
        assert_eq!(
            (l.one, l.five, l.fifteen, l.runnable),
            (0.52, 0.58, 0.59, 3)
        );
        assert_eq!(l.others(), 2.0);
        assert_eq!(
            parse_loadavg("0.1 0.1 0.1 0/1 1").map(|l| l.others()),
            Some(0.0)
        );
        for bad in [
            "",
            "x y z 1/2 3",
            "0.1 0.2",
            "0.1 0.2 0.3 a/4 5",
            "NaN 0 0 1/2 3",
            "-1 0 0 1/1 1",
        ] {
            assert_eq!(parse_loadavg(bad), None, "{bad:?}");
        }
        if std::path::Path::new("/proc/loadavg").exists() {
            assert!(loadavg().is_some());
        }
    }

    #[test]
    fn id_is_stable_and_hardware_only() {
        let f = Fingerprint::detect();
        assert_eq!(f.machine_id, f.compute_id());
        assert_eq!(f.machine_id.len(), 12);
        let mut g = f.clone();
        g.rustc = "other".into();
        assert_eq!(g.compute_id(), f.machine_id);
        g.logical_cores += 1;
        assert_ne!(g.compute_id(), f.machine_id);
    }
}
