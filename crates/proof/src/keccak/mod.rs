//! Multi-buffer keccak256 for the proof's fixed-shape inputs: several independent
//! Keccak-f[1600] states permuted at once, one state per 64-bit element of a SIMD vector.
//!
//! Every keccak input the engine batches is one 136-byte block: a fixed prefix (leaves:
//! `0x00 || s~`, 33 bytes; nodes: `0x01`, 1 byte), then 64 variable bytes (`chunk || link` or
//! `left || right`), then keccak's `0x01 .. 0x80` padding. A [`Template`] holds the fixed lanes;
//! a kernel XORs each input's 64 bytes into lanes `q..q + 9` (the prefix is 1 mod 8 bytes long,
//! so the input starts one byte into lane `q`), permutes, and reads the first four lanes.
//!
//! The permutation, the transposes, absorbing and squeezing are written once, in `kernel`,
//! against a small set of lane operations (XOR, three-way XOR, chi, rotate, load, store,
//! interleave) that each target implements with its best instructions, one module each, with
//! the `unsafe` of its intrinsics:
//! - [`portable`]: one state in plain Rust (the `portable` and `sse41` backends);
//! - `avx2`: four states in 256-bit registers (rotations as shift pairs or byte shuffles);
//! - `avx512`: eight states in 512-bit registers (`vprolq` rotations, `vpternlogq` for chi and
//!   theta's three-way XORs), with a four-state AVX-512VL kernel for short calls.
//!
//! The SIMD ops take a token that only runtime CPU feature detection makes, and each target
//! instantiates the shared kernel inside its own `#[target_feature]` function. They compute
//! exactly what [`portable`] does (tests/keccak.rs checks them against the `sha3` crate and the
//! Keccak team's published permutation values).

use super::backend::{Simd, SimdChoice, SimdError};

/// The 24 round constants of Keccak-f[1600] (iota).
pub const RC: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808A,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808B,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008A,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000A,
    0x0000_0000_8000_808B,
    0x8000_0000_0000_008B,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800A,
    0x8000_0000_8000_000A,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// keccak256's rate in bytes (1088 bits): the block one input must fit.
pub const RATE: usize = 136;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod kernel;
pub mod portable;

/// The fixed part of a one-block keccak256 input `prefix || x || padding` with `x` 64 bytes:
/// the prefix and padding as state lanes, and the lane `q` where `x` starts (at its byte 1).
/// A leaf's template holds the unique secret, so it never prints.
#[derive(Clone)]
pub struct Template {
    init: [u64; 25],
    q: usize,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("prefix_len", &(8 * self.q + 1))
            .finish_non_exhaustive()
    }
}

impl Template {
    /// The template of `prefix || x`. `P` is checked at compile time: 1 mod 8 (so `x` starts
    /// one byte into a lane) and short enough that the message and its padding fit one block.
    pub fn new<const P: usize>(prefix: &[u8; P]) -> Template {
        const { assert!(P % 8 == 1 && P + 64 < RATE) };
        let mut block = [0u8; 200];
        for (b, p) in block.iter_mut().zip(prefix) {
            *b = *p;
        }
        // keccak's pad10*1 with the 0x01 domain byte: 0x01 after the message, 0x80 in the
        // rate's last byte.
        block[P + 64] ^= 0x01;
        block[RATE - 1] ^= 0x80;
        let mut init = [0u64; 25];
        let (lanes, _) = block.as_chunks::<8>();
        for (d, l) in init.iter_mut().zip(lanes) {
            *d = u64::from_le_bytes(*l);
        }
        Template { init, q: P / 8 }
    }

    /// The lanes before the permutation, template and prefix only (no `x`).
    pub fn lanes(&self) -> &[u64; 25] {
        &self.init
    }

    /// The lane where `x` starts.
    pub fn first_input_lane(&self) -> usize {
        self.q
    }

    /// The state after absorbing `x`, before the permutation.
    pub fn absorb(&self, x: &[u8; 64]) -> [u64; 25] {
        let mut s = self.init;
        let (words, _) = x.as_chunks::<8>();
        let mut carry = 0u64;
        let mut lanes = s.iter_mut().skip(self.q);
        // The words first: `zip` stops on them without taking the ninth lane.
        for (w, lane) in words.iter().zip(lanes.by_ref()) {
            let w = u64::from_le_bytes(*w);
            *lane ^= carry | (w << 8);
            carry = w >> 56;
        }
        if let Some(lane) = lanes.next() {
            *lane ^= carry;
        }
        s
    }
}

/// The digest: the first 32 bytes of the state (lanes 0..4, little-endian).
pub fn squeeze(s: &[u64; 25]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let (o, _) = out.as_chunks_mut::<8>();
    for (o, l) in o.iter_mut().zip(s) {
        *o = l.to_le_bytes();
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2(avx2::Avx2),
    #[cfg(target_arch = "x86_64")]
    Avx512(avx512::Avx512),
}

/// keccak256 of many template inputs with one SIMD backend: `portable` and `sse41` one state
/// at a time, `avx2` four, `avx512` eight.
#[derive(Clone, Copy, Debug)]
pub struct KeccakMany {
    kernel: Kernel,
    simd: Simd,
}

impl KeccakMany {
    /// The backend `simd`, refused (as blake3's are) when this CPU lacks it.
    pub fn new(simd: Simd) -> Result<Self, SimdError> {
        let simd = SimdChoice::Fixed(simd).resolve()?;
        let kernel = match simd {
            Simd::Portable | Simd::Sse41 => Some(Kernel::Portable),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => avx2::Avx2::detect().map(Kernel::Avx2),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => avx512::Avx512::detect().map(Kernel::Avx512),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        };
        match kernel {
            Some(kernel) => Ok(KeccakMany { kernel, simd }),
            None => Err(SimdError::Unsupported(
                simd,
                "portable (keccak's SIMD kernels need x86-64 with AVX2 or AVX-512F+VL)".into(),
            )),
        }
    }

    pub fn simd(&self) -> Simd {
        self.simd
    }

    /// States one kernel call permutes at once: 1, 4 or 8.
    pub fn degree(&self) -> usize {
        match self.kernel {
            Kernel::Portable => 1,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(_) => 4,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(_) => 8,
        }
    }

    /// `out[32 i..32 i + 32] = keccak256(prefix || inputs[i])` for every input. Full groups go
    /// to the widest kernel; a remainder to the kernel that hashes it fastest (measured: the
    /// 8-way kernel for 5..7 inputs, the 4-way one for fewer, except one input on AVX2).
    pub fn hash_64(&self, t: &Template, inputs: &[[u8; 64]], out: &mut [u8]) {
        assert_eq!(out.len(), 32 * inputs.len());
        let (out, _) = out.as_chunks_mut::<32>();
        match self.kernel {
            Kernel::Portable => portable::hash_many(t, inputs, out),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(k) => {
                let (groups, rest) = inputs.as_chunks::<4>();
                let (outs, out_rest) = out.as_chunks_mut::<4>();
                for (g, o) in groups.iter().zip(outs.iter_mut()) {
                    k.hash4(t, g, o);
                }
                // One input is faster in the portable kernel; two already gain from AVX2.
                match rest.len() {
                    0 => {}
                    1 => portable::hash_many(t, rest, out_rest),
                    _ => padded::<4>(rest, out_rest, |g, o| k.hash4(t, g, o)),
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(k) => {
                let (groups, rest) = inputs.as_chunks::<8>();
                let (outs, out_rest) = out.as_chunks_mut::<8>();
                for (g, o) in groups.iter().zip(outs.iter_mut()) {
                    k.hash8(t, g, o);
                }
                // Even one input is faster in the 256-bit kernel than in the portable one.
                match rest.len() {
                    0 => {}
                    1..=4 => padded::<4>(rest, out_rest, |g, o| k.hash4(t, g, o)),
                    _ => padded::<8>(rest, out_rest, |g, o| k.hash8(t, g, o)),
                }
            }
        }
    }

    /// Applies Keccak-f[1600] to every state (lane `x + 5 y` at index `x + 5 y`), `degree` at
    /// a time: the bare permutation, for tests and benchmarks.
    pub fn permute(&self, states: &mut [[u64; 25]]) {
        match self.kernel {
            Kernel::Portable => states.iter_mut().for_each(portable::permute),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(k) => {
                let (groups, rest) = states.as_chunks_mut::<4>();
                groups.iter_mut().for_each(|g| k.permute4(g));
                rest.iter_mut().for_each(portable::permute);
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(k) => {
                let (groups, rest) = states.as_chunks_mut::<8>();
                groups.iter_mut().for_each(|g| k.permute8(g));
                let (fours, rest) = rest.as_chunks_mut::<4>();
                fours.iter_mut().for_each(|g| k.permute4(g));
                rest.iter_mut().for_each(portable::permute);
            }
        }
    }
}

/// Runs an `N`-input kernel on fewer than `N` inputs: the rest of the group is zero inputs
/// whose digests are dropped.
#[cfg(target_arch = "x86_64")]
fn padded<const N: usize>(
    inputs: &[[u8; 64]],
    out: &mut [[u8; 32]],
    kernel: impl FnOnce(&[[u8; 64]; N], &mut [[u8; 32]; N]),
) {
    let mut g = [[0u8; 64]; N];
    let mut o = [[0u8; 32]; N];
    for (d, s) in g.iter_mut().zip(inputs) {
        *d = *s;
    }
    kernel(&g, &mut o);
    for (d, s) in out.iter_mut().zip(&o) {
        *d = *s;
    }
}
