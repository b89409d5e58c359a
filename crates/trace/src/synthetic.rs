//! The synthetic trace: deterministic pseudo-random chunks generated at memory speed, to
//! measure the Merkleisation alone. Chunk `i` is a function of the seed and `i`, so any worker
//! can generate any block.

use crate::{Chunk, CHUNK_LEN};

/// Chunk `i` of the synthetic trace for `seed`: word `k` of the four 64-bit words is
/// `mix(seed + 4i + k)`, a cheap multiply-xorshift mix, so generation stays far cheaper than
/// hashing.
#[inline]
pub fn chunk(seed: u64, i: u64) -> Chunk {
    let mut c = [0u8; CHUNK_LEN];
    synthetic_words(seed.wrapping_add(i.wrapping_mul(4)), &mut c);
    c
}

/// The mix of [`chunk`]: a splitmix64-style finaliser.
#[inline(always)]
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z ^= z >> 29;
    z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^ (z >> 32)
}

/// Writes `mix(base + j)` little-endian into the `j`-th 8 bytes of `out`: one loop over
/// independent words, which the compiler vectorises wherever the target has the instructions.
#[inline(always)]
fn synthetic_words(base: u64, out: &mut [u8]) {
    for (j, w) in out.chunks_exact_mut(8).enumerate() {
        w.copy_from_slice(&mix(base.wrapping_add(j as u64)).to_le_bytes());
    }
}

/// Chunks `first..first + out.len()` of the synthetic trace for `seed`.
///
/// The chunks' words are consecutive mixes, so a block is one vectorisable loop. It runs with
/// AVX-512 or AVX2 where the CPU has them: at the baseline x86-64 target the 64-bit
/// multiplies stay scalar and generation costs about a seventh of hashing the chunk, which
/// the bench would charge to the prover. The words are the same on every path.
pub fn fill(seed: u64, first: u64, out: &mut [Chunk]) {
    let base = seed.wrapping_add(first.wrapping_mul(4));
    let bytes = out.as_flattened_mut();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { synthetic_words_avx512(base, bytes) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { synthetic_words_avx2(base, bytes) };
        }
    }
    synthetic_words(base, bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn synthetic_words_avx512(base: u64, out: &mut [u8]) {
    synthetic_words(base, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn synthetic_words_avx2(base: u64, out: &mut [u8]) {
    synthetic_words(base, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised block fill is the per-chunk definition, whatever the CPU runs, for
    /// offsets that wrap the 64-bit counter too.
    #[test]
    fn fill_is_chunk_by_chunk() {
        for seed in [0, 3, u64::MAX - 5] {
            for first in [0, 1, 7, u64::MAX / 4 - 2, u64::MAX - 3] {
                for len in [0usize, 1, 2, 5, 16, 37] {
                    let mut block = vec![[0xa5u8; 32]; len];
                    fill(seed, first, &mut block);
                    for (j, c) in block.iter().enumerate() {
                        let i = first.wrapping_add(j as u64);
                        assert_eq!(*c, chunk(seed, i), "seed {seed} chunk {i}");
                    }
                }
            }
        }
        // Every path this CPU can run writes the same words as the portable loop.
        let base = 0x0123_4567_89ab_cdefu64;
        let mut portable = vec![0u8; 8 * 67];
        synthetic_words(base, &mut portable);
        #[cfg(target_arch = "x86_64")]
        {
            let mut v = vec![0u8; portable.len()];
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                unsafe { synthetic_words_avx2(base, &mut v) };
                assert_eq!(v, portable, "avx2");
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                v.fill(0);
                // SAFETY: the CPU has the AVX-512 subsets the function is compiled for.
                unsafe { synthetic_words_avx512(base, &mut v) };
                assert_eq!(v, portable, "avx512");
            }
        }
        // Word k of chunk i is mix(seed + 4i + k), pinned by hand for one word.
        let c = chunk(1, 2);
        let z = 9u64.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let z = (z ^ (z >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        assert_eq!(c[..8], (z ^ (z >> 32)).to_le_bytes());
    }
}
