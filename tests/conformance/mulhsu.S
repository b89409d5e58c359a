// MULHSU: high 32 bits, signed rs1 x unsigned rs2.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, mulhsu, 0x00000000, 0x00000000, 0x00000000
    RR 2, mulhsu, 0x00000000, 0x00000001, 0x00000001
    RR 3, mulhsu, 0x00000000, 0x00000003, 0x00000007
    RR 4, mulhsu, 0x00000000, 0x00000000, 0xffff8000
    RR 5, mulhsu, 0x00000000, 0x80000000, 0x00000000
    // rs2 is unsigned
    RR 6, mulhsu, 0x80004000, 0x80000000, 0xffff8000
    RR 7, mulhsu, 0xffff0081, 0xaaaaaaab, 0x0002fe7d
    RR 8, mulhsu, 0x0001fefe, 0x0002fe7d, 0xaaaaaaab
    RR 9, mulhsu, 0xff010000, 0xff000000, 0xff000000
    // -1 * 0xffffffff
    RR 10, mulhsu, 0xffffffff, 0xffffffff, 0xffffffff
    RR 11, mulhsu, 0xffffffff, 0xffffffff, 0x00000001
    // 1 * 0xffffffff: high word 0
    RR 12, mulhsu, 0x00000000, 0x00000001, 0xffffffff
    RR 13, mulhsu, 0x80000000, 0x80000000, 0xffffffff
    RR 14, mulhsu, 0x7ffffffe, 0x7fffffff, 0xffffffff
    RR 15, mulhsu, 0xc0000000, 0x80000000, 0x80000000
    RR 16, mulhsu, 0x0b00ea4e, 0x12345678, 0x9abcdef0

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RD_IS_RS2 22, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_ALL_SAME 23, mulhsu, 0xfede05fe, 0xfedcba98

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, mulhsu, 0xfedcba98, 0x87654321
    RR_RS1_X0 25, mulhsu, 0x00000000, 0x87654321
    RR_RS2_X0 26, mulhsu, 0x00000000, 0xfedcba98
    RR_RS1_X0 27, mulhsu, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 32, 1, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 33, 2, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 35, 0, 1, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 36, 0, 2, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 37, 1, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 38, 1, 1, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 39, 2, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 40, 0, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 41, 0, 1, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 42, 0, 2, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 43, 1, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 44, 1, 1, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 45, 2, 0, mulhsu, 0xff65f32f, 0xfedcba98, 0x87654321

    TEST_END
