//! One Keccak-f[1600] state at a time in plain Rust: the `portable` and `sse41` backends, the
//! remainder of a SIMD call with a single input, and what the SIMD kernels are checked against.

use super::{squeeze, Template};

#[inline(always)]
fn xor(a: u64, b: u64) -> u64 {
    a ^ b
}

#[inline(always)]
fn xor5(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    a ^ b ^ c ^ d ^ e
}

#[inline(always)]
fn chi(a: u64, b: u64, c: u64) -> u64 {
    a ^ (!b & c)
}

#[inline(always)]
fn rotl<const N: u32, const M: u32>(a: u64) -> u64 {
    a.rotate_left(N)
}

#[inline(always)]
fn iota(a: u64, rc: u64) -> u64 {
    a ^ rc
}

/// Keccak-f[1600] in place (lane `x + 5 y` at index `x + 5 y`).
pub fn permute(state: &mut [u64; 25]) {
    let mut s = *state;
    keccak_rounds!(s, xor, xor5, chi, rotl, iota);
    *state = s;
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
