// The all-ones word is an illegal instruction: SIGILL, exit status 128 + 4.
// expect-exit: 132
#include "harness.h"

    TEST_BEGIN

    CHECK 1
    .word 0xffffffff
    // reached only if the instruction above did not trap
    CHECK 2
    j fail

    TEST_END
