// SB: store the low byte of rs2.
// Each store is read back, and the words around it are read to show that only the stored
// bytes changed. The areas start filled with 0xef.
#include "harness.h"

    TEST_BEGIN

    // aligned; only the low bits of rs2 are stored; read back signed and unsigned
    STORE 1, sb, lb, 0xffffffaa, 0x123456aa, sdat, 0
    STORE 2, sb, lbu, 0x0000000b, 0xfedc0a0b, sdat+1, 0
    STORE 3, sb, lb, 0x00000000, 0x00000000, sdat+2, 0
    STORE 4, sb, lbu, 0x000000ff, 0xffffffff, sdat+3, 0
    STORE 5, sb, lb, 0xffffff80, 0x80000080, sdat+4, 0
    STORE 6, sb, lbu, 0x000000ff, 0x7ff7f7ff, sdat+5, 0
    STORE 7, sb, lb, 0xffffffa5, 0xa5a5a5a5, sdat+6, 0
    STORE 8, sb, lbu, 0x0000003c, 0x3c3c3c3c, sdat+7, 0
    LOAD 9, lw, 0xff000baa, sdat, 0
    LOAD 10, lw, 0x3ca5ff80, sdat+4, 0
    LOAD 11, lw, 0xefefefef, sdat+8, 0
    LOAD 12, lw, 0xefefefef, sdat+12, 0
    LOAD 13, lw, 0xefefefef, sdat+16, 0

    // negative offsets and the largest offsets either way
    STORE 21, sb, lbu, 0x00000044, 0x11223344, sdat+32, -16
    STORE 22, sb, lbu, 0x00000088, 0x55667788, sdat-2027, 2047
    STORE 23, sb, lbu, 0x000000cc, 0x99aabbcc, sdat+2072, -2048
    LOAD 24, lw, 0xefefef44, sdat+16, 0
    LOAD 25, lw, 0xefefef88, sdat+20, 0
    LOAD 26, lw, 0xefefefcc, sdat+24, 0
    LOAD 27, lw, 0xefefefef, sdat+28, 0

    // up to and across a page boundary (cross+8)
    STORE 31, sb, lbu, 0x00000044, 0x41424344, cross+8, 0
    STORE 32, sb, lbu, 0x00000054, 0x51525354, cross+7, 0
    LOAD 33, lw, 0xefefefef, cross, 0
    LOAD 34, lw, 0x54efefef, cross+4, 0
    LOAD 35, lw, 0xefefef44, cross+8, 0
    LOAD 36, lw, 0xefefefef, cross+12, 0

    // storing x0; base and value produced 0, 1, 2 instructions earlier, in both orders
    STORE_X0 41, sb, lbu, sdat+8, 0
    STORE_BYPASS 42, 0, 0, sb, lbu, 0x0000004d, 0x7a6b5c4d, sdat+4, 0
    STORE_BYPASS_REV 43, 0, 1, sb, lbu, 0x0000004e, 0x7b6c5d4e, sdat+6, 0
    STORE_BYPASS 44, 0, 2, sb, lbu, 0x0000004f, 0x7c6d5e4f, sdat+8, 0
    STORE_BYPASS_REV 45, 1, 0, sb, lbu, 0x00000050, 0x7d6e5f50, sdat+10, 0
    STORE_BYPASS 46, 1, 1, sb, lbu, 0x00000051, 0x7e6f6051, sdat+12, 0
    STORE_BYPASS_REV 47, 2, 0, sb, lbu, 0x00000052, 0x7f706152, sdat+14, 0
    LOAD 48, lw, 0xff000baa, sdat, 0
    LOAD 49, lw, 0x3c4eff4d, sdat+4, 0
    LOAD 50, lw, 0xef50ef4f, sdat+8, 0
    LOAD 51, lw, 0xef52ef51, sdat+12, 0
    LOAD 52, lw, 0xefefef44, sdat+16, 0

    TEST_END

    .data
    .balign 16
sdat:
    .fill 32, 1, 0xef
    // cross+8 is page-aligned: stores at cross+5..cross+7 span two pages.
    .balign 4096
    .skip 4088
cross:
    .fill 16, 1, 0xef
