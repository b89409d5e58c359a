// ECALL: the result comes back in a0 and every other register is preserved; an unknown call
// number returns -ENOSYS; write to stdout returns the count (the driver compares the output of
// poie and qemu byte for byte); a bad fd returns -EBADF.
#include "harness.h"

    // The message comes first so that its length is known where it is used.
    .data
msg:
    .ascii "conformance: ecall write\n"
    .set msg_len, . - msg

// Fails unless r == v, destroying r, so that no scratch register is needed (v in 1..2047).
.macro KEPT r, v
    addi \r, \r, -\v
    beqz \r, .Lok\@
    j fail
.Lok\@:
.endm

    TEST_BEGIN

    // an unknown system call: -ENOSYS (-38); all registers but a0 preserved
    CHECK 1
    li x1, 101
    li x2, 102
    li x4, 104
    li x5, 105
    li x6, 106
    li x7, 107
    li x8, 108
    li x9, 109
    li x11, 111
    li x12, 112
    li x13, 113
    li x14, 114
    li x15, 115
    li x16, 116
    li x18, 118
    li x19, 119
    li x20, 120
    li x21, 121
    li x22, 122
    li x23, 123
    li x24, 124
    li x25, 125
    li x26, 126
    li x27, 127
    li x28, 128
    li x29, 129
    li x30, 130
    li x31, 131
    li a0, 0x777
    li a7, 4000
    ecall
    KEPT x7, 107
    EXPECT a0, -38
    KEPT x1, 101
    KEPT x2, 102
    KEPT x4, 104
    KEPT x5, 105
    KEPT x6, 106
    KEPT x8, 108
    KEPT x9, 109
    KEPT x11, 111
    KEPT x12, 112
    KEPT x13, 113
    KEPT x14, 114
    KEPT x15, 115
    KEPT x16, 116
    KEPT x18, 118
    KEPT x19, 119
    KEPT x20, 120
    KEPT x21, 121
    KEPT x22, 122
    KEPT x23, 123
    KEPT x24, 124
    KEPT x25, 125
    KEPT x26, 126
    KEPT x27, 127
    KEPT x28, 128
    KEPT x29, 129
    KEPT x30, 130
    KEPT x31, 131
    EXPECT a7, 4000

    // write(1, msg, len) returns len
    CHECK 2
    li a0, 1
    la a1, msg
    li a2, msg_len
    li a7, 64
    ecall
    EXPECT a0, msg_len

    // a zero-length write returns 0
    CHECK 3
    li a0, 1
    la a1, msg
    li a2, 0
    li a7, 64
    ecall
    EXPECT a0, 0

    // a descriptor that is not open: -EBADF (-9)
    CHECK 4
    li a0, 99
    la a1, msg
    li a2, msg_len
    li a7, 64
    ecall
    EXPECT a0, -9

    TEST_END
