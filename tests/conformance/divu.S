// DIVU: unsigned; by zero.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, divu, 0x00000003, 0x00000014, 0x00000006
    // rounds toward zero
    RR 2, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR 3, divu, 0x00000000, 0x00000014, 0xfffffffa
    RR 4, divu, 0x00000000, 0xffffffec, 0xfffffffa
    RR 5, divu, 0x00000003, 0x00000007, 0x00000002
    RR 6, divu, 0x7ffffffc, 0xfffffff9, 0x00000002
    RR 7, divu, 0x00000000, 0x00000007, 0xfffffffe
    RR 8, divu, 0x80000000, 0x80000000, 0x00000001
    // INT_MIN / -1 overflows: quotient INT_MIN, remainder 0
    RR 9, divu, 0x00000000, 0x80000000, 0xffffffff
    RR 10, divu, 0x00000001, 0x80000000, 0x80000000
    RR 11, divu, 0x00000000, 0x7fffffff, 0x80000000
    // division by zero: quotient all ones, remainder the dividend
    RR 12, divu, 0xffffffff, 0x00000001, 0x00000000
    // zero by zero
    RR 13, divu, 0xffffffff, 0x00000000, 0x00000000
    // -1 by zero
    RR 14, divu, 0xffffffff, 0xffffffff, 0x00000000
    // INT_MIN by zero
    RR 15, divu, 0xffffffff, 0x80000000, 0x00000000
    RR 16, divu, 0x00000001, 0xffffffff, 0xffffffff
    RR 17, divu, 0xffffffff, 0xffffffff, 0x00000001
    // |dividend| < |divisor|
    RR 18, divu, 0x00000000, 0x00000005, 0x00000007
    RR 19, divu, 0x24924923, 0xfffffffb, 0x00000007

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RD_IS_RS2 22, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_ALL_SAME 23, divu, 0x00000001, 0xffffffec

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, divu, 0xffffffec, 0x00000006
    RR_RS1_X0 25, divu, 0x00000000, 0x00000006
    RR_RS2_X0 26, divu, 0xffffffff, 0xffffffec
    RR_RS1_X0 27, divu, 0xffffffff, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RD_BYPASS 32, 1, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RD_BYPASS 33, 2, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS 35, 0, 1, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS 36, 0, 2, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS 37, 1, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS 38, 1, 1, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS 39, 2, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 40, 0, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 41, 0, 1, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 42, 0, 2, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 43, 1, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 44, 1, 1, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 45, 2, 0, divu, 0x2aaaaaa7, 0xffffffec, 0x00000006

    TEST_END
