// BEQ: taken and not taken, forward and backward, on signed and unsigned edge values;
// rs1 = rs2 and x0 operands; operands produced back to back; the farthest offsets.
#include "harness.h"

    TEST_BEGIN

    BR_TAKEN 1, beq, 0x00000000, 0x00000000
    BR_TAKEN 2, beq, 0x00000001, 0x00000001
    BR_TAKEN 3, beq, 0xffffffff, 0xffffffff
    BR_NOT_TAKEN 4, beq, 0x00000000, 0x00000001
    BR_NOT_TAKEN 5, beq, 0x00000001, 0x00000000
    BR_NOT_TAKEN 6, beq, 0xffffffff, 0x00000001
    BR_NOT_TAKEN 7, beq, 0x00000001, 0xffffffff
    BR_NOT_TAKEN 8, beq, 0xffffffff, 0x00000000
    BR_NOT_TAKEN 9, beq, 0x00000000, 0xffffffff
    BR_NOT_TAKEN 10, beq, 0x80000000, 0x7fffffff
    BR_NOT_TAKEN 11, beq, 0x7fffffff, 0x80000000
    BR_TAKEN 12, beq, 0x80000000, 0x80000000
    BR_NOT_TAKEN 13, beq, 0x80000000, 0x00000000
    BR_NOT_TAKEN 14, beq, 0x00000000, 0x80000000
    BR_NOT_TAKEN 15, beq, 0xfffffffe, 0xffffffff
    BR_NOT_TAKEN 16, beq, 0xffffffff, 0xfffffffe
    BR_NOT_TAKEN 17, beq, 0x12345678, 0x12345679
    BR_NOT_TAKEN 18, beq, 0x00010000, 0x00000001

    // the same register twice, and x0
    li x1, 0x80000000
    BR_ON 31, beq, 1, x1, x1
    BR_ON 32, beq, 1, x0, x0
    BR_ON 33, beq, 0, x1, x0
    BR_ON 34, beq, 0, x0, x1
    li x1, 1
    BR_ON 35, beq, 0, x1, x0
    BR_ON 36, beq, 0, x0, x1

    // the operands produced 0, 1, 2 instructions before the branch, either direction
    BR_BYPASS 41, 0, 0, beq, 1, 0x80000000, 0x80000000
    BR_BYPASS 42, 0, 0, beq, 0, 0x00000001, 0xffffffff
    BR_BYPASS 43, 0, 1, beq, 1, 0x80000000, 0x80000000
    BR_BYPASS 44, 0, 1, beq, 0, 0x00000001, 0xffffffff
    BR_BYPASS 45, 0, 2, beq, 1, 0x80000000, 0x80000000
    BR_BYPASS 46, 0, 2, beq, 0, 0x00000001, 0xffffffff
    BR_BYPASS 47, 1, 0, beq, 1, 0x80000000, 0x80000000
    BR_BYPASS 48, 1, 0, beq, 0, 0x00000001, 0xffffffff
    BR_BYPASS 49, 1, 1, beq, 1, 0x80000000, 0x80000000
    BR_BYPASS 50, 1, 1, beq, 0, 0x00000001, 0xffffffff
    BR_BYPASS 51, 2, 0, beq, 1, 0x80000000, 0x80000000
    BR_BYPASS 52, 2, 0, beq, 0, 0x00000001, 0xffffffff

    // near the +-4 KiB reach
    BR_FAR 61, beq, 0x80000000, 0x80000000

    TEST_END
