// SUB: wrap-around, signed overflow.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, sub, 0x00000000, 0x00000000, 0x00000000
    RR 2, sub, 0x00000000, 0x00000001, 0x00000001
    // negative result
    RR 3, sub, 0xfffffffc, 0x00000003, 0x00000007
    RR 4, sub, 0x00008000, 0x00000000, 0xffff8000
    RR 5, sub, 0x80000000, 0x80000000, 0x00000000
    RR 6, sub, 0x80008000, 0x80000000, 0xffff8000
    RR 7, sub, 0xffff8001, 0x00000000, 0x00007fff
    RR 8, sub, 0x7fffffff, 0x7fffffff, 0x00000000
    RR 9, sub, 0x7fff8000, 0x7fffffff, 0x00007fff
    // signed overflow wraps
    RR 10, sub, 0x7fff8001, 0x80000000, 0x00007fff
    // signed overflow wraps
    RR 11, sub, 0x80007fff, 0x7fffffff, 0xffff8000
    RR 12, sub, 0x00000001, 0x00000000, 0xffffffff
    RR 13, sub, 0xfffffffe, 0xffffffff, 0x00000001
    RR 14, sub, 0x00000000, 0xffffffff, 0xffffffff
    // -INT_MIN = INT_MIN
    RR 15, sub, 0x80000000, 0x00000000, 0x80000000

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RD_IS_RS2 22, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_ALL_SAME 23, sub, 0x00000000, 0x7ffffff0

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, sub, 0x7ffffff0, 0x00012345
    RR_RS1_X0 25, sub, 0xfffedcbb, 0x00012345
    RR_RS2_X0 26, sub, 0x7ffffff0, 0x7ffffff0
    RR_RS1_X0 27, sub, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RD_BYPASS 32, 1, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RD_BYPASS 33, 2, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 35, 0, 1, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 36, 0, 2, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 37, 1, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 38, 1, 1, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 39, 2, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 40, 0, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 41, 0, 1, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 42, 0, 2, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 43, 1, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 44, 1, 1, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 45, 2, 0, sub, 0x7ffedcab, 0x7ffffff0, 0x00012345

    TEST_END
