//! Four Keccak-f[1600] states at once in 256-bit AVX2 registers: vector `i` holds lane `i` of
//! the four states. AVX2 has no 64-bit rotate, so rotations are shift pairs, except by 8 and
//! 56 bits (byte shuffles); chi is `vpandn` then `vpxor`. Inputs and digests are transposed
//! with 4 x 4 unpack/permute transposes. The permutation and the transposes are the shared
//! ones of [`super::kernel`]; this module supplies their lane operations.
//!
//! Every intrinsic here needs AVX2; an [`Avx2`] is the proof that the CPU has it.

use super::kernel::{self, Lanes, Ops};
use super::Template;
use std::arch::x86_64::*;

/// A token that the running CPU supports AVX2: made only by [`Avx2::detect`].
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

impl Avx2 {
    pub fn detect() -> Option<Avx2> {
        std::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }

    /// `out[k] = keccak256(prefix || inputs[k])`.
    pub fn hash4(self, t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
        // SAFETY: an `Avx2` exists only when `detect` saw AVX2 on this CPU.
        unsafe { hash4(self, t, inputs, out) }
    }

    /// Keccak-f[1600] of each of the four states.
    pub fn permute4(self, states: &mut [[u64; 25]; 4]) {
        // SAFETY: an `Avx2` exists only when `detect` saw AVX2 on this CPU.
        unsafe { permute4(self, states) }
    }
}

/// The shared kernels, compiled for AVX2 so the ops below inline to single instructions.
#[target_feature(enable = "avx2")]
fn hash4(k: Avx2, t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
    kernel::hash(k, t, inputs, out);
}

#[target_feature(enable = "avx2")]
fn permute4(k: Avx2, states: &mut [[u64; 25]; 4]) {
    kernel::permute_states(k, states);
}

// Every op takes `self`, an `Avx2`, so it runs only where AVX2 was detected: that is the
// SAFETY argument of each `unsafe` block below.
impl Ops for Avx2 {
    type V = __m256i;

    /// 16 registers for 25 lanes.
    const SPILLS: bool = true;

    #[inline(always)]
    fn xor(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_xor_si256(a, b) }
    }

    #[inline(always)]
    fn xor3(self, a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        self.xor(self.xor(a, b), c)
    }

    /// A balanced tree: depth three instead of four.
    #[inline(always)]
    fn xor5(self, a: __m256i, b: __m256i, c: __m256i, d: __m256i, e: __m256i) -> __m256i {
        self.xor(self.xor(self.xor(a, b), self.xor(c, d)), e)
    }

    #[inline(always)]
    fn chi(self, a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_xor_si256(a, _mm256_andnot_si256(b, c)) }
    }

    #[inline(always)]
    fn rotl<const N: i32, const M: i32>(self, a: __m256i) -> __m256i {
        const { assert!(N + M == 64) };
        // SAFETY: `self` proves AVX2.
        unsafe {
            if N == 8 {
                let idx = _mm256_setr_epi8(
                    7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14, 7, 0, 1, 2, 3, 4, 5, 6,
                    15, 8, 9, 10, 11, 12, 13, 14,
                );
                _mm256_shuffle_epi8(a, idx)
            } else if N == 56 {
                let idx = _mm256_setr_epi8(
                    1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8, 1, 2, 3, 4, 5, 6, 7, 0,
                    9, 10, 11, 12, 13, 14, 15, 8,
                );
                _mm256_shuffle_epi8(a, idx)
            } else {
                _mm256_or_si256(_mm256_slli_epi64::<N>(a), _mm256_srli_epi64::<M>(a))
            }
        }
    }

    #[inline(always)]
    fn xor_splat(self, a: __m256i, k: u64) -> __m256i {
        self.xor(a, self.splat(k))
    }
}

impl Lanes<4> for Avx2 {
    #[inline(always)]
    fn splat(self, x: u64) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_set1_epi64x(x as i64) }
    }

    #[inline(always)]
    fn load(self, words: &[u64; 4]) -> __m256i {
        // SAFETY: `self` proves AVX2; `words` is 32 readable bytes and the load is unaligned.
        unsafe { _mm256_loadu_si256(words.as_ptr().cast()) }
    }

    #[inline(always)]
    fn load_le(self, words: &[[u8; 8]; 4]) -> __m256i {
        // SAFETY: `self` proves AVX2; `words` is 32 readable bytes and the load is unaligned.
        unsafe { _mm256_loadu_si256(words.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, v: __m256i, words: &mut [u64; 4]) {
        // SAFETY: `self` proves AVX2; `words` is 32 writable bytes and the store is unaligned.
        unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), v) }
    }

    #[inline(always)]
    fn store_digest(self, v: __m256i, out: &mut [u8; 32]) {
        // SAFETY: `self` proves AVX2; `out` is 32 writable bytes and the store is unaligned.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), v) }
    }

    #[inline(always)]
    fn shl8(self, a: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_slli_epi64::<8>(a) }
    }

    #[inline(always)]
    fn shr56(self, a: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_srli_epi64::<56>(a) }
    }

    /// `H` is 1 (`vpunpcklqdq`) or 2 (`vperm2i128`), the two stages of a 4 x 4 transpose.
    #[inline(always)]
    fn zip_lo<const H: usize>(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe {
            if H == 1 {
                _mm256_unpacklo_epi64(a, b)
            } else {
                _mm256_permute2x128_si256::<0x20>(a, b)
            }
        }
    }

    #[inline(always)]
    fn zip_hi<const H: usize>(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe {
            if H == 1 {
                _mm256_unpackhi_epi64(a, b)
            } else {
                _mm256_permute2x128_si256::<0x31>(a, b)
            }
        }
    }
}
