// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {Finished, HeaderMismatch, MisalignedPc, StepLimit} from "./StepErrors.sol";
import {StepHeader} from "./StepHeader.sol";
import {StepMemory} from "./StepMemory.sol";
import {StepMerkle} from "./StepMerkle.sol";
import {StepSyscalls} from "./StepSyscalls.sol";
import {StepWire} from "./StepWire.sol";

/// The one-step verifier of SPEC 1.7, a port of `poie-referee`'s `step` (step.rs): a step proof
/// (the pre-state header and the Merkle proofs of the few leaves one RV32IM instruction reads)
/// is decoded, checked against the pre-state's roots and executed, giving the post-state and
/// the trace chunk (SPEC 2). Refusals revert with the errors of StepErrors.sol, in the order the
/// Rust code refuses; a trap is a post-state, not a refusal.
contract PoieStep {
    using StepHeader for StepHeader.Header;

    uint256 private constant M32 = 0xffffffff;
    uint256 private constant ECALL = 0x00000073;
    uint256 private constant EBREAK = 0x00100073;

    // How an instruction ends.
    uint256 private constant RETIRE = 0;
    uint256 private constant EXIT = 1;
    uint256 private constant TRAP = 2;

    // The chunk's eight fields (SPEC 2), indices into Out.chunk.
    uint256 private constant C_PC = 0;
    uint256 private constant C_INSN = 1;
    uint256 private constant C_RS1 = 2;
    uint256 private constant C_RS2 = 3;
    uint256 private constant C_RD = 4;
    uint256 private constant C_MEM_ADDR = 5;
    uint256 private constant C_MEM_VAL = 6;
    uint256 private constant C_NEXT_PC = 7;

    /// The outcome of one instruction (`Outcome` and its `Step`).
    struct Out {
        uint256 kind;
        /// RETIRE: the register written (0 none).
        uint256 rd;
        /// TRAP: its kind and value; EXIT: value is the exit status.
        uint256 trapKind;
        uint256 value;
        uint256[8] chunk;
    }

    /// Verifies and executes one step. Reverts when the proof is refused. A trap is not a
    /// refusal: it returns the trapped post-state with retired = false and chunk = 0.
    function step(bytes32 preState, bytes calldata proof)
        external
        pure
        returns (bytes32 postState, bool retired, bytes32 chunk)
    {
        // `StepProof::decode`, then `Header::decode` of its header, then the pre-state.
        StepWire.Proof memory w = StepWire.decode(_offset(proof), proof.length);
        StepHeader.Header memory h = StepHeader.decode(w.header);
        if (StepHeader.hashCalldata(w.header) != preState) revert HeaderMismatch();
        (retired, chunk) = _run(h, w);
        postState = h.commitment();
    }

    /// The same, without a claimed pre-state (the proof's header is the pre-state), returning
    /// the post header's 394 bytes too: for tests and diagnostics.
    function stepHeader(bytes calldata proof)
        external
        pure
        returns (bytes32 preState, bytes memory postHeader, bool retired, bytes32 chunk)
    {
        StepWire.Proof memory w = StepWire.decode(_offset(proof), proof.length);
        StepHeader.Header memory h = StepHeader.decode(w.header);
        preState = StepHeader.hashCalldata(w.header);
        (retired, chunk) = _run(h, w);
        postHeader = h.encode();
    }

    /// Where the proof's bytes start in calldata.
    function _offset(bytes calldata proof) private pure returns (uint256 base) {
        assembly {
            base := proof.offset
        }
    }

    /// `step`: refuses a pre-state with no next step and a misaligned pc, checks the fetch
    /// proofs, executes the word, and applies the outcome to `h`, which becomes the post-state.
    function _run(StepHeader.Header memory h, StepWire.Proof memory w) private pure returns (bool, bytes32) {
        uint256 status = h.status;
        if (status != StepHeader.RUNNING || h.steps >= h.maxSteps) {
            if (status == StepHeader.RUNNING || status == StepHeader.STEP_LIMIT) {
                revert StepLimit(uint64(h.steps), uint64(h.maxSteps));
            }
            revert Finished(uint8(status));
        }
        uint256 pc = h.pc;
        if (pc & 3 != 0) revert MisalignedPc(uint32(pc));
        uint256 page = pc >> 12;
        StepMerkle.check(StepWire.WHAT_FETCH_PAGE, w.fetchPage, h.pageTableRoot, StepMerkle.PAGE_TABLE_DEPTH, page >> 5);
        StepMerkle.check(StepWire.WHAT_FETCH, w.fetch, h.memoryRoot, StepMerkle.MEMORY_DEPTH, pc >> 5);
        uint256 word = _fetchWord(StepMerkle.leaf(w.fetch), pc & 31);
        Out memory o;
        o.chunk[C_PC] = pc;
        o.chunk[C_INSN] = word;
        o.chunk[C_NEXT_PC] = (pc + 4) & M32;
        if (StepMemory.byteAt(StepMerkle.leaf(w.fetchPage), page & 31) & StepMemory.EXECUTABLE == 0) {
            StepWire.noData(w);
            _trap(o, StepHeader.TRAP_FETCH, 0);
        } else {
            _execute(h, w, word, o);
        }
        if (o.kind == TRAP) {
            h.status = StepHeader.TRAPPED;
            h.trapKind = o.trapKind;
            h.statusValue = o.value;
            h.trapPc = pc;
            h.trapWord = word;
            return (false, bytes32(0));
        }
        if (o.kind == EXIT) {
            h.status = StepHeader.EXITED;
            h.statusValue = o.value;
        } else {
            if (o.rd != 0) h.regs[o.rd] = o.chunk[C_RD];
        }
        h.pc = o.chunk[C_NEXT_PC];
        // steps < maxSteps < 2^64, so steps + 1 fits its u64.
        h.steps += 1;
        if (o.kind == RETIRE && h.steps >= h.maxSteps) h.status = StepHeader.STEP_LIMIT;
        return (true, _chunk(o.chunk));
    }

    /// The instruction word: bytes offset .. offset + 4 of the fetch leaf, little-endian.
    function _fetchWord(bytes32 leaf, uint256 offset) private pure returns (uint256) {
        uint256 be;
        assembly {
            // offset <= 28: the word's 4 bytes, first byte highest.
            be := shr(224, shl(shl(3, offset), leaf))
        }
        return ((be & 0xff) << 24) | ((be & 0xff00) << 8) | ((be >> 8) & 0xff00) | (be >> 24);
    }

    /// The 32 chunk bytes: eight u32 little-endian words, the first byte the low byte of pc.
    function _chunk(uint256[8] memory c) private pure returns (bytes32) {
        uint256 v = (c[0] << 224) | (c[1] << 192) | (c[2] << 160) | (c[3] << 128) | (c[4] << 96) | (c[5] << 64)
            | (c[6] << 32) | c[7];
        // Byte-reverse each 32-bit lane: swap bytes, then 16-bit halves.
        v = ((v & 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00) >> 8)
            | ((v & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff) << 8);
        v = ((v & 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000) >> 16)
            | ((v & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff) << 16);
        return bytes32(v);
    }

    function _trap(Out memory o, uint256 kind, uint256 value) private pure {
        o.kind = TRAP;
        o.trapKind = kind;
        o.value = value;
    }

    function _retire(Out memory o, uint256 rd, uint256 rdVal) private pure {
        o.rd = rd;
        o.chunk[C_RD] = rdVal;
    }

    /// A jump or taken branch to `t`: traps when `t` is not 4-byte aligned; a jump writes
    /// `link` (pc + 4) to rd.
    function _jump(Out memory o, uint256 t, bool isLink, uint256 rd) private pure {
        if (t & 3 != 0) return _trap(o, StepHeader.TRAP_MISALIGNED_JUMP, t);
        // Still pc + 4: the link.
        uint256 seq = o.chunk[C_NEXT_PC];
        o.chunk[C_NEXT_PC] = t;
        if (isLink) _retire(o, rd, seq);
    }

    /// `sext`: the low `bits` bits of v as a signed number, in 32 bits.
    function _sext(uint256 v, uint256 bits) private pure returns (uint256 r) {
        assembly {
            let m := shl(sub(bits, 1), 1)
            r := and(sub(xor(and(v, sub(shl(bits, 1), 1)), m), m), 0xffffffff)
        }
    }

    /// `execute`: decodes and executes `word` from an executable page.
    function _execute(StepHeader.Header memory h, StepWire.Proof memory w, uint256 word, Out memory o) private pure {
        uint256 opcode = word & 0x7f;
        // Loads and stores check their data proofs in `access`, an ecall its own in
        // StepSyscalls; every other instruction requires none, input and page memory first.
        if (word != ECALL) StepWire.noSyscallLeaves(w);
        if (opcode != 0x03 && opcode != 0x23 && word != ECALL) StepWire.noData(w);
        uint256 rd = (word >> 7) & 31;
        uint256 f3 = (word >> 12) & 7;
        uint256 pc = h.pc;
        uint256 a = h.regs[(word >> 15) & 31];
        uint256 b = h.regs[(word >> 20) & 31];
        if (opcode == 0x37) {
            // lui
            _retire(o, rd, word & 0xfffff000);
        } else if (opcode == 0x17) {
            // auipc
            _retire(o, rd, (pc + (word & 0xfffff000)) & M32);
        } else if (opcode == 0x6f) {
            // jal
            uint256 imm = _sext(
                ((word >> 31) << 20) | (((word >> 12) & 0xff) << 12) | (((word >> 20) & 1) << 11)
                    | (((word >> 21) & 0x3ff) << 1),
                21
            );
            _jump(o, (pc + imm) & M32, true, rd);
        } else if (opcode == 0x67 && f3 == 0) {
            // jalr: the target's bit 0 cleared
            o.chunk[C_RS1] = a;
            _jump(o, ((a + _sext(word >> 20, 12)) & M32) & ~uint256(1), true, rd);
        } else if (opcode == 0x63) {
            _branch(o, word, f3, a, b);
        } else if (opcode == 0x03) {
            _load(h, w, o, word, a);
        } else if (opcode == 0x23) {
            _store(h, w, o, word, a, b);
        } else if (opcode == 0x13) {
            o.chunk[C_RS1] = a;
            (bool ok, uint256 v) = _opImm(f3, word >> 25, a, _sext(word >> 20, 12), (word >> 20) & 31);
            if (ok) _retire(o, rd, v);
            else _trap(o, StepHeader.TRAP_ILLEGAL, 0);
        } else if (opcode == 0x33) {
            o.chunk[C_RS1] = a;
            o.chunk[C_RS2] = b;
            (bool ok, uint256 v) = _opReg(word >> 25, f3, a, b);
            if (ok) _retire(o, rd, v);
            else _trap(o, StepHeader.TRAP_ILLEGAL, 0);
        } else if (opcode == 0x0f && f3 <= 1) {
            // fence and fence.i: nothing, whatever the other fields; no operands recorded.
        } else if (word == ECALL) {
            _ecall(h, w, o);
        } else if (word == EBREAK) {
            _trap(o, StepHeader.TRAP_BREAKPOINT, 0);
        } else {
            _trap(o, StepHeader.TRAP_ILLEGAL, 0);
        }
    }

    /// A conditional branch (`branch_taken`); funct3 2 and 3 are illegal.
    function _branch(Out memory o, uint256 word, uint256 f3, uint256 a, uint256 b) private pure {
        bool taken;
        assembly {
            let sa := signextend(3, a)
            let sb := signextend(3, b)
            switch f3
            case 0 { taken := eq(a, b) }
            case 1 { taken := iszero(eq(a, b)) }
            case 4 { taken := slt(sa, sb) }
            case 5 { taken := iszero(slt(sa, sb)) }
            case 6 { taken := lt(a, b) }
            case 7 { taken := iszero(lt(a, b)) }
            default { f3 := 8 }
        }
        if (f3 == 8) return _trap(o, StepHeader.TRAP_ILLEGAL, 0);
        o.chunk[C_RS1] = a;
        o.chunk[C_RS2] = b;
        if (!taken) return;
        uint256 imm = _sext(
            ((word >> 31) << 12) | (((word >> 7) & 1) << 11) | (((word >> 25) & 0x3f) << 5)
                | (((word >> 8) & 0xf) << 1),
            13
        );
        _jump(o, (o.chunk[C_PC] + imm) & M32, false, 0);
    }

    /// `op_imm`: an OP-IMM result, or ok = false for an illegal encoding (shifts need funct7
    /// 0, or 0x20 for srai). `imm` is the sign-extended immediate in 32 bits.
    function _opImm(uint256 f3, uint256 f7, uint256 a, uint256 imm, uint256 shamt)
        private
        pure
        returns (bool ok, uint256 v)
    {
        assembly {
            ok := 1
            switch f3
            case 0 { v := and(add(a, imm), 0xffffffff) }
            case 2 { v := slt(signextend(3, a), signextend(3, imm)) }
            case 3 { v := lt(a, imm) }
            case 4 { v := xor(a, imm) }
            case 6 { v := or(a, imm) }
            case 7 { v := and(a, imm) }
            case 1 {
                switch f7
                case 0 { v := and(shl(shamt, a), 0xffffffff) }
                default { ok := 0 }
            }
            default {
                // f3 = 5
                switch f7
                case 0 { v := shr(shamt, a) }
                case 0x20 { v := and(sar(shamt, signextend(3, a)), 0xffffffff) }
                default { ok := 0 }
            }
        }
    }

    /// `op_reg`: an OP result (RV32I and M), or ok = false for an illegal encoding. Division
    /// by zero gives all ones (div, divu) or the dividend (rem, remu); INT_MIN / -1 is
    /// INT_MIN and INT_MIN % -1 is 0, which sdiv and smod on the sign-extended 256-bit values
    /// give once masked to 32 bits. Products of sign-extended 32-bit values fit in 64 bits
    /// signed, so the 256-bit product's bits 32..63 are mulh's and mulhsu's result.
    function _opReg(uint256 f7, uint256 f3, uint256 a, uint256 b) private pure returns (bool ok, uint256 v) {
        assembly {
            let sa := signextend(3, a)
            let sb := signextend(3, b)
            let sh := and(b, 31)
            ok := 1
            // funct7 * 8 + funct3 names the operation.
            switch or(shl(3, f7), f3)
            case 0x000 { v := and(add(a, b), 0xffffffff) }
            case 0x100 { v := and(sub(a, b), 0xffffffff) }
            case 0x001 { v := and(shl(sh, a), 0xffffffff) }
            case 0x002 { v := slt(sa, sb) }
            case 0x003 { v := lt(a, b) }
            case 0x004 { v := xor(a, b) }
            case 0x005 { v := shr(sh, a) }
            case 0x105 { v := and(sar(sh, sa), 0xffffffff) }
            case 0x006 { v := or(a, b) }
            case 0x007 { v := and(a, b) }
            case 0x008 { v := and(mul(a, b), 0xffffffff) }
            case 0x009 { v := and(sar(32, mul(sa, sb)), 0xffffffff) }
            case 0x00a { v := and(sar(32, mul(sa, b)), 0xffffffff) }
            case 0x00b { v := shr(32, mul(a, b)) }
            case 0x00c {
                switch b
                case 0 { v := 0xffffffff }
                default { v := and(sdiv(sa, sb), 0xffffffff) }
            }
            case 0x00d {
                switch b
                case 0 { v := 0xffffffff }
                default { v := div(a, b) }
            }
            case 0x00e {
                switch b
                case 0 { v := a }
                default { v := and(smod(sa, sb), 0xffffffff) }
            }
            case 0x00f {
                switch b
                case 0 { v := a }
                default { v := mod(a, b) }
            }
            default { ok := 0 }
        }
    }

    /// A load (`load`): lb, lh, lw, lbu, lhu; another funct3 is illegal.
    function _load(StepHeader.Header memory h, StepWire.Proof memory w, Out memory o, uint256 word, uint256 a)
        private
        pure
    {
        uint256 f3 = (word >> 12) & 7;
        if (f3 == 3 || f3 > 5) {
            StepWire.noData(w);
            return _trap(o, StepHeader.TRAP_ILLEGAL, 0);
        }
        // f3 & 3: 0 byte, 1 half, 2 word; f3 < 4 sign-extends (lw has nothing to extend).
        uint256 len = 1 << (f3 & 3);
        uint256 addr = (a + _sext(word >> 20, 12)) & M32;
        o.chunk[C_RS1] = a;
        (uint256 trap, uint256 raw) = StepMemory.access(h, w, addr, len, false, 0);
        if (trap != 0) return _trap(o, trap, addr);
        o.chunk[C_MEM_ADDR] = addr;
        o.chunk[C_MEM_VAL] = raw;
        _retire(o, (word >> 7) & 31, f3 < 4 ? _sext(raw, 8 * len) : raw);
    }

    /// A store (`store`): sb, sh, sw; another funct3 is illegal.
    function _store(
        StepHeader.Header memory h,
        StepWire.Proof memory w,
        Out memory o,
        uint256 word,
        uint256 a,
        uint256 b
    ) private pure {
        uint256 f3 = (word >> 12) & 7;
        if (f3 > 2) {
            StepWire.noData(w);
            return _trap(o, StepHeader.TRAP_ILLEGAL, 0);
        }
        uint256 len = 1 << f3;
        uint256 addr = (a + _sext(((word >> 25) << 5) | ((word >> 7) & 31), 12)) & M32;
        o.chunk[C_RS1] = a;
        o.chunk[C_RS2] = b;
        uint256 value = b & ((1 << (8 * len)) - 1);
        (uint256 trap,) = StepMemory.access(h, w, addr, len, true, value);
        if (trap != 0) return _trap(o, trap, addr);
        o.chunk[C_MEM_ADDR] = addr;
        o.chunk[C_MEM_VAL] = value;
    }

    /// An `ecall` (StepSyscalls): it records a7, a0 (on entry), a1 and a2, and writes a0 (or
    /// ends the job for exit).
    function _ecall(StepHeader.Header memory h, StepWire.Proof memory w, Out memory o) private pure {
        uint256[32] memory r = h.regs;
        o.chunk[C_RS1] = r[17];
        o.chunk[C_RS2] = r[10];
        o.chunk[C_MEM_ADDR] = r[11];
        o.chunk[C_MEM_VAL] = r[12];
        uint256 a7 = r[17];
        uint256 a0 = r[10];
        (uint256 trap, uint256 trapValue, uint256 ret) = StepSyscalls.ecall(h, w);
        if (trap != 0) return _trap(o, trap, trapValue);
        if (a7 == StepSyscalls.SYS_EXIT || a7 == StepSyscalls.SYS_EXIT_GROUP) {
            o.kind = EXIT;
            o.value = a0;
            o.chunk[C_RD] = a0;
            return;
        }
        _retire(o, 10, ret);
    }
}
