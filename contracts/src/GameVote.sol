// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {GameTree} from "./GameTree.sol";

/// The vote is not a version-4 vote the game takes: `why` says which rule it breaks (the
/// constants `BAD_*` of GameVote).
error BadVote(uint8 why);
/// The Ethereum signature does not recover the vote's address (or is malleable: high s, v
/// other than 27 and 28).
error BadSignature();
/// The salt is not the one the vote commits to.
error WrongSalt();
/// The jobs bytes are not the vote's jobs region, or name no such job.
error WrongJobs();

/// A version-4 vote (SPEC 6.3, on-chain profile) read from calldata: its signed bytes are
/// `"poie/v1/vote" || version (u32 LE) || address (20) || ed25519 key (32) || salt commitment
/// (32) || windback (32) || count (u64 LE) || count x (initial state (32) || steps (u64 LE) ||
/// state root (32)) || n (u64 LE) || max_steps (u64 LE) || params (7) || root (32)`, signed by
/// the address's secp256k1 key over their keccak256 with no prefix.
library GameVote {
    uint256 internal constant VERSION = 4;
    /// SPEC 6.3's caps: a vote beyond either is invalid.
    uint256 internal constant MAX_CHUNKS = 1 << 28;
    uint256 internal constant MAX_JOBS = 4096;
    uint256 internal constant MAX_LANES = 65536;
    /// One job's claim in the jobs region: initial state, steps, state root.
    uint256 internal constant JOB_BYTES = 72;

    // Fixed offsets of the message.
    uint256 private constant AT_VERSION = 12;
    uint256 private constant AT_ADDRESS = 16;
    uint256 private constant AT_SALT_COMMITMENT = 68;
    uint256 private constant AT_COUNT = 132;
    uint256 private constant AT_JOBS = 140;
    /// The message without its jobs: 140 bytes before them, 55 after (n, max_steps, params,
    /// root).
    uint256 private constant FIXED_BYTES = 195;

    /// secp256k1's group order over 2: a larger s is the malleable twin of a valid signature.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // Reasons of BadVote.
    uint8 internal constant BAD_LENGTH = 1;
    uint8 internal constant BAD_DOMAIN = 2;
    uint8 internal constant BAD_VERSION = 3;
    uint8 internal constant BAD_PARAMS = 4;
    uint8 internal constant BAD_LANES = 5;
    uint8 internal constant BAD_CHAINED = 6;
    uint8 internal constant BEYOND_CAP = 7;
    uint8 internal constant TOO_MANY_JOBS = 8;

    /// What the game keeps of a vote.
    struct Vote {
        address executor;
        uint32 lanes;
        bool chained;
        uint32 n;
        bytes32 root;
        bytes32 uniqueSecret;
        /// keccak256 of the jobs region, so that later moves can re-supply it.
        bytes32 jobsHash;
        /// Whether the jobs' steps add up to n (if not, the executor loses from the vote).
        bool stepsAddUp;
    }

    /// Reads and checks `message`, its signature and the revealed `salt`; reverts when any of
    /// them is not a valid version-4 vote's. A vote whose steps do not add up is valid here
    /// (`stepsAddUp` false): it is the executor's own signed contradiction.
    function read(bytes calldata message, bytes calldata ethSig, bytes32 salt) internal pure returns (Vote memory v) {
        uint256 base;
        assembly {
            base := message.offset
        }
        uint256 len = message.length;
        if (len < FIXED_BYTES) revert BadVote(BAD_LENGTH);
        uint256 count = GameTree.reverse64(_word(base + AT_COUNT) >> 192);
        // The cap first: a huge count must not reach the length arithmetic's bound.
        if (count > MAX_JOBS) revert BadVote(TOO_MANY_JOBS);
        if (len != FIXED_BYTES + JOB_BYTES * count) revert BadVote(BAD_LENGTH);
        if (bytes12(bytes32(_word(base))) != bytes12("poie/v1/vote")) revert BadVote(BAD_DOMAIN);
        if (GameTree.reverse32(_word(base + AT_VERSION) >> 224) != VERSION) revert BadVote(BAD_VERSION);

        uint256 tail = base + AT_JOBS + JOB_BYTES * count;
        uint256 n = GameTree.reverse64(_word(tail) >> 192);
        // params at tail + 16: version (1), hash code (1), L (u32 LE), chained (1).
        uint256 params = _word(tail + 16) >> 200;
        if (params >> 48 != 1 || (params >> 40) & 0xff != 2) revert BadVote(BAD_PARAMS);
        uint256 lanes = GameTree.reverse32((params >> 8) & 0xffffffff);
        if (lanes == 0 || lanes > MAX_LANES) revert BadVote(BAD_LANES);
        uint256 chained = params & 0xff;
        if (chained > 1) revert BadVote(BAD_CHAINED);
        if (n > MAX_CHUNKS) revert BadVote(BEYOND_CAP);

        v.executor = address(uint160(_word(base + AT_ADDRESS) >> 96));
        _checkSignature(message, ethSig, v.executor);
        if (keccak256(abi.encodePacked("poie/v1/salt", salt)) != bytes32(_word(base + AT_SALT_COMMITMENT))) {
            revert WrongSalt();
        }
        v.uniqueSecret = keccak256(abi.encodePacked("poie/v1/unique-secret", salt, v.executor));
        v.lanes = uint32(lanes);
        v.chained = chained == 1;
        v.n = uint32(n);
        v.root = bytes32(_word(tail + 23));
        v.jobsHash = _hashJobs(base + AT_JOBS, JOB_BYTES * count);
        v.stepsAddUp = _stepsSum(base + AT_JOBS, count) == n;
    }

    /// `ecrecover(keccak256(message), v, r, s) == executor`, strictly: v 27 or 28, s in the
    /// lower half (one signature per vote), and never the zero address ecrecover gives for an
    /// invalid signature.
    function _checkSignature(bytes calldata message, bytes calldata ethSig, address executor) private pure {
        if (ethSig.length != 65) revert BadSignature();
        bytes32 digest = keccak256(message);
        bytes32 r = bytes32(ethSig[0:32]);
        uint256 s = uint256(bytes32(ethSig[32:64]));
        uint8 v = uint8(ethSig[64]);
        if ((v != 27 && v != 28) || s > HALF_ORDER) revert BadSignature();
        address signer = ecrecover(digest, v, r, bytes32(s));
        if (signer == address(0) || signer != executor) revert BadSignature();
    }

    /// The sum of the jobs' steps: the one loop over the jobs a vote needs when it is opened.
    function _stepsSum(uint256 pos, uint256 count) private pure returns (uint256 sum) {
        for (uint256 k = 0; k < count; ++k) {
            // 4096 jobs of u64 steps: the sum stays far below 2^256.
            sum += GameTree.reverse64(_word(pos + JOB_BYTES * k + 32) >> 192);
        }
    }

    /// keccak256 of `len` calldata bytes at `pos`.
    function _hashJobs(uint256 pos, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, pos, len)
            h := keccak256(p, len)
        }
    }

    /// One calldata word at an absolute offset (zeros past the end of calldata).
    function _word(uint256 pos) private pure returns (uint256 w) {
        assembly {
            w := calldataload(pos)
        }
    }

    /// Job `k` of a jobs region that the caller re-supplies: checked against the vote's hash,
    /// then read (`jobAt`).
    function job(bytes calldata jobs, bytes32 jobsHash, uint256 k)
        internal
        pure
        returns (bytes32 initial, uint256 steps, bytes32 stateRoot)
    {
        checkJobs(jobs, jobsHash);
        return jobAt(jobs, k);
    }

    /// Job `k`'s initial state, step count and state root, from a checked jobs region.
    function jobAt(bytes calldata jobs, uint256 k)
        internal
        pure
        returns (bytes32 initial, uint256 steps, bytes32 stateRoot)
    {
        if (k >= jobs.length / JOB_BYTES) revert WrongJobs();
        uint256 pos;
        assembly {
            pos := add(jobs.offset, mul(k, JOB_BYTES))
        }
        initial = bytes32(_word(pos));
        steps = GameTree.reverse64(_word(pos + 32) >> 192);
        stateRoot = bytes32(_word(pos + 40));
    }

    /// Reverts unless `jobs` is the vote's jobs region.
    function checkJobs(bytes calldata jobs, bytes32 jobsHash) internal pure {
        uint256 pos;
        assembly {
            pos := jobs.offset
        }
        if (_hashJobs(pos, jobs.length) != jobsHash) revert WrongJobs();
    }

    /// The job that chunk `index` of the trace belongs to and its step within the job: job `k`
    /// with `prefix_k <= index < prefix_k + steps_k`, `prefix_k` the steps of the jobs before
    /// it (SPEC 6.2: the trace is the jobs' traces concatenated). `jobs` must be checked.
    function locate(bytes calldata jobs, uint256 index) internal pure returns (uint256 k, uint256 step) {
        uint256 pos;
        assembly {
            pos := jobs.offset
        }
        uint256 count = jobs.length / JOB_BYTES;
        uint256 prefix = 0;
        for (k = 0; k < count; ++k) {
            uint256 steps = GameTree.reverse64(_word(pos + JOB_BYTES * k + 32) >> 192);
            if (index < prefix + steps) return (k, index - prefix);
            prefix += steps;
        }
        // Unreachable in a game: its vote's steps add up to n and index < n.
        revert WrongJobs();
    }
}
