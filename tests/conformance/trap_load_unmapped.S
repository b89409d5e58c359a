// A load from an unmapped page (address 0) faults: SIGSEGV, exit status 128 + 11.
// expect-exit: 139
#include "harness.h"

    TEST_BEGIN

    CHECK 1
    lw x1, 0(x0)
    // reached only if the instruction above did not trap
    CHECK 2
    j fail

    TEST_END
