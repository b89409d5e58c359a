// SRL: logical right shift, low 5 bits of rs2.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, srl, 0x80000000, 0x80000000, 0x00000000
    RR 2, srl, 0x40000000, 0x80000000, 0x00000001
    RR 3, srl, 0x01000000, 0x80000000, 0x00000007
    RR 4, srl, 0x00020000, 0x80000000, 0x0000000e
    RR 5, srl, 0x00000001, 0x80000000, 0x0000001f
    RR 6, srl, 0xffffffff, 0xffffffff, 0x00000000
    RR 7, srl, 0x7fffffff, 0xffffffff, 0x00000001
    RR 8, srl, 0x01ffffff, 0xffffffff, 0x00000007
    RR 9, srl, 0x0003ffff, 0xffffffff, 0x0000000e
    RR 10, srl, 0x00000001, 0xffffffff, 0x0000001f
    RR 11, srl, 0x21212121, 0x21212121, 0x00000000
    RR 12, srl, 0x10909090, 0x21212121, 0x00000001
    RR 13, srl, 0x00424242, 0x21212121, 0x00000007
    RR 14, srl, 0x00008484, 0x21212121, 0x0000000e
    RR 15, srl, 0x00000000, 0x21212121, 0x0000001f
    // shift amount is the low 5 bits: 32 shifts by 0
    RR 16, srl, 0xffffffff, 0xffffffff, 0x00000020
    // 33 shifts by 1
    RR 17, srl, 0x7fffffff, 0xffffffff, 0x00000021
    // 63 shifts by 31
    RR 18, srl, 0x00000001, 0xffffffff, 0x0000003f
    // 0xffffffe1 shifts by 1
    RR 19, srl, 0x7fffffff, 0xffffffff, 0xffffffe1
    // -1 shifts by 31
    RR 20, srl, 0x00000000, 0x21212121, 0xffffffff
    // only bits 4..0 count
    RR 21, srl, 0x02121212, 0x21212121, 0x80000004

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 31, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RD_IS_RS2 32, srl, 0x01000000, 0x80000000, 0x00000007
    RR_ALL_SAME 33, srl, 0x80000000, 0x80000000

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 34, srl, 0x80000000, 0x00000007
    RR_RS1_X0 35, srl, 0x00000000, 0x00000007
    RR_RS2_X0 36, srl, 0x80000000, 0x80000000
    RR_RS1_X0 37, srl, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 41, 0, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RD_BYPASS 42, 1, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RD_BYPASS 43, 2, srl, 0x01000000, 0x80000000, 0x00000007
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 44, 0, 0, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 45, 0, 1, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 46, 0, 2, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 47, 1, 0, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 48, 1, 1, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 49, 2, 0, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 50, 0, 0, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 51, 0, 1, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 52, 0, 2, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 53, 1, 0, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 54, 1, 1, srl, 0x01000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 55, 2, 0, srl, 0x01000000, 0x80000000, 0x00000007

    TEST_END
