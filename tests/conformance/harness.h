// The harness every conformance program includes (tests/conformance.rs assembles each *.S with
// scripts/build-conformance.sh and runs it under poie and qemu-riscv32).
//
// Result: exit status 0 when every check passed; otherwise the number of the first failing
// check. Check numbers are 1..=120 so that a failure never reads as 124 (step limit) or as
// 128 + signal (a trap). A program that is meant to trap says so on a line of its own:
//     // expect-exit: 133
// and the driver then requires that status from both poie and qemu.
//
// Registers: gp (x3) holds the number of the check in progress, x1 and x2 are the operands (or
// base and store value), x14 the result, x7 the expected value, x6 the consumer in bypass
// checks. Nothing reads the initial stack or sp, so the programs do not depend on how the
// loader lays out argc, argv and auxv.

// A program: TEST_BEGIN, checks, TEST_END, then any .data it needs.
.macro TEST_BEGIN
    .text
    .globl _start
_start:
    // gp holds the check number, not __global_pointer$: the linker must not rewrite `la` or a
    // %hi/%lo pair into a gp-relative access, as it does for data within 2 KiB of that symbol.
    .option norelax
    li gp, 0
    .set last_check, 0
.endm

.macro TEST_END
    li a0, 0
    li a7, 93
    ecall
fail:
    mv a0, gp
    // A failure before the first CHECK still must not read as a pass.
    bnez a0, .Lfail_exit
    li a0, 121
.Lfail_exit:
    li a7, 93
    ecall
.endm

// Starts check number n. Numbers must increase so that an exit status names one check.
.macro CHECK n
    .if (\n <= last_check) || (\n > 120)
    .error "check numbers must increase and stay within 1..120"
    .endif
    .set last_check, \n
    li gp, \n
.endm

// Fails the current check unless reg == val. `j` reaches `fail` from anywhere in a program;
// a conditional branch would be limited to +-4 KiB.
.macro EXPECT reg, val
    li x7, \val
    beq \reg, x7, .Lok\@
    j fail
.Lok\@:
.endm

// Fails the current check unless the two registers are equal.
.macro EXPECT_EQ r1, r2
    beq \r1, \r2, .Lok\@
    j fail
.Lok\@:
.endm

// reg = the link-time address sym, built without pc-relative arithmetic, so that jal, jalr and
// auipc results are checked against the linker rather than against each other.
.macro ABS reg, sym
    lui \reg, %hi(\sym)
    addi \reg, \reg, %lo(\sym)
.endm

// write(fd, sym, len) until every byte is out, failing the check on a result <= 0 or above
// what remains. A write may be short, as Linux allows: poie moves at most to the end of the
// buffer's 32-byte memory leaf per call (docs/SPEC.md 1.4), qemu all of it, and looping makes
// both print the same bytes. Uses a0, a1, a2, a7.
.macro WRITE_ALL fd, sym, len
    la a1, \sym
    li a2, \len
    WRITE_ON \fd
.endm

// As WRITE_ALL, for the a2 bytes at a1 (a2 may be 0: nothing is written).
.macro WRITE_ON fd
    beqz a2, .Ldone\@
.Lloop\@:
    li a0, \fd
    li a7, 64
    ecall
    blez a0, .Lbad\@
    bltu a2, a0, .Lbad\@
    add a1, a1, a0
    sub a2, a2, a0
    bnez a2, .Lloop\@
    j .Ldone\@
.Lbad\@:
    j fail
.Ldone\@:
.endm

.macro NOPS k
    .rept \k
    nop
    .endr
.endm

// ---- register-register operations: x14 = op(x1 = a, x2 = b) ----

.macro RR n, op, res, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x14, x1, x2
    EXPECT x14, \res
.endm

// rd is also rs1: the operand must be read before the result is written.
.macro RR_RD_IS_RS1 n, op, res, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x1, x1, x2
    EXPECT x1, \res
.endm

.macro RR_RD_IS_RS2 n, op, res, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x2, x1, x2
    EXPECT x2, \res
.endm

.macro RR_ALL_SAME n, op, res, a
    CHECK \n
    li x1, \a
    \op x1, x1, x1
    EXPECT x1, \res
.endm

// The result is discarded: x0 still reads 0 afterwards.
.macro RR_RD_X0 n, op, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x0, x1, x2
    EXPECT x0, 0
.endm

.macro RR_RS1_X0 n, op, res, b
    CHECK \n
    li x2, \b
    \op x14, x0, x2
    EXPECT x14, \res
.endm

.macro RR_RS2_X0 n, op, res, a
    CHECK \n
    li x1, \a
    \op x14, x1, x0
    EXPECT x14, \res
.endm

// The result is consumed k instructions after it is produced.
.macro RR_RD_BYPASS n, k, op, res, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x14, x1, x2
    NOPS \k
    addi x6, x14, 0
    EXPECT x6, \res
.endm

// The operands are produced k1 and k2 instructions before their use, in both orders.
.macro RR_RS_BYPASS n, k1, k2, op, res, a, b
    CHECK \n
    li x1, \a
    NOPS \k1
    li x2, \b
    NOPS \k2
    \op x14, x1, x2
    EXPECT x14, \res
.endm

.macro RR_RS_BYPASS_REV n, k1, k2, op, res, a, b
    CHECK \n
    li x2, \b
    NOPS \k1
    li x1, \a
    NOPS \k2
    \op x14, x1, x2
    EXPECT x14, \res
.endm

// ---- register-immediate operations: x14 = op(x1 = a, imm) ----

.macro RI n, op, res, a, imm
    CHECK \n
    li x1, \a
    \op x14, x1, \imm
    EXPECT x14, \res
.endm

.macro RI_RD_IS_RS1 n, op, res, a, imm
    CHECK \n
    li x1, \a
    \op x1, x1, \imm
    EXPECT x1, \res
.endm

.macro RI_RD_X0 n, op, a, imm
    CHECK \n
    li x1, \a
    \op x0, x1, \imm
    EXPECT x0, 0
.endm

.macro RI_RS1_X0 n, op, res, imm
    CHECK \n
    \op x14, x0, \imm
    EXPECT x14, \res
.endm

.macro RI_RD_BYPASS n, k, op, res, a, imm
    CHECK \n
    li x1, \a
    \op x14, x1, \imm
    NOPS \k
    addi x6, x14, 0
    EXPECT x6, \res
.endm

.macro RI_RS_BYPASS n, k, op, res, a, imm
    CHECK \n
    li x1, \a
    NOPS \k
    \op x14, x1, \imm
    EXPECT x14, \res
.endm

// ---- loads: x14 = op(off(x1 = &sym)) ----

.macro LOAD n, op, res, sym, off
    CHECK \n
    la x1, \sym
    \op x14, \off(x1)
    EXPECT x14, \res
.endm

// rd is also the base register.
.macro LOAD_RD_IS_RS1 n, op, res, sym, off
    CHECK \n
    la x1, \sym
    \op x1, \off(x1)
    EXPECT x1, \res
.endm

// The access still happens (a bad address would trap) but the value is discarded.
.macro LOAD_RD_X0 n, op, sym, off
    CHECK \n
    la x1, \sym
    \op x0, \off(x1)
    EXPECT x0, 0
.endm

.macro LOAD_RD_BYPASS n, k, op, res, sym, off
    CHECK \n
    la x1, \sym
    \op x14, \off(x1)
    NOPS \k
    addi x6, x14, 0
    EXPECT x6, \res
.endm

.macro LOAD_RS_BYPASS n, k, op, res, sym, off
    CHECK \n
    la x1, \sym
    NOPS \k
    \op x14, \off(x1)
    EXPECT x14, \res
.endm

// ---- stores: st x2 = val to off(x1 = &sym), read back with ld, which must give res ----

.macro STORE n, st, ld, res, val, sym, off
    CHECK \n
    la x1, \sym
    li x2, \val
    \st x2, \off(x1)
    \ld x14, \off(x1)
    EXPECT x14, \res
.endm

// Base and value produced k1 and k2 instructions before the store, in both orders.
.macro STORE_BYPASS n, k1, k2, st, ld, res, val, sym, off
    CHECK \n
    la x1, \sym
    NOPS \k1
    li x2, \val
    NOPS \k2
    \st x2, \off(x1)
    \ld x14, \off(x1)
    EXPECT x14, \res
.endm

.macro STORE_BYPASS_REV n, k1, k2, st, ld, res, val, sym, off
    CHECK \n
    li x2, \val
    NOPS \k1
    la x1, \sym
    NOPS \k2
    \st x2, \off(x1)
    \ld x14, \off(x1)
    EXPECT x14, \res
.endm

.macro STORE_X0 n, st, ld, sym, off
    CHECK \n
    la x1, \sym
    \st x0, \off(x1)
    \ld x14, \off(x1)
    EXPECT x14, 0
.endm

// ---- branches: op x1 = a, x2 = b ----

// Taken forward and taken backward; the operands are not modified.
.macro BR_TAKEN n, op, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x1, x2, .Lfwd\@
    j fail
.Lback\@:
    j .Ldone\@
.Lfwd\@:
    \op x1, x2, .Lback\@
    j fail
.Ldone\@:
    EXPECT x1, \a
    EXPECT x2, \b
.endm

// Not taken backward and not taken forward.
.macro BR_NOT_TAKEN n, op, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    j .Lstart\@
.Lback\@:
    j fail
.Lstart\@:
    \op x1, x2, .Lback\@
    \op x1, x2, .Lfwd\@
    j .Ldone\@
.Lfwd\@:
    j fail
.Ldone\@:
    EXPECT x1, \a
    EXPECT x2, \b
.endm

// Operands produced k1 and k2 instructions before the branch; taken is 1 or 0.
.macro BR_BYPASS n, k1, k2, op, taken, a, b
    CHECK \n
    li x1, \a
    NOPS \k1
    li x2, \b
    NOPS \k2
    BR_DIRECTION \op, \taken, x1, x2
.endm

// Branches on registers the caller has set, for rs1 = rs2 and x0 operands; taken is 1 or 0.
.macro BR_ON n, op, taken, r1, r2
    CHECK \n
    BR_DIRECTION \op, \taken, \r1, \r2
.endm

.macro BR_DIRECTION op, taken, r1, r2
    \op \r1, \r2, .Ltarget\@
    .if \taken
    j fail
    .else
    j .Ldone\@
    .endif
.Ltarget\@:
    .if \taken == 0
    j fail
    .endif
.Ldone\@:
.endm

// Taken forward by +4092 and backward by -4084, near the +-4 KiB reach of a branch. The gap is
// zero words, illegal instructions, so landing anywhere but the target traps.
.macro BR_FAR n, op, a, b
    CHECK \n
    li x1, \a
    li x2, \b
    \op x1, x2, .Lfwd\@
    j fail
.Lback\@:
    j .Ldone\@
    .skip 4080
.Lfwd\@:
    \op x1, x2, .Lback\@
    j fail
.Ldone\@:
.endm
