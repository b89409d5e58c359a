// LUI: rd = imm << 12, the low 12 bits cleared whatever rd held; the top bit is the sign bit of
// the 32-bit result; rd = x0 is discarded; the result used back to back.
#include "harness.h"

.macro LUI_IS n, imm, res
    CHECK \n
    li x14, -1
    lui x14, \imm
    EXPECT x14, \res
.endm

    TEST_BEGIN

    LUI_IS 1, 0x00000, 0x00000000
    LUI_IS 2, 0x00001, 0x00001000
    LUI_IS 3, 0xfffff, 0xfffff000
    LUI_IS 4, 0x7ffff, 0x7ffff000
    LUI_IS 5, 0x80000, 0x80000000
    LUI_IS 6, 0x12345, 0x12345000
    LUI_IS 7, 0xa5a5a, 0xa5a5a000

    // the result is a 32-bit value: an arithmetic shift sees its sign
    CHECK 8
    lui x1, 0x80000
    srai x1, x1, 12
    EXPECT x1, 0xfff80000

    CHECK 9
    lui x1, 0x7ffff
    srai x1, x1, 12
    EXPECT x1, 0x0007ffff

    // rd = x0
    CHECK 10
    lui x0, 0x80000
    EXPECT x0, 0

    // used by the next instruction, and as the high part of a constant
    CHECK 11
    lui x1, 0x12345
    addi x6, x1, 0x678
    EXPECT x6, 0x12345678

    CHECK 12
    lui x1, 0x12346
    addi x6, x1, -1
    EXPECT x6, 0x12345fff

    TEST_END
