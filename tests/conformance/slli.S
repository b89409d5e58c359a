// SLLI: shift amounts 0..31 (bit 5 set is illegal on RV32: see trap_slli_shamt5.S).
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RI 1, slli, 0x00000001, 0x00000001, 0
    RI 2, slli, 0x00000002, 0x00000001, 1
    RI 3, slli, 0x00000080, 0x00000001, 7
    RI 4, slli, 0x00004000, 0x00000001, 14
    RI 5, slli, 0x80000000, 0x00000001, 31
    RI 6, slli, 0xffffffff, 0xffffffff, 0
    RI 7, slli, 0xfffffffe, 0xffffffff, 1
    RI 8, slli, 0xffffff80, 0xffffffff, 7
    RI 9, slli, 0xffffc000, 0xffffffff, 14
    RI 10, slli, 0x80000000, 0xffffffff, 31
    RI 11, slli, 0x21212121, 0x21212121, 0
    RI 12, slli, 0x42424242, 0x21212121, 1
    RI 13, slli, 0x90909080, 0x21212121, 7
    RI 14, slli, 0x48484000, 0x21212121, 14
    RI 15, slli, 0x80000000, 0x21212121, 31

    // rd is also rs1
    RI_RD_IS_RS1 21, slli, 0x91a2b380, 0x81234567, 7
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, slli, 0x81234567, 7
    RI_RS1_X0 23, slli, 0x00000000, 7
    RI_RS1_X0 24, slli, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, slli, 0x91a2b380, 0x81234567, 7
    RI_RD_BYPASS 32, 1, slli, 0x91a2b380, 0x81234567, 7
    RI_RD_BYPASS 33, 2, slli, 0x91a2b380, 0x81234567, 7
    RI_RS_BYPASS 34, 0, slli, 0x91a2b380, 0x81234567, 7
    RI_RS_BYPASS 35, 1, slli, 0x91a2b380, 0x81234567, 7
    RI_RS_BYPASS 36, 2, slli, 0x91a2b380, 0x81234567, 7

    TEST_END
