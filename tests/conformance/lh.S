// LH: load a halfword, sign-extended; misaligned and page-crossing addresses.
// Misaligned accesses are allowed in user mode by both poie (docs/SPEC.md 1.2) and
// qemu-riscv32; they read the bytes little-endian.
#include "harness.h"

    TEST_BEGIN

    // aligned, every position in tdat
    LOAD 1, lh, 0x000000ff, tdat, 0
    LOAD 2, lh, 0x000000ff, tdat+2, 0
    LOAD 3, lh, 0xffffff00, tdat+4, 0
    LOAD 4, lh, 0xffffff00, tdat+6, 0
    LOAD 5, lh, 0x00000ff0, tdat+8, 0
    LOAD 6, lh, 0x00000ff0, tdat+10, 0
    LOAD 7, lh, 0xfffff00f, tdat+12, 0
    LOAD 8, lh, 0xfffff00f, tdat+14, 0

    // negative offsets from a base past the data, and the largest offsets either way
    LOAD 11, lh, 0x000000ff, tdat+12, -12
    LOAD 12, lh, 0x000000ff, tdat+12, -10
    LOAD 13, lh, 0xffffff00, tdat+12, -8
    LOAD 14, lh, 0xffffff00, tdat+12, -6
    LOAD 15, lh, 0x00000ff0, tdat+12, -4
    LOAD 16, lh, 0x00000ff0, tdat+12, -2
    LOAD 17, lh, 0xfffff00f, tdat+16, -4
    LOAD 18, lh, 0xfffff00f, tdat+18, -4
    LOAD 19, lh, 0xffffff00, tdat-2043, 2047
    LOAD 20, lh, 0xffffff00, tdat+2052, -2048

    // misaligned
    LOAD 31, lh, 0xffffff00, tdat+1, 0
    LOAD 32, lh, 0x00000000, tdat+3, 0
    LOAD 33, lh, 0x000000ff, tdat+5, 0
    LOAD 34, lh, 0xfffff0ff, tdat+7, 0
    LOAD 35, lh, 0xfffff00f, tdat+9, 0
    LOAD 36, lh, 0x00000f0f, tdat+11, 0
    LOAD 37, lh, 0x00000ff0, tdat+13, 0

    // up to and across a page boundary (cross+8)
    LOAD 41, lh, 0x00000786, cross+5, 0
    LOAD 42, lh, 0xffff8807, cross+6, 0
    LOAD 43, lh, 0x00000988, cross+7, 0
    LOAD 44, lh, 0xffff8a09, cross+8, 0
    LOAD 45, lh, 0x00000b8a, cross+9, 0

    // rd is the base register; rd = x0 discards the value
    LOAD_RD_IS_RS1 51, lh, 0x000000ff, tdat+2, 0
    LOAD_RD_IS_RS1 52, lh, 0x00000f0f, tdat+11, 0
    LOAD_RD_X0 53, lh, tdat, 0
    LOAD_RD_X0 54, lh, cross+7, 0

    // the result used 0, 1, 2 instructions later; the base produced 0, 1, 2 earlier
    LOAD_RD_BYPASS 55, 0, lh, 0x00000ff0, tdat+10, 0
    LOAD_RD_BYPASS 56, 1, lh, 0x00000f0f, tdat+11, 0
    LOAD_RD_BYPASS 57, 2, lh, 0x00000ff0, tdat+10, 0
    LOAD_RS_BYPASS 58, 0, lh, 0xffffff00, tdat+4, 0
    LOAD_RS_BYPASS 59, 1, lh, 0xfffff0ff, tdat+7, 0
    LOAD_RS_BYPASS 60, 2, lh, 0x00000ff0, tdat+10, 0

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
