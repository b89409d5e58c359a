// SLT: signed less-than.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, slt, 0x00000000, 0x00000000, 0x00000000
    RR 2, slt, 0x00000000, 0x00000001, 0x00000001
    RR 3, slt, 0x00000001, 0x00000003, 0x00000007
    RR 4, slt, 0x00000000, 0x00000007, 0x00000003
    RR 5, slt, 0x00000000, 0x00000000, 0xffff8000
    RR 6, slt, 0x00000001, 0x80000000, 0x00000000
    RR 7, slt, 0x00000001, 0x80000000, 0xffff8000
    RR 8, slt, 0x00000001, 0x00000000, 0x00007fff
    RR 9, slt, 0x00000000, 0x7fffffff, 0x00000000
    RR 10, slt, 0x00000000, 0x7fffffff, 0x00007fff
    RR 11, slt, 0x00000001, 0x80000000, 0x00007fff
    RR 12, slt, 0x00000000, 0x7fffffff, 0xffff8000
    // -1 < 0 signed
    RR 13, slt, 0x00000000, 0x00000000, 0xffffffff
    RR 14, slt, 0x00000001, 0xffffffff, 0x00000001
    RR 15, slt, 0x00000000, 0x00000001, 0xffffffff
    RR 16, slt, 0x00000000, 0xffffffff, 0xffffffff
    RR 17, slt, 0x00000001, 0x80000000, 0x7fffffff
    RR 18, slt, 0x00000000, 0x7fffffff, 0x80000000

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 21, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RD_IS_RS2 22, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_ALL_SAME 23, slt, 0x00000000, 0xfffffffd

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 24, slt, 0xfffffffd, 0x00000007
    RR_RS1_X0 25, slt, 0x00000001, 0x00000007
    RR_RS2_X0 26, slt, 0x00000001, 0xfffffffd
    RR_RS1_X0 27, slt, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 31, 0, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RD_BYPASS 32, 1, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RD_BYPASS 33, 2, slt, 0x00000001, 0xfffffffd, 0x00000007
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 34, 0, 0, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS 35, 0, 1, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS 36, 0, 2, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS 37, 1, 0, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS 38, 1, 1, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS 39, 2, 0, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS_REV 40, 0, 0, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS_REV 41, 0, 1, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS_REV 42, 0, 2, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS_REV 43, 1, 0, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS_REV 44, 1, 1, slt, 0x00000001, 0xfffffffd, 0x00000007
    RR_RS_BYPASS_REV 45, 2, 0, slt, 0x00000001, 0xfffffffd, 0x00000007

    TEST_END
