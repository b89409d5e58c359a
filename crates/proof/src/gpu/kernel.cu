// poie's CUDA kernels: keyed one-block blake3 leaves and nodes, the per-lane perfect subtrees of
// a block, the per-lane streaming frontiers and the lane roots (docs/SPEC.md 3.3-3.5).
//
// Compiled at run time by NVRTC (src/proof/gpu/cuda.rs). The same file also compiles as C11
// with gcc and emulate/emulate.h (POIE_EMULATE), which runs every thread of a launch in a
// loop: src/proof/gpu/emulation_tests.rs checks these kernels byte for byte against the CPU
// prover without a GPU. So: no shared memory, no __syncthreads, no warp intrinsics, nothing a
// sequential loop over threads would run differently; each thread writes only its own outputs.
//
// Layouts (all digests are 8 little-endian u32 words, chunks too):
// - a block holds `rows x lanes` chunks in trace order: row p, lane j at index p * lanes + j;
// - leaves and every tree level are stored row-major the same way, so neighbouring threads
//   (neighbouring lanes) touch neighbouring digests;
// - pending[h * lanes + j]: lane j's frontier entry of height h (a perfect subtree of 2^h
//   leaves), valid where bit h of the lane's leaf count is set (as proof::tree::Frontier);
// - keys[0..8]: the leaf key s~, keys[8..16]: K_node.

#ifdef POIE_EMULATE
#include "emulate/emulate.h"
#else
typedef unsigned int u32;
typedef unsigned long long u64;
#define KERNEL extern "C" __global__
#define DEVICE static __device__ __forceinline__
#endif

#define THREAD_INDEX ((u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x)

// Heights a frontier can hold: lane lengths up to 2^64 - 1 leaves.
#define POIE_LEVELS 64

DEVICE u32 rotr32(u32 x, u32 n) { return (x >> n) | (x << (32 - n)); }

#define G(a, b, c, d, x, y)                                                                    \
    do {                                                                                       \
        s[a] = s[a] + s[b] + (x);                                                              \
        s[d] = rotr32(s[d] ^ s[a], 16);                                                        \
        s[c] = s[c] + s[d];                                                                    \
        s[b] = rotr32(s[b] ^ s[c], 12);                                                        \
        s[a] = s[a] + s[b] + (y);                                                              \
        s[d] = rotr32(s[d] ^ s[a], 8);                                                         \
        s[c] = s[c] + s[d];                                                                    \
        s[b] = rotr32(s[b] ^ s[c], 7);                                                         \
    } while (0)

#define ROUND()                                                                                \
    do {                                                                                       \
        G(0, 4, 8, 12, m[0], m[1]);                                                            \
        G(1, 5, 9, 13, m[2], m[3]);                                                            \
        G(2, 6, 10, 14, m[4], m[5]);                                                           \
        G(3, 7, 11, 15, m[6], m[7]);                                                           \
        G(0, 5, 10, 15, m[8], m[9]);                                                           \
        G(1, 6, 11, 12, m[10], m[11]);                                                         \
        G(2, 7, 8, 13, m[12], m[13]);                                                          \
        G(3, 4, 9, 14, m[14], m[15]);                                                          \
    } while (0)

// blake3's message permutation, written out so every index is a constant and the words stay
// in registers on the GPU.
#define PERMUTE()                                                                              \
    do {                                                                                       \
        u32 t0 = m[2], t1 = m[6], t2 = m[3], t3 = m[10], t4 = m[7], t5 = m[0], t6 = m[4],      \
            t7 = m[13], t8 = m[1], t9 = m[11], t10 = m[12], t11 = m[5], t12 = m[9],            \
            t13 = m[14], t14 = m[15], t15 = m[8];                                              \
        m[0] = t0; m[1] = t1; m[2] = t2; m[3] = t3; m[4] = t4; m[5] = t5; m[6] = t6;           \
        m[7] = t7; m[8] = t8; m[9] = t9; m[10] = t10; m[11] = t11; m[12] = t12;                \
        m[13] = t13; m[14] = t14; m[15] = t15;                                                 \
    } while (0)

// blake3::keyed_hash(key, 64-byte message): one compression of one block, counter 0, block
// length 64, flags CHUNK_START | CHUNK_END | ROOT | KEYED_HASH (1 | 2 | 8 | 16). `m` is
// clobbered.
DEVICE void compress64(const u32 *key, u32 *m, u32 *out) {
    u32 s[16];
    s[0] = key[0]; s[1] = key[1]; s[2] = key[2]; s[3] = key[3];
    s[4] = key[4]; s[5] = key[5]; s[6] = key[6]; s[7] = key[7];
    s[8] = 0x6A09E667u; s[9] = 0xBB67AE85u; s[10] = 0x3C6EF372u; s[11] = 0xA54FF53Au;
    s[12] = 0; s[13] = 0; s[14] = 64; s[15] = 1 | 2 | 8 | 16;
    ROUND(); PERMUTE();
    ROUND(); PERMUTE();
    ROUND(); PERMUTE();
    ROUND(); PERMUTE();
    ROUND(); PERMUTE();
    ROUND(); PERMUTE();
    ROUND();
    for (int i = 0; i < 8; i++) out[i] = s[i] ^ s[i + 8];
}

DEVICE void load8(u32 *dst, const u32 *src) {
    for (int i = 0; i < 8; i++) dst[i] = src[i];
}

DEVICE void store8(u32 *dst, const u32 *src) {
    for (int i = 0; i < 8; i++) dst[i] = src[i];
}

// node(left, right) with K_node.
DEVICE void node(const u32 *keys, const u32 *left, const u32 *right, u32 *out) {
    u32 m[16];
    load8(m, left);
    load8(m + 8, right);
    compress64(keys + 8, m, out);
}

// Unchained leaves: thread i hashes chunk i of the block with a zero link. `count` chunks.
KERNEL void poie_leaves_unchained(const u32 *__restrict__ chunks, u32 *__restrict__ leaves,
                                  const u32 *__restrict__ keys, u64 count) {
    u64 i = THREAD_INDEX;
    if (i >= count) return;
    u32 m[16], out[8];
    load8(m, chunks + 8 * i);
    for (int k = 8; k < 16; k++) m[k] = 0;
    compress64(keys, m, out);
    store8(leaves + 8 * i, out);
}

// The most tree levels poie_leaf_trees folds into its leaves (plan::FUSE): 32 leaves a thread.
#define POIE_FUSE_MAX 5

// Unchained leaves and the first `height` tree levels in one pass: thread t = g * lanes + j
// hashes rows g * 2^height .. (g + 1) * 2^height of lane j and folds them into one perfect
// subtree, written at out[t], i.e. row g of tree level `height`. The leaves never go to
// memory: without this, writing them and reading them back costs more than hashing them.
KERNEL void poie_leaf_trees(const u32 *__restrict__ chunks, u32 *__restrict__ out,
                            const u32 *__restrict__ keys, u32 lanes, u32 groups, u32 height) {
    u64 t = THREAD_INDEX;
    if (t >= (u64)lanes * groups || height > POIE_FUSE_MAX) return;
    u64 j = t % lanes, row0 = (t / lanes) << height;
    // stack[d]: a pending subtree; the binary counter of leaves so far says how they merge.
    u32 stack[POIE_FUSE_MAX + 1][8];
    u32 depth = 0, size = 1u << height;
    for (u32 p = 0; p < size; p++) {
        u32 m[16];
        load8(m, chunks + 8 * ((row0 + p) * lanes + j));
        for (int k = 8; k < 16; k++) m[k] = 0;
        compress64(keys, m, stack[depth]);
        depth++;
        for (u32 c = p + 1; (c & 1) == 0; c >>= 1) {
            node(keys, stack[depth - 2], stack[depth - 1], stack[depth - 2]);
            depth--;
        }
    }
    store8(out + 8 * t, stack[0]);
}

// Chained leaves: thread j walks lane j down the block's `rows` rows, each leaf keyed over the
// chunk and the lane's previous leaf (links[j], zero before the lane's first chunk). Only
// lanes j < active have a chunk in the last row (the trace's final partial row), and a
// partial block is always one row, so `rows == 1` whenever `active < lanes`.
KERNEL void poie_leaves_chained(const u32 *__restrict__ chunks, u32 *__restrict__ leaves,
                                u32 *__restrict__ links, const u32 *__restrict__ keys, u32 lanes,
                                u32 rows, u32 active) {
    u64 j = THREAD_INDEX;
    if (j >= active) return;
    u32 link[8], m[16];
    load8(link, links + 8 * j);
    for (u32 p = 0; p < rows; p++) {
        u64 idx = (u64)p * lanes + j;
        load8(m, chunks + 8 * idx);
        load8(m + 8, link);
        compress64(keys, m, link);
        store8(leaves + 8 * idx, link);
    }
    store8(links + 8 * j, link);
}

// One tree level of every lane at once: `in` holds 2 * half rows, `out` gets half rows, and
// out[q][j] = node(in[2q][j], in[2q + 1][j]).
KERNEL void poie_level(const u32 *__restrict__ in, u32 *__restrict__ out,
                       const u32 *__restrict__ keys, u32 lanes, u32 half) {
    u64 t = THREAD_INDEX;
    if (t >= (u64)lanes * half) return;
    u64 j = t % lanes, q = t / lanes;
    u32 d[8];
    node(keys, in + 8 * ((2 * q) * lanes + j), in + 8 * ((2 * q + 1) * lanes + j), d);
    store8(out + 8 * t, d);
}

// Pushes roots[j], a perfect subtree of 2^height leaves, onto lane j's frontier, for the lanes
// j < active, each holding `count` leaves before the push (a multiple of 2^height):
// proof::tree::Frontier::push_subtree, one thread per lane.
KERNEL void poie_fold(const u32 *__restrict__ roots, u32 *__restrict__ pending,
                      const u32 *__restrict__ keys, u32 lanes, u32 active, u64 count,
                      u32 height) {
    u64 j = THREAD_INDEX;
    if (j >= active) return;
    u32 carry[8];
    load8(carry, roots + 8 * j);
    u32 level = height;
    while (level < POIE_LEVELS && ((count >> level) & 1)) {
        node(keys, pending + 8 * ((u64)level * lanes + j), carry, carry);
        level++;
    }
    if (level < POIE_LEVELS) store8(pending + 8 * ((u64)level * lanes + j), carry);
}

// The root of each used lane j < used from its frontier, lane j holding count + (j < rem)
// leaves: the RFC 6962 root folds the pending subtrees from the smallest up, each new one on
// the left (proof::tree::Frontier::root).
KERNEL void poie_lane_roots(const u32 *__restrict__ pending, u32 *__restrict__ out,
                            const u32 *__restrict__ keys, u32 lanes, u32 used, u64 count,
                            u32 rem) {
    u64 j = THREAD_INDEX;
    if (j >= used) return;
    u64 c = count + (j < rem ? 1 : 0);
    u32 root[8];
    int have = 0;
    for (u32 h = 0; h < POIE_LEVELS; h++) {
        if (!((c >> h) & 1)) continue;
        const u32 *p = pending + 8 * ((u64)h * lanes + j);
        if (have) {
            node(keys, p, root, root);
        } else {
            load8(root, p);
            have = 1;
        }
    }
    if (!have)
        for (int k = 0; k < 8; k++) root[k] = 0;
    store8(out + 8 * j, root);
}
