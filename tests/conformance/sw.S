// SW: store a word; misaligned and page-crossing addresses.
// Each store is read back, and the words around it are read to show that only the stored
// bytes changed. The areas start filled with 0xef.
#include "harness.h"

    TEST_BEGIN

    // aligned; only the low bits of rs2 are stored; read back signed and unsigned
    STORE 1, sw, lw, 0x123456aa, 0x123456aa, sdat, 0
    STORE 2, sw, lw, 0xfedc0a0b, 0xfedc0a0b, sdat+4, 0
    STORE 3, sw, lw, 0x00000000, 0x00000000, sdat+8, 0
    STORE 4, sw, lw, 0xffffffff, 0xffffffff, sdat+12, 0
    LOAD 5, lw, 0x123456aa, sdat, 0
    LOAD 6, lw, 0xfedc0a0b, sdat+4, 0
    LOAD 7, lw, 0x00000000, sdat+8, 0
    LOAD 8, lw, 0xffffffff, sdat+12, 0
    LOAD 9, lw, 0xefefefef, sdat+16, 0

    // negative offsets and the largest offsets either way
    STORE 11, sw, lw, 0x11223344, 0x11223344, sdat+32, -16
    STORE 12, sw, lw, 0x55667788, 0x55667788, sdat-2027, 2047
    STORE 13, sw, lw, 0x99aabbcc, 0x99aabbcc, sdat+2072, -2048
    LOAD 14, lw, 0x11223344, sdat+16, 0
    LOAD 15, lw, 0x55667788, sdat+20, 0
    LOAD 16, lw, 0x99aabbcc, sdat+24, 0
    LOAD 17, lw, 0xefefefef, sdat+28, 0

    // misaligned
    STORE 21, sw, lw, 0xc0c1c2c3, 0xc0c1c2c3, sdat+1, 0
    LOAD 22, lw, 0xc1c2c3aa, sdat, 0
    LOAD 23, lw, 0xfedc0ac0, sdat+4, 0
    STORE 24, sw, lw, 0xd0d1d2d3, 0xd0d1d2d3, sdat+2, 0
    LOAD 25, lw, 0xd2d3c3aa, sdat, 0
    LOAD 26, lw, 0xfedcd0d1, sdat+4, 0
    STORE 27, sw, lw, 0x9f8e7d6c, 0x9f8e7d6c, sdat+3, 0
    LOAD 28, lw, 0x6cd3c3aa, sdat, 0
    LOAD 29, lw, 0xfe9f8e7d, sdat+4, 0
    STORE 30, sw, lw, 0x01020304, 0x01020304, sdat+5, 0
    LOAD 31, lw, 0x0203047d, sdat+4, 0
    LOAD 32, lw, 0x00000001, sdat+8, 0
    STORE 33, sw, lw, 0x8899aabb, 0x8899aabb, sdat+6, 0
    LOAD 34, lw, 0xaabb047d, sdat+4, 0
    LOAD 35, lw, 0x00008899, sdat+8, 0
    STORE 36, sw, lw, 0x13579bdf, 0x13579bdf, sdat+7, 0
    LOAD 37, lw, 0xdfbb047d, sdat+4, 0
    LOAD 38, lw, 0x0013579b, sdat+8, 0

    // up to and across a page boundary (cross+8)
    STORE 41, sw, lw, 0x41424344, 0x41424344, cross+8, 0
    STORE 42, sw, lw, 0x51525354, 0x51525354, cross+4, 0
    STORE 43, sw, lw, 0x61626364, 0x61626364, cross+7, 0
    STORE 44, sw, lw, 0x71727374, 0x71727374, cross+6, 0
    STORE 45, sw, lw, 0x81828384, 0x81828384, cross+5, 0
    LOAD 46, lw, 0xefefefef, cross, 0
    LOAD 47, lw, 0x82838454, cross+4, 0
    LOAD 48, lw, 0x41617181, cross+8, 0
    LOAD 49, lw, 0xefefefef, cross+12, 0

    // storing x0; base and value produced 0, 1, 2 instructions earlier, in both orders
    STORE_X0 51, sw, lw, sdat+8, 0
    STORE_BYPASS 52, 0, 0, sw, lw, 0x7a6b5c4d, 0x7a6b5c4d, sdat+4, 0
    STORE_BYPASS_REV 53, 0, 1, sw, lw, 0x7b6c5d4e, 0x7b6c5d4e, sdat+5, 0
    STORE_BYPASS 54, 0, 2, sw, lw, 0x7c6d5e4f, 0x7c6d5e4f, sdat+6, 0
    STORE_BYPASS_REV 55, 1, 0, sw, lw, 0x7d6e5f50, 0x7d6e5f50, sdat+7, 0
    STORE_BYPASS 56, 1, 1, sw, lw, 0x7e6f6051, 0x7e6f6051, sdat+8, 0
    STORE_BYPASS_REV 57, 2, 0, sw, lw, 0x7f706152, 0x7f706152, sdat+9, 0
    LOAD 58, lw, 0x6cd3c3aa, sdat, 0
    LOAD 59, lw, 0x504f4e4d, sdat+4, 0
    LOAD 60, lw, 0x70615251, sdat+8, 0
    LOAD 61, lw, 0xffffff7f, sdat+12, 0
    LOAD 62, lw, 0x11223344, sdat+16, 0

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
