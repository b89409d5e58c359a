// MULHU: high 32 bits, unsigned x unsigned.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, mulhu, 0x00000000, 0x00000000, 0x00000000
    RR 2, mulhu, 0x00000000, 0x00000001, 0x00000001
    RR 3, mulhu, 0x00000000, 0x00000003, 0x00000007
    RR 4, mulhu, 0x00000000, 0x00000000, 0xffff8000
    RR 5, mulhu, 0x00000000, 0x80000000, 0x00000000
    RR 6, mulhu, 0x7fffc000, 0x80000000, 0xffff8000
    RR 7, mulhu, 0x0001fefe, 0xaaaaaaab, 0x0002fe7d
    RR 8, mulhu, 0x0001fefe, 0x0002fe7d, 0xaaaaaaab
    RR 9, mulhu, 0xfe010000, 0xff000000, 0xff000000
    // 0xffffffff squared: 0xfffffffe
    RR 10, mulhu, 0xfffffffe, 0xffffffff, 0xffffffff
    RR 11, mulhu, 0x00000000, 0xffffffff, 0x00000001
    RR 12, mulhu, 0x00000000, 0x00000001, 0xffffffff
    RR 13, mulhu, 0x40000000, 0x80000000, 0x80000000
    RR 14, mulhu, 0x0b00ea4e, 0x12345678, 0x9abcdef0

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RD_IS_RS2 22, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_ALL_SAME 23, mulhu, 0xfdbac096, 0xfedcba98

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, mulhu, 0xfedcba98, 0x87654321
    RR_RS1_X0 25, mulhu, 0x00000000, 0x87654321
    RR_RS2_X0 26, mulhu, 0x00000000, 0xfedcba98
    RR_RS1_X0 27, mulhu, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 32, 1, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RD_BYPASS 33, 2, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 35, 0, 1, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 36, 0, 2, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 37, 1, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 38, 1, 1, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS 39, 2, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 40, 0, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 41, 0, 1, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 42, 0, 2, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 43, 1, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 44, 1, 1, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321
    RR_RS_BYPASS_REV 45, 2, 0, mulhu, 0x86cb3650, 0xfedcba98, 0x87654321

    TEST_END
