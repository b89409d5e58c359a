// A store into the read-only, executable text segment faults: SIGSEGV.
// expect-exit: 139
#include "harness.h"

    TEST_BEGIN

    CHECK 1
    la x1, _start
    sw x0, 0(x1)
    // reached only if the instruction above did not trap
    CHECK 2
    j fail

    TEST_END
