//! The one Keccak-f[1600] permutation, and the one multi-state transpose, absorb and squeeze,
//! written against a small set of lane operations that each target implements with its best
//! instructions.
//!
//! - [`Ops`]: what the rounds need: XOR, chi's `a ^ (!b & c)`, theta's three- and five-way
//!   XORs, rotate by a constant. AVX-512 does chi and three-way XORs in one `vpternlogq` and
//!   rotations in one `vprolq`; AVX2 uses two instructions for each and shift pairs (or byte
//!   shuffles) for rotations; the portable kernel works on `u64`.
//! - [`Lanes`]: `N` states in one vector (one state per 64-bit element): loads, stores and the
//!   interleaves the transposes are built from.
//!
//! Everything here is `#[inline(always)]` and safe: the ops take the target's token (made only
//! by runtime feature detection) as `self`, so each target instantiates these functions inside
//! its own `#[target_feature]` function, where the intrinsics inline to single instructions.

use super::{Template, RC};

/// The lane operations of the Keccak-f[1600] rounds, for one lane type `V` (a `u64`, or a
/// vector holding one lane of several states).
pub(super) trait Ops: Copy {
    type V: Copy;

    /// The round loop spills lanes to the stack (fewer vector registers than its 25 lanes and
    /// temporaries): [`permute`] then aligns its frame for them.
    const SPILLS: bool = false;

    /// `a ^ b`.
    fn xor(self, a: Self::V, b: Self::V) -> Self::V;

    /// `a ^ b ^ c`.
    fn xor3(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;

    /// `a ^ b ^ c ^ d ^ e`: two three-way XORs unless a target has better.
    #[inline(always)]
    fn xor5(self, a: Self::V, b: Self::V, c: Self::V, d: Self::V, e: Self::V) -> Self::V {
        self.xor3(self.xor3(a, b, c), d, e)
    }

    /// Chi: `a ^ (!b & c)`.
    fn chi(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;

    /// Rotate every 64-bit element left by `N`; `M = 64 - N`, for targets that rotate with a
    /// pair of shifts (stable Rust cannot compute it from `N` in a const argument).
    fn rotl<const N: i32, const M: i32>(self, a: Self::V) -> Self::V;

    /// `a ^ k` in every element (iota).
    fn xor_splat(self, a: Self::V, k: u64) -> Self::V;
}

/// `N` Keccak states side by side: element `k` of a vector belongs to state `k`.
pub(super) trait Lanes<const N: usize>: Ops {
    /// `x` in every element.
    fn splat(self, x: u64) -> Self::V;

    /// Word `k` of the vector from `words[k]`.
    fn load(self, words: &[u64; N]) -> Self::V;

    /// As [`Lanes::load`], from little-endian bytes.
    fn load_le(self, words: &[[u8; 8]; N]) -> Self::V;

    /// `words[k]` = word `k` of `v`.
    fn store(self, v: Self::V, words: &mut [u64; N]);

    /// The first four words of `v`, little-endian: a keccak256 digest.
    fn store_digest(self, v: Self::V, out: &mut [u8; 32]);

    /// Every element shifted left by 8 bits.
    fn shl8(self, a: Self::V) -> Self::V;

    /// Every element shifted right by 56 bits.
    fn shr56(self, a: Self::V) -> Self::V;

    /// The elements in blocks of `H` (a power of two below `N`): of every pair of blocks, the
    /// first block of `a`, then the first block of `b`.
    fn zip_lo<const H: usize>(self, a: Self::V, b: Self::V) -> Self::V;

    /// As [`Lanes::zip_lo`] with the second block of each pair.
    fn zip_hi<const H: usize>(self, a: Self::V, b: Self::V) -> Self::V;
}

/// Keccak-f[1600] in place over lanes of type `O::V` (lane `x + 5 y` at index `x + 5 y`).
/// Theta, rho and pi are fused per lane; the rotation offsets and the pi permutation are
/// written out (FIPS 202, 3.2).
#[inline(always)]
pub(super) fn permute<O: Ops>(o: O, state: &mut [O::V; 25]) {
    if O::SPILLS {
        // An opaque stack slot of the lane type's alignment makes the compiler align this
        // frame to it, and with it the round loop's spills. Otherwise they follow the caller's
        // stack alignment and straddle cache lines in some runs and not others: the 4-state
        // AVX2 permutation took 0.8x to 1.5x its time, run to run. (Where nothing spills, the
        // slot only costs: 2% on the 8-state AVX-512 permutation.)
        std::hint::black_box(&mut std::mem::MaybeUninit::<O::V>::uninit());
    }
    let mut s = *state;
    for &rc in RC.iter() {
        let c0 = o.xor5(s[0], s[5], s[10], s[15], s[20]);
        let c1 = o.xor5(s[1], s[6], s[11], s[16], s[21]);
        let c2 = o.xor5(s[2], s[7], s[12], s[17], s[22]);
        let c3 = o.xor5(s[3], s[8], s[13], s[18], s[23]);
        let c4 = o.xor5(s[4], s[9], s[14], s[19], s[24]);
        let d0 = o.xor(c4, o.rotl::<1, 63>(c1));
        let d1 = o.xor(c0, o.rotl::<1, 63>(c2));
        let d2 = o.xor(c1, o.rotl::<1, 63>(c3));
        let d3 = o.xor(c2, o.rotl::<1, 63>(c4));
        let d4 = o.xor(c3, o.rotl::<1, 63>(c0));
        // b[y + 5 ((2 x + 3 y) mod 5)] = rotl(a[x + 5 y] ^ d[x], r[x + 5 y])
        let b0 = o.xor(s[0], d0);
        let b1 = o.rotl::<44, 20>(o.xor(s[6], d1));
        let b2 = o.rotl::<43, 21>(o.xor(s[12], d2));
        let b3 = o.rotl::<21, 43>(o.xor(s[18], d3));
        let b4 = o.rotl::<14, 50>(o.xor(s[24], d4));
        let b5 = o.rotl::<28, 36>(o.xor(s[3], d3));
        let b6 = o.rotl::<20, 44>(o.xor(s[9], d4));
        let b7 = o.rotl::<3, 61>(o.xor(s[10], d0));
        let b8 = o.rotl::<45, 19>(o.xor(s[16], d1));
        let b9 = o.rotl::<61, 3>(o.xor(s[22], d2));
        let b10 = o.rotl::<1, 63>(o.xor(s[1], d1));
        let b11 = o.rotl::<6, 58>(o.xor(s[7], d2));
        let b12 = o.rotl::<25, 39>(o.xor(s[13], d3));
        let b13 = o.rotl::<8, 56>(o.xor(s[19], d4));
        let b14 = o.rotl::<18, 46>(o.xor(s[20], d0));
        let b15 = o.rotl::<27, 37>(o.xor(s[4], d4));
        let b16 = o.rotl::<36, 28>(o.xor(s[5], d0));
        let b17 = o.rotl::<10, 54>(o.xor(s[11], d1));
        let b18 = o.rotl::<15, 49>(o.xor(s[17], d2));
        let b19 = o.rotl::<56, 8>(o.xor(s[23], d3));
        let b20 = o.rotl::<62, 2>(o.xor(s[2], d2));
        let b21 = o.rotl::<55, 9>(o.xor(s[8], d3));
        let b22 = o.rotl::<39, 25>(o.xor(s[14], d4));
        let b23 = o.rotl::<41, 23>(o.xor(s[15], d0));
        let b24 = o.rotl::<2, 62>(o.xor(s[21], d1));
        // chi per row, iota on lane 0
        s = [
            o.xor_splat(o.chi(b0, b1, b2), rc),
            o.chi(b1, b2, b3),
            o.chi(b2, b3, b4),
            o.chi(b3, b4, b0),
            o.chi(b4, b0, b1),
            o.chi(b5, b6, b7),
            o.chi(b6, b7, b8),
            o.chi(b7, b8, b9),
            o.chi(b8, b9, b5),
            o.chi(b9, b5, b6),
            o.chi(b10, b11, b12),
            o.chi(b11, b12, b13),
            o.chi(b12, b13, b14),
            o.chi(b13, b14, b10),
            o.chi(b14, b10, b11),
            o.chi(b15, b16, b17),
            o.chi(b16, b17, b18),
            o.chi(b17, b18, b19),
            o.chi(b18, b19, b15),
            o.chi(b19, b15, b16),
            o.chi(b20, b21, b22),
            o.chi(b21, b22, b23),
            o.chi(b22, b23, b24),
            o.chi(b23, b24, b20),
            o.chi(b24, b20, b21),
        ];
    }
    *state = s;
}

/// Rows `r[k] = [w0 .. w(N-1)]` to columns `[r0.wj .. r(N-1).wj]` (its own inverse): one
/// butterfly stage per power of two below `N`.
#[inline(always)]
pub(super) fn transpose<const N: usize, L: Lanes<N>>(l: L, rows: [L::V; N]) -> [L::V; N] {
    let rows = exchange::<N, 1, L>(l, rows);
    let rows = exchange::<N, 2, L>(l, rows);
    exchange::<N, 4, L>(l, rows)
}

/// One transpose stage: rows `i` and `i + H` (`i` with bit `H` clear) trade their
/// off-diagonal `H x H` blocks. A no-op when `H >= N`.
#[inline(always)]
fn exchange<const N: usize, const H: usize, L: Lanes<N>>(l: L, r: [L::V; N]) -> [L::V; N] {
    const { assert!(N.is_power_of_two() && H.is_power_of_two()) };
    if H >= N {
        return r;
    }
    // Pair `p` is rows `i` and `i + H`, `i` the `p`-th row with bit `H` clear: with `N` a
    // power of two and `H < N`, both are below `N`. (A counted loop the compiler unrolls, not
    // `array::from_fn`: that one is not always inlined, and out of line it loses the target's
    // features.)
    let mut out = r;
    for p in 0..N / 2 {
        let i = (p / H) * 2 * H + p % H;
        let (a, b) = (r[i], r[i + H]);
        out[i] = l.zip_lo::<H>(a, b);
        out[i + H] = l.zip_hi::<H>(a, b);
    }
    out
}

/// Keccak-f[1600] of `N` states in place: transposed into `N`-wide vectors, permuted, and
/// transposed back.
#[inline(always)]
pub(super) fn permute_states<const N: usize, L: Lanes<N>>(l: L, states: &mut [[u64; 25]; N]) {
    let zero = l.splat(0);
    let mut s = [zero; 25];
    // Words 0..24 as 24 / N blocks of N x N, transposed; word 24 on its own.
    let (blocks, last) = s.as_chunks_mut::<N>();
    let tail = blocks.len() * N;
    for (b, block) in blocks.iter_mut().enumerate() {
        let rows = states.each_ref().map(|st| {
            let (words, _) = st.as_chunks::<N>();
            words.get(b).map_or(zero, |w| l.load(w))
        });
        *block = transpose(l, rows);
    }
    for (word, v) in (tail..).zip(last.iter_mut()) {
        *v = l.load(
            &states
                .each_ref()
                .map(|st| st.get(word).copied().unwrap_or(0)),
        );
    }
    permute(l, &mut s);
    let (blocks, last) = s.as_chunks::<N>();
    for (b, block) in blocks.iter().enumerate() {
        for (st, row) in states.iter_mut().zip(transpose(l, *block)) {
            let (words, _) = st.as_chunks_mut::<N>();
            if let Some(w) = words.get_mut(b) {
                l.store(row, w);
            }
        }
    }
    for (word, v) in (tail..).zip(last) {
        let mut column = [0u64; N];
        l.store(*v, &mut column);
        for (st, x) in states.iter_mut().zip(column) {
            if let Some(w) = st.get_mut(word) {
                *w = x;
            }
        }
    }
}

/// `out[k] = keccak256(prefix || inputs[k])` for `N` inputs at once.
#[inline(always)]
pub(super) fn hash<const N: usize, L: Lanes<N>>(
    l: L,
    t: &Template,
    inputs: &[[u8; 64]; N],
    out: &mut [[u8; 32]; N],
) {
    let zero = l.splat(0);
    let mut s = t.lanes().map(|x| l.splat(x));
    // Word j of the N inputs (in blocks of N words, transposed), then shifted one byte up into
    // the lanes from q on: the carry and the shifted word share no bits.
    let mut carry = zero;
    let mut lanes = s.iter_mut().skip(t.first_input_lane());
    for b in 0..8 / N {
        let rows = inputs.each_ref().map(|x| {
            let (words, _) = x.as_chunks::<8>();
            let (blocks, _) = words.as_chunks::<N>();
            blocks.get(b).map_or(zero, |w| l.load_le(w))
        });
        for (w, v) in transpose(l, rows).into_iter().zip(lanes.by_ref()) {
            *v = l.xor3(*v, carry, l.shl8(w));
            carry = l.shr56(w);
        }
    }
    if let Some(v) = lanes.next() {
        *v = l.xor(*v, carry);
    }
    permute(l, &mut s);
    // Lanes 0..4 of each state are its digest: the first four words of its row once the first
    // N lanes are transposed.
    let (first, _) = s.as_chunks::<N>();
    if let Some(first) = first.first() {
        for (o, row) in out.iter_mut().zip(transpose(l, *first)) {
            l.store_digest(row, o);
        }
    }
}
