// SLLI with shamt bit 5 set (x1 = x1 << 32) is illegal on RV32: SIGILL.
// expect-exit: 132
#include "harness.h"

    TEST_BEGIN

    CHECK 1
    .word 0x02009093
    // reached only if the instruction above did not trap
    CHECK 2
    j fail

    TEST_END
