// JALR: target = (rs1 + imm) & ~1; rd = the address of the next instruction; rd = rs1 reads
// rs1 before writing the link; rd = x0 links nothing; the largest offsets either way; base
// and link used back to back. (A target with bit 1 set is not tested: poie traps as RV32IM
// requires, qemu-riscv32 runs RVC and reports SIGILL instead.)
#include "harness.h"

    TEST_BEGIN

    // base register, offset 0, link in ra
    CHECK 1
    ABS x2, .L1
    jalr x1, 0(x2)
.L1ret:
    j fail
.L1:
    ABS x7, .L1ret
    EXPECT_EQ x1, x7

    // bit 0 of the sum is cleared, from the base or from the offset
    CHECK 2
    ABS x2, .L2
    addi x2, x2, 1
    jalr x5, 0(x2)
.L2ret:
    j fail
.L2:
    ABS x7, .L2ret
    EXPECT_EQ x5, x7

    CHECK 3
    ABS x2, .L3
    jalr x5, 1(x2)
    j fail
.L3:
    CHECK 4
    ABS x2, .L4 + 2
    jalr x5, -1(x2)
    j fail
.L4:

    // the largest offsets: 2047 (odd, cleared to 2046) and -2048
    CHECK 5
    ABS x2, .L5 - 2046
    jalr x5, 2047(x2)
    j fail
.L5:
    CHECK 6
    ABS x2, .L6 + 2048
    jalr x5, -2048(x2)
    j fail
.L6:

    // rd = rs1: the target uses the old value, then rd receives the link
    CHECK 7
    ABS x1, .L7
    jalr x1, 0(x1)
.L7ret:
    j fail
.L7:
    ABS x7, .L7ret
    EXPECT_EQ x1, x7

    CHECK 8
    ABS x2, .L8 - 8
    jalr x2, 8(x2)
.L8ret:
    j fail
.L8:
    ABS x7, .L8ret
    EXPECT_EQ x2, x7

    // rd = x0 (`jr`): nothing is linked, x0 still reads 0
    CHECK 9
    ABS x2, .L9
    jalr x0, 0(x2)
    j fail
.L9:
    EXPECT x0, 0

    // backward
    CHECK 10
    j .L10a
.L10b:
    j .L10c
.L10a:
    ABS x2, .L10b
    jalr x5, 0(x2)
    j fail
.L10c:

    // the base produced 0, 1, 2 instructions before the jump; the link used straight after
    CHECK 11
    ABS x2, .L11
    jalr x5, 0(x2)
.L11ret:
    j fail
.L11:
    addi x6, x5, 0
    ABS x7, .L11ret
    EXPECT_EQ x6, x7

    CHECK 12
    ABS x2, .L12
    nop
    jalr x5, 0(x2)
    j fail
.L12:
    CHECK 13
    ABS x2, .L13
    nop
    nop
    jalr x5, 0(x2)
    j fail
.L13:

    // a call and a return through the same register, as `call`/`ret` do
    CHECK 14
    li x14, 0
    jal ra, .Lsub
    EXPECT x14, 0x1234
    j .L14done
.Lsub:
    li x14, 0x1234
    jalr x0, 0(ra)
.L14done:

    TEST_END
