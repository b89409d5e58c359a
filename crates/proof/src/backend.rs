//! blake3 SIMD backends, selectable for benchmarks and tests.
//!
//! Wraps the `blake3` crate's doc-hidden `platform::Platform` (the crate version is pinned
//! exactly in `Cargo.toml` for that reason): its `hash_many` compresses up to 16 independent
//! single-block inputs in one SIMD call. Everything that touches that API lives in this module,
//! and a test checks it against the public `blake3::keyed_hash`.

use blake3::platform::Platform;
use blake3::IncrementCounter;
use std::fmt;
use std::str::FromStr;

/// A blake3 SIMD backend, as chosen by `--simd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Simd {
    Portable,
    Sse41,
    Avx2,
    Avx512,
}

/// What `--simd` asked for: a specific backend or the best the CPU has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SimdChoice {
    #[default]
    Auto,
    Fixed(Simd),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimdError {
    #[error("this CPU does not support the {0} backend (it has: {1})")]
    Unsupported(Simd, String),
    #[error("unknown SIMD backend '{0}' (expected auto, portable, sse41, avx2 or avx512)")]
    Unknown(String),
}

impl Simd {
    pub const ALL: [Simd; 4] = [Simd::Portable, Simd::Sse41, Simd::Avx2, Simd::Avx512];

    pub fn name(self) -> &'static str {
        match self {
            Simd::Portable => "portable",
            Simd::Sse41 => "sse41",
            Simd::Avx2 => "avx2",
            Simd::Avx512 => "avx512",
        }
    }

    /// The backends this CPU can run, slowest first.
    pub fn available() -> Vec<Simd> {
        Simd::ALL
            .into_iter()
            .filter(|s| s.platform().is_some())
            .collect()
    }

    /// The best backend this CPU has (what blake3 itself would use).
    pub fn detect() -> Simd {
        match Platform::detect() {
            Platform::AVX512 => Simd::Avx512,
            Platform::AVX2 => Simd::Avx2,
            Platform::SSE41 => Simd::Sse41,
            _ => Simd::Portable,
        }
    }

    /// How many inputs one SIMD call compresses at once: the backend's nominal degree (blake3
    /// words are 32 bits: 4 per 128-bit SSE register, 8 per AVX2, 16 per AVX-512), whether or
    /// not this CPU has the backend. The model extrapolates a backend a machine lacks by it,
    /// so it must not depend on the machine it runs on (it once returned 1 for a missing
    /// backend, which modelled AVX-512 at an eighth of AVX2 on AVX2-only CPUs).
    pub const fn degree(self) -> usize {
        match self {
            Simd::Portable => 1,
            Simd::Sse41 => 4,
            Simd::Avx2 => 8,
            Simd::Avx512 => 16,
        }
    }

    /// Backends in order of width, and whether `self` is at most `other`'s width: a CPU with a
    /// backend also runs every narrower one.
    pub fn at_most(self, other: Simd) -> bool {
        self.degree() <= other.degree()
    }

    fn platform(self) -> Option<Platform> {
        match self {
            Simd::Portable => Some(Platform::portable()),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Simd::Sse41 => Platform::sse41(),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Simd::Avx2 => Platform::avx2(),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Simd::Avx512 => Platform::avx512(),
            #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
            _ => None,
        }
    }
}

impl fmt::Display for Simd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SimdChoice {
    type Err = SimdError;
    fn from_str(s: &str) -> Result<Self, SimdError> {
        if s == "auto" {
            return Ok(SimdChoice::Auto);
        }
        Simd::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .map(SimdChoice::Fixed)
            .ok_or_else(|| SimdError::Unknown(s.into()))
    }
}

impl SimdChoice {
    /// Resolves to a backend this CPU has, or says why not.
    pub fn resolve(self) -> Result<Simd, SimdError> {
        match self {
            SimdChoice::Auto => Ok(Simd::detect()),
            SimdChoice::Fixed(s) if s.platform().is_some() => Ok(s),
            SimdChoice::Fixed(s) => {
                let have: Vec<_> = Simd::available().iter().map(|b| b.name()).collect();
                Err(SimdError::Unsupported(s, have.join(", ")))
            }
        }
    }
}

// blake3's internal compression flags (see the BLAKE3 paper, section 2.1).
const CHUNK_START: u8 = 1;
const CHUNK_END: u8 = 2;
const ROOT: u8 = 8;
const KEYED_HASH: u8 = 16;

/// Inputs per `hash_many` call: the widest SIMD degree blake3 has (AVX-512, 16 lanes).
const GROUP: usize = 16;

/// blake3 keyed hashing of many 64-byte messages with one SIMD backend.
#[derive(Clone, Copy, Debug)]
pub struct Blake3Many {
    platform: Platform,
    simd: Simd,
}

impl Blake3Many {
    pub fn new(simd: Simd) -> Result<Self, SimdError> {
        let platform = SimdChoice::Fixed(simd).resolve()?.platform();
        match platform {
            Some(platform) => Ok(Blake3Many { platform, simd }),
            None => Err(SimdError::Unsupported(simd, String::new())),
        }
    }

    pub fn simd(&self) -> Simd {
        self.simd
    }

    /// `out[32 i..32 i + 32] = blake3::keyed_hash(key, inputs[i])` for every input: a 64-byte
    /// message is one block, so each is a single compression with the chunk-start, chunk-end
    /// and root flags.
    pub fn keyed_hash_64(&self, key: &[u32; 8], inputs: &[[u8; 64]], out: &mut [u8]) {
        assert_eq!(out.len(), 32 * inputs.len());
        // hash_many takes a slice of references; building them 16 at a time (the widest SIMD
        // degree) on the stack keeps this allocation-free.
        for (group, out) in inputs.chunks(GROUP).zip(out.chunks_mut(32 * GROUP)) {
            let mut refs: [&[u8; 64]; GROUP] = [&group[0]; GROUP];
            for (r, inp) in refs.iter_mut().zip(group) {
                *r = inp;
            }
            self.platform.hash_many(
                &refs[..group.len()],
                key,
                0,
                IncrementCounter::No,
                KEYED_HASH | ROOT,
                CHUNK_START,
                CHUNK_END,
                out,
            );
        }
    }
}

/// A 32-byte blake3 key as the little-endian words `hash_many` takes.
pub fn key_words(key: &[u8; 32]) -> [u32; 8] {
    let mut w = [0u32; 8];
    for (i, c) in key.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_available_backend_matches_keyed_hash() {
        let key = *blake3::hash(b"test key").as_bytes();
        let msgs: Vec<[u8; 64]> = (0..37u8).map(|i| [i.wrapping_mul(7); 64]).collect();
        for simd in Simd::available() {
            let h = Blake3Many::new(simd).expect("available");
            let mut out = vec![0u8; 32 * msgs.len()];
            h.keyed_hash_64(&key_words(&key), &msgs, &mut out);
            for (m, o) in msgs.iter().zip(out.chunks_exact(32)) {
                assert_eq!(o, blake3::keyed_hash(&key, m).as_bytes(), "{simd}");
            }
        }
    }

    #[test]
    fn nominal_degree_is_blake3s_own_where_the_cpu_has_the_backend() {
        for simd in Simd::available() {
            let platform = simd.platform().expect("available");
            assert_eq!(simd.degree(), platform.simd_degree(), "{simd}");
        }
        // Whatever the CPU: the widths the model extrapolates by.
        let degrees: Vec<usize> = Simd::ALL.iter().map(|s| s.degree()).collect();
        assert_eq!(degrees, [1, 4, 8, 16]);
        assert!(Simd::Avx2.at_most(Simd::Avx512) && !Simd::Avx512.at_most(Simd::Avx2));
    }

    #[test]
    fn parse_and_resolve() {
        assert_eq!("auto".parse::<SimdChoice>(), Ok(SimdChoice::Auto));
        assert_eq!(
            "avx2".parse::<SimdChoice>(),
            Ok(SimdChoice::Fixed(Simd::Avx2))
        );
        assert!(matches!(
            "neon".parse::<SimdChoice>(),
            Err(SimdError::Unknown(_))
        ));
        assert_eq!(
            SimdChoice::Fixed(Simd::Portable).resolve(),
            Ok(Simd::Portable)
        );
        assert!(Simd::available().contains(&Simd::detect()));
    }
}
