// SH: store the low halfword of rs2; misaligned and page-crossing addresses.
// Each store is read back, and the words around it are read to show that only the stored
// bytes changed. The areas start filled with 0xef.
#include "harness.h"

    TEST_BEGIN

    // aligned; only the low bits of rs2 are stored; read back signed and unsigned
    STORE 1, sh, lh, 0x000056aa, 0x123456aa, sdat, 0
    STORE 2, sh, lhu, 0x00000a0b, 0xfedc0a0b, sdat+2, 0
    STORE 3, sh, lh, 0x00000000, 0x00000000, sdat+4, 0
    STORE 4, sh, lhu, 0x0000ffff, 0xffffffff, sdat+6, 0
    STORE 5, sh, lh, 0x00000080, 0x80000080, sdat+8, 0
    STORE 6, sh, lhu, 0x0000f7ff, 0x7ff7f7ff, sdat+10, 0
    STORE 7, sh, lh, 0xffffa5a5, 0xa5a5a5a5, sdat+12, 0
    STORE 8, sh, lhu, 0x00003c3c, 0x3c3c3c3c, sdat+14, 0
    LOAD 9, lw, 0x0a0b56aa, sdat, 0
    LOAD 10, lw, 0xffff0000, sdat+4, 0
    LOAD 11, lw, 0xf7ff0080, sdat+8, 0
    LOAD 12, lw, 0x3c3ca5a5, sdat+12, 0
    LOAD 13, lw, 0xefefefef, sdat+16, 0

    // negative offsets and the largest offsets either way
    STORE 21, sh, lhu, 0x00003344, 0x11223344, sdat+32, -16
    STORE 22, sh, lhu, 0x00007788, 0x55667788, sdat-2027, 2047
    STORE 23, sh, lhu, 0x0000bbcc, 0x99aabbcc, sdat+2072, -2048
    LOAD 24, lw, 0xefef3344, sdat+16, 0
    LOAD 25, lw, 0xefef7788, sdat+20, 0
    LOAD 26, lw, 0xefefbbcc, sdat+24, 0
    LOAD 27, lw, 0xefefefef, sdat+28, 0

    // misaligned
    STORE 31, sh, lhu, 0x0000c2c3, 0xc0c1c2c3, sdat+1, 0
    LOAD 32, lw, 0x0ac2c3aa, sdat, 0
    STORE 33, sh, lhu, 0x0000d2d3, 0xd0d1d2d3, sdat+3, 0
    LOAD 34, lw, 0xd3c2c3aa, sdat, 0
    LOAD 35, lw, 0xffff00d2, sdat+4, 0
    STORE 36, sh, lhu, 0x00007d6c, 0x9f8e7d6c, sdat+5, 0
    LOAD 37, lw, 0xff7d6cd2, sdat+4, 0
    STORE 38, sh, lhu, 0x00000304, 0x01020304, sdat+7, 0
    LOAD 39, lw, 0x047d6cd2, sdat+4, 0
    LOAD 40, lw, 0xf7ff0003, sdat+8, 0
    STORE 41, sh, lhu, 0x0000aabb, 0x8899aabb, sdat+9, 0
    LOAD 42, lw, 0xf7aabb03, sdat+8, 0
    STORE 43, sh, lhu, 0x00009bdf, 0x13579bdf, sdat+11, 0
    LOAD 44, lw, 0xdfaabb03, sdat+8, 0
    LOAD 45, lw, 0x3c3ca59b, sdat+12, 0

    // up to and across a page boundary (cross+8)
    STORE 51, sh, lhu, 0x00004344, 0x41424344, cross+8, 0
    STORE 52, sh, lhu, 0x00005354, 0x51525354, cross+6, 0
    STORE 53, sh, lhu, 0x00006364, 0x61626364, cross+7, 0
    LOAD 54, lw, 0xefefefef, cross, 0
    LOAD 55, lw, 0x6454efef, cross+4, 0
    LOAD 56, lw, 0xefef4363, cross+8, 0
    LOAD 57, lw, 0xefefefef, cross+12, 0

    // storing x0; base and value produced 0, 1, 2 instructions earlier, in both orders
    STORE_X0 61, sh, lhu, sdat+8, 0
    STORE_BYPASS 62, 0, 0, sh, lhu, 0x00005c4d, 0x7a6b5c4d, sdat+4, 0
    STORE_BYPASS_REV 63, 0, 1, sh, lhu, 0x00005d4e, 0x7b6c5d4e, sdat+6, 0
    STORE_BYPASS 64, 0, 2, sh, lhu, 0x00005e4f, 0x7c6d5e4f, sdat+8, 0
    STORE_BYPASS_REV 65, 1, 0, sh, lhu, 0x00005f50, 0x7d6e5f50, sdat+10, 0
    STORE_BYPASS 66, 1, 1, sh, lhu, 0x00006051, 0x7e6f6051, sdat+12, 0
    STORE_BYPASS_REV 67, 2, 0, sh, lhu, 0x00006152, 0x7f706152, sdat+14, 0
    LOAD 68, lw, 0xd3c2c3aa, sdat, 0
    LOAD 69, lw, 0x5d4e5c4d, sdat+4, 0
    LOAD 70, lw, 0x5f505e4f, sdat+8, 0
    LOAD 71, lw, 0x61526051, sdat+12, 0
    LOAD 72, lw, 0xefef3344, sdat+16, 0

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
