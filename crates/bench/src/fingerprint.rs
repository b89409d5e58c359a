//! What machine a report comes from: enough to compare reports and to tell machines apart.

use poie_proof::Simd;
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
    /// The backends the run used: this CPU's, up to `simd_cap`.
    pub blake3_backends: Vec<Simd>,
    /// The widest of them.
    pub blake3_detected: Simd,
    /// `poie bench --max-simd`: the widest backend the run was allowed (`None`: every
    /// backend this CPU has).
    #[serde(default)]
    pub simd_cap: Option<Simd>,
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

/// Cumulative CPU time of the whole machine, from the first line of `/proc/stat`: the ticks
/// the hypervisor stole, and all ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTimes {
    pub steal: u64,
    pub total: u64,
}

impl CpuTimes {
    /// The share of CPU time stolen between `self` and a later reading; `None` when no time
    /// passed (or the counters went backwards).
    pub fn steal_since(&self, earlier: &CpuTimes) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total).filter(|t| *t > 0)?;
        let steal = self.steal.checked_sub(earlier.steal)?;
        Some(steal as f64 / total as f64)
    }
}

/// Parses the aggregate `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq
/// steal (and guest fields, which `user` already counts).
pub fn parse_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().next()?;
    let mut f = line.split_whitespace();
    if f.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = f
        .take(8)
        .map(|x| x.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    if v.len() < 8 {
        return None;
    }
    let total = v.iter().try_fold(0u64, |a, x| a.checked_add(*x))?;
    Some(CpuTimes { steal: v[7], total })
}

/// `/proc/stat` now; `None` where it does not exist.
pub fn cpu_times() -> Option<CpuTimes> {
    let mut buf = String::new();
    let file = std::fs::File::open("/proc/stat").ok()?;
    // The aggregate line comes first; a few hundred bytes hold it whatever follows.
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 512), &mut buf).ok()?;
    parse_stat(&buf)
}

impl Fingerprint {
    /// This machine, running the backends of `backends`.
    pub fn detect(backends: &super::Backends) -> Fingerprint {
        let cpuinfo = read("/proc/cpuinfo");
        let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut f = Fingerprint {
            machine_id: String::new(),
            cpu_model: cpu_model(&cpuinfo),
            logical_cores: logical,
            physical_cores: physical_cores(&cpuinfo, logical),
            simd_features: simd_features(),
            blake3_backends: backends.blake3.clone(),
            blake3_detected: backends.best(),
            simd_cap: backends.cap,
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
    fn steal_is_read_from_the_aggregate_line() {
        let a = parse_stat("cpu  100 0 50 800 10 0 5 20 0 0\ncpu0 1 2 3\n").expect("parses");
        assert_eq!(
            a,
            CpuTimes {
                steal: 20,
                total: 985
            }
        );
        let b = parse_stat("cpu  150 0 60 880 10 0 5 35 0 0\n").expect("parses");
        assert_eq!(b.steal_since(&a), Some(15.0 / 155.0));
        assert_eq!(a.steal_since(&b), None);
        for bad in [
            "",
            "cpu0 1 2 3 4 5 6 7 8",
            "cpu 1 2 3",
            "cpu a b c d e f g h",
        ] {
            assert_eq!(parse_stat(bad), None, "{bad}");
        }
        if std::path::Path::new("/proc/stat").exists() {
            assert!(cpu_times().is_some());
        }
    }

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
        let f = Fingerprint::detect(&super::super::Backends::capped(None));
        assert_eq!(f.machine_id, f.compute_id());
        assert_eq!(f.machine_id.len(), 12);
        let mut g = f.clone();
        g.rustc = "other".into();
        assert_eq!(g.compute_id(), f.machine_id);
        g.logical_cores += 1;
        assert_ne!(g.compute_id(), f.machine_id);
    }
}
