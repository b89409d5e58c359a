//! Eight Keccak-f[1600] states at once in 512-bit AVX-512 registers: vector `i` holds lane `i`
//! of the eight states. Rotations are single `vprolq`s; chi (`a ^ (!b & c)`) and theta's
//! five-way XOR are `vpternlogq`s. Calls of two to four inputs use the same kernel on 256-bit
//! registers (AVX-512VL), so a short call does not pay for eight states. Inputs and digests are
//! transposed with unpack and two-source permutes.
//!
//! Every function here needs AVX-512F and AVX-512VL; an [`Avx512`] is the proof that the CPU
//! has them.
//!
//! The AVX-512 intrinsics and target features are stable since Rust 1.89, hence the crate's
//! `rust-version`.

use super::Template;

/// A token that the running CPU supports AVX-512F, AVX-512VL and AVX2: made only by
/// [`Avx512::detect`].
#[derive(Clone, Copy, Debug)]
pub struct Avx512(());

impl Avx512 {
    pub fn detect() -> Option<Avx512> {
        (std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx2"))
        .then_some(Avx512(()))
    }

    /// `out[k] = keccak256(prefix || inputs[k])`, eight at once.
    pub fn hash8(self, t: &Template, inputs: &[[u8; 64]; 8], out: &mut [[u8; 32]; 8]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { z::hash8(t, inputs, out) }
    }

    /// `out[k] = keccak256(prefix || inputs[k])`, four at once in 256-bit registers.
    pub fn hash4(self, t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { y::hash4(t, inputs, out) }
    }

    /// Keccak-f[1600] of each of the eight states.
    pub fn permute8(self, states: &mut [[u64; 25]; 8]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { z::permute_states(states) }
    }

    /// Keccak-f[1600] of each of the four states, in 256-bit registers.
    pub fn permute4(self, states: &mut [[u64; 25]; 4]) {
        // SAFETY: an `Avx512` exists only when `detect` saw AVX-512F, AVX-512VL and AVX2.
        unsafe { y::permute_states(states) }
    }
}

/// `vpternlogq` truth tables: `a ^ b ^ c`, and chi's `a ^ (!b & c)`.
const XOR3: i32 = 0x96;
const CHI: i32 = 0xD2;

/// Eight states in `__m512i`.
mod z {
    use super::{Template, CHI, XOR3};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn xor(a: __m512i, b: __m512i) -> __m512i {
        _mm512_xor_si512(a, b)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn xor5(a: __m512i, b: __m512i, c: __m512i, d: __m512i, e: __m512i) -> __m512i {
        _mm512_ternarylogic_epi64::<XOR3>(_mm512_ternarylogic_epi64::<XOR3>(a, b, c), d, e)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn chi(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        _mm512_ternarylogic_epi64::<CHI>(a, b, c)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn rotl<const N: i32, const M: i32>(a: __m512i) -> __m512i {
        _mm512_rol_epi64::<N>(a)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn iota(a: __m512i, rc: u64) -> __m512i {
        _mm512_xor_si512(a, _mm512_set1_epi64(rc as i64))
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn permute(state: &mut [__m512i; 25]) {
        let mut s = *state;
        keccak_rounds!(s, xor, xor5, chi, rotl, iota);
        *state = s;
    }

    /// Rows `r[k] = [w0 .. w7]` to columns `[r0.wj .. r7.wj]`: unpack pairs, then two-source
    /// permutes gather quads and halves.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn transpose([r0, r1, r2, r3, r4, r5, r6, r7]: [__m512i; 8]) -> [__m512i; 8] {
        // t0 = [r0w0 r1w0 | r0w2 r1w2 | r0w4 r1w4 | r0w6 r1w6], t1 the odd words.
        let t0 = _mm512_unpacklo_epi64(r0, r1);
        let t1 = _mm512_unpackhi_epi64(r0, r1);
        let t2 = _mm512_unpacklo_epi64(r2, r3);
        let t3 = _mm512_unpackhi_epi64(r2, r3);
        let t4 = _mm512_unpacklo_epi64(r4, r5);
        let t5 = _mm512_unpackhi_epi64(r4, r5);
        let t6 = _mm512_unpacklo_epi64(r6, r7);
        let t7 = _mm512_unpackhi_epi64(r6, r7);
        // u0 = [r0w0 r1w0 r2w0 r3w0 | r0w4 r1w4 r2w4 r3w4], and so on.
        let even = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
        let odd = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
        let u0 = _mm512_permutex2var_epi64(t0, even, t2); // w0 | w4
        let u1 = _mm512_permutex2var_epi64(t1, even, t3); // w1 | w5
        let u2 = _mm512_permutex2var_epi64(t0, odd, t2); // w2 | w6
        let u3 = _mm512_permutex2var_epi64(t1, odd, t3); // w3 | w7
        let v0 = _mm512_permutex2var_epi64(t4, even, t6);
        let v1 = _mm512_permutex2var_epi64(t5, even, t7);
        let v2 = _mm512_permutex2var_epi64(t4, odd, t6);
        let v3 = _mm512_permutex2var_epi64(t5, odd, t7);
        [
            _mm512_shuffle_i64x2::<0x44>(u0, v0),
            _mm512_shuffle_i64x2::<0x44>(u1, v1),
            _mm512_shuffle_i64x2::<0x44>(u2, v2),
            _mm512_shuffle_i64x2::<0x44>(u3, v3),
            _mm512_shuffle_i64x2::<0xEE>(u0, v0),
            _mm512_shuffle_i64x2::<0xEE>(u1, v1),
            _mm512_shuffle_i64x2::<0xEE>(u2, v2),
            _mm512_shuffle_i64x2::<0xEE>(u3, v3),
        ]
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn hash8(t: &Template, inputs: &[[u8; 64]; 8], out: &mut [[u8; 32]; 8]) {
        let zero = _mm512_setzero_si512();
        let mut rows = [zero; 8];
        for (r, x) in rows.iter_mut().zip(inputs) {
            // SAFETY: `x` is 64 readable bytes; the load is unaligned.
            *r = unsafe { _mm512_loadu_si512(x.as_ptr().cast()) };
        }
        // Word j of the eight inputs, then shifted one byte up into the lanes from q on.
        let words = transpose(rows);
        let mut s = [zero; 25];
        for (v, &l) in s.iter_mut().zip(t.lanes()) {
            *v = _mm512_set1_epi64(l as i64);
        }
        let mut carry = zero;
        let mut lanes = s.iter_mut().skip(t.first_input_lane());
        for (w, v) in words.into_iter().zip(lanes.by_ref()) {
            // v ^ carry ^ (w << 8): the carry and the shifted word share no bits.
            *v = _mm512_ternarylogic_epi64::<XOR3>(*v, carry, _mm512_slli_epi64::<8>(w));
            carry = _mm512_srli_epi64::<56>(w);
        }
        if let Some(v) = lanes.next() {
            *v = xor(*v, carry);
        }
        permute(&mut s);
        // Digest lanes 0..4 of the eight states to eight 32-byte rows, two per register.
        let a0 = _mm512_unpacklo_epi64(s[0], s[1]); // [s0 s1 of state 0 | 2 | 4 | 6]
        let a1 = _mm512_unpackhi_epi64(s[0], s[1]); // states 1, 3, 5, 7
        let b0 = _mm512_unpacklo_epi64(s[2], s[3]);
        let b1 = _mm512_unpackhi_epi64(s[2], s[3]);
        let first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
        let second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
        let c0 = _mm512_permutex2var_epi64(a0, first, b0); // states 0, 2
        let c1 = _mm512_permutex2var_epi64(a0, second, b0); // states 4, 6
        let c2 = _mm512_permutex2var_epi64(a1, first, b1); // states 1, 3
        let c3 = _mm512_permutex2var_epi64(a1, second, b1); // states 5, 7
        let pairs = [
            _mm512_shuffle_i64x2::<0x44>(c0, c2), // states 0, 1
            _mm512_shuffle_i64x2::<0xEE>(c0, c2), // states 2, 3
            _mm512_shuffle_i64x2::<0x44>(c1, c3), // states 4, 5
            _mm512_shuffle_i64x2::<0xEE>(c1, c3), // states 6, 7
        ];
        let (out, _) = out.as_chunks_mut::<2>();
        for (o, p) in out.iter_mut().zip(pairs) {
            // SAFETY: `o` is two adjacent 32-byte arrays, 64 writable bytes; the store is
            // unaligned.
            unsafe { _mm512_storeu_si512(o.as_mut_ptr().cast(), p) };
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn permute_states(states: &mut [[u64; 25]; 8]) {
        let zero = _mm512_setzero_si512();
        let mut s = [zero; 25];
        // Words 0..24 as three 8 x 8 blocks, transposed as the inputs are; word 24 on its own.
        let (blocks, _) = s.as_chunks_mut::<8>();
        for (b, block) in blocks.iter_mut().enumerate() {
            let mut rows = [zero; 8];
            for (r, st) in rows.iter_mut().zip(states.iter()) {
                let (words, _) = st.as_chunks::<8>();
                if let Some(w) = words.get(b) {
                    // SAFETY: `w` is 64 readable bytes; the load is unaligned.
                    *r = unsafe { _mm512_loadu_si512(w.as_ptr().cast()) };
                }
            }
            *block = transpose(rows);
        }
        let [a, b, c, d, e, f, g, h] = states.each_ref().map(|st| st[24] as i64);
        s[24] = _mm512_setr_epi64(a, b, c, d, e, f, g, h);
        permute(&mut s);
        let (blocks, _) = s.as_chunks::<8>();
        for (b, block) in blocks.iter().enumerate() {
            for (st, row) in states.iter_mut().zip(transpose(*block)) {
                let (words, _) = st.as_chunks_mut::<8>();
                if let Some(w) = words.get_mut(b) {
                    // SAFETY: `w` is 64 writable bytes; the store is unaligned.
                    unsafe { _mm512_storeu_si512(w.as_mut_ptr().cast(), row) };
                }
            }
        }
        let mut last = [0u64; 8];
        // SAFETY: `last` is 64 writable bytes; the store is unaligned.
        unsafe { _mm512_storeu_si512(last.as_mut_ptr().cast(), s[24]) };
        for (st, l) in states.iter_mut().zip(last) {
            st[24] = l;
        }
    }
}

/// Four states in `__m256i` with the AVX-512VL forms of the same instructions.
mod y {
    use super::{Template, CHI, XOR3};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512vl")]
    #[inline]
    fn xor(a: __m256i, b: __m256i) -> __m256i {
        _mm256_xor_si256(a, b)
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    #[inline]
    fn xor5(a: __m256i, b: __m256i, c: __m256i, d: __m256i, e: __m256i) -> __m256i {
        _mm256_ternarylogic_epi64::<XOR3>(_mm256_ternarylogic_epi64::<XOR3>(a, b, c), d, e)
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    #[inline]
    fn chi(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        _mm256_ternarylogic_epi64::<CHI>(a, b, c)
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    #[inline]
    fn rotl<const N: i32, const M: i32>(a: __m256i) -> __m256i {
        _mm256_rol_epi64::<N>(a)
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    #[inline]
    fn iota(a: __m256i, rc: u64) -> __m256i {
        _mm256_xor_si256(a, _mm256_set1_epi64x(rc as i64))
    }

    #[target_feature(enable = "avx512f,avx512vl")]
    #[inline]
    fn permute(state: &mut [__m256i; 25]) {
        let mut s = *state;
        keccak_rounds!(s, xor, xor5, chi, rotl, iota);
        *state = s;
    }

    /// Rows `r[k] = [w0, w1, w2, w3]` to columns (its own inverse).
    #[target_feature(enable = "avx512f,avx512vl")]
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

    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) fn hash4(t: &Template, inputs: &[[u8; 64]; 4], out: &mut [[u8; 32]; 4]) {
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
            *v = _mm256_ternarylogic_epi64::<XOR3>(*v, carry, _mm256_slli_epi64::<8>(w));
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

    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) fn permute_states(states: &mut [[u64; 25]; 4]) {
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
}
