// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {GameTree} from "./GameTree.sol";

/// The one-step verifier (PoieStep.sol), deployed on its own: EIP-170's 24 KiB limit does not
/// fit it and the game in one contract.
interface IPoieStep {
    /// Reverts when the proof is refused (a bad proof, or a pre-state that is not running). A
    /// trap returns retired = false and chunk = 0.
    function step(bytes32 preState, bytes calldata proof)
        external
        pure
        returns (bytes32 postState, bool retired, bytes32 chunk);
}

/// The step proof is too short or too long to hold a header and a step.
error BadProof();
/// The step proof's header does not hash to the agreed state: it shows nothing about it.
error HeaderNotAgreed();
/// The agreed state's header does not decode (SPEC 1.6's rules): only checked for a terminal
/// header, which the step verifier never sees.
error BadHeader();

/// The ruling of SPEC 6.7 on one step (`poie_referee::dispute::judge`): from the agreed state's
/// step proof, whether the executor's claim one step later stands. Shared by the game's `prove`
/// and the stateless judges, so that both rule alike.
library GameRuling {
    /// What the executor claims one step after the agreed state.
    uint8 internal constant LEAF = 0; // the opened leaf's digest: the step's chunk, hashed
    uint8 internal constant STATE = 1; // the next state's commitment (a point of the bisection)
    uint8 internal constant FINAL = 2; // the job's state root: the agreed state is its last

    // Why a ruling went as it did (the game's Ended event carries it).
    uint8 internal constant CLAIM_AFTER_END = 1; // a state or leaf claimed after a terminal state
    uint8 internal constant CLAIM_AFTER_TRAP = 2; // a state or leaf claimed after a trapping step
    uint8 internal constant FINAL_AT_END = 3; // terminal, and it is the claimed state root
    uint8 internal constant FINAL_NOT_AT_END = 4; // terminal, and another state than the root
    uint8 internal constant STATE_MATCHES = 5;
    uint8 internal constant STATE_DIFFERS = 6;
    uint8 internal constant TRAP_INTO_ROOT = 7; // the last step traps into the claimed root
    uint8 internal constant TRAP_INTO_OTHER = 8;
    uint8 internal constant LEAF_MATCHES = 9;
    uint8 internal constant LEAF_DIFFERS = 10;
    uint8 internal constant STEP_COUNT_SHORT = 11; // the job goes on after its claimed end

    // The pre-state header (SPEC 1.6; big-endian fields): what the ruling reads of it.
    uint256 private constant HEADER_BYTES = 394;
    uint256 private constant MAX_PROOF_BYTES = 8192;
    uint256 private constant AT_X0 = 23;
    uint256 private constant AT_STEPS = 235;
    uint256 private constant AT_MAX_STEPS = 243;
    uint256 private constant AT_STATUS = 251;
    uint256 private constant AT_TRAP_KIND = 252;
    uint256 private constant AT_OPEN_FDS = 313;
    uint256 private constant STATUS_TRAPPED = 2;
    uint256 private constant MAX_STATUS = 3;
    uint256 private constant MAX_TRAP_KIND = 8;

    /// The executor's claim one step after the agreed state.
    struct Claim {
        uint8 kind;
        /// The leaf's digest (LEAF), the next state (STATE) or the state root (FINAL).
        bytes32 claimed;
        /// LEAF only: what keys and chains the leaf (SPEC 3.4).
        bytes32 uniqueSecret;
        bytes32 link;
    }

    /// Rules on claim `c`, made one step after `agreed`, from `proof`, a step proof whose
    /// header must hash to `agreed`. Reverts when the proof shows nothing: its header is not
    /// `agreed`'s, or the step verifier refuses it. A terminal header is read here and not
    /// stepped (the verifier refuses a pre-state that is not running). Pure, since the
    /// verifier's `step` is: a static call that reads nothing but its arguments.
    function rule(IPoieStep verifier, bytes32 agreed, Claim memory c, bytes calldata proof)
        internal
        pure
        returns (bool executorLoses, uint8 reason)
    {
        uint256 pos = _agreedHeader(agreed, proof);
        if (_terminal(pos)) {
            // T: the job ends at the agreed state; only its state root may be claimed there.
            _checkHeader(pos);
            if (c.kind != FINAL) return (true, CLAIM_AFTER_END);
            return c.claimed == agreed ? (false, FINAL_AT_END) : (true, FINAL_NOT_AT_END);
        }
        (bytes32 post, bool retired, bytes32 chunk) = verifier.step(agreed, proof);
        if (!retired) {
            // A trap emits no chunk and ends the job: only its final state comes after it.
            if (c.kind != FINAL) return (true, CLAIM_AFTER_TRAP);
            return post == c.claimed ? (false, TRAP_INTO_ROOT) : (true, TRAP_INTO_OTHER);
        }
        if (c.kind == STATE) return post == c.claimed ? (false, STATE_MATCHES) : (true, STATE_DIFFERS);
        if (c.kind == LEAF) {
            return GameTree.leaf(c.uniqueSecret, chunk, c.link) == c.claimed
                ? (false, LEAF_MATCHES)
                : (true, LEAF_DIFFERS);
        }
        // A final claim after a step that retires: the claimed step count is short.
        return (true, STEP_COUNT_SHORT);
    }

    /// Where the proof's header lies in calldata, once it is checked to be the agreed state's.
    function _agreedHeader(bytes32 agreed, bytes calldata proof) private pure returns (uint256 pos) {
        if (proof.length < HEADER_BYTES || proof.length > MAX_PROOF_BYTES) revert BadProof();
        bytes32 header;
        assembly ("memory-safe") {
            pos := proof.offset
            let p := mload(0x40)
            calldatacopy(p, pos, HEADER_BYTES)
            header := keccak256(p, HEADER_BYTES)
        }
        if (header != agreed) revert HeaderNotAgreed();
    }

    /// SPEC 6.7's T: the status is not running, or the steps reached the step limit.
    function _terminal(uint256 pos) private pure returns (bool) {
        return _byte(pos + AT_STATUS) != 0 || _word(pos + AT_STEPS) >> 192 >= _word(pos + AT_MAX_STEPS) >> 192;
    }

    /// `Header::decode`'s checks for a header the verifier will not see (SPEC 1.6): the domain,
    /// a known status and trap kind that agree, x0 = 0, no open fd above 2.
    function _checkHeader(uint256 pos) private pure {
        uint256 status = _byte(pos + AT_STATUS);
        uint256 trapKind = _byte(pos + AT_TRAP_KIND);
        bool ok = bytes15(bytes32(_word(pos))) == bytes15("poie/v1/vmstate") && status <= MAX_STATUS
            && trapKind <= MAX_TRAP_KIND && (status == STATUS_TRAPPED) == (trapKind != 0)
            && _word(pos + AT_X0) >> 224 == 0 && _byte(pos + AT_OPEN_FDS) <= 7;
        if (!ok) revert BadHeader();
    }

    function _word(uint256 pos) private pure returns (uint256 w) {
        assembly {
            w := calldataload(pos)
        }
    }

    function _byte(uint256 pos) private pure returns (uint256 b) {
        assembly {
            b := byte(0, calldataload(pos))
        }
    }
}
