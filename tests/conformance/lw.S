// LW: load a word; misaligned and page-crossing addresses.
// Misaligned accesses are allowed in user mode by both poie (docs/SPEC.md 1.2) and
// qemu-riscv32; they read the bytes little-endian.
#include "harness.h"

    TEST_BEGIN

    // aligned, every position in tdat
    LOAD 1, lw, 0x00ff00ff, tdat, 0
    LOAD 2, lw, 0xff00ff00, tdat+4, 0
    LOAD 3, lw, 0x0ff00ff0, tdat+8, 0
    LOAD 4, lw, 0xf00ff00f, tdat+12, 0

    // negative offsets from a base past the data, and the largest offsets either way
    LOAD 11, lw, 0x00ff00ff, tdat+12, -12
    LOAD 12, lw, 0xff00ff00, tdat+12, -8
    LOAD 13, lw, 0x0ff00ff0, tdat+12, -4
    LOAD 14, lw, 0xf00ff00f, tdat+16, -4
    LOAD 15, lw, 0xff00ff00, tdat-2043, 2047
    LOAD 16, lw, 0xff00ff00, tdat+2052, -2048

    // misaligned
    LOAD 21, lw, 0x0000ff00, tdat+1, 0
    LOAD 22, lw, 0xff0000ff, tdat+2, 0
    LOAD 23, lw, 0x00ff0000, tdat+3, 0
    LOAD 24, lw, 0xf0ff00ff, tdat+5, 0
    LOAD 25, lw, 0x0ff0ff00, tdat+6, 0
    LOAD 26, lw, 0xf00ff0ff, tdat+7, 0
    LOAD 27, lw, 0x0f0ff00f, tdat+9, 0
    LOAD 28, lw, 0xf00f0ff0, tdat+10, 0
    LOAD 29, lw, 0x0ff00f0f, tdat+11, 0

    // up to and across a page boundary (cross+8)
    LOAD 31, lw, 0x07860584, cross+3, 0
    LOAD 32, lw, 0x88078605, cross+4, 0
    LOAD 33, lw, 0x09880786, cross+5, 0
    LOAD 34, lw, 0x8a098807, cross+6, 0
    LOAD 35, lw, 0x0b8a0988, cross+7, 0
    LOAD 36, lw, 0x8c0b8a09, cross+8, 0
    LOAD 37, lw, 0x0d8c0b8a, cross+9, 0

    // rd is the base register; rd = x0 discards the value
    LOAD_RD_IS_RS1 41, lw, 0xff00ff00, tdat+4, 0
    LOAD_RD_IS_RS1 42, lw, 0xf00ff00f, tdat+12, 0
    LOAD_RD_X0 43, lw, tdat, 0
    LOAD_RD_X0 44, lw, cross+7, 0

    // the result used 0, 1, 2 instructions later; the base produced 0, 1, 2 earlier
    LOAD_RD_BYPASS 45, 0, lw, 0x0ff00ff0, tdat+8, 0
    LOAD_RD_BYPASS 46, 1, lw, 0x0f0ff00f, tdat+9, 0
    LOAD_RD_BYPASS 47, 2, lw, 0xf00f0ff0, tdat+10, 0
    LOAD_RS_BYPASS 48, 0, lw, 0xff00ff00, tdat+4, 0
    LOAD_RS_BYPASS 49, 1, lw, 0xf00ff0ff, tdat+7, 0
    LOAD_RS_BYPASS 50, 2, lw, 0xf00f0ff0, tdat+10, 0

    // code is readable: the first word of _start is `li gp, 0` (0x00000193)
    LOAD 61, lw, 0x00000193, _start, 0

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
