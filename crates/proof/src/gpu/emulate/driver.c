// Test driver for the emulated kernels (see emulate.h): runs a plan of steps written by
// proof::gpu::plan (one step per line, as `Step`'s Display writes them) over a trace file, with
// the same buffers and launch geometry as proof::gpu::cuda, and prints what the test compares.
//
//   driver TRACE_FILE < PLAN
//
// Plan lines:
//   init LANES ROWS CHAINED KEYS   allocate; KEYS: 128 hex digits, leaf key then node key
//   upload FIRST COUNT             chunks FIRST.. of the trace into the block buffer
//   leaves ROWS ACTIVE             leaves of the block (chained or not, as init said)
//   leaf-trees ROWS HEIGHT         unchained leaves folded HEIGHT levels up, in one pass
//   level HALF                     one tree level of every lane
//   fold HEIGHT COUNT ACTIVE       push the block's lane subtrees onto the frontiers
//   roots COUNT REM USED           the lane roots
//   show-leaves COUNT / show-subtrees   print the current level's first digests
// Output lines: `leaf HEX`, `subtree HEX`, `lane HEX`.
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernel.cu"

#define BLOCK 128

static void die(const char *what) {
    fprintf(stderr, "driver: %s\n", what);
    exit(2);
}

static u32 *alloc_words(u64 words) {
    u32 *p = calloc(words ? words : 1, sizeof(u32));
    if (!p) die("out of memory");
    return p;
}

static u32 grid_for(u64 threads) { return (u32)((threads + BLOCK - 1) / BLOCK); }

static void print_digest(const char *tag, const u32 *d) {
    printf("%s ", tag);
    for (int w = 0; w < 8; w++)
        for (int b = 0; b < 4; b++) printf("%02x", (d[w] >> (8 * b)) & 0xff);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 2) die("usage: driver TRACE_FILE < PLAN");
    FILE *trace = fopen(argv[1], "rb");
    if (!trace) die("cannot open the trace");
    u32 lanes = 0, rows = 0, chained = 0;
    u32 keys[16];
    u32 *chunks = NULL, *bufs[2] = {NULL, NULL}, *links = NULL, *pending = NULL, *out = NULL;
    int cur = 0;
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[32];
        if (sscanf(line, "%31s", cmd) != 1) continue;
        if (!strcmp(cmd, "init")) {
            char hex[129];
            if (sscanf(line, "init %u %u %u %128s", &lanes, &rows, &chained, hex) != 4)
                die("bad init");
            for (int w = 0; w < 16; w++) {
                keys[w] = 0;
                for (int b = 0; b < 4; b++) {
                    unsigned v;
                    if (sscanf(hex + 8 * w + 2 * b, "%2x", &v) != 1) die("bad key");
                    keys[w] |= (u32)v << (8 * b);
                }
            }
            u64 block = (u64)lanes * rows;
            chunks = alloc_words(8 * block);
            bufs[0] = alloc_words(8 * block);
            bufs[1] = alloc_words(8 * block);
            links = alloc_words(8 * (u64)lanes);
            pending = alloc_words(8 * (u64)lanes * POIE_LEVELS);
            out = alloc_words(8 * (u64)lanes);
        } else if (!strcmp(cmd, "upload")) {
            unsigned long long first, count;
            if (sscanf(line, "upload %llu %llu", &first, &count) != 2) die("bad upload");
            if (count > (u64)lanes * rows) die("upload larger than a block");
            if (fseek(trace, (long)(first * 32), SEEK_SET)) die("seek");
            if (fread(chunks, 32, count, trace) != count) die("short trace");
        } else if (!strcmp(cmd, "leaves")) {
            u32 r, active;
            if (sscanf(line, "leaves %u %u", &r, &active) != 2) die("bad leaves");
            cur = 0;
            if (chained) {
                POIE_LAUNCH(grid_for(active), BLOCK, poie_leaves_chained, chunks, bufs[0], links,
                            keys, lanes, r, active);
            } else {
                u64 count = (u64)(r - 1) * lanes + active;
                POIE_LAUNCH(grid_for(count), BLOCK, poie_leaves_unchained, chunks, bufs[0], keys,
                            count);
            }
        } else if (!strcmp(cmd, "leaf-trees")) {
            u32 r, height;
            if (sscanf(line, "leaf-trees %u %u", &r, &height) != 2) die("bad leaf-trees");
            cur = 0;
            u32 groups = r >> height;
            POIE_LAUNCH(grid_for((u64)lanes * groups), BLOCK, poie_leaf_trees, chunks, bufs[0],
                        keys, lanes, groups, height);
        } else if (!strcmp(cmd, "level")) {
            u32 half;
            if (sscanf(line, "level %u", &half) != 1) die("bad level");
            POIE_LAUNCH(grid_for((u64)lanes * half), BLOCK, poie_level, bufs[cur], bufs[1 - cur],
                        keys, lanes, half);
            cur = 1 - cur;
        } else if (!strcmp(cmd, "fold")) {
            u32 height, active;
            unsigned long long count;
            if (sscanf(line, "fold %u %llu %u", &height, &count, &active) != 3) die("bad fold");
            POIE_LAUNCH(grid_for(active), BLOCK, poie_fold, bufs[cur], pending, keys, lanes, active,
                        (u64)count, height);
        } else if (!strcmp(cmd, "roots")) {
            u32 rem, used;
            unsigned long long count;
            if (sscanf(line, "roots %llu %u %u", &count, &rem, &used) != 3) die("bad roots");
            POIE_LAUNCH(grid_for(used), BLOCK, poie_lane_roots, pending, out, keys, lanes, used,
                        (u64)count, rem);
            for (u32 j = 0; j < used; j++) print_digest("lane", out + 8 * j);
        } else if (!strcmp(cmd, "show-leaves")) {
            unsigned long long count;
            if (sscanf(line, "show-leaves %llu", &count) != 1) die("bad show-leaves");
            for (u64 i = 0; i < count; i++) print_digest("leaf", bufs[0] + 8 * i);
        } else if (!strcmp(cmd, "show-subtrees")) {
            for (u32 j = 0; j < lanes; j++) print_digest("subtree", bufs[cur] + 8 * j);
        } else {
            die("unknown command");
        }
    }
    return 0;
}
