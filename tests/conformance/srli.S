// SRLI: shift amounts 0..31 (bit 5 set is illegal on RV32: see trap_srli_shamt5.S).
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    RI 1, srli, 0x80000000, 0x80000000, 0
    RI 2, srli, 0x40000000, 0x80000000, 1
    RI 3, srli, 0x01000000, 0x80000000, 7
    RI 4, srli, 0x00020000, 0x80000000, 14
    RI 5, srli, 0x00000001, 0x80000000, 31
    RI 6, srli, 0xffffffff, 0xffffffff, 0
    RI 7, srli, 0x7fffffff, 0xffffffff, 1
    RI 8, srli, 0x01ffffff, 0xffffffff, 7
    RI 9, srli, 0x0003ffff, 0xffffffff, 14
    RI 10, srli, 0x00000001, 0xffffffff, 31
    RI 11, srli, 0x21212121, 0x21212121, 0
    RI 12, srli, 0x10909090, 0x21212121, 1
    RI 13, srli, 0x00424242, 0x21212121, 7
    RI 14, srli, 0x00008484, 0x21212121, 14
    RI 15, srli, 0x00000000, 0x21212121, 31

    // rd is also rs1
    RI_RD_IS_RS1 21, srli, 0x0102468a, 0x81234567, 7
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, srli, 0x81234567, 7
    RI_RS1_X0 23, srli, 0x00000000, 7
    RI_RS1_X0 24, srli, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, srli, 0x0102468a, 0x81234567, 7
    RI_RD_BYPASS 32, 1, srli, 0x0102468a, 0x81234567, 7
    RI_RD_BYPASS 33, 2, srli, 0x0102468a, 0x81234567, 7
    RI_RS_BYPASS 34, 0, srli, 0x0102468a, 0x81234567, 7
    RI_RS_BYPASS 35, 1, srli, 0x0102468a, 0x81234567, 7
    RI_RS_BYPASS 36, 2, srli, 0x0102468a, 0x81234567, 7

    TEST_END
