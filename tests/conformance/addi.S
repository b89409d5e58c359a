// ADDI: sign-extended 12-bit immediate, wrap-around.
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RI 1, addi, 0x00000000, 0x00000000, 0
    RI 2, addi, 0x00000002, 0x00000001, 1
    RI 3, addi, 0x0000000a, 0x00000003, 7
    // most negative immediate
    RI 4, addi, 0xfffff800, 0x00000000, -2048
    RI 5, addi, 0x80000000, 0x80000000, 0
    // immediate sign-extended
    RI 6, addi, 0x7ffff800, 0x80000000, -2048
    // most positive immediate
    RI 7, addi, 0x000007ff, 0x00000000, 2047
    RI 8, addi, 0x7fffffff, 0x7fffffff, 0
    RI 9, addi, 0x800007fe, 0x7fffffff, 2047
    RI 10, addi, 0x800007ff, 0x80000000, 2047
    RI 11, addi, 0x7ffff7ff, 0x7fffffff, -2048
    // -1 is all ones after sign extension
    RI 12, addi, 0xffffffff, 0x00000000, -1
    RI 13, addi, 0x00000000, 0xffffffff, 1
    RI 14, addi, 0xfffffffe, 0xffffffff, -1
    RI 15, addi, 0x80000000, 0x7fffffff, 1
    // signed overflow wraps
    RI 16, addi, 0x80000000, 0x7fffffff, 1
    // wraps to 0
    RI 17, addi, 0x00000000, 0xffffffff, 1

    // rd is also rs1
    RI_RD_IS_RS1 21, addi, 0x0ff00a9a, 0x0ff00ff0, -1366
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, addi, 0x0ff00ff0, -1366
    RI_RS1_X0 23, addi, 0xfffffaaa, -1366
    RI_RS1_X0 24, addi, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, addi, 0x0ff00a9a, 0x0ff00ff0, -1366
    RI_RD_BYPASS 32, 1, addi, 0x0ff00a9a, 0x0ff00ff0, -1366
    RI_RD_BYPASS 33, 2, addi, 0x0ff00a9a, 0x0ff00ff0, -1366
    RI_RS_BYPASS 34, 0, addi, 0x0ff00a9a, 0x0ff00ff0, -1366
    RI_RS_BYPASS 35, 1, addi, 0x0ff00a9a, 0x0ff00ff0, -1366
    RI_RS_BYPASS 36, 2, addi, 0x0ff00a9a, 0x0ff00ff0, -1366

    TEST_END
