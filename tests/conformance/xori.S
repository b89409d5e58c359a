// XORI: sign-extended immediate.
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    // 0xf0f sign-extended to 0xffffff0f
    RI 1, xori, 0xff00f00f, 0x00ff0f00, -241
    RI 2, xori, 0x0ff00f00, 0x0ff00ff0, 240
    RI 3, xori, 0x00ff0ff0, 0x00ff08ff, 1807
    RI 4, xori, 0xf00ff0ff, 0xf00ff00f, 240
    RI 5, xori, 0x00ff0700, 0xff00ff00, -2048
    RI 6, xori, 0x12345187, 0x12345678, 2047
    RI 7, xori, 0xedcba987, 0x12345678, -1
    RI 8, xori, 0xffffffff, 0x00000000, -1
    RI 9, xori, 0xffffffff, 0xffffffff, 0
    RI 10, xori, 0x7ffff800, 0x80000000, -2048
    // xori -1 is bitwise not
    RI 11, xori, 0xedcba987, 0x12345678, -1

    // rd is also rs1
    RI_RD_IS_RS1 21, xori, 0xf00ff55a, 0x0ff00ff0, -1366
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, xori, 0x0ff00ff0, -1366
    RI_RS1_X0 23, xori, 0xfffffaaa, -1366
    RI_RS1_X0 24, xori, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, xori, 0xf00ff55a, 0x0ff00ff0, -1366
    RI_RD_BYPASS 32, 1, xori, 0xf00ff55a, 0x0ff00ff0, -1366
    RI_RD_BYPASS 33, 2, xori, 0xf00ff55a, 0x0ff00ff0, -1366
    RI_RS_BYPASS 34, 0, xori, 0xf00ff55a, 0x0ff00ff0, -1366
    RI_RS_BYPASS 35, 1, xori, 0xf00ff55a, 0x0ff00ff0, -1366
    RI_RS_BYPASS 36, 2, xori, 0xf00ff55a, 0x0ff00ff0, -1366

    TEST_END
