// SLL: shift amount from the low 5 bits of rs2.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, sll, 0x00000001, 0x00000001, 0x00000000
    RR 2, sll, 0x00000002, 0x00000001, 0x00000001
    RR 3, sll, 0x00000080, 0x00000001, 0x00000007
    RR 4, sll, 0x00004000, 0x00000001, 0x0000000e
    RR 5, sll, 0x80000000, 0x00000001, 0x0000001f
    RR 6, sll, 0xffffffff, 0xffffffff, 0x00000000
    RR 7, sll, 0xfffffffe, 0xffffffff, 0x00000001
    RR 8, sll, 0xffffff80, 0xffffffff, 0x00000007
    RR 9, sll, 0xffffc000, 0xffffffff, 0x0000000e
    RR 10, sll, 0x80000000, 0xffffffff, 0x0000001f
    RR 11, sll, 0x21212121, 0x21212121, 0x00000000
    RR 12, sll, 0x42424242, 0x21212121, 0x00000001
    RR 13, sll, 0x90909080, 0x21212121, 0x00000007
    RR 14, sll, 0x48484000, 0x21212121, 0x0000000e
    RR 15, sll, 0x80000000, 0x21212121, 0x0000001f
    // shift amount is the low 5 bits: 32 shifts by 0
    RR 16, sll, 0xffffffff, 0xffffffff, 0x00000020
    // 33 shifts by 1
    RR 17, sll, 0xfffffffe, 0xffffffff, 0x00000021
    // 63 shifts by 31
    RR 18, sll, 0x80000000, 0xffffffff, 0x0000003f
    // 0xffffffe1 shifts by 1
    RR 19, sll, 0xfffffffe, 0xffffffff, 0xffffffe1
    // -1 shifts by 31
    RR 20, sll, 0x80000000, 0x21212121, 0xffffffff
    // only bits 4..0 count
    RR 21, sll, 0x12121210, 0x21212121, 0x80000004

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 31, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RD_IS_RS2 32, sll, 0x90909080, 0x21212121, 0x00000007
    RR_ALL_SAME 33, sll, 0x42424242, 0x21212121

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 34, sll, 0x21212121, 0x00000007
    RR_RS1_X0 35, sll, 0x00000000, 0x00000007
    RR_RS2_X0 36, sll, 0x21212121, 0x21212121
    RR_RS1_X0 37, sll, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 41, 0, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RD_BYPASS 42, 1, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RD_BYPASS 43, 2, sll, 0x90909080, 0x21212121, 0x00000007
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 44, 0, 0, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS 45, 0, 1, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS 46, 0, 2, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS 47, 1, 0, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS 48, 1, 1, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS 49, 2, 0, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS_REV 50, 0, 0, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS_REV 51, 0, 1, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS_REV 52, 0, 2, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS_REV 53, 1, 0, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS_REV 54, 1, 1, sll, 0x90909080, 0x21212121, 0x00000007
    RR_RS_BYPASS_REV 55, 2, 0, sll, 0x90909080, 0x21212121, 0x00000007

    TEST_END
