// ORI: sign-extended immediate.
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    // 0xf0f sign-extended to 0xffffff0f
    RI 1, ori, 0xffffff0f, 0x00ff0f00, -241
    RI 2, ori, 0x0ff00ff0, 0x0ff00ff0, 240
    RI 3, ori, 0x00ff0fff, 0x00ff08ff, 1807
    RI 4, ori, 0xf00ff0ff, 0xf00ff00f, 240
    RI 5, ori, 0xffffff00, 0xff00ff00, -2048
    RI 6, ori, 0x123457ff, 0x12345678, 2047
    RI 7, ori, 0xffffffff, 0x12345678, -1
    RI 8, ori, 0xffffffff, 0x00000000, -1
    RI 9, ori, 0xffffffff, 0xffffffff, 0
    RI 10, ori, 0xfffff800, 0x80000000, -2048

    // rd is also rs1
    RI_RD_IS_RS1 21, ori, 0xfffffffa, 0x0ff00ff0, -1366
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, ori, 0x0ff00ff0, -1366
    RI_RS1_X0 23, ori, 0xfffffaaa, -1366
    RI_RS1_X0 24, ori, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, ori, 0xfffffffa, 0x0ff00ff0, -1366
    RI_RD_BYPASS 32, 1, ori, 0xfffffffa, 0x0ff00ff0, -1366
    RI_RD_BYPASS 33, 2, ori, 0xfffffffa, 0x0ff00ff0, -1366
    RI_RS_BYPASS 34, 0, ori, 0xfffffffa, 0x0ff00ff0, -1366
    RI_RS_BYPASS 35, 1, ori, 0xfffffffa, 0x0ff00ff0, -1366
    RI_RS_BYPASS 36, 2, ori, 0xfffffffa, 0x0ff00ff0, -1366

    TEST_END
