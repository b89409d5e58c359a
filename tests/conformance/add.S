// ADD: wrap-around, signed overflow.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, add, 0x00000000, 0x00000000, 0x00000000
    RR 2, add, 0x00000002, 0x00000001, 0x00000001
    RR 3, add, 0x0000000a, 0x00000003, 0x00000007
    RR 4, add, 0xffff8000, 0x00000000, 0xffff8000
    RR 5, add, 0x80000000, 0x80000000, 0x00000000
    RR 6, add, 0x7fff8000, 0x80000000, 0xffff8000
    RR 7, add, 0x00007fff, 0x00000000, 0x00007fff
    RR 8, add, 0x7fffffff, 0x7fffffff, 0x00000000
    RR 9, add, 0x80007ffe, 0x7fffffff, 0x00007fff
    RR 10, add, 0x80007fff, 0x80000000, 0x00007fff
    RR 11, add, 0x7fff7fff, 0x7fffffff, 0xffff8000
    RR 12, add, 0xffffffff, 0x00000000, 0xffffffff
    // wraps to 0
    RR 13, add, 0x00000000, 0xffffffff, 0x00000001
    RR 14, add, 0xfffffffe, 0xffffffff, 0xffffffff
    // signed overflow wraps
    RR 15, add, 0x80000000, 0x00000001, 0x7fffffff
    // carry out is dropped
    RR 16, add, 0x00000000, 0x80000000, 0x80000000

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RD_IS_RS2 22, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_ALL_SAME 23, add, 0xffffffe0, 0x7ffffff0

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, add, 0x7ffffff0, 0x00012345
    RR_RS1_X0 25, add, 0x00012345, 0x00012345
    RR_RS2_X0 26, add, 0x7ffffff0, 0x7ffffff0
    RR_RS1_X0 27, add, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RD_BYPASS 32, 1, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RD_BYPASS 33, 2, add, 0x80012335, 0x7ffffff0, 0x00012345
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 35, 0, 1, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 36, 0, 2, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 37, 1, 0, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 38, 1, 1, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS 39, 2, 0, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 40, 0, 0, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 41, 0, 1, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 42, 0, 2, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 43, 1, 0, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 44, 1, 1, add, 0x80012335, 0x7ffffff0, 0x00012345
    RR_RS_BYPASS_REV 45, 2, 0, add, 0x80012335, 0x7ffffff0, 0x00012345

    TEST_END
