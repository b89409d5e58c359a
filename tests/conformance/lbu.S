// LBU: load a byte, zero-extended.
// Misaligned accesses are allowed in user mode by both poie (docs/SPEC.md 1.2) and
// qemu-riscv32; they read the bytes little-endian.
#include "harness.h"

    TEST_BEGIN

    // aligned, every position in tdat
    LOAD 1, lbu, 0x000000ff, tdat, 0
    LOAD 2, lbu, 0x00000000, tdat+1, 0
    LOAD 3, lbu, 0x000000ff, tdat+2, 0
    LOAD 4, lbu, 0x00000000, tdat+3, 0
    LOAD 5, lbu, 0x00000000, tdat+4, 0
    LOAD 6, lbu, 0x000000ff, tdat+5, 0
    LOAD 7, lbu, 0x00000000, tdat+6, 0
    LOAD 8, lbu, 0x000000ff, tdat+7, 0
    LOAD 9, lbu, 0x000000f0, tdat+8, 0
    LOAD 10, lbu, 0x0000000f, tdat+9, 0
    LOAD 11, lbu, 0x000000f0, tdat+10, 0
    LOAD 12, lbu, 0x0000000f, tdat+11, 0
    LOAD 13, lbu, 0x0000000f, tdat+12, 0
    LOAD 14, lbu, 0x000000f0, tdat+13, 0
    LOAD 15, lbu, 0x0000000f, tdat+14, 0
    LOAD 16, lbu, 0x000000f0, tdat+15, 0

    // negative offsets from a base past the data, and the largest offsets either way
    LOAD 21, lbu, 0x000000ff, tdat+12, -12
    LOAD 22, lbu, 0x00000000, tdat+12, -11
    LOAD 23, lbu, 0x000000ff, tdat+12, -10
    LOAD 24, lbu, 0x00000000, tdat+12, -9
    LOAD 25, lbu, 0x00000000, tdat+12, -8
    LOAD 26, lbu, 0x000000ff, tdat+12, -7
    LOAD 27, lbu, 0x00000000, tdat+12, -6
    LOAD 28, lbu, 0x000000ff, tdat+12, -5
    LOAD 29, lbu, 0x000000f0, tdat+12, -4
    LOAD 30, lbu, 0x0000000f, tdat+12, -3
    LOAD 31, lbu, 0x000000f0, tdat+12, -2
    LOAD 32, lbu, 0x0000000f, tdat+12, -1
    LOAD 33, lbu, 0x0000000f, tdat+16, -4
    LOAD 34, lbu, 0x000000f0, tdat+17, -4
    LOAD 35, lbu, 0x0000000f, tdat+18, -4
    LOAD 36, lbu, 0x000000f0, tdat+19, -4
    LOAD 37, lbu, 0x00000000, tdat-2043, 2047
    LOAD 38, lbu, 0x00000000, tdat+2052, -2048

    // up to and across a page boundary (cross+8)
    LOAD 41, lbu, 0x00000007, cross+6, 0
    LOAD 42, lbu, 0x00000088, cross+7, 0
    LOAD 43, lbu, 0x00000009, cross+8, 0
    LOAD 44, lbu, 0x0000008a, cross+9, 0

    // rd is the base register; rd = x0 discards the value
    LOAD_RD_IS_RS1 51, lbu, 0x00000000, tdat+3, 0
    LOAD_RD_IS_RS1 52, lbu, 0x0000000f, tdat+12, 0
    LOAD_RD_X0 53, lbu, tdat, 0
    LOAD_RD_X0 54, lbu, cross+7, 0

    // the result used 0, 1, 2 instructions later; the base produced 0, 1, 2 earlier
    LOAD_RD_BYPASS 55, 0, lbu, 0x0000000f, tdat+11, 0
    LOAD_RD_BYPASS 56, 1, lbu, 0x0000000f, tdat+11, 0
    LOAD_RD_BYPASS 57, 2, lbu, 0x0000000f, tdat+11, 0
    LOAD_RS_BYPASS 58, 0, lbu, 0x00000000, tdat+4, 0
    LOAD_RS_BYPASS 59, 1, lbu, 0x000000ff, tdat+7, 0
    LOAD_RS_BYPASS 60, 2, lbu, 0x000000f0, tdat+10, 0

    TEST_END

    .data
    .balign 16
tdat:
    .word 0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f
    // 8 bytes at the end of one page and 8 at the start of the next: cross+8 is page-aligned,
    // so an access at cross+5..cross+7 spans two pages.
    .balign 4096
    .skip 4088
cross:
    .byte 0x01, 0x82, 0x03, 0x84, 0x05, 0x86, 0x07, 0x88
    .byte 0x09, 0x8a, 0x0b, 0x8c, 0x0d, 0x8e, 0x0f, 0x90
