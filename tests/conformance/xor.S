// XOR.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, xor, 0x00000000, 0x00000000, 0x00000000
    RR 2, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f
    RR 3, xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    RR 4, xor, 0x0ff00ff0, 0x00ff00ff, 0x0f0f0f0f
    RR 5, xor, 0x00ff00ff, 0xf00ff00f, 0xf0f0f0f0
    RR 6, xor, 0xffffffff, 0xffffffff, 0x00000000
    RR 7, xor, 0x00000000, 0xffffffff, 0xffffffff
    RR 8, xor, 0xffffffff, 0x80000000, 0x7fffffff
    RR 9, xor, 0x88888888, 0x12345678, 0x9abcdef0

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 11, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RD_IS_RS2 12, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_ALL_SAME 13, xor, 0x00000000, 0x0ff00ff0

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 14, xor, 0x0ff00ff0, 0xf0f0f00f
    RR_RS1_X0 15, xor, 0xf0f0f00f, 0xf0f0f00f
    RR_RS2_X0 16, xor, 0x0ff00ff0, 0x0ff00ff0
    RR_RS1_X0 17, xor, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 21, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RD_BYPASS 22, 1, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RD_BYPASS 23, 2, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 24, 0, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS 25, 0, 1, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS 26, 0, 2, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS 27, 1, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS 28, 1, 1, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS 29, 2, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS_REV 30, 0, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS_REV 31, 0, 1, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS_REV 32, 0, 2, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS_REV 33, 1, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS_REV 34, 1, 1, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f
    RR_RS_BYPASS_REV 35, 2, 0, xor, 0xff00ffff, 0x0ff00ff0, 0xf0f0f00f

    TEST_END
