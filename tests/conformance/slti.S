// SLTI: signed compare with the sign-extended immediate.
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RI 1, slti, 0x00000000, 0x00000000, 0
    RI 2, slti, 0x00000000, 0x00000001, 1
    RI 3, slti, 0x00000001, 0x00000003, 7
    // most negative immediate
    RI 4, slti, 0x00000000, 0x00000000, -2048
    RI 5, slti, 0x00000001, 0x80000000, 0
    // immediate sign-extended
    RI 6, slti, 0x00000001, 0x80000000, -2048
    // most positive immediate
    RI 7, slti, 0x00000001, 0x00000000, 2047
    RI 8, slti, 0x00000000, 0x7fffffff, 0
    RI 9, slti, 0x00000000, 0x7fffffff, 2047
    RI 10, slti, 0x00000001, 0x80000000, 2047
    RI 11, slti, 0x00000000, 0x7fffffff, -2048
    // -1 is all ones after sign extension
    RI 12, slti, 0x00000000, 0x00000000, -1
    RI 13, slti, 0x00000001, 0xffffffff, 1
    RI 14, slti, 0x00000000, 0xffffffff, -1
    RI 15, slti, 0x00000000, 0x7fffffff, 1
    RI 16, slti, 0x00000001, 0xffffffff, 0
    RI 17, slti, 0x00000000, 0x00000000, -1
    RI 18, slti, 0x00000001, 0xfffffffb, -4
    RI 19, slti, 0x00000000, 0xfffffffc, -5
    RI 20, slti, 0x00000001, 0x80000000, -2048
    RI 21, slti, 0x00000000, 0xfffff800, -2048
    RI 22, slti, 0x00000001, 0xfffff7ff, -2048

    // rd is also rs1
    RI_RD_IS_RS1 31, slti, 0x00000000, 0xfffffffd, -5
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 32, slti, 0xfffffffd, -5
    RI_RS1_X0 33, slti, 0x00000000, -5
    RI_RS1_X0 34, slti, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 41, 0, slti, 0x00000000, 0xfffffffd, -5
    RI_RD_BYPASS 42, 1, slti, 0x00000000, 0xfffffffd, -5
    RI_RD_BYPASS 43, 2, slti, 0x00000000, 0xfffffffd, -5
    RI_RS_BYPASS 44, 0, slti, 0x00000000, 0xfffffffd, -5
    RI_RS_BYPASS 45, 1, slti, 0x00000000, 0xfffffffd, -5
    RI_RS_BYPASS 46, 2, slti, 0x00000000, 0xfffffffd, -5

    TEST_END
