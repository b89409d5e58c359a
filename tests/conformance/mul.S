// MUL: low 32 bits of the product.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, mul, 0x00000000, 0x00000000, 0x00000000
    RR 2, mul, 0x00000001, 0x00000001, 0x00000001
    RR 3, mul, 0x00000015, 0x00000003, 0x00000007
    RR 4, mul, 0x00000000, 0x00000000, 0xffff8000
    RR 5, mul, 0x00000000, 0x80000000, 0x00000000
    RR 6, mul, 0x00000000, 0x80000000, 0xffff8000
    RR 7, mul, 0x0000ff7f, 0xaaaaaaab, 0x0002fe7d
    RR 8, mul, 0x0000ff7f, 0x0002fe7d, 0xaaaaaaab
    RR 9, mul, 0x00000000, 0xff000000, 0xff000000
    RR 10, mul, 0x00000001, 0xffffffff, 0xffffffff
    RR 11, mul, 0xffffffff, 0xffffffff, 0x00000001
    RR 12, mul, 0xffffffff, 0x00000001, 0xffffffff
    // INT_MIN * -1 wraps to INT_MIN
    RR 13, mul, 0x80000000, 0x80000000, 0xffffffff
    RR 14, mul, 0x242d2080, 0x12345678, 0x9abcdef0

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RD_IS_RS2 22, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_ALL_SAME 23, mul, 0xdd413a40, 0xfedcba98

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, mul, 0xfedcba98, 0x87654321
    RR_RS1_X0 25, mul, 0x00000000, 0x87654321
    RR_RS2_X0 26, mul, 0x00000000, 0xfedcba98
    RR_RS1_X0 27, mul, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 32, 1, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 33, 2, mul, 0x6541d598, 0xfedcba98, 0x87654321
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 35, 0, 1, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 36, 0, 2, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 37, 1, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 38, 1, 1, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 39, 2, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 40, 0, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 41, 0, 1, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 42, 0, 2, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 43, 1, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 44, 1, 1, mul, 0x6541d598, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 45, 2, 0, mul, 0x6541d598, 0xfedcba98, 0x87654321

    TEST_END
