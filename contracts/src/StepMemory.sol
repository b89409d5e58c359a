// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {StepHeader} from "./StepHeader.sol";
import {StepMerkle} from "./StepMerkle.sol";
import {StepWire} from "./StepWire.sol";

/// Loads and stores (step.rs `access`, SPEC 1.2 and 1.7): the data proofs checked against the
/// pre-state, permissions, residency and the 65536-page limit, the bytes read little-endian
/// from one or two leaves, and for a store the new memory and page table roots.
library StepMemory {
    /// Page table bits (SPEC 1.6).
    uint256 internal constant MAPPED = 1;
    uint256 internal constant WRITABLE = 2;
    uint256 internal constant EXECUTABLE = 4;
    uint256 internal constant RESIDENT = 8;
    /// Pages that may be resident at a time (SPEC 1.2).
    uint256 internal constant MAX_RESIDENT_PAGES = 1 << 16;

    /// Byte `i` (0 the first) of a leaf.
    function byteAt(bytes32 leaf, uint256 i) internal pure returns (uint256 b) {
        assembly {
            b := byte(i, leaf)
        }
    }

    /// The leaf with byte `i` (< 32) replaced by `b` (< 256).
    function setByte(bytes32 leaf, uint256 i, uint256 b) internal pure returns (bytes32 out) {
        assembly {
            let shift := sub(248, shl(3, i))
            out := or(and(leaf, not(shl(shift, 0xff))), shl(shift, b))
        }
    }

    /// The table byte of page `p`, one of the access's pages, whose table leaves (one or two,
    /// ascending from leaf `table0`) the data page list holds, already checked.
    function _tableByte(StepWire.Proof memory w, uint256 table0, uint256 p) private pure returns (uint256) {
        return byteAt(StepWire.leafOf(w, StepWire.DATA_PAGES, (p >> 5) - table0), p & 31);
    }

    /// Where an access's bytes lie, and its pages' table bytes.
    struct Span {
        /// addr mod 32: the first byte's place in the first leaf.
        uint256 start;
        /// How many leaves the bytes touch (1 or 2).
        uint256 leaves;
        /// The first and last page (equal unless the access crosses a page), and the first
        /// page table leaf.
        uint256 page0;
        uint256 page1;
        uint256 table0;
        /// The table bytes of page0 and page1.
        uint256 b0;
        uint256 b1;
    }

    /// Performs the load (`isStore` false) or store of `len` (1, 2 or 4) bytes at `addr`
    /// (< 2^32), checking its data proofs. Returns `trap` 0 and the raw value (a load's bytes
    /// little-endian, zero-extended; a store's `value`), or the trap kind (load or store fault,
    /// memory limit), whose value is `addr`. A store updates `h`'s memory root, and when it
    /// makes pages resident, its page table root and resident count; a trap changes nothing.
    function access(
        StepHeader.Header memory h,
        StepWire.Proof memory w,
        uint256 addr,
        uint256 len,
        bool isStore,
        uint256 value
    ) internal pure returns (uint256 trap, uint256 raw) {
        uint256 kind = isStore ? StepHeader.TRAP_STORE : StepHeader.TRAP_LOAD;
        // The address space does not wrap: such an access needs no proof and faults.
        if (addr + len > 1 << 32) {
            StepWire.noData(w);
            return (kind, 0);
        }
        Span memory s = _span(h, w, addr, len);
        uint256 need = isStore ? MAPPED | WRITABLE : MAPPED;
        if (s.b0 & need != need || s.b1 & need != need) return (kind, 0);
        if (!isStore) return (0, _loadBytes(w, s, len));
        return _store(h, w, s, len, value);
    }

    /// Checks the data and data page proofs of bytes [addr, addr + len) (`check_leaves`: the
    /// memory leaves they touch, then the table leaves of their pages) and reads the pages'
    /// table bytes.
    function _span(StepHeader.Header memory h, StepWire.Proof memory w, uint256 addr, uint256 len)
        private
        pure
        returns (Span memory s)
    {
        uint256 last = addr + len - 1;
        uint256 leaf0 = addr >> 5;
        s.start = addr & 31;
        s.leaves = (last >> 5) - leaf0 + 1;
        s.page0 = addr >> 12;
        s.page1 = last >> 12;
        s.table0 = s.page0 >> 5;
        StepWire.checkList(
            w, StepWire.DATA, StepWire.WHAT_DATA, h.memoryRoot, StepMerkle.MEMORY_DEPTH, leaf0, s.leaves
        );
        StepWire.checkList(
            w,
            StepWire.DATA_PAGES,
            StepWire.WHAT_DATA_PAGE,
            h.pageTableRoot,
            StepMerkle.PAGE_TABLE_DEPTH,
            s.table0,
            (s.page1 >> 5) - s.table0 + 1
        );
        s.b0 = _tableByte(w, s.table0, s.page0);
        s.b1 = _tableByte(w, s.table0, s.page1);
    }

    /// The data leaves: the first, and the second when the bytes cross into it (else 0).
    function _dataLeaves(StepWire.Proof memory w, Span memory s) private pure returns (bytes32 lo, bytes32 hi) {
        lo = StepWire.leafOf(w, StepWire.DATA, 0);
        if (s.leaves == 2) hi = StepWire.leafOf(w, StepWire.DATA, 1);
    }

    /// A load's `len` bytes, little-endian: byte i is byte start + i of the two leaves end to end.
    function _loadBytes(StepWire.Proof memory w, Span memory s, uint256 len) private pure returns (uint256 raw) {
        (bytes32 lo, bytes32 hi) = _dataLeaves(w, s);
        for (uint256 i = 0; i < len; ++i) {
            uint256 o = s.start + i;
            uint256 b = o < 32 ? byteAt(lo, o) : byteAt(hi, o - 32);
            raw |= b << (8 * i);
        }
    }

    /// A store whose pages are mapped writable: the memory limit, then the bytes written into
    /// the leaves and the roots recomputed.
    function _store(StepHeader.Header memory h, StepWire.Proof memory w, Span memory s, uint256 len, uint256 value)
        private
        pure
        returns (uint256 trap, uint256 raw)
    {
        uint256 fresh = (s.b0 & RESIDENT == 0 ? 1 : 0) + (s.page1 != s.page0 && s.b1 & RESIDENT == 0 ? 1 : 0);
        uint256 resident = h.residentPages;
        uint256 room = resident >= MAX_RESIDENT_PAGES ? 0 : MAX_RESIDENT_PAGES - resident;
        if (fresh > room) return (StepHeader.TRAP_MEMORY_LIMIT, 0);
        (bytes32 lo, bytes32 hi) = _dataLeaves(w, s);
        for (uint256 i = 0; i < len; ++i) {
            uint256 o = s.start + i;
            uint256 b = (value >> (8 * i)) & 0xff;
            if (o < 32) lo = setByte(lo, o, b);
            else hi = setByte(hi, o - 32, b);
        }
        if (s.leaves == 2) {
            h.memoryRoot = StepMerkle.rootAfter2(w.proofs[0], lo, w.proofs[1], hi);
        } else {
            h.memoryRoot = StepMerkle.rootAfter(w.proofs[0], lo);
        }
        if (fresh != 0) {
            _makeResident(h, w, s);
            // fresh <= room, so the count stays at most 65536.
            h.residentPages = resident + fresh;
        }
        return (0, value);
    }

    /// Sets the resident bit of page0 and page1 (equal unless the store crosses a page) where
    /// it is clear, and recomputes the page table root from the data page proofs.
    function _makeResident(StepHeader.Header memory h, StepWire.Proof memory w, Span memory s) private pure {
        bytes32[2] memory t;
        uint256 tables = w.count[StepWire.DATA_PAGES];
        t[0] = StepWire.leafOf(w, StepWire.DATA_PAGES, 0);
        if (tables == 2) t[1] = StepWire.leafOf(w, StepWire.DATA_PAGES, 1);
        if (s.b0 & RESIDENT == 0) {
            uint256 j = (s.page0 >> 5) - s.table0;
            t[j] = setByte(t[j], s.page0 & 31, s.b0 | RESIDENT);
        }
        if (s.page1 != s.page0 && s.b1 & RESIDENT == 0) {
            uint256 j = (s.page1 >> 5) - s.table0;
            t[j] = setByte(t[j], s.page1 & 31, s.b1 | RESIDENT);
        }
        if (tables == 2) {
            h.pageTableRoot = StepMerkle.rootAfter2(w.proofs[2], t[0], w.proofs[3], t[1]);
        } else {
            h.pageTableRoot = StepMerkle.rootAfter(w.proofs[2], t[0]);
        }
    }
}
