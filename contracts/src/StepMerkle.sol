// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {BadProof, WrongLeaf} from "./StepErrors.sol";

/// The trees of SPEC 1.6 (merkle.rs): binary, of fixed depth, leaves the raw 32 bytes of their
/// slice, inner nodes keccak256(left || right) with no prefix, every path checked to the tree's
/// full depth. Leaf proofs are read straight from calldata, where the step proof's wire format
/// (wire.rs) lays each out as `index (u64 little-endian) || leaf (32) || sibling count (u8) ||
/// siblings (32 each, from the leaf upward)`; `ptr` below is the calldata offset of one.
library StepMerkle {
    uint256 internal constant MEMORY_DEPTH = 27;
    uint256 internal constant PAGE_TABLE_DEPTH = 15;
    uint256 internal constant INPUT_DEPTH = 27;
    /// A page is the height-7 subtree under node `page` at level 7 of the memory tree: its
    /// path to the memory root has 27 - 7 siblings.
    uint256 internal constant ABOVE_PAGE_DEPTH = 20;

    /// Z[7], the root of an all-zero subtree of height 7 (one zero page), the only zero hash a
    /// step needs (an unmapping `brk`). Generated with Z[0] = 32 zero bytes, Z[k + 1] =
    /// keccak256(Z[k] || Z[k]): `node -e 'const {keccak256}=require("js-sha3");let
    /// z=Buffer.alloc(32);for(let k=0;k<7;k++)z=Buffer.from(keccak256.arrayBuffer(
    /// Buffer.concat([z,z])));console.log(z.toString("hex"))'` in contracts/ (js-sha3 ships
    /// with solc-js). Z[1] = ad3228b6...ba5fb5 as merkle.rs's test pins it.
    bytes32 internal constant ZERO_PAGE = 0xffd70157e48063fc33c97a050f7f640233bf646cc98d9524c6b92bcf3ab56f83;

    /// The proof's leaf index: 8 bytes little-endian.
    function index(uint256 ptr) internal pure returns (uint256 v) {
        assembly {
            v := shr(192, calldataload(ptr))
        }
        // Byte-reverse the 64-bit number: swap bytes, then 16-bit halves, then 32-bit halves.
        v = ((v & 0xff00ff00ff00ff00) >> 8) | ((v & 0x00ff00ff00ff00ff) << 8);
        v = ((v & 0xffff0000ffff0000) >> 16) | ((v & 0x0000ffff0000ffff) << 16);
        v = (v >> 32) | ((v & 0xffffffff) << 32);
    }

    /// The proof's 32-byte leaf.
    function leaf(uint256 ptr) internal pure returns (bytes32 v) {
        assembly {
            v := calldataload(add(ptr, 8))
        }
    }

    /// How many siblings the proof carries.
    function siblingCount(uint256 ptr) internal pure returns (uint256 n) {
        assembly {
            n := byte(0, calldataload(add(ptr, 40)))
        }
    }

    /// Hashes `h`, the path's node at level `from` of leaf `idx`, up to level `to` with the
    /// proof's siblings `from .. to - 1`: at level k the node is the right child when bit k of
    /// the index is set. Hashes in the scratch space (memory 0 .. 64).
    function _climb(uint256 ptr, uint256 idx, bytes32 h, uint256 from, uint256 to) private pure returns (bytes32) {
        assembly ("memory-safe") {
            // Sibling k is at ptr + 41 + 32 k; the index's bit k is the low bit of idx >> k.
            let s := add(ptr, add(41, shl(5, from)))
            let end := add(ptr, add(41, shl(5, to)))
            let bits := shr(from, idx)
            // Two levels per iteration while two remain (halving the loop's overhead), then
            // the last one if the count is odd. At each level `right` is 32 when the node is a
            // right child: it goes to the second half of the scratch space, its sibling to the
            // first.
            for {} lt(add(s, 0x20), end) { s := add(s, 0x40) } {
                let right := shl(5, and(bits, 1))
                mstore(right, h)
                mstore(xor(right, 0x20), calldataload(s))
                h := keccak256(0, 0x40)
                right := shl(4, and(bits, 2))
                mstore(right, h)
                mstore(xor(right, 0x20), calldataload(add(s, 0x20)))
                h := keccak256(0, 0x40)
                bits := shr(2, bits)
            }
            if lt(s, end) {
                let right := shl(5, and(bits, 1))
                mstore(right, h)
                mstore(xor(right, 0x20), calldataload(s))
                h := keccak256(0, 0x40)
            }
        }
        return h;
    }

    /// Checks that the proof at `ptr` is of leaf `expected` and verifies against `root` in the
    /// tree of depth `depth` (`check_leaf` then `verify_leaf`): reverts with `WrongLeaf` for
    /// another index, else `BadProof` for a sibling count other than `depth`, an index of
    /// 2^depth or more, or a path to another root. `expected` is below 2^64 at every call.
    function check(uint8 what, uint256 ptr, bytes32 root, uint256 depth, uint256 expected) internal pure {
        uint256 idx = index(ptr);
        if (idx != expected) revert WrongLeaf(what, uint64(expected), uint64(idx));
        if (siblingCount(ptr) != depth || idx >> depth != 0) revert BadProof(what, uint64(idx));
        if (_climb(ptr, idx, leaf(ptr), 0, depth) != root) revert BadProof(what, uint64(idx));
    }

    /// The root after replacing the (verified) proof's leaf by `newLeaf`.
    function rootAfter(uint256 ptr, bytes32 newLeaf) internal pure returns (bytes32) {
        return _climb(ptr, index(ptr), newLeaf, 0, siblingCount(ptr));
    }

    /// The root after replacing the leaves of two verified proofs of distinct leaves of one tree
    /// (`root_after` with two): the second path's sibling at the level where the two paths
    /// meet, the highest bit in which the indices differ, is the first path's new node there;
    /// above it the two paths are one, and below it they share no node.
    function rootAfter2(uint256 at1, bytes32 new1, uint256 at2, bytes32 new2) internal pure returns (bytes32) {
        uint256 i1 = index(at1);
        uint256 i2 = index(at2);
        uint256 diff = i1 ^ i2;
        uint256 meet = 0;
        while (diff >> (meet + 1) != 0) {
            ++meet;
        }
        bytes32 first = _climb(at1, i1, new1, 0, meet);
        bytes32 second = _climb(at2, i2, new2, 0, meet);
        bytes32 joined;
        assembly ("memory-safe") {
            let right := shl(5, and(shr(meet, i2), 1))
            mstore(right, second)
            mstore(xor(right, 0x20), first)
            joined := keccak256(0, 0x40)
        }
        return _climb(at2, i2, joined, meet + 1, siblingCount(at2));
    }
}
