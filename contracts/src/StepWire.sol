// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {BadEncoding, ProofCount} from "./StepErrors.sol";
import {StepMerkle} from "./StepMerkle.sol";

/// The bytes of a step proof (wire.rs, `StepProof::encode`): `header (394) || fetch ||
/// fetch_page || then for data, data_pages, input and page_memory in turn: count (u8) || that
/// many leaf proofs`. Decoding checks the shape only, as `StepProof::decode` does, and records
/// where each leaf proof lies in calldata; the step then checks the lists against the leaves
/// it needs (`check_leaves`).
library StepWire {
    /// The most bytes a step proof may take (`MAX_PROOF_BYTES`).
    uint256 internal constant MAX_BYTES = 8192;
    uint256 private constant HEADER_LENGTH = 394;
    uint256 private constant MAX_SIBLINGS = 27;
    uint256 private constant MAX_LIST = 2;

    // The four lists, in wire order.
    uint256 internal constant DATA = 0;
    uint256 internal constant DATA_PAGES = 1;
    uint256 internal constant INPUT = 2;
    uint256 internal constant PAGE_MEMORY = 3;

    // The `what` of ProofCount, WrongLeaf and BadProof (StepErrors.sol).
    uint8 internal constant WHAT_FETCH = 1;
    uint8 internal constant WHAT_FETCH_PAGE = 2;
    uint8 internal constant WHAT_DATA = 3;
    uint8 internal constant WHAT_DATA_PAGE = 4;
    uint8 internal constant WHAT_INPUT = 5;
    uint8 internal constant WHAT_PAGE_MEMORY = 6;

    /// Where the parts of a decoded step proof lie in calldata.
    struct Proof {
        /// The header's 394 bytes.
        uint256 header;
        /// The leaf proofs of the fetch and of its page's table leaf.
        uint256 fetch;
        uint256 fetchPage;
        /// How many leaf proofs each list holds (at most 2).
        uint256[4] count;
        /// List `l`'s proof `j` is at `proofs[2 l + j]`.
        uint256[8] proofs;
    }

    /// Decodes the `len` bytes at calldata offset `base`, refusing as `StepProof::decode` does:
    /// too long, then the first field that runs past the end (`Short`, with that field's
    /// offset), a list of more than 2 or a proof of more than 27 siblings as they are met, and
    /// trailing bytes. Offsets stay below 2^14 + 2^13 (len <= 8192 plus one proof's 905 bytes),
    /// so nothing here overflows.
    function decode(uint256 base, uint256 len) internal pure returns (Proof memory w) {
        if (len > MAX_BYTES) revert BadEncoding(1, len);
        if (len < HEADER_LENGTH) revert BadEncoding(2, 0);
        w.header = base;
        uint256 pos = HEADER_LENGTH;
        w.fetch = base + pos;
        pos = _leaf(base, pos, len);
        w.fetchPage = base + pos;
        pos = _leaf(base, pos, len);
        for (uint256 l = 0; l < 4; ++l) {
            if (pos + 1 > len) revert BadEncoding(2, pos);
            uint256 n;
            assembly {
                n := byte(0, calldataload(add(base, pos)))
            }
            if (n > MAX_LIST) revert BadEncoding(3, n);
            pos += 1;
            w.count[l] = n;
            for (uint256 j = 0; j < n; ++j) {
                w.proofs[2 * l + j] = base + pos;
                pos = _leaf(base, pos, len);
            }
        }
        if (pos != len) revert BadEncoding(5, len - pos);
    }

    /// Checks the leaf proof at `pos` (relative to `base`) fits in `len` bytes; returns where
    /// the next field starts. `Reader::leaf`: index (8), leaf (32), count (1), siblings.
    function _leaf(uint256 base, uint256 pos, uint256 len) private pure returns (uint256) {
        if (pos + 8 > len) revert BadEncoding(2, pos);
        if (pos + 40 > len) revert BadEncoding(2, pos + 8);
        if (pos + 41 > len) revert BadEncoding(2, pos + 40);
        uint256 n = StepMerkle.siblingCount(base + pos);
        if (n > MAX_SIBLINGS) revert BadEncoding(4, n);
        uint256 end = pos + 41 + 32 * n;
        // The first sibling that does not fit is where `Short` points.
        if (end > len) revert BadEncoding(2, pos + 41 + 32 * ((len - pos - 41) / 32));
        return end;
    }

    /// `check_leaves`: list `list` must hold exactly the proofs of leaves `first .. first + n`
    /// (n <= 2), each verifying against `root` in the tree of depth `depth`.
    function checkList(
        Proof memory w,
        uint256 list,
        uint8 what,
        bytes32 root,
        uint256 depth,
        uint256 first,
        uint256 n
    ) internal pure {
        uint256 got = w.count[list];
        if (got != n) revert ProofCount(what, n, got);
        for (uint256 j = 0; j < n; ++j) {
            StepMerkle.check(what, w.proofs[2 * list + j], root, depth, first + j);
        }
    }

    /// List `list` must be empty.
    function none(Proof memory w, uint256 list, uint8 what) internal pure {
        uint256 got = w.count[list];
        if (got != 0) revert ProofCount(what, 0, got);
    }

    /// `no_syscall_leaves`: only an `ecall` reads input leaves or a page's subtree root.
    function noSyscallLeaves(Proof memory w) internal pure {
        none(w, INPUT, WHAT_INPUT);
        none(w, PAGE_MEMORY, WHAT_PAGE_MEMORY);
    }

    /// `no_data`: no list holds anything.
    function noData(Proof memory w) internal pure {
        none(w, DATA, WHAT_DATA);
        none(w, DATA_PAGES, WHAT_DATA_PAGE);
        noSyscallLeaves(w);
    }

    /// The leaf of list `list`'s proof `j`.
    function leafOf(Proof memory w, uint256 list, uint256 j) internal pure returns (bytes32) {
        return StepMerkle.leaf(w.proofs[2 * list + j]);
    }
}
