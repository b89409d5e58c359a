// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// An audit path does not recompute the expected digest, or has the wrong length for its leaf.
error WrongPath();

/// The shape and hashes of the proof's trees (SPEC 3.3 to 3.7, keccak only) and the points of
/// the second phase's bisection (SPEC 6.7): the arithmetic the game and its stateless judges
/// share, so that the descent, the audit paths and the rounds follow one definition each.
library GameTree {
    /// The second phase's arity (`GAME_ARITY` in crates/referee/src/dispute.rs).
    uint256 internal constant ARITY = 16;

    /// `node(l, r) = keccak256(0x01 || l || r)` (SPEC 3.4): 65 bytes, one permutation.
    function node(bytes32 l, bytes32 r) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            // Scratch space 0x00..0x40 is too short for 65 bytes: use free memory, unreserved.
            let p := mload(0x40)
            mstore8(p, 1)
            mstore(add(p, 1), l)
            mstore(add(p, 33), r)
            h := keccak256(p, 65)
        }
    }

    /// `leaf = keccak256(0x00 || s~ || chunk || link)` (SPEC 3.4): 97 bytes.
    function leaf(bytes32 uniqueSecret, bytes32 chunk, bytes32 link) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0)
            mstore(add(p, 1), uniqueSecret)
            mstore(add(p, 33), chunk)
            mstore(add(p, 65), link)
            h := keccak256(p, 97)
        }
    }

    /// `root = keccak256("poie/v1/root" || params || n (u64 LE) || top)` (SPEC 3.6), with
    /// `params = 0x01 || 0x02 (keccak) || L (u32 LE) || chained`: 59 bytes.
    function commitmentRoot(uint256 lanes, bool chained, uint256 n, bytes32 top) internal pure returns (bytes32 h) {
        bytes memory b = abi.encodePacked(
            "poie/v1/root",
            uint8(1),
            uint8(2),
            bytes4(reverse32(lanes)),
            chained ? uint8(1) : uint8(0),
            bytes8(reverse64(n)),
            top
        );
        h = keccak256(b);
    }

    /// The little-endian bytes of a 32-bit number as a big-endian one (and back).
    function reverse32(uint256 v) internal pure returns (uint32) {
        v = ((v & 0xff00ff00) >> 8) | ((v & 0x00ff00ff) << 8);
        return uint32((v >> 16) | ((v & 0xffff) << 16));
    }

    /// The little-endian bytes of a 64-bit number as a big-endian one (and back).
    function reverse64(uint256 v) internal pure returns (uint64) {
        v = ((v & 0xff00ff00ff00ff00) >> 8) | ((v & 0x00ff00ff00ff00ff) << 8);
        v = ((v & 0xffff0000ffff0000) >> 16) | ((v & 0x0000ffff0000ffff) << 16);
        return uint64((v >> 32) | ((v & 0xffffffff) << 32));
    }

    /// Where RFC 6962 splits `[lo, hi)` (hi - lo >= 2): `lo` plus the largest power of two
    /// strictly below `hi - lo` (SPEC 3.5; `tree::split` in crates/proof).
    function split(uint256 lo, uint256 hi) internal pure returns (uint256) {
        // The highest set bit of k - 1 (k >= 2): a binary search over at most 64 bits.
        uint256 x = hi - lo - 1;
        uint256 q = 1;
        if (x >> 32 != 0) { x >>= 32; q <<= 32; }
        if (x >> 16 != 0) { x >>= 16; q <<= 16; }
        if (x >> 8 != 0) { x >>= 8; q <<= 8; }
        if (x >> 4 != 0) { x >>= 4; q <<= 4; }
        if (x >> 2 != 0) { x >>= 2; q <<= 2; }
        if (x >> 1 != 0) { q <<= 1; }
        return lo + q;
    }

    /// Lane `j`'s length `m_j = floor(n / L) + (j < n mod L)` (SPEC 3.3).
    function laneLength(uint256 n, uint256 lanes, uint256 j) internal pure returns (uint256) {
        return n / lanes + (j < n % lanes ? 1 : 0);
    }

    /// The lanes that hold a chunk, `u = min(n, L)`: the top tree's leaves (SPEC 3.5).
    function usedLanes(uint256 n, uint256 lanes) internal pure returns (uint256) {
        return n < lanes ? n : lanes;
    }

    /// The root recomputed from leaf `index` of a tree of `size` leaves and its RFC 9162 audit
    /// path (section 2.1.3.2, `root_from_path` in crates/proof): reverts with WrongPath when
    /// the path's length does not fit the leaf's place, so a path cannot pass for another
    /// leaf's or a node's.
    function rootFromPath(bytes32 h, uint256 index, uint256 size, bytes32[] calldata path)
        internal
        pure
        returns (bytes32)
    {
        if (index >= size) revert WrongPath();
        uint256 fn_ = index;
        uint256 sn = size - 1;
        for (uint256 k = 0; k < path.length; ++k) {
            if (sn == 0) revert WrongPath();
            bytes32 p = path[k];
            if (fn_ & 1 == 1 || fn_ == sn) {
                h = node(p, h);
                // A right edge: the levels where this node has no sibling are skipped.
                while (fn_ & 1 == 0 && fn_ != 0) {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            } else {
                h = node(h, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        if (sn != 0) revert WrongPath();
        return h;
    }

    /// The bisection's points over `(lo, hi)` (`Bisection::points`): `lo + floor((hi - lo) t /
    /// 16)` for `t = 1 .. 15`, those strictly inside, without repeats, ascending. Empty when
    /// `hi - lo <= 1`. Bisected intervals stay below 2^29, so nothing overflows.
    function points(uint256 lo, uint256 hi) internal pure returns (uint256[] memory pts) {
        pts = new uint256[](ARITY - 1);
        uint256 len = hi - lo;
        uint256 count = 0;
        uint256 last = lo;
        for (uint256 t = 1; t < ARITY; ++t) {
            uint256 p = lo + (len * t) / ARITY;
            // Ascending in t, so a repeat is the previous point; p < hi always (t < 16).
            if (p > last) {
                pts[count++] = p;
                last = p;
            }
        }
        assembly ("memory-safe") {
            mstore(pts, count)
        }
    }
}
