// REMU: unsigned; by zero.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, remu, 0x00000002, 0x00000014, 0x00000006
    // rounds toward zero
    RR 2, remu, 0x00000002, 0xffffffec, 0x00000006
    RR 3, remu, 0x00000014, 0x00000014, 0xfffffffa
    RR 4, remu, 0xffffffec, 0xffffffec, 0xfffffffa
    RR 5, remu, 0x00000001, 0x00000007, 0x00000002
    RR 6, remu, 0x00000001, 0xfffffff9, 0x00000002
    RR 7, remu, 0x00000007, 0x00000007, 0xfffffffe
    RR 8, remu, 0x00000000, 0x80000000, 0x00000001
    // INT_MIN / -1 overflows: quotient INT_MIN, remainder 0
    RR 9, remu, 0x80000000, 0x80000000, 0xffffffff
    RR 10, remu, 0x00000000, 0x80000000, 0x80000000
    RR 11, remu, 0x7fffffff, 0x7fffffff, 0x80000000
    // division by zero: quotient all ones, remainder the dividend
    RR 12, remu, 0x00000001, 0x00000001, 0x00000000
    // zero by zero
    RR 13, remu, 0x00000000, 0x00000000, 0x00000000
    // -1 by zero
    RR 14, remu, 0xffffffff, 0xffffffff, 0x00000000
    // INT_MIN by zero
    RR 15, remu, 0x80000000, 0x80000000, 0x00000000
    RR 16, remu, 0x00000000, 0xffffffff, 0xffffffff
    RR 17, remu, 0x00000000, 0xffffffff, 0x00000001
    // |dividend| < |divisor|
    RR 18, remu, 0x00000005, 0x00000005, 0x00000007
    RR 19, remu, 0x00000006, 0xfffffffb, 0x00000007

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RD_IS_RS2 22, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_ALL_SAME 23, remu, 0x00000000, 0xffffffec

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, remu, 0xffffffec, 0x00000006
    RR_RS1_X0 25, remu, 0x00000000, 0x00000006
    RR_RS2_X0 26, remu, 0xffffffec, 0xffffffec
    RR_RS1_X0 27, remu, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RD_BYPASS 32, 1, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RD_BYPASS 33, 2, remu, 0x00000002, 0xffffffec, 0x00000006
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS 35, 0, 1, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS 36, 0, 2, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS 37, 1, 0, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS 38, 1, 1, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS 39, 2, 0, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 40, 0, 0, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 41, 0, 1, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 42, 0, 2, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 43, 1, 0, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 44, 1, 1, remu, 0x00000002, 0xffffffec, 0x00000006
    RR_RS_BYPASS_REV 45, 2, 0, remu, 0x00000002, 0xffffffec, 0x00000006

    TEST_END
