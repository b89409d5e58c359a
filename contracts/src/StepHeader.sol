// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {BadHeader} from "./StepErrors.sol";

/// The state header `H` of SPEC 1.6 (header.rs): 394 bytes, integers big-endian, whose keccak256
/// is the state commitment. `decode` takes only what a VM can commit to, refusing as
/// `Header::decode` does; `encode` writes the post-state back.
library StepHeader {
    /// The header's length in bytes.
    uint256 internal constant LENGTH = 394;

    uint256 internal constant RUNNING = 0;
    uint256 internal constant EXITED = 1;
    uint256 internal constant TRAPPED = 2;
    uint256 internal constant STEP_LIMIT = 3;

    uint256 internal constant TRAP_NONE = 0;
    uint256 internal constant TRAP_ILLEGAL = 1;
    uint256 internal constant TRAP_BREAKPOINT = 2;
    uint256 internal constant TRAP_LOAD = 3;
    uint256 internal constant TRAP_STORE = 4;
    uint256 internal constant TRAP_FETCH = 5;
    uint256 internal constant TRAP_MISALIGNED_JUMP = 6;
    uint256 internal constant TRAP_MEMORY_LIMIT = 7;
    uint256 internal constant TRAP_OUTPUT_LIMIT = 8;

    /// "poie/v1/vmstate", the header's first 15 bytes, as a 120-bit big-endian number.
    uint256 private constant DOMAIN = 0x706f69652f76312f766d7374617465;

    // Byte offsets of the fields (SPEC 1.6's table; header.rs's tests pin status at 251, the
    // trap kind at 252, x0 at 23 and open_fds at 313).
    uint256 private constant AT_JOB = 15;
    uint256 private constant AT_PC = 19;
    uint256 private constant AT_REGS = 23;
    uint256 private constant AT_MEMORY_ROOT = 151;
    uint256 private constant AT_PAGE_TABLE_ROOT = 183;
    uint256 private constant AT_RESIDENT = 215;
    uint256 private constant AT_BRK_START = 219;
    uint256 private constant AT_BRK = 227;
    uint256 private constant AT_STEPS = 235;
    uint256 private constant AT_MAX_STEPS = 243;
    uint256 private constant AT_STATUS = 251;
    uint256 private constant AT_TRAP_KIND = 252;
    uint256 private constant AT_STATUS_VALUE = 253;
    uint256 private constant AT_TRAP_PC = 257;
    uint256 private constant AT_TRAP_WORD = 261;
    uint256 private constant AT_INPUT_ROOT = 265;
    uint256 private constant AT_INPUT_LEN = 297;
    uint256 private constant AT_INPUT_POS = 305;
    uint256 private constant AT_OPEN_FDS = 313;
    uint256 private constant AT_STDOUT_LEN = 314;
    uint256 private constant AT_STDOUT_ACC = 322;
    uint256 private constant AT_STDERR_LEN = 354;
    uint256 private constant AT_STDERR_ACC = 362;

    /// Every field of the header in its order. Integers are held in uint256 but never exceed
    /// their width in the header (u8, u32 or u64): decoding reads exactly that width, and every
    /// update keeps the value in range (see where each is written).
    struct Header {
        uint256 job;
        uint256 pc;
        uint256[32] regs;
        bytes32 memoryRoot;
        bytes32 pageTableRoot;
        uint256 residentPages;
        uint256 brkStart;
        uint256 brk;
        uint256 steps;
        uint256 maxSteps;
        uint256 status;
        uint256 trapKind;
        uint256 statusValue;
        uint256 trapPc;
        uint256 trapWord;
        bytes32 inputRoot;
        uint256 inputLen;
        uint256 inputPos;
        uint256 openFds;
        uint256 stdoutLen;
        bytes32 stdoutAcc;
        uint256 stderrLen;
        bytes32 stderrAcc;
    }

    // The Header struct in memory, as Solidity lays a memory struct out: one 32-byte word per
    // member in declaration order, the `regs` word a pointer to the 32-word array. The
    // assembly below reads and writes members at these offsets (keep them with the struct).
    uint256 private constant M_JOB = 0x00;
    uint256 private constant M_PC = 0x20;
    uint256 private constant M_REGS = 0x40;
    uint256 private constant M_MEMORY_ROOT = 0x60;
    uint256 private constant M_PAGE_TABLE_ROOT = 0x80;
    uint256 private constant M_RESIDENT = 0xa0;
    uint256 private constant M_BRK_START = 0xc0;
    uint256 private constant M_BRK = 0xe0;
    uint256 private constant M_STEPS = 0x100;
    uint256 private constant M_MAX_STEPS = 0x120;
    uint256 private constant M_STATUS = 0x140;
    uint256 private constant M_TRAP_KIND = 0x160;
    uint256 private constant M_STATUS_VALUE = 0x180;
    uint256 private constant M_TRAP_PC = 0x1a0;
    uint256 private constant M_TRAP_WORD = 0x1c0;
    uint256 private constant M_INPUT_ROOT = 0x1e0;
    uint256 private constant M_INPUT_LEN = 0x200;
    uint256 private constant M_INPUT_POS = 0x220;
    uint256 private constant M_OPEN_FDS = 0x240;
    uint256 private constant M_STDOUT_LEN = 0x260;
    uint256 private constant M_STDOUT_ACC = 0x280;
    uint256 private constant M_STDERR_LEN = 0x2a0;
    uint256 private constant M_STDERR_ACC = 0x2c0;

    /// Decodes the 394 header bytes at calldata offset `base` (the caller has checked that they
    /// are there). Refuses, in `Header::decode`'s order: the domain, an unknown status, an
    /// unknown trap kind, a status and trap kind that disagree, x0 not 0, open_fds bits above 2.
    function decode(uint256 base) internal pure returns (Header memory h) {
        uint256 domain;
        assembly ("memory-safe") {
            // A field of w bytes at offset o: shr(256 - 8 w, calldataload(base + o)).
            domain := shr(136, calldataload(base))
            mstore(add(h, M_JOB), shr(224, calldataload(add(base, AT_JOB))))
            mstore(add(h, M_PC), shr(224, calldataload(add(base, AT_PC))))
            // The registers 8 at a time: each 32 bytes of calldata hold 8 of them.
            let regs := mload(add(h, M_REGS))
            for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                let w := calldataload(add(base, add(AT_REGS, shl(5, j))))
                let r := add(regs, shl(8, j))
                mstore(r, shr(224, w))
                mstore(add(r, 0x20), and(shr(192, w), 0xffffffff))
                mstore(add(r, 0x40), and(shr(160, w), 0xffffffff))
                mstore(add(r, 0x60), and(shr(128, w), 0xffffffff))
                mstore(add(r, 0x80), and(shr(96, w), 0xffffffff))
                mstore(add(r, 0xa0), and(shr(64, w), 0xffffffff))
                mstore(add(r, 0xc0), and(shr(32, w), 0xffffffff))
                mstore(add(r, 0xe0), and(w, 0xffffffff))
            }
            mstore(add(h, M_MEMORY_ROOT), calldataload(add(base, AT_MEMORY_ROOT)))
            mstore(add(h, M_PAGE_TABLE_ROOT), calldataload(add(base, AT_PAGE_TABLE_ROOT)))
            mstore(add(h, M_RESIDENT), shr(224, calldataload(add(base, AT_RESIDENT))))
            mstore(add(h, M_BRK_START), shr(192, calldataload(add(base, AT_BRK_START))))
            mstore(add(h, M_BRK), shr(192, calldataload(add(base, AT_BRK))))
            mstore(add(h, M_STEPS), shr(192, calldataload(add(base, AT_STEPS))))
            mstore(add(h, M_MAX_STEPS), shr(192, calldataload(add(base, AT_MAX_STEPS))))
            mstore(add(h, M_STATUS), shr(248, calldataload(add(base, AT_STATUS))))
            mstore(add(h, M_TRAP_KIND), shr(248, calldataload(add(base, AT_TRAP_KIND))))
            mstore(add(h, M_STATUS_VALUE), shr(224, calldataload(add(base, AT_STATUS_VALUE))))
            mstore(add(h, M_TRAP_PC), shr(224, calldataload(add(base, AT_TRAP_PC))))
            mstore(add(h, M_TRAP_WORD), shr(224, calldataload(add(base, AT_TRAP_WORD))))
            mstore(add(h, M_INPUT_ROOT), calldataload(add(base, AT_INPUT_ROOT)))
            mstore(add(h, M_INPUT_LEN), shr(192, calldataload(add(base, AT_INPUT_LEN))))
            mstore(add(h, M_INPUT_POS), shr(192, calldataload(add(base, AT_INPUT_POS))))
            mstore(add(h, M_OPEN_FDS), shr(248, calldataload(add(base, AT_OPEN_FDS))))
            mstore(add(h, M_STDOUT_LEN), shr(192, calldataload(add(base, AT_STDOUT_LEN))))
            mstore(add(h, M_STDOUT_ACC), calldataload(add(base, AT_STDOUT_ACC)))
            mstore(add(h, M_STDERR_LEN), shr(192, calldataload(add(base, AT_STDERR_LEN))))
            mstore(add(h, M_STDERR_ACC), calldataload(add(base, AT_STDERR_ACC)))
        }
        if (domain != DOMAIN) revert BadHeader(1, 0);
        uint256 status = h.status;
        if (status > STEP_LIMIT) revert BadHeader(2, status);
        uint256 kind = h.trapKind;
        if (kind > TRAP_OUTPUT_LIMIT) revert BadHeader(3, kind);
        // `Header::check`: a trapped header, and only a trapped one, names a trap kind.
        if ((status == TRAPPED) == (kind == TRAP_NONE)) revert BadHeader(4, (status << 8) | kind);
        uint256 x0 = h.regs[0];
        if (x0 != 0) revert BadHeader(5, x0);
        if (h.openFds & ~uint256(7) != 0) revert BadHeader(6, h.openFds);
    }

    /// keccak256 of the 394 header bytes at calldata offset `base`: the state they commit to.
    /// A header that decodes encodes back to the same bytes, so this is `keccak256(encode(h))`.
    function hashCalldata(uint256 base) internal pure returns (bytes32 digest) {
        assembly {
            // Hashed in free memory, which is not allocated: nothing else is written meanwhile.
            let p := mload(0x40)
            calldatacopy(p, base, LENGTH)
            digest := keccak256(p, LENGTH)
        }
    }

    /// The 394 header bytes of `h` (`Header::encode`). Each field is one mstore of the value
    /// shifted to the top of the word: the mstore also writes zeros over the 32 - width bytes
    /// after the field, which the next field, written after it, overwrites; the last field ends
    /// the header exactly, so nothing past the 394 bytes is written.
    function encode(Header memory h) internal pure returns (bytes memory out) {
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(out, LENGTH)
            let p := add(out, 0x20)
            // 394 bytes rounded up to whole words.
            mstore(0x40, add(p, 416))
            mstore(p, shl(136, DOMAIN))
            mstore(add(p, AT_JOB), shl(224, mload(add(h, M_JOB))))
            mstore(add(p, AT_PC), shl(224, mload(add(h, M_PC))))
            // The registers 8 at a time, one 32-byte word each (every register is below 2^32).
            let regs := mload(add(h, M_REGS))
            for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                let r := add(regs, shl(8, j))
                let w := or(shl(224, mload(r)), shl(192, mload(add(r, 0x20))))
                w := or(w, or(shl(160, mload(add(r, 0x40))), shl(128, mload(add(r, 0x60)))))
                w := or(w, or(shl(96, mload(add(r, 0x80))), shl(64, mload(add(r, 0xa0)))))
                w := or(w, or(shl(32, mload(add(r, 0xc0))), mload(add(r, 0xe0))))
                mstore(add(p, add(AT_REGS, shl(5, j))), w)
            }
            mstore(add(p, AT_MEMORY_ROOT), mload(add(h, M_MEMORY_ROOT)))
            mstore(add(p, AT_PAGE_TABLE_ROOT), mload(add(h, M_PAGE_TABLE_ROOT)))
            mstore(add(p, AT_RESIDENT), shl(224, mload(add(h, M_RESIDENT))))
            mstore(add(p, AT_BRK_START), shl(192, mload(add(h, M_BRK_START))))
            mstore(add(p, AT_BRK), shl(192, mload(add(h, M_BRK))))
            mstore(add(p, AT_STEPS), shl(192, mload(add(h, M_STEPS))))
            mstore(add(p, AT_MAX_STEPS), shl(192, mload(add(h, M_MAX_STEPS))))
            mstore(add(p, AT_STATUS), shl(248, mload(add(h, M_STATUS))))
            mstore(add(p, AT_TRAP_KIND), shl(248, mload(add(h, M_TRAP_KIND))))
            mstore(add(p, AT_STATUS_VALUE), shl(224, mload(add(h, M_STATUS_VALUE))))
            mstore(add(p, AT_TRAP_PC), shl(224, mload(add(h, M_TRAP_PC))))
            mstore(add(p, AT_TRAP_WORD), shl(224, mload(add(h, M_TRAP_WORD))))
            mstore(add(p, AT_INPUT_ROOT), mload(add(h, M_INPUT_ROOT)))
            mstore(add(p, AT_INPUT_LEN), shl(192, mload(add(h, M_INPUT_LEN))))
            mstore(add(p, AT_INPUT_POS), shl(192, mload(add(h, M_INPUT_POS))))
            mstore(add(p, AT_OPEN_FDS), shl(248, mload(add(h, M_OPEN_FDS))))
            mstore(add(p, AT_STDOUT_LEN), shl(192, mload(add(h, M_STDOUT_LEN))))
            mstore(add(p, AT_STDOUT_ACC), mload(add(h, M_STDOUT_ACC)))
            mstore(add(p, AT_STDERR_LEN), shl(192, mload(add(h, M_STDERR_LEN))))
            mstore(add(p, AT_STDERR_ACC), mload(add(h, M_STDERR_ACC)))
        }
    }

    /// The state commitment of `h`: keccak256 of its 394 header bytes.
    function commitment(Header memory h) internal pure returns (bytes32) {
        return keccak256(encode(h));
    }
}
