// SRA: arithmetic right shift (sign fill), low 5 bits of rs2.
// Values and edge cases, then rd aliasing a source, x0 as destination and source, and
// results and operands consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RR 1, sra, 0x80000000, 0x80000000, 0x00000000
    RR 2, sra, 0xc0000000, 0x80000000, 0x00000001
    RR 3, sra, 0xff000000, 0x80000000, 0x00000007
    RR 4, sra, 0xfffe0000, 0x80000000, 0x0000000e
    RR 5, sra, 0xffffffff, 0x80000000, 0x0000001f
    RR 6, sra, 0x7fffffff, 0x7fffffff, 0x00000000
    RR 7, sra, 0x3fffffff, 0x7fffffff, 0x00000001
    RR 8, sra, 0x00ffffff, 0x7fffffff, 0x00000007
    RR 9, sra, 0x0001ffff, 0x7fffffff, 0x0000000e
    RR 10, sra, 0x00000000, 0x7fffffff, 0x0000001f
    RR 11, sra, 0x81818181, 0x81818181, 0x00000000
    RR 12, sra, 0xc0c0c0c0, 0x81818181, 0x00000001
    RR 13, sra, 0xff030303, 0x81818181, 0x00000007
    RR 14, sra, 0xfffe0606, 0x81818181, 0x0000000e
    RR 15, sra, 0xffffffff, 0x81818181, 0x0000001f
    // shift amount is the low 5 bits: 32 shifts by 0
    RR 16, sra, 0x7fffffff, 0x7fffffff, 0x00000020
    // 33 shifts by 1
    RR 17, sra, 0x3fffffff, 0x7fffffff, 0x00000021
    // 63 shifts by 31
    RR 18, sra, 0x00000000, 0x7fffffff, 0x0000003f
    // 0xffffffe1 shifts by 1
    RR 19, sra, 0x3fffffff, 0x7fffffff, 0xffffffe1
    // -1 shifts by 31
    RR 20, sra, 0xffffffff, 0x81818181, 0xffffffff
    // only bits 4..0 count
    RR 21, sra, 0xf8181818, 0x81818181, 0x80000004

    // rd is also a source; all three the same register
    RR_RD_IS_RS1 31, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RD_IS_RS2 32, sra, 0xff000000, 0x80000000, 0x00000007
    RR_ALL_SAME 33, sra, 0x80000000, 0x80000000

    // x0 as destination (discarded) and as either source (reads 0)
    RR_RD_X0 34, sra, 0x80000000, 0x00000007
    RR_RS1_X0 35, sra, 0x00000000, 0x00000007
    RR_RS2_X0 36, sra, 0x80000000, 0x80000000
    RR_RS1_X0 37, sra, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later
    RR_RD_BYPASS 41, 0, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RD_BYPASS 42, 1, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RD_BYPASS 43, 2, sra, 0xff000000, 0x80000000, 0x00000007
    // the operands produced 0, 1 and 2 instructions earlier, in both orders
    RR_RS_BYPASS 44, 0, 0, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 45, 0, 1, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 46, 0, 2, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 47, 1, 0, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 48, 1, 1, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS 49, 2, 0, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 50, 0, 0, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 51, 0, 1, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 52, 0, 2, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 53, 1, 0, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 54, 1, 1, sra, 0xff000000, 0x80000000, 0x00000007
    RR_RS_BYPASS_REV 55, 2, 0, sra, 0xff000000, 0x80000000, 0x00000007

    TEST_END
