//! Where a proof is hashed: the CPU, or a CUDA device (with the `cuda` feature), and the one
//! call that proves any source on either and returns the commitment.

use crate::{Fed, Source, SourceError};
use poie_proof::commitment::{Commitment, SourceInfo, COMMITMENT_VERSION};
use poie_proof::{unique_secret, Address, Hasher, Params, Proof, ProverConfig, Salt};
use std::fmt;
use std::str::FromStr;

/// Where `poie prove` hashes: the CPU (default) or a CUDA device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    #[default]
    Cpu,
    /// CUDA device by ordinal (`cuda` is `cuda:0`).
    Cuda(usize),
}

/// A `--device` that is not `cpu`, `cuda` or `cuda:N`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown device '{0}' (expected cpu, cuda or cuda:N)")]
pub struct UnknownDevice(pub String);

impl FromStr for Device {
    type Err = UnknownDevice;
    fn from_str(s: &str) -> Result<Self, UnknownDevice> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(|| UnknownDevice(s.into())),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Where and how a proof is hashed: the device, and the prover's threads and backend (on a
/// GPU, `cfg.threads` CPU threads produce the trace).
#[derive(Clone, Copy, Debug, Default)]
pub struct Run {
    pub device: Device,
    pub cfg: ProverConfig,
}

/// Why a proof on a device failed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[cfg(feature = "cuda")]
    #[error(transparent)]
    Gpu(#[from] poie_proof::gpu::GpuError),
    /// `--device cuda` on a poie built without the `cuda` feature.
    #[error(
        "CUDA is not available: this poie was built without the cuda feature; use --device cpu"
    )]
    NoCuda,
}

impl DeviceError {
    /// Whether the device itself was missing or unusable (the CLI's exit code 125).
    pub fn unavailable(&self) -> bool {
        match self {
            #[cfg(feature = "cuda")]
            DeviceError::Gpu(_) => true,
            DeviceError::NoCuda => true,
            DeviceError::Source(_) => false,
        }
    }
}

/// Proves `source` with `secret` as `run` says: on the CPU with `run.cfg`'s threads and
/// backend; on a GPU with `run.cfg.threads` CPU threads producing the trace. The device is
/// opened (and its absence reported) before any of the trace is produced.
pub fn prove_on(
    source: &Source,
    run: Run,
    params: Params,
    secret: &poie_proof::Digest32,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Proof, Fed), DeviceError> {
    let Run { device, cfg } = run;
    match device {
        Device::Cpu => {
            let hasher = Hasher::new(params.hash, *secret, cfg.simd).map_err(|e| {
                SourceError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
            })?;
            Ok(source.prove(params, hasher, cfg, progress)?)
        }
        #[cfg(feature = "cuda")]
        Device::Cuda(ordinal) => {
            crate::gpu::prove_source(source, params, secret, ordinal, cfg.threads, progress)
        }
        #[cfg(not(feature = "cuda"))]
        Device::Cuda(_) => Err(DeviceError::NoCuda),
    }
}

/// Proves `source` as `run` says and builds its commitment (SPEC 4): the layout and hash, the
/// executor's address, the trace's length and root, and where the trace came from (`info`,
/// completed with how the guest ended, or the trace file's digest, hashed in the same pass
/// that proved it).
pub fn commit(
    source: &Source,
    mut info: SourceInfo,
    run: Run,
    params: Params,
    salt: &Salt,
    address: &Address,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Commitment, DeviceError> {
    let secret = unique_secret(params.hash, salt, address);
    let (proof, fed) = prove_on(source, run, params, &secret, progress)?;
    match (&mut info, fed.outcome, fed.blake3) {
        (
            SourceInfo::Vm {
                outcome, exit_code, ..
            },
            Some(o),
            _,
        ) => {
            *outcome = o.to_string();
            *exit_code = o.exit_code();
        }
        (SourceInfo::File { trace_blake3 }, _, Some(d)) => *trace_blake3 = d,
        _ => {}
    }
    Ok(Commitment {
        version: COMMITMENT_VERSION,
        params,
        address: *address,
        n: proof.n,
        root: proof.root,
        source: info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use poie_proof::{HashId, Layout, Simd};

    #[test]
    fn devices_parse() {
        assert_eq!("cpu".parse(), Ok(Device::Cpu));
        assert_eq!("cuda".parse(), Ok(Device::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(Device::Cuda(3)));
        assert!("gpu".parse::<Device>().is_err());
        assert!("cuda:x".parse::<Device>().is_err());
        assert_eq!(Device::Cuda(2).to_string(), "cuda:2");
    }

    #[test]
    fn the_commitment_is_the_cpu_proofs_and_a_missing_device_is_said() {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(4, true).expect("valid"),
        };
        let src = Source::Synthetic { n: 1000, seed: 3 };
        let cfg = ProverConfig {
            threads: 2,
            simd: Simd::Portable,
            ..ProverConfig::default()
        };
        let info = SourceInfo::Synthetic { seed: 3 };
        let cpu = Run {
            device: Device::Cpu,
            cfg,
        };
        let (salt, address) = (Salt::from([1; 32]), Address::from([2; 20]));
        let c = commit(&src, info, cpu, params, &salt, &address, &|_| {}).expect("proves");
        let secret = unique_secret(HashId::Blake3, &salt, &address);
        let h = Hasher::new(HashId::Blake3, secret, Simd::Portable).expect("portable");
        let (p, _) = src.prove(params, h, cfg, &|_| {}).expect("proves");
        assert_eq!((c.n, c.root), (1000, p.root));
        assert_eq!(c.address.to_string(), format!("0x{}", "02".repeat(20)));
        // A GPU where none can be used: an error that names CUDA and says the device was
        // unavailable, never a panic.
        if let Err(e) = prove_on(
            &src,
            Run {
                device: Device::Cuda(0),
                cfg,
            },
            params,
            &secret,
            &|_| {},
        ) {
            assert!(e.to_string().contains("CUDA"), "{e}");
            assert!(e.unavailable());
        }
    }
}
