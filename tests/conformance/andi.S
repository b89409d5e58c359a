// ANDI: sign-extended immediate.
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    // 0xf0f sign-extended to 0xffffff0f
    RI 1, andi, 0x00ff0f00, 0x00ff0f00, -241
    RI 2, andi, 0x000000f0, 0x0ff00ff0, 240
    RI 3, andi, 0x0000000f, 0x00ff08ff, 1807
    RI 4, andi, 0x00000000, 0xf00ff00f, 240
    RI 5, andi, 0xff00f800, 0xff00ff00, -2048
    RI 6, andi, 0x00000678, 0x12345678, 2047
    RI 7, andi, 0x12345678, 0x12345678, -1
    RI 8, andi, 0x00000000, 0x00000000, -1
    RI 9, andi, 0x00000000, 0xffffffff, 0
    RI 10, andi, 0x80000000, 0x80000000, -2048

    // rd is also rs1
    RI_RD_IS_RS1 21, andi, 0x0ff00aa0, 0x0ff00ff0, -1366
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, andi, 0x0ff00ff0, -1366
    RI_RS1_X0 23, andi, 0x00000000, -1366
    RI_RS1_X0 24, andi, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, andi, 0x0ff00aa0, 0x0ff00ff0, -1366
    RI_RD_BYPASS 32, 1, andi, 0x0ff00aa0, 0x0ff00ff0, -1366
    RI_RD_BYPASS 33, 2, andi, 0x0ff00aa0, 0x0ff00ff0, -1366
    RI_RS_BYPASS 34, 0, andi, 0x0ff00aa0, 0x0ff00ff0, -1366
    RI_RS_BYPASS 35, 1, andi, 0x0ff00aa0, 0x0ff00ff0, -1366
    RI_RS_BYPASS 36, 2, andi, 0x0ff00aa0, 0x0ff00ff0, -1366

    TEST_END
