// JAL: rd = the address of the next instruction, also for rd = ra, t0 and t6; rd = x0 links
// nothing; forward and backward offsets that set each field of the scrambled J immediate
// (bits 10..1, 11, 19..12 and the sign, bit 20).
#include "harness.h"

// Jumps forward over a gap of zero words (illegal instructions, so a wrong target traps), then
// backward over it, checking both links. The forward offset is gap + 8, the backward one
// -(gap + 24).
.macro JAL_OVER n, gap
    CHECK \n
    jal x1, .Lfwd\@
.Lback\@:
    j .Ldone\@
    .skip \gap
.Lfwd\@:
    ABS x7, .Lback\@
    EXPECT_EQ x1, x7
    jal x5, .Lback\@
.Llink\@:
    j fail
.Ldone\@:
    ABS x7, .Llink\@
    EXPECT_EQ x5, x7
.endm

    TEST_BEGIN

    // forward, links in ra
    CHECK 1
    li x1, 0
    jal x1, .L1
.L1ret:
    j fail
.L1:
    ABS x7, .L1ret
    EXPECT_EQ x1, x7

    // other link registers; the link is consumed by the very next instruction (bypass)
    CHECK 2
    jal t0, .L2
.L2ret:
    j fail
.L2:
    addi x6, t0, 0
    ABS x7, .L2ret
    EXPECT_EQ x6, x7

    CHECK 3
    jal t6, .L3
.L3ret:
    j fail
.L3:
    ABS x7, .L3ret
    EXPECT_EQ t6, x7

    // rd = x0 (`j`): nothing is linked
    CHECK 4
    li x1, 0x5555
    jal x0, .L4
    j fail
.L4:
    EXPECT x0, 0
    EXPECT x1, 0x5555

    // backward by one instruction and forward by one (the smallest offsets)
    CHECK 5
    j .L5a
.L5b:
    j .L5c
.L5a:
    jal x2, .L5b
    j fail
.L5c:
    jal x2, .L5d
.L5d:
    ABS x7, .L5d
    EXPECT_EQ x2, x7

    // the jump does not write rd before it is done with the pc: rd = ra again straight away
    CHECK 6
    jal x1, .L6
.L6ret:
    j fail
.L6:
    jal x1, .L6b
.L6bret:
    j fail
.L6b:
    ABS x7, .L6bret
    EXPECT_EQ x1, x7

    // each field of the offset: 0x10 (bits 4), 0x7f8 (10..3), 0x800 (11), 0x1000 (12),
    // 0x80000 (19, the top magnitude bit); the backward jumps set the sign and the low fields
    JAL_OVER 11, 0x8
    JAL_OVER 12, 0x7f0
    JAL_OVER 13, 0x7f8
    JAL_OVER 14, 0xff8
    JAL_OVER 15, 0x7fff8

    TEST_END
