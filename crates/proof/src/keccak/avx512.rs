//! Eight Keccak-f[1600] states at once in 512-bit AVX-512 registers: vector `i` holds lane `i`
//! of the eight states. Rotations are single `vprolq`s; chi (`a ^ (!b & c)`) and theta's
//! five-way XOR are `vpternlogq`s. Calls of two to four inputs use the same kernel on 256-bit
//! registers (AVX-512VL), so a short call does not pay for eight states. Inputs and digests are
//! transposed with unpack and two-source permutes. The permutation and the transposes are the
//! shared ones of [`super::kernel`]; this module supplies their lane operations.
//!
//! Every intrinsic here needs AVX-512F and AVX-512VL; an [`Avx512`] is the proof that the CPU
//! has them.
//!
//! The AVX-512 intrinsics and target features are stable since Rust 1.89, hence the crate's
//! `rust-version`.

use super::avx2::Avx2;
use super::kernel::{self, Lanes, Ops};
use super::Template;
use std::arch::x86_64::*;

/// A token that the running CPU supports AVX-512F, AVX-512VL and AVX2: made only by
/// [`Avx512::detect`].
#[derive(Clone, Copy, Debug)]
pub struct Avx512 {
    /// AVX2's token: the 256-bit kernel moves data with AVX2's instructions.
    avx2: Avx2,
}

impl Avx512 {
    pub fn detect() -> Option<Avx512> {
        let avx2 = Avx2::detect()?;
        (std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl"))
            .then_some(Avx512 { avx2 })
    }

    /// `out[k] = keccak256(prefix || inputs[k])`, eight at once.
    pub fn hash8(self, t: &Template, inputs: &[[u8; 64]; 8], out: &mut [[u8; 32]; 8]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { hash8(self, t, inputs, out) }
    }

    /// `out[k] = keccak256(prefix || inputs[k])`, four at once in 256-bit registers.
    pub fn hash4(self, t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { hash4(Ymm(self), t, inputs, out) }
    }

    /// Keccak-f[1600] of each of the eight states.
    pub fn permute8(self, states: &mut [[u64; 25]; 8]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { permute8(self, states) }
    }

    /// Keccak-f[1600] of each of the four states, in 256-bit registers.
    pub fn permute4(self, states: &mut [[u64; 25]; 4]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { permute4(Ymm(self), states) }
    }
}

/// The shared kernels, compiled for AVX-512 so the ops below inline to single instructions.
#[target_feature(enable = "avx512f,avx512vl")]
fn hash8(k: Avx512, t: &Template, inputs: &[[u8; 64]; 8], out: &mut [[u8; 32]; 8]) {
    kernel::hash(k, t, inputs, out);
}

#[target_feature(enable = "avx512f,avx512vl")]
fn hash4(k: Ymm, t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
    kernel::hash(k, t, inputs, out);
}

#[target_feature(enable = "avx512f,avx512vl")]
fn permute8(k: Avx512, states: &mut [[u64; 25]; 8]) {
    kernel::permute_states(k, states);
}

#[target_feature(enable = "avx512f,avx512vl")]
fn permute4(k: Ymm, states: &mut [[u64; 25]; 4]) {
    kernel::permute_states(k, states);
}

/// `vpternlogq` truth tables: `a ^ b ^ c`, and chi's `a ^ (!b & c)`.
const XOR3: i32 = 0x96;
const CHI: i32 = 0xD2;

// Every op takes `self`, an `Avx512` (or a `Ymm`, which holds one), so it runs only where
// AVX-512F, AVX-512VL and AVX2 were detected: that is the SAFETY argument of each `unsafe`
// block below.
impl Ops for Avx512 {
    type V = __m512i;

    #[inline(always)]
    fn xor(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_xor_si512(a, b) }
    }

    #[inline(always)]
    fn xor3(self, a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_ternarylogic_epi64::<XOR3>(a, b, c) }
    }

    #[inline(always)]
    fn chi(self, a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_ternarylogic_epi64::<CHI>(a, b, c) }
    }

    #[inline(always)]
    fn rotl<const N: i32, const M: i32>(self, a: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_rol_epi64::<N>(a) }
    }

    #[inline(always)]
    fn xor_splat(self, a: __m512i, k: u64) -> __m512i {
        self.xor(a, self.splat(k))
    }
}

impl Lanes<8> for Avx512 {
    #[inline(always)]
    fn splat(self, x: u64) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_set1_epi64(x as i64) }
    }

    #[inline(always)]
    fn load(self, words: &[u64; 8]) -> __m512i {
        // SAFETY: `self` proves AVX-512F; `words` is 64 readable bytes and the load is
        // unaligned.
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    }

    #[inline(always)]
    fn load_le(self, words: &[[u8; 8]; 8]) -> __m512i {
        // SAFETY: `self` proves AVX-512F; `words` is 64 readable bytes and the load is
        // unaligned.
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    }

    #[inline(always)]
    fn store(self, v: __m512i, words: &mut [u64; 8]) {
        // SAFETY: `self` proves AVX-512F; `words` is 64 writable bytes and the store is
        // unaligned.
        unsafe { _mm512_storeu_si512(words.as_mut_ptr().cast(), v) }
    }

    #[inline(always)]
    fn store_digest(self, v: __m512i, out: &mut [u8; 32]) {
        // SAFETY: `self` proves AVX-512F (and so AVX); `out` is 32 writable bytes and the
        // store is unaligned.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), _mm512_castsi512_si256(v)) }
    }

    #[inline(always)]
    fn shl8(self, a: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_slli_epi64::<8>(a) }
    }

    #[inline(always)]
    fn shr56(self, a: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe { _mm512_srli_epi64::<56>(a) }
    }

    /// `H` is 1 (`vpunpcklqdq`), 2 (`vpermt2q`) or 4 (`vshufi64x2`), the three stages of an
    /// 8 x 8 transpose.
    #[inline(always)]
    fn zip_lo<const H: usize>(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe {
            match H {
                1 => _mm512_unpacklo_epi64(a, b),
                2 => _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), b),
                _ => _mm512_shuffle_i64x2::<0x44>(a, b),
            }
        }
    }

    #[inline(always)]
    fn zip_hi<const H: usize>(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512F.
        unsafe {
            match H {
                1 => _mm512_unpackhi_epi64(a, b),
                2 => _mm512_permutex2var_epi64(a, _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15), b),
                _ => _mm512_shuffle_i64x2::<0xEE>(a, b),
            }
        }
    }
}

/// Four states in 256-bit registers with the AVX-512VL forms of `vpternlogq` and `vprolq`;
/// data moves as in the AVX2 kernel.
#[derive(Clone, Copy)]
struct Ymm(Avx512);

impl Ops for Ymm {
    type V = __m256i;

    #[inline(always)]
    fn xor(self, a: __m256i, b: __m256i) -> __m256i {
        self.0.avx2.xor(a, b)
    }

    #[inline(always)]
    fn xor3(self, a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX-512F and AVX-512VL.
        unsafe { _mm256_ternarylogic_epi64::<XOR3>(a, b, c) }
    }

    #[inline(always)]
    fn chi(self, a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX-512F and AVX-512VL.
        unsafe { _mm256_ternarylogic_epi64::<CHI>(a, b, c) }
    }

    #[inline(always)]
    fn rotl<const N: i32, const M: i32>(self, a: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX-512F and AVX-512VL.
        unsafe { _mm256_rol_epi64::<N>(a) }
    }

    #[inline(always)]
    fn xor_splat(self, a: __m256i, k: u64) -> __m256i {
        self.0.avx2.xor_splat(a, k)
    }
}

impl Lanes<4> for Ymm {
    #[inline(always)]
    fn splat(self, x: u64) -> __m256i {
        self.0.avx2.splat(x)
    }

    #[inline(always)]
    fn load(self, words: &[u64; 4]) -> __m256i {
        self.0.avx2.load(words)
    }

    #[inline(always)]
    fn load_le(self, words: &[[u8; 8]; 4]) -> __m256i {
        self.0.avx2.load_le(words)
    }

    #[inline(always)]
    fn store(self, v: __m256i, words: &mut [u64; 4]) {
        self.0.avx2.store(v, words);
    }

    #[inline(always)]
    fn store_digest(self, v: __m256i, out: &mut [u8; 32]) {
        self.0.avx2.store_digest(v, out);
    }

    #[inline(always)]
    fn shl8(self, a: __m256i) -> __m256i {
        self.0.avx2.shl8(a)
    }

    #[inline(always)]
    fn shr56(self, a: __m256i) -> __m256i {
        self.0.avx2.shr56(a)
    }

    #[inline(always)]
    fn zip_lo<const H: usize>(self, a: __m256i, b: __m256i) -> __m256i {
        self.0.avx2.zip_lo::<H>(a, b)
    }

    #[inline(always)]
    fn zip_hi<const H: usize>(self, a: __m256i, b: __m256i) -> __m256i {
        self.0.avx2.zip_hi::<H>(a, b)
    }
}
