// FENCE (all predecessor/successor sets, and FENCE.TSO) orders nothing a single hart could see
// and changes no register or memory; its reserved rd and rs1 fields are ignored. FENCE.I is
// not tested here.
#include "harness.h"

    TEST_BEGIN

    CHECK 1
    li x1, 0x12345678
    li x14, 0x9abcdef0
    fence
    fence rw, rw
    fence iorw, iorw
    fence r, r
    fence w, w
    fence r, w
    fence w, r
    fence i, o
    fence.tso
    EXPECT x1, 0x12345678
    EXPECT x14, 0x9abcdef0

    // a store before a fence is seen by a load after it
    CHECK 2
    la x1, word
    li x2, 0x0badcafe
    sw x2, 0(x1)
    fence w, r
    lw x14, 0(x1)
    EXPECT x14, 0x0badcafe

    // `fence rw, rw` with rd = x1 and rs1 = x1: the base ISA says these fields are reserved
    // and ignored, so x1 keeps its value
    CHECK 3
    li x1, 0x5a5a5a5a
    .word 0x0330808f
    EXPECT x1, 0x5a5a5a5a

    TEST_END

    .data
word:
    .word 0
