//! One Keccak-f[1600] state at a time in plain Rust: the `portable` and `sse41` backends, the
//! remainder of a SIMD call with a single input, and what the SIMD kernels are checked against.

use super::kernel::{self, Ops};
use super::{squeeze, Template};

/// The lane operations on plain `u64`s.
#[derive(Clone, Copy)]
struct Scalar;

impl Ops for Scalar {
    type V = u64;

    #[inline(always)]
    fn xor(self, a: u64, b: u64) -> u64 {
        a ^ b
    }

    #[inline(always)]
    fn xor3(self, a: u64, b: u64, c: u64) -> u64 {
        a ^ b ^ c
    }

    #[inline(always)]
    fn xor5(self, a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
        a ^ b ^ c ^ d ^ e
    }

    #[inline(always)]
    fn chi(self, a: u64, b: u64, c: u64) -> u64 {
        a ^ (!b & c)
    }

    #[inline(always)]
    fn rotl<const N: i32, const M: i32>(self, a: u64) -> u64 {
        a.rotate_left(N as u32)
    }

    #[inline(always)]
    fn xor_splat(self, a: u64, k: u64) -> u64 {
        a ^ k
    }
}

/// Keccak-f[1600] in place (lane `x + 5 y` at index `x + 5 y`).
pub fn permute(state: &mut [u64; 25]) {
    kernel::permute(Scalar, state);
}

/// keccak256 of `prefix || x`.
pub fn hash(t: &Template, x: &[u8; 64]) -> [u8; 32] {
    let mut s = t.absorb(x);
    permute(&mut s);
    squeeze(&s)
}

/// [`hash`] of every input, in order.
pub fn hash_many(t: &Template, inputs: &[[u8; 64]], out: &mut [[u8; 32]]) {
    for (x, o) in inputs.iter().zip(out) {
        *o = hash(t, x);
    }
}
