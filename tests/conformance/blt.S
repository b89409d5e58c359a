// BLT: signed: taken and not taken, forward and backward, on signed and unsigned edge values;
// rs1 = rs2 and x0 operands; operands produced back to back; the farthest offsets.
#include "harness.h"

    TEST_BEGIN

    BR_NOT_TAKEN 1, blt, 0x00000000, 0x00000000
    BR_NOT_TAKEN 2, blt, 0x00000001, 0x00000001
    BR_NOT_TAKEN 3, blt, 0xffffffff, 0xffffffff
    BR_TAKEN 4, blt, 0x00000000, 0x00000001
    BR_NOT_TAKEN 5, blt, 0x00000001, 0x00000000
    BR_TAKEN 6, blt, 0xffffffff, 0x00000001
    BR_NOT_TAKEN 7, blt, 0x00000001, 0xffffffff
    BR_TAKEN 8, blt, 0xffffffff, 0x00000000
    BR_NOT_TAKEN 9, blt, 0x00000000, 0xffffffff
    BR_TAKEN 10, blt, 0x80000000, 0x7fffffff
    BR_NOT_TAKEN 11, blt, 0x7fffffff, 0x80000000
    BR_NOT_TAKEN 12, blt, 0x80000000, 0x80000000
    BR_TAKEN 13, blt, 0x80000000, 0x00000000
    BR_NOT_TAKEN 14, blt, 0x00000000, 0x80000000
    BR_TAKEN 15, blt, 0xfffffffe, 0xffffffff
    BR_NOT_TAKEN 16, blt, 0xffffffff, 0xfffffffe
    BR_TAKEN 17, blt, 0x12345678, 0x12345679
    BR_NOT_TAKEN 18, blt, 0x00010000, 0x00000001

    // the same register twice, and x0
    li x1, 0x80000000
    BR_ON 31, blt, 0, x1, x1
    BR_ON 32, blt, 0, x0, x0
    BR_ON 33, blt, 1, x1, x0
    BR_ON 34, blt, 0, x0, x1
    li x1, 1
    BR_ON 35, blt, 0, x1, x0
    BR_ON 36, blt, 1, x0, x1

    // the operands produced 0, 1, 2 instructions before the branch, either direction
    BR_BYPASS 41, 0, 0, blt, 1, 0x80000000, 0x7fffffff
    BR_BYPASS 42, 0, 0, blt, 0, 0x00000001, 0x00000000
    BR_BYPASS 43, 0, 1, blt, 1, 0x80000000, 0x7fffffff
    BR_BYPASS 44, 0, 1, blt, 0, 0x00000001, 0x00000000
    BR_BYPASS 45, 0, 2, blt, 1, 0x80000000, 0x7fffffff
    BR_BYPASS 46, 0, 2, blt, 0, 0x00000001, 0x00000000
    BR_BYPASS 47, 1, 0, blt, 1, 0x80000000, 0x7fffffff
    BR_BYPASS 48, 1, 0, blt, 0, 0x00000001, 0x00000000
    BR_BYPASS 49, 1, 1, blt, 1, 0x80000000, 0x7fffffff
    BR_BYPASS 50, 1, 1, blt, 0, 0x00000001, 0x00000000
    BR_BYPASS 51, 2, 0, blt, 1, 0x80000000, 0x7fffffff
    BR_BYPASS 52, 2, 0, blt, 0, 0x00000001, 0x00000000

    // near the +-4 KiB reach
    BR_FAR 61, blt, 0x12345678, 0x12345679

    TEST_END
