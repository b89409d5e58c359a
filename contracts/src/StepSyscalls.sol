// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {FlatInput} from "./StepErrors.sol";
import {StepHeader} from "./StepHeader.sol";
import {StepMemory} from "./StepMemory.sol";
import {StepMerkle} from "./StepMerkle.sol";
import {StepWire} from "./StepWire.sol";

/// One `ecall` checked and executed against the pre-state (syscall.rs, SPEC 1.4 and 1.7).
/// Which leaves a call needs is decided by the pre-state alone (`needs`), and the proof must
/// hold exactly those; then the call runs. Every call is bounded: `read` and `write` move at
/// most to the end of the buffer's 32-byte leaf, `brk` maps or unmaps at most one page.
library StepSyscalls {
    uint256 internal constant SYS_CLOSE = 57;
    uint256 internal constant SYS_READ = 63;
    uint256 internal constant SYS_WRITE = 64;
    uint256 internal constant SYS_EXIT = 93;
    uint256 internal constant SYS_EXIT_GROUP = 94;
    uint256 internal constant SYS_BRK = 214;
    /// The 32-bit two's complement of -errno.
    uint256 private constant EBADF = (1 << 32) - 9;
    uint256 private constant EFAULT = (1 << 32) - 14;
    uint256 private constant ENOSYS = (1 << 32) - 38;
    /// The most bytes a job writes to each of stdout and stderr.
    uint256 private constant MAX_OUTPUT = 1 << 22;
    /// `brk` moves the break within [initial break, BRK_MAX].
    uint256 private constant BRK_MAX = 0x7000_0000;
    uint256 private constant PAGE = 4096;
    /// The header's u64 fields saturate here, as the Rust code's `saturating_*` on u64 do.
    uint256 private constant U64_MAX = type(uint64).max;
    /// Inputs longer than this are committed flat and have no leaves.
    uint256 private constant MAX_TREE_INPUT = 1 << 32;

    uint256 private constant BRK_NONE = 0;
    uint256 private constant BRK_MAP = 1;
    uint256 private constant BRK_UNMAP = 2;

    /// The leaves a call needs besides its fetch (`Needs`).
    struct Needs {
        /// Memory bytes [addr, addr + n) inside one leaf, when n > 0: that leaf and its page's
        /// table leaf.
        uint256 addr;
        uint256 n;
        /// Input bytes [inPos, inPos + inN) that a `read` copies, when inN > 0.
        uint256 inPos;
        uint256 inN;
        /// The heap page `brk` maps or unmaps (brkMove BRK_MAP, BRK_UNMAP), or BRK_NONE.
        uint256 brkPage;
        uint256 brkMove;
    }

    function _fdOpen(StepHeader.Header memory h, uint256 fd) private pure returns (bool) {
        return fd < 3 && (h.openFds >> fd) & 1 != 0;
    }

    /// The room left in stream `fd` (1 or 2) before the output limit.
    function _outputRoom(StepHeader.Header memory h, uint256 fd) private pure returns (uint256) {
        uint256 written = fd == 1 ? h.stdoutLen : h.stderrLen;
        return written >= MAX_OUTPUT ? 0 : MAX_OUTPUT - written;
    }

    /// `page_up` on u64: x (< 2^64) rounded up to a page, saturating at 2^64 - 1.
    function _pageUp(uint256 x) private pure returns (uint256) {
        uint256 up = ((x + PAGE - 1) / PAGE) * PAGE;
        return up > U64_MAX ? U64_MAX : up;
    }

    /// The break after `brk(want)` from `brk`, `want` valid (`brk_after`, with the u64
    /// saturation of the Rust code, which only a header no run reaches can exercise).
    function _brkAfter(uint256 brk, uint256 want) private pure returns (uint256) {
        uint256 oldTop = _pageUp(brk);
        uint256 newTop = _pageUp(want);
        uint256 oldUp = oldTop + PAGE > U64_MAX ? U64_MAX : oldTop + PAGE;
        if (newTop > oldUp) return oldUp;
        // newTop + PAGE < oldTop, so oldTop > PAGE and oldTop - PAGE does not saturate.
        if (newTop + PAGE < oldTop) return oldTop - PAGE;
        return want;
    }

    function _brkValid(StepHeader.Header memory h, uint256 want) private pure returns (bool) {
        return want >= h.brkStart && want <= BRK_MAX;
    }

    /// `needs`: what the call from `h` reads, from its registers, descriptors, output counts,
    /// break and input position alone.
    function _needs(StepHeader.Header memory h) private pure returns (Needs memory nd) {
        uint256[32] memory r = h.regs;
        (uint256 a0, uint256 a1, uint256 a2, uint256 a7) = (r[10], r[11], r[12], r[17]);
        if (a7 == SYS_READ && a0 == 0 && _fdOpen(h, 0)) {
            uint256 n = _ioSpan(a1, a2);
            if (n > 0) {
                (nd.addr, nd.n) = (a1, n);
                uint256 left = h.inputLen > h.inputPos ? h.inputLen - h.inputPos : 0;
                uint256 copied = left < n ? left : n;
                if (copied > 0) (nd.inPos, nd.inN) = (h.inputPos, copied);
            }
        } else if (a7 == SYS_WRITE && (a0 == 1 || a0 == 2) && _fdOpen(h, a0)) {
            uint256 n = _ioSpan(a1, a2);
            uint256 room = _outputRoom(h, a0);
            if (room < n) n = room;
            if (n > 0) (nd.addr, nd.n) = (a1, n);
        } else if (a7 == SYS_BRK && _brkValid(h, a0)) {
            uint256 oldTop = _pageUp(h.brk);
            uint256 newTop = _pageUp(_brkAfter(h.brk, a0));
            if (newTop > oldTop) (nd.brkPage, nd.brkMove) = (oldTop / PAGE, BRK_MAP);
            else if (newTop < oldTop) (nd.brkPage, nd.brkMove) = (newTop / PAGE, BRK_UNMAP);
        }
    }

    /// `min(len, 32 - buf mod 32)`: the bytes a `read` or `write` moves at most.
    function _ioSpan(uint256 buf, uint256 len) private pure returns (uint256) {
        uint256 toEnd = 32 - (buf & 31);
        return len < toEnd ? len : toEnd;
    }

    /// `check_needs`: the proof holds exactly the leaves `nd` names, in the Rust order: data,
    /// data page, input (refusing a flat input first), page memory.
    function _checkNeeds(StepHeader.Header memory h, StepWire.Proof memory w, Needs memory nd) private pure {
        if (nd.n > 0) {
            StepWire.checkList(
                w, StepWire.DATA, StepWire.WHAT_DATA, h.memoryRoot, StepMerkle.MEMORY_DEPTH, nd.addr >> 5, 1
            );
            StepWire.checkList(
                w,
                StepWire.DATA_PAGES,
                StepWire.WHAT_DATA_PAGE,
                h.pageTableRoot,
                StepMerkle.PAGE_TABLE_DEPTH,
                nd.addr >> 17,
                1
            );
        } else {
            StepWire.none(w, StepWire.DATA, StepWire.WHAT_DATA);
            if (nd.brkMove != BRK_NONE) {
                // brkPage < 2^52 (a page of a u64 break), so the index fits the error's u64;
                // an index too wide for the tree is refused as a bad proof, as in Rust.
                StepWire.checkList(
                    w,
                    StepWire.DATA_PAGES,
                    StepWire.WHAT_DATA_PAGE,
                    h.pageTableRoot,
                    StepMerkle.PAGE_TABLE_DEPTH,
                    nd.brkPage >> 5,
                    1
                );
            } else {
                StepWire.none(w, StepWire.DATA_PAGES, StepWire.WHAT_DATA_PAGE);
            }
        }
        if (nd.inN > 0) {
            if (h.inputLen > MAX_TREE_INPUT) revert FlatInput();
            // inPos < inputLen <= 2^32 here, so the leaves are below 2^27.
            uint256 first = nd.inPos >> 5;
            StepWire.checkList(
                w,
                StepWire.INPUT,
                StepWire.WHAT_INPUT,
                h.inputRoot,
                StepMerkle.INPUT_DEPTH,
                first,
                ((nd.inPos + nd.inN - 1) >> 5) - first + 1
            );
        } else {
            StepWire.none(w, StepWire.INPUT, StepWire.WHAT_INPUT);
        }
        if (nd.brkMove == BRK_UNMAP) {
            StepWire.checkList(
                w,
                StepWire.PAGE_MEMORY,
                StepWire.WHAT_PAGE_MEMORY,
                h.memoryRoot,
                StepMerkle.ABOVE_PAGE_DEPTH,
                nd.brkPage,
                1
            );
        } else {
            StepWire.none(w, StepWire.PAGE_MEMORY, StepWire.WHAT_PAGE_MEMORY);
        }
    }

    /// Executes the `ecall` of `h` (pc and registers the pre-state's), updating `h`'s memory,
    /// page table, input position, output, descriptors and break as the call does. Returns
    /// `trap` 0 and `ret`, the value for `a0` (for `exit`, `a0` itself: the caller ends the
    /// job), or the trap kind and its value (memory limit at `a1`, output limit with 0).
    function ecall(StepHeader.Header memory h, StepWire.Proof memory w)
        internal
        pure
        returns (uint256 trap, uint256 trapValue, uint256 ret)
    {
        Needs memory nd = _needs(h);
        _checkNeeds(h, w, nd);
        uint256[32] memory r = h.regs;
        (uint256 a0, uint256 a2, uint256 a7) = (r[10], r[12], r[17]);
        if (a7 == SYS_EXIT || a7 == SYS_EXIT_GROUP) return (0, 0, a0);
        if (a7 == SYS_READ) {
            if (nd.n == 0) return (0, 0, a0 == 0 && _fdOpen(h, 0) ? 0 : EBADF);
            return _read(h, w, nd);
        }
        if (a7 == SYS_WRITE) {
            if ((a0 == 1 || a0 == 2) && _fdOpen(h, a0)) {
                if (_outputRoom(h, a0) == 0 && a2 > 0) return (StepHeader.TRAP_OUTPUT_LIMIT, 0, 0);
                return (0, 0, _write(h, w, a0, nd));
            }
            return (0, 0, EBADF);
        }
        if (a7 == SYS_CLOSE) {
            if (!_fdOpen(h, a0)) return (0, 0, EBADF);
            h.openFds &= ~(uint256(1) << a0);
            return (0, 0, 0);
        }
        if (a7 == SYS_BRK) return (0, 0, _brk(h, w, nd));
        return (0, 0, ENOSYS);
    }

    /// A `read` of n > 0 bytes into one leaf, from fd 0 open (`read`).
    function _read(StepHeader.Header memory h, StepWire.Proof memory w, Needs memory nd)
        private
        pure
        returns (uint256 trap, uint256 trapValue, uint256 ret)
    {
        uint256 page = nd.addr >> 12;
        bytes32 table = StepWire.leafOf(w, StepWire.DATA_PAGES, 0);
        uint256 b = StepMemory.byteAt(table, page & 31);
        uint256 rw = StepMemory.MAPPED | StepMemory.WRITABLE;
        if (b & rw != rw) return (0, 0, EFAULT);
        uint256 c = nd.inN;
        if (c == 0) return (0, 0, 0);
        bool fresh = b & StepMemory.RESIDENT == 0;
        if (fresh && h.residentPages >= StepMemory.MAX_RESIDENT_PAGES) {
            return (StepHeader.TRAP_MEMORY_LIMIT, nd.addr, 0);
        }
        h.memoryRoot = StepMerkle.rootAfter(w.proofs[0], _copied(w, nd));
        if (fresh) {
            table = StepMemory.setByte(table, page & 31, b | StepMemory.RESIDENT);
            h.pageTableRoot = StepMerkle.rootAfter(w.proofs[2], table);
            // residentPages < 65536 here.
            h.residentPages += 1;
        }
        // inPos + c <= inputLen < 2^64.
        h.inputPos = nd.inPos + c;
        return (0, 0, c);
    }

    /// The data leaf with input bytes [inPos, inPos + inN) written at byte addr mod 32. The
    /// input bytes are the 64 bytes of the one or two input leaves read from byte inPos mod 32;
    /// inN <= 32 - addr mod 32, so they fit the leaf.
    function _copied(StepWire.Proof memory w, Needs memory nd) private pure returns (bytes32 out) {
        uint256 from = 8 * (nd.inPos & 31);
        uint256 in0 = uint256(StepWire.leafOf(w, StepWire.INPUT, 0));
        uint256 in1 = w.count[StepWire.INPUT] == 2 ? uint256(StepWire.leafOf(w, StepWire.INPUT, 1)) : 0;
        // A shift by 256 gives 0: with from = 0 all bytes come from in0.
        uint256 src = (in0 << from) | (in1 >> (256 - from));
        // The first inN bytes (inN <= 32; 32 keeps all).
        uint256 keep = ~(type(uint256).max >> (8 * nd.inN));
        uint256 to = 8 * (nd.addr & 31);
        uint256 leaf = uint256(StepWire.leafOf(w, StepWire.DATA, 0));
        out = bytes32((leaf & ~(keep >> to)) | ((src & keep) >> to));
    }

    /// A `write` to the open stream fd (1 or 2), its output-limit trap ruled out: bytes
    /// [addr, addr + n) of the data leaf give `acc = keccak256(acc || bytes)`.
    function _write(StepHeader.Header memory h, StepWire.Proof memory w, uint256 fd, Needs memory nd)
        private
        pure
        returns (uint256)
    {
        uint256 n = nd.n;
        if (n == 0) return 0;
        bytes32 table = StepWire.leafOf(w, StepWire.DATA_PAGES, 0);
        if (StepMemory.byteAt(table, (nd.addr >> 12) & 31) & StepMemory.MAPPED == 0) return EFAULT;
        uint256 from = 8 * (nd.addr & 31);
        bytes32 data = StepWire.leafOf(w, StepWire.DATA, 0);
        bytes32 acc = fd == 1 ? h.stdoutAcc : h.stderrAcc;
        assembly ("memory-safe") {
            // acc || the leaf from byte addr mod 32: the n bytes hashed (n <= 32 - addr mod 32)
            // lie in the scratch space 0 .. 64.
            mstore(0, acc)
            mstore(0x20, shl(from, data))
            acc := keccak256(0, add(0x20, n))
        }
        // n > 0 only when the stream holds less than 2^22 bytes: the length stays far below
        // 2^64 (the Rust code's saturating_add never saturates).
        if (fd == 1) {
            h.stdoutAcc = acc;
            h.stdoutLen += n;
        } else {
            h.stderrAcc = acc;
            h.stderrLen += n;
        }
        return n;
    }

    /// A `brk`: the new break mod 2^32, mapping or unmapping the page `nd` names.
    function _brk(StepHeader.Header memory h, StepWire.Proof memory w, Needs memory nd) private pure returns (uint256) {
        uint256 want = h.regs[10];
        if (!_brkValid(h, want)) return h.brk & 0xffffffff;
        h.brk = _brkAfter(h.brk, want);
        if (nd.brkMove != BRK_NONE) {
            uint256 slot = nd.brkPage & 31;
            bytes32 table = StepWire.leafOf(w, StepWire.DATA_PAGES, 0);
            uint256 old = StepMemory.byteAt(table, slot);
            if (nd.brkMove == BRK_UNMAP) {
                table = StepMemory.setByte(table, slot, 0);
                if (old & StepMemory.RESIDENT != 0 && h.residentPages > 0) h.residentPages -= 1;
                h.memoryRoot = StepMerkle.rootAfter(w.proofs[6], StepMerkle.ZERO_PAGE);
            } else {
                table = StepMemory.setByte(table, slot, old | StepMemory.MAPPED | StepMemory.WRITABLE);
            }
            h.pageTableRoot = StepMerkle.rootAfter(w.proofs[2], table);
        }
        return h.brk & 0xffffffff;
    }
}
