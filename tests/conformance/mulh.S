// MULH: high 32 bits, signed x signed.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, mulh, 0x00000000, 0x00000000, 0x00000000
    RR 2, mulh, 0x00000000, 0x00000001, 0x00000001
    RR 3, mulh, 0x00000000, 0x00000003, 0x00000007
    RR 4, mulh, 0x00000000, 0x00000000, 0xffff8000
    RR 5, mulh, 0x00000000, 0x80000000, 0x00000000
    // INT_MIN squared: high word 0x40000000
    RR 6, mulh, 0x40000000, 0x80000000, 0x80000000
    RR 7, mulh, 0xffff0081, 0xaaaaaaab, 0x0002fe7d
    RR 8, mulh, 0xffff0081, 0x0002fe7d, 0xaaaaaaab
    RR 9, mulh, 0x00010000, 0xff000000, 0xff000000
    // -1 * -1: high word 0
    RR 10, mulh, 0x00000000, 0xffffffff, 0xffffffff
    // -1 * 1: high word -1
    RR 11, mulh, 0xffffffff, 0xffffffff, 0x00000001
    RR 12, mulh, 0xffffffff, 0x00000001, 0xffffffff
    RR 13, mulh, 0x00000000, 0x80000000, 0xffffffff
    RR 14, mulh, 0x3fffffff, 0x7fffffff, 0x7fffffff
    RR 15, mulh, 0xc0000000, 0x80000000, 0x7fffffff
    RR 16, mulh, 0xf8cc93d6, 0x12345678, 0x9abcdef0

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RD_IS_RS2 22, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_ALL_SAME 23, mulh, 0x00014b66, 0xfedcba98

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, mulh, 0xfedcba98, 0x87654321
    RR_RS1_X0 25, mulh, 0x00000000, 0x87654321
    RR_RS2_X0 26, mulh, 0x00000000, 0xfedcba98
    RR_RS1_X0 27, mulh, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 32, 1, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 33, 2, mulh, 0x00893897, 0xfedcba98, 0x87654321
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 35, 0, 1, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 36, 0, 2, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 37, 1, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 38, 1, 1, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 39, 2, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 40, 0, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 41, 0, 1, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 42, 0, 2, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 43, 1, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 44, 1, 1, mulh, 0x00893897, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 45, 2, 0, mulh, 0x00893897, 0xfedcba98, 0x87654321

    TEST_END
