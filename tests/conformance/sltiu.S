// SLTIU: the immediate is sign-extended, then compared unsigned.
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RI 1, sltiu, 0x00000000, 0x00000000, 0
    RI 2, sltiu, 0x00000000, 0x00000001, 1
    RI 3, sltiu, 0x00000001, 0x00000003, 7
    // most negative immediate
    RI 4, sltiu, 0x00000001, 0x00000000, -2048
    RI 5, sltiu, 0x00000000, 0x80000000, 0
    // immediate sign-extended
    RI 6, sltiu, 0x00000001, 0x80000000, -2048
    // most positive immediate
    RI 7, sltiu, 0x00000001, 0x00000000, 2047
    RI 8, sltiu, 0x00000000, 0x7fffffff, 0
    RI 9, sltiu, 0x00000000, 0x7fffffff, 2047
    RI 10, sltiu, 0x00000000, 0x80000000, 2047
    RI 11, sltiu, 0x00000001, 0x7fffffff, -2048
    // -1 is all ones after sign extension
    RI 12, sltiu, 0x00000001, 0x00000000, -1
    RI 13, sltiu, 0x00000000, 0xffffffff, 1
    RI 14, sltiu, 0x00000000, 0xffffffff, -1
    RI 15, sltiu, 0x00000000, 0x7fffffff, 1
    // -1 compares as 0xffffffff
    RI 16, sltiu, 0x00000001, 0xfffffffe, -1
    RI 17, sltiu, 0x00000000, 0xffffffff, -1
    // -2048 compares as 0xfffff800
    RI 18, sltiu, 0x00000000, 0xfffff800, -2048
    RI 19, sltiu, 0x00000001, 0xfffff7ff, -2048
    RI 20, sltiu, 0x00000000, 0x000007ff, 2047
    RI 21, sltiu, 0x00000001, 0x000007fe, 2047

    // rd is also rs1
    RI_RD_IS_RS1 31, sltiu, 0x00000000, 0xfffffffd, -5
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 32, sltiu, 0xfffffffd, -5
    RI_RS1_X0 33, sltiu, 0x00000001, -5
    RI_RS1_X0 34, sltiu, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 41, 0, sltiu, 0x00000000, 0xfffffffd, -5
    RI_RD_BYPASS 42, 1, sltiu, 0x00000000, 0xfffffffd, -5
    RI_RD_BYPASS 43, 2, sltiu, 0x00000000, 0xfffffffd, -5
    RI_RS_BYPASS 44, 0, sltiu, 0x00000000, 0xfffffffd, -5
    RI_RS_BYPASS 45, 1, sltiu, 0x00000000, 0xfffffffd, -5
    RI_RS_BYPASS 46, 2, sltiu, 0x00000000, 0xfffffffd, -5

    TEST_END
