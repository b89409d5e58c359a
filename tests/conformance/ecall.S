// ECALL: the result comes back in a0 and every other register is preserved; an unknown call
// number returns -ENOSYS; write to stdout returns the count, which may be short, and writing on
// from there prints the rest (the driver compares the output of poie and qemu byte for byte); a
// bad fd returns -EBADF; brk called until it returns the break asked for gets there.
//
// poie bounds each call for its one-step proofs (docs/SPEC.md 1.4): a write moves at most to
// the end of its buffer's 32-byte leaf, brk at most one page. Linux may stop short too, so a
// program that loops passes on both; one that assumes a full count passes only under qemu.
#include "harness.h"

    // The messages come first so that their lengths are known where they are used. Each starts
    // 20 bytes into a 32-byte leaf, so that under poie its first write is short (12 bytes).
    .data
    .balign 32
    .skip 20
msg:
    .ascii "conformance: ecall write\n"
    .set msg_len, . - msg
    .balign 32
    .skip 20
long_msg:
    .ascii "conformance: a write across three 32-byte leaves, looped until done\n"
    .set long_len, . - long_msg

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

    // write(1, msg, len) returns a count in 1..len (len under Linux, 12 under poie: the rest
    // of msg's leaf); writing the rest from there prints the whole message
    CHECK 2
    li a0, 1
    la a1, msg
    li a2, msg_len
    li a7, 64
    ecall
    bgtz a0, .Lwrote
    j fail
.Lwrote:
    bgeu a2, a0, .Lcounted
    j fail
.Lcounted:
    add a1, a1, a0
    sub a2, a2, a0
    WRITE_ON 1

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

    // a message over three leaves, looped until done (poie: 12 + 32 + 24 bytes)
    CHECK 5
    WRITE_ALL 1, long_msg, long_len

    // brk(initial + 3 pages + 16) called until it returns that address: the break must move
    // up on every call (one page at a time under poie), and then the heap is writable to its
    // last byte
    CHECK 6
    li a0, 0
    li a7, 214
    ecall
    mv x5, a0
    li x6, 0x3010
    add x6, x5, x6
.Lgrow:
    mv x8, a0
    mv a0, x6
    li a7, 214
    ecall
    beq a0, x6, .Lgrown
    bltu x8, a0, .Lgrow
    j fail
.Lgrown:
    sb x6, -1(x6)
    lbu x14, -1(x6)
    EXPECT x14, 0x10

    // and back down to the initial break the same way, the break falling on every call
    CHECK 7
    mv a0, x6
.Lshrink:
    mv x8, a0
    mv a0, x5
    li a7, 214
    ecall
    beq a0, x5, .Lshrunk
    bltu a0, x8, .Lshrink
    j fail
.Lshrunk:

    TEST_END
