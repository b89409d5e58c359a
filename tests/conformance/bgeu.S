// BGEU: unsigned, equal is taken: taken and not taken, forward and backward, on signed and unsigned edge values;
// rs1 = rs2 and x0 operands; operands produced back to back; the farthest offsets.
#include "harness.h"

    TEST_BEGIN

    BR_TAKEN 1, bgeu, 0x00000000, 0x00000000
    BR_TAKEN 2, bgeu, 0x00000001, 0x00000001
    BR_TAKEN 3, bgeu, 0xffffffff, 0xffffffff
    BR_NOT_TAKEN 4, bgeu, 0x00000000, 0x00000001
    BR_TAKEN 5, bgeu, 0x00000001, 0x00000000
    BR_TAKEN 6, bgeu, 0xffffffff, 0x00000001
    BR_NOT_TAKEN 7, bgeu, 0x00000001, 0xffffffff
    BR_TAKEN 8, bgeu, 0xffffffff, 0x00000000
    BR_NOT_TAKEN 9, bgeu, 0x00000000, 0xffffffff
    BR_TAKEN 10, bgeu, 0x80000000, 0x7fffffff
    BR_NOT_TAKEN 11, bgeu, 0x7fffffff, 0x80000000
    BR_TAKEN 12, bgeu, 0x80000000, 0x80000000
    BR_TAKEN 13, bgeu, 0x80000000, 0x00000000
    BR_NOT_TAKEN 14, bgeu, 0x00000000, 0x80000000
    BR_NOT_TAKEN 15, bgeu, 0xfffffffe, 0xffffffff
    BR_TAKEN 16, bgeu, 0xffffffff, 0xfffffffe
    BR_NOT_TAKEN 17, bgeu, 0x12345678, 0x12345679
    BR_TAKEN 18, bgeu, 0x00010000, 0x00000001

    // the same register twice, and x0
    li x1, 0x80000000
    BR_ON 31, bgeu, 1, x1, x1
    BR_ON 32, bgeu, 1, x0, x0
    BR_ON 33, bgeu, 1, x1, x0
    BR_ON 34, bgeu, 0, x0, x1
    li x1, 1
    BR_ON 35, bgeu, 1, x1, x0
    BR_ON 36, bgeu, 0, x0, x1

    // the operands produced 0, 1, 2 instructions before the branch, either direction
    BR_BYPASS 41, 0, 0, bgeu, 1, 0x00000001, 0x00000000
    BR_BYPASS 42, 0, 0, bgeu, 0, 0x7fffffff, 0x80000000
    BR_BYPASS 43, 0, 1, bgeu, 1, 0x00000001, 0x00000000
    BR_BYPASS 44, 0, 1, bgeu, 0, 0x7fffffff, 0x80000000
    BR_BYPASS 45, 0, 2, bgeu, 1, 0x00000001, 0x00000000
    BR_BYPASS 46, 0, 2, bgeu, 0, 0x7fffffff, 0x80000000
    BR_BYPASS 47, 1, 0, bgeu, 1, 0x00000001, 0x00000000
    BR_BYPASS 48, 1, 0, bgeu, 0, 0x7fffffff, 0x80000000
    BR_BYPASS 49, 1, 1, bgeu, 1, 0x00000001, 0x00000000
    BR_BYPASS 50, 1, 1, bgeu, 0, 0x7fffffff, 0x80000000
    BR_BYPASS 51, 2, 0, bgeu, 1, 0x00000001, 0x00000000
    BR_BYPASS 52, 2, 0, bgeu, 0, 0x7fffffff, 0x80000000

    // near the +-4 KiB reach
    BR_FAR 61, bgeu, 0x00010000, 0x00000001

    TEST_END
