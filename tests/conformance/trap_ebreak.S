// EBREAK traps: SIGTRAP, exit status 128 + 5.
// expect-exit: 133
#include "harness.h"

    TEST_BEGIN

    CHECK 1
    ebreak
    // reached only if the instruction above did not trap
    CHECK 2
    j fail

    TEST_END
