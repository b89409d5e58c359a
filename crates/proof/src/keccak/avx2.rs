//! Four Keccak-f[1600] states at once in 256-bit AVX2 registers: vector `i` holds lane `i` of
//! the four states. AVX2 has no 64-bit rotate, so rotations are shift pairs, except by 8 and
//! 56 bits (byte shuffles); chi is `vpandn` then `vpxor`. Inputs and digests are transposed
//! with 4 x 4 unpack/permute transposes.
//!
//! Every function here needs AVX2; an [`Avx2`] is the proof that the CPU has it.

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
        unsafe { hash4(t, inputs, out) }
    }

    /// Keccak-f[1600] of each of the four states.
    pub fn permute4(self, states: &mut [[u64; 25]; 4]) {
        // SAFETY: an `Avx2` exists only when `detect` saw AVX2 on this CPU.
        unsafe { permute_states(states) }
    }
}

#[target_feature(enable = "avx2")]
#[inline]
fn xor(a: __m256i, b: __m256i) -> __m256i {
    _mm256_xor_si256(a, b)
}

#[target_feature(enable = "avx2")]
#[inline]
fn xor5(a: __m256i, b: __m256i, c: __m256i, d: __m256i, e: __m256i) -> __m256i {
    xor(xor(xor(a, b), xor(c, d)), e)
}

#[target_feature(enable = "avx2")]
#[inline]
fn chi(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
    _mm256_xor_si256(a, _mm256_andnot_si256(b, c))
}

#[target_feature(enable = "avx2")]
#[inline]
fn rotl<const N: i32, const M: i32>(a: __m256i) -> __m256i {
    if N == 8 {
        let idx = _mm256_setr_epi8(
            7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9, 10, 11, 12, 13, 14, 7, 0, 1, 2, 3, 4, 5, 6, 15, 8, 9,
            10, 11, 12, 13, 14,
        );
        _mm256_shuffle_epi8(a, idx)
    } else if N == 56 {
        let idx = _mm256_setr_epi8(
            1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 8, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10,
            11, 12, 13, 14, 15, 8,
        );
        _mm256_shuffle_epi8(a, idx)
    } else {
        _mm256_or_si256(_mm256_slli_epi64::<N>(a), _mm256_srli_epi64::<M>(a))
    }
}

#[target_feature(enable = "avx2")]
#[inline]
fn iota(a: __m256i, rc: u64) -> __m256i {
    _mm256_xor_si256(a, _mm256_set1_epi64x(rc as i64))
}

#[target_feature(enable = "avx2")]
#[inline]
fn permute(state: &mut [__m256i; 25]) {
    let mut s = *state;
    keccak_rounds!(s, xor, xor5, chi, rotl, iota);
    *state = s;
}

/// Rows `r[k] = [w0, w1, w2, w3]` to columns `[r0.wj, r1.wj, r2.wj, r3.wj]` (its own inverse).
#[target_feature(enable = "avx2")]
#[inline]
fn transpose([r0, r1, r2, r3]: [__m256i; 4]) -> [__m256i; 4] {
    let t0 = _mm256_unpacklo_epi64(r0, r1);
    let t1 = _mm256_unpackhi_epi64(r0, r1);
    let t2 = _mm256_unpacklo_epi64(r2, r3);
    let t3 = _mm256_unpackhi_epi64(r2, r3);
    [
        _mm256_permute2x128_si256::<0x20>(t0, t2),
        _mm256_permute2x128_si256::<0x20>(t1, t3),
        _mm256_permute2x128_si256::<0x31>(t0, t2),
        _mm256_permute2x128_si256::<0x31>(t1, t3),
    ]
}

#[target_feature(enable = "avx2")]
fn hash4(t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
    let zero = _mm256_setzero_si256();
    let (mut lo, mut hi) = ([zero; 4], [zero; 4]);
    for ((l, h), x) in lo.iter_mut().zip(hi.iter_mut()).zip(inputs) {
        let (halves, _) = x.as_chunks::<32>();
        if let [a, b] = halves {
            // SAFETY: `a` and `b` are 32 readable bytes each; the loads are unaligned.
            unsafe {
                *l = _mm256_loadu_si256(a.as_ptr().cast());
                *h = _mm256_loadu_si256(b.as_ptr().cast());
            }
        }
    }
    // Word j of the four inputs, then shifted one byte up into the lanes from q on.
    let [w0, w1, w2, w3] = transpose(lo);
    let [w4, w5, w6, w7] = transpose(hi);
    let mut s = [zero; 25];
    for (v, &l) in s.iter_mut().zip(t.lanes()) {
        *v = _mm256_set1_epi64x(l as i64);
    }
    let mut carry = zero;
    let mut lanes = s.iter_mut().skip(t.first_input_lane());
    for (w, v) in [w0, w1, w2, w3, w4, w5, w6, w7]
        .into_iter()
        .zip(lanes.by_ref())
    {
        let shifted = _mm256_or_si256(carry, _mm256_slli_epi64::<8>(w));
        *v = xor(*v, shifted);
        carry = _mm256_srli_epi64::<56>(w);
    }
    if let Some(v) = lanes.next() {
        *v = xor(*v, carry);
    }
    permute(&mut s);
    let digests = transpose([s[0], s[1], s[2], s[3]]);
    for (o, d) in out.iter_mut().zip(digests) {
        // SAFETY: `o` is 32 writable bytes; the store is unaligned.
        unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), d) };
    }
}

#[target_feature(enable = "avx2")]
fn permute_states(states: &mut [[u64; 25]; 4]) {
    let zero = _mm256_setzero_si256();
    let mut s = [zero; 25];
    // Words 0..24 as six 4 x 4 blocks, transposed as the inputs are; word 24 on its own.
    let (blocks, _) = s.as_chunks_mut::<4>();
    for (b, block) in blocks.iter_mut().enumerate() {
        let mut rows = [zero; 4];
        for (r, st) in rows.iter_mut().zip(states.iter()) {
            let (words, _) = st.as_chunks::<4>();
            if let Some(w) = words.get(b) {
                // SAFETY: `w` is 32 readable bytes; the load is unaligned.
                *r = unsafe { _mm256_loadu_si256(w.as_ptr().cast()) };
            }
        }
        *block = transpose(rows);
    }
    let [a, b, c, d] = states.each_ref().map(|st| st[24] as i64);
    s[24] = _mm256_setr_epi64x(a, b, c, d);
    permute(&mut s);
    let (blocks, _) = s.as_chunks::<4>();
    for (b, block) in blocks.iter().enumerate() {
        for (st, row) in states.iter_mut().zip(transpose(*block)) {
            let (words, _) = st.as_chunks_mut::<4>();
            if let Some(w) = words.get_mut(b) {
                // SAFETY: `w` is 32 writable bytes; the store is unaligned.
                unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), row) };
            }
        }
    }
    let mut last = [0u64; 4];
    // SAFETY: `last` is 32 writable bytes; the store is unaligned.
    unsafe { _mm256_storeu_si256(last.as_mut_ptr().cast(), s[24]) };
    for (st, l) in states.iter_mut().zip(last) {
        st[24] = l;
    }
}
