// AUIPC: rd = pc + (imm << 12), checked against link-time addresses; wrap-around past 2^32;
// rd = x0 is discarded; the result used back to back.
#include "harness.h"

// x14 = auipc(imm) at label L, then x7 = L + (imm << 12) from the linker.
.macro AUIPC_IS n, imm
    CHECK \n
.Lhere\@:
    auipc x14, \imm
    ABS x7, .Lhere\@
    li x6, (\imm << 12)
    add x7, x7, x6
    EXPECT_EQ x14, x7
.endm

    TEST_BEGIN

    AUIPC_IS 1, 0
    AUIPC_IS 2, 1
    AUIPC_IS 3, 0x7ffff
    AUIPC_IS 4, 0x80000
    AUIPC_IS 5, 0xfffff
    AUIPC_IS 6, 0x12345

    // two auipc 8 bytes apart differ by 8
    CHECK 7
    auipc x1, 0
    nop
    auipc x2, 0
    sub x14, x2, x1
    EXPECT x14, 8

    // the pc of the auipc itself, as jal's link of the previous instruction shows
    CHECK 8
    jal x5, .L8
.L8:
    auipc x6, 0
    EXPECT_EQ x5, x6

    // wraps around: pc + 0xfffff000 = pc - 0x1000
    CHECK 9
.L9:
    auipc x14, 0xfffff
    ABS x7, .L9 - 0x1000
    EXPECT_EQ x14, x7

    // rd = x0
    CHECK 10
    auipc x0, 0x12345
    EXPECT x0, 0

    // used by the next instruction
    CHECK 11
.L11:
    auipc x1, 0
    addi x6, x1, 0
    ABS x7, .L11
    EXPECT_EQ x6, x7

    TEST_END
