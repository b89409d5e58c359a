// SRAI: sign fill, shift amounts 0..31 (bit 5 set is illegal on RV32: see trap_srai_shamt5.S).
// Values and edge cases, then rd aliasing rs1, x0 as destination and source, and the result
// and the operand consumed or produced back to back (bypass).
#include "harness.h"

    TEST_BEGIN

    // sign fill
    RI 1, srai, 0x80000000, 0x80000000, 0
    // sign fill
    RI 2, srai, 0xc0000000, 0x80000000, 1
    // sign fill
    RI 3, srai, 0xff000000, 0x80000000, 7
    // sign fill
    RI 4, srai, 0xfffe0000, 0x80000000, 14
    // sign fill
    RI 5, srai, 0xffffffff, 0x80000000, 31
    RI 6, srai, 0x7fffffff, 0x7fffffff, 0
    RI 7, srai, 0x3fffffff, 0x7fffffff, 1
    RI 8, srai, 0x00ffffff, 0x7fffffff, 7
    RI 9, srai, 0x0001ffff, 0x7fffffff, 14
    RI 10, srai, 0x00000000, 0x7fffffff, 31
    RI 11, srai, 0x81818181, 0x81818181, 0
    RI 12, srai, 0xc0c0c0c0, 0x81818181, 1
    RI 13, srai, 0xff030303, 0x81818181, 7
    RI 14, srai, 0xfffe0606, 0x81818181, 14
    RI 15, srai, 0xffffffff, 0x81818181, 31

    // rd is also rs1
    RI_RD_IS_RS1 21, srai, 0xff02468a, 0x81234567, 7
    // x0 as destination (discarded) and as source (reads 0)
    RI_RD_X0 22, srai, 0x81234567, 7
    RI_RS1_X0 23, srai, 0x00000000, 7
    RI_RS1_X0 24, srai, 0x00000000, 0

    // the result used 0, 1 and 2 instructions later; the operand produced 0, 1, 2 earlier
    RI_RD_BYPASS 31, 0, srai, 0xff02468a, 0x81234567, 7
    RI_RD_BYPASS 32, 1, srai, 0xff02468a, 0x81234567, 7
    RI_RD_BYPASS 33, 2, srai, 0xff02468a, 0x81234567, 7
    RI_RS_BYPASS 34, 0, srai, 0xff02468a, 0x81234567, 7
    RI_RS_BYPASS 35, 1, srai, 0xff02468a, 0x81234567, 7
    RI_RS_BYPASS 36, 2, srai, 0xff02468a, 0x81234567, 7

    TEST_END
