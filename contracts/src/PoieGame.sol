// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {GameRuling, IPoieStep} from "./GameRuling.sol";
import {GameTree, WrongPath} from "./GameTree.sol";
import {GameVote, WrongSalt} from "./GameVote.sol";

/// No game has this id.
error UnknownGame();
/// The game is not at a stage where this move is played; `stage` is where it is.
error WrongStage(uint8 stage);
/// Only the party whose move it is may make it.
error NotYourMove();
/// The mover's deadline has passed: only `timeout` ends the game now.
error DeadlinePassed();
/// The deadline has not passed yet.
error NotExpired();
/// The revealed top root does not give the vote's root.
error WrongTop();
/// The revealed children do not hash to the current node.
error WrongChildren();
/// A round answers another number of states than the bisection has points.
error WrongCount();
/// The re-supplied states are not the executor's commitments of this round.
error WrongStates();
/// The disputed index is not one of the round's points.
error NotAPoint();
/// A move's time must be at least a second and fit the deadlines' 40 bits with room to spare.
error BadMoveSeconds();

/// The challenge game on-chain (SPEC 6.5 and 6.7, docs/PROTOCOL.md "The challenge game"): the
/// same two phases as the TCP game, but every move is a transaction from the party's own
/// account, and a party that does not move within `moveSeconds` of the last move loses
/// (`timeout`). That is the clock both sides trust which the off-chain game lacks, so silence
/// is punished here, where a transcript can only call it unproven.
///
/// The executor is the version-4 vote's address (its moves must come from that account); the
/// challenger is whoever opened the game, after the salt's reveal (`open` takes the salt).
///
/// 1. The descent (SPEC 3.5): from the top root, the executor reveals the two children of the
///    current node and the challenger picks one, through the top tree over the used lanes into
///    one lane's tree, down to one leaf: its global index and the executor's digest of it.
/// 2. The link: in a chained layout past a lane's first leaf the executor shows the leaf's link
///    is its lane's previous leaf (an audit path to the lane root it revealed); else it is 0.
/// 3. The second phase over the leaf's job (`startStates`), or over a job's final claim
///    (`disputeJob`, instead of the descent): 16-way bisection over the job's states.
/// 4. The ruling (`prove`): one step proof from the agreed state (GameRuling, SPEC 6.7).
///
/// No bonds, fees or rewards: the game only decides who lost (`outcome`); what a loss costs is
/// left to whatever contract or process consumes the outcome. Anyone can therefore open games
/// against any vote whose salt is revealed, and the executor must answer each one.
contract PoieGame {
    // Stages: whose move it is (the comment names the mover and the move).
    uint8 internal constant NONE = 0;
    uint8 internal constant TOP = 1; // executor: revealTop
    uint8 internal constant REVEAL = 2; // executor: reveal
    uint8 internal constant PICK = 3; // challenger: pick
    uint8 internal constant LINK = 4; // executor: openLink
    uint8 internal constant LEAF = 5; // challenger: startStates (or disputeJob)
    uint8 internal constant CLAIMS = 6; // challenger: disputeJob (n = 0: no trace to descend)
    uint8 internal constant COMMIT = 7; // executor: commitStates
    uint8 internal constant DISPUTE = 8; // challenger: disputeAt
    uint8 internal constant PROVE = 9; // anyone: prove (the challenger loses at the deadline)
    uint8 internal constant EXECUTOR_LOST = 10;
    uint8 internal constant CHALLENGER_LOST = 11;

    /// `outcome`'s values.
    uint8 internal constant RUNNING = 0;
    uint8 internal constant OUTCOME_EXECUTOR_LOST = 1;
    uint8 internal constant OUTCOME_CHALLENGER_LOST = 2;

    // Reasons of Ended besides GameRuling's (1 to 11).
    uint8 internal constant STEPS_DO_NOT_ADD_UP = 12;
    uint8 internal constant TIMEOUT = 13;

    /// The shortest move time a game may be deployed with: a vote names no deployment, so a
    /// game deployed with seconds to move would let its deployer win on timeouts against any
    /// revealed vote. Whoever relies on an outcome must still pin the deployment it trusts.
    uint64 internal constant MIN_MOVE_SECONDS = 3600;

    /// One game, in 9 slots: fields a move uses together share a slot (each move touches two to
    /// five), and slots 5 to 7 change meaning between the phases rather than each phase taking
    /// slots of its own, so that a move rewrites a warm non-zero slot (2.9k gas) where a fresh
    /// one would cost 22.1k.
    struct Game {
        // Slot 0: who, whose move until when, and the tree's layout.
        address executor;
        uint8 stage;
        uint40 deadline;
        uint32 lanes;
        bool chained;
        /// Why the game ended (`Ended`'s reason), 0 while it runs: a timeout is not a fault.
        uint8 endReason;
        // Slot 1.
        address challenger;
        uint32 n;
        /// The second phase's job.
        uint32 job;
        /// Descent: the current node is a lane tree's (else the top tree's).
        bool inLane;
        /// Descent: the current node's digest is `right` (else `left`).
        bool atRight;
        /// Second phase: the claim at `end` is the job's state root (else the opened leaf).
        bool finalClaim;
        // Slot 2: descent: the current node's range (lanes in the top tree, positions in lane
        // `lane`'s); second phase: the bisection's interval and its original right end.
        uint64 lo;
        uint64 hi;
        uint64 end;
        uint32 lane;
        /// The opened leaf's global index `position * L + lane`.
        uint32 leafIndex;
        // Slot 3.
        bytes32 uniqueSecret;
        // Slot 4: keccak256 of the vote's jobs region (72 bytes a job).
        bytes32 jobsHash;
        // Slot 5: the vote's root until the top is revealed, then the current node or the left
        // child; second phase: the executor's commitment at `lo` (the job's initial state at 0).
        bytes32 left;
        // Slot 6: the right child; second phase: the executor's claim at `hi` (at `end`: the
        // leaf's digest or the job's state root).
        bytes32 right;
        // Slot 7: the lane root, recorded when the descent enters a lane; then the link.
        bytes32 aux;
        // Slot 8: keccak256 of the executor's states of the current round.
        bytes32 commits;
    }

    IPoieStep public immutable stepVerifier;
    uint64 public immutable moveSeconds;
    uint256 public gameCount;
    mapping(uint256 => Game) private games;

    event Opened(
        uint256 indexed id,
        address indexed executor,
        address indexed challenger,
        bytes32 root,
        uint256 n,
        uint256 lanes,
        bool chained
    );
    event TopRevealed(uint256 indexed id, bytes32 top);
    /// The current node of the descent (after the top root and after each pick), and its digest:
    /// a top node covers lanes [lo, hi), a lane node positions [lo, hi) of lane `lane`. A node
    /// of more than one leaf waits for the executor's children.
    event Node(uint256 indexed id, bool inLane, uint256 lane, uint256 lo, uint256 hi, bytes32 digest);
    event ChildrenRevealed(uint256 indexed id, bytes32 left, bytes32 right);
    event Picked(uint256 indexed id, bool right);
    /// The descent reached leaf `index` (lane `lane`, position `position`); `linkNeeded` when
    /// the executor must open its link next.
    event LeafReached(uint256 indexed id, uint256 index, uint256 lane, uint256 position, bytes32 digest, bool linkNeeded);
    event LinkOpened(uint256 indexed id, bytes32 link);
    /// The second phase over job `job`'s states [0, end]: state 0 is `initial`, and the
    /// executor's claim at `end` is `claim` (the leaf's digest, or the state root if final).
    event StatesStarted(uint256 indexed id, uint256 job, uint256 end, bool finalClaim, bytes32 initial, bytes32 claim);
    /// The executor's commitments at the points of (lo, hi) (`points(id)` before the move).
    event StatesCommitted(uint256 indexed id, uint256 lo, uint256 hi, bytes32[] states);
    /// The challenger's choice (`type(uint256).max`: none disputed) and the interval it leaves.
    event Narrowed(uint256 indexed id, uint256 firstDisputed, uint256 lo, uint256 hi);
    /// The game is over: `outcome` as `outcome(id)`, `reason` GameRuling's or this contract's.
    event Ended(uint256 indexed id, uint8 outcome, uint8 reason);

    constructor(address verifier, uint64 seconds_) {
        if (seconds_ < MIN_MOVE_SECONDS || seconds_ > type(uint32).max) revert BadMoveSeconds();
        stepVerifier = IPoieStep(verifier);
        moveSeconds = seconds_;
    }

    // ---------------------------------------------------------------------------------------
    // Opening

    /// Opens a game against a version-4 vote (`message`, its Ethereum signature `ethSig` by the
    /// vote's address, and the revealed `salt`), with the sender as the challenger. A vote whose
    /// jobs' steps do not add up to its n loses at once (its own contradiction).
    function open(bytes calldata message, bytes calldata ethSig, bytes32 salt) external returns (uint256 id) {
        GameVote.Vote memory v = GameVote.read(message, ethSig, salt);
        id = ++gameCount;
        Game storage g = games[id];
        g.executor = v.executor;
        g.lanes = v.lanes;
        g.chained = v.chained;
        g.challenger = msg.sender;
        g.n = v.n;
        emit Opened(id, v.executor, msg.sender, v.root, v.n, v.lanes, v.chained);
        if (!v.stepsAddUp) {
            _end(g, id, EXECUTOR_LOST, STEPS_DO_NOT_ADD_UP);
            return id;
        }
        g.uniqueSecret = v.uniqueSecret;
        g.jobsHash = v.jobsHash;
        g.left = v.root;
        // n = 0: there is no trace to descend, but the jobs' claims (all of 0 steps) remain.
        _next(g, v.n == 0 ? CLAIMS : TOP);
    }

    // ---------------------------------------------------------------------------------------
    // The descent (SPEC 3.5)

    /// The executor's top root, which must give the vote's root (SPEC 3.6).
    function revealTop(uint256 id, bytes32 top) external {
        Game storage g = _mover(id, TOP, true);
        if (GameTree.commitmentRoot(g.lanes, g.chained, g.n, top) != g.left) revert WrongTop();
        g.left = top;
        g.lo = 0;
        g.hi = uint64(GameTree.usedLanes(g.n, g.lanes));
        emit TopRevealed(id, top);
        _settle(g, id);
    }

    /// The executor's children of the current node: `node(left, right)` must be its digest.
    function reveal(uint256 id, bytes32 left, bytes32 right) external {
        Game storage g = _mover(id, REVEAL, true);
        bytes32 current = g.atRight ? g.right : g.left;
        if (GameTree.node(left, right) != current) revert WrongChildren();
        g.left = left;
        g.right = right;
        emit ChildrenRevealed(id, left, right);
        _next(g, PICK);
    }

    /// The challenger's choice of child (it descends into one whose digest it disputes).
    function pick(uint256 id, bool right) external {
        Game storage g = _mover(id, PICK, false);
        uint256 mid = GameTree.split(g.lo, g.hi);
        if (right) g.lo = uint64(mid);
        else g.hi = uint64(mid);
        g.atRight = right;
        emit Picked(id, right);
        _settle(g, id);
    }

    /// After the top root and each pick: a top node of one lane is that lane's root (recorded,
    /// and the descent goes on in its tree); a lane node of one position is the disputed leaf.
    function _settle(Game storage g, uint256 id) private {
        bytes32 digest = g.atRight ? g.right : g.left;
        if (!g.inLane && g.hi - g.lo == 1) {
            uint256 lane = g.lo;
            (g.lo, g.hi) = (0, uint64(GameTree.laneLength(g.n, g.lanes, lane)));
            (g.lane, g.inLane) = (uint32(lane), true);
            g.aux = digest;
        }
        uint256 lo = g.lo;
        emit Node(id, g.inLane, g.lane, lo, g.hi, digest);
        if (g.hi - lo > 1) return _next(g, REVEAL);
        uint256 index = lo * g.lanes + g.lane;
        g.leafIndex = uint32(index);
        bool linkNeeded = g.chained && lo > 0;
        emit LeafReached(id, index, g.lane, lo, digest, linkNeeded);
        _next(g, linkNeeded ? LINK : LEAF);
    }

    /// The executor's link of the disputed leaf (chained, position p > 0): `path` is the audit
    /// path of position p - 1 in the lane's tree, and must give the lane root it revealed, so
    /// the link is the lane's previous leaf as the executor committed it.
    function openLink(uint256 id, bytes32 link, bytes32[] calldata path) external {
        Game storage g = _mover(id, LINK, true);
        uint256 lane = g.lane;
        uint256 p = g.leafIndex / g.lanes;
        uint256 m = GameTree.laneLength(g.n, g.lanes, lane);
        if (GameTree.rootFromPath(link, p - 1, m, path) != g.aux) revert WrongPath();
        g.aux = link;
        emit LinkOpened(id, link);
        _next(g, LEAF);
    }

    // ---------------------------------------------------------------------------------------
    // The second phase (SPEC 6.7)

    /// The challenger disputes the opened leaf's chunk: the bisection runs over its job's states
    /// [0, s + 1], s the leaf's step within its job, with the leaf at s + 1. `jobs` is the vote's
    /// jobs region, re-supplied.
    function startStates(uint256 id, bytes calldata jobs) external {
        Game storage g = _mover(id, LEAF, false);
        GameVote.checkJobs(jobs, g.jobsHash);
        (uint256 k, uint256 s) = GameVote.locate(jobs, g.leafIndex);
        (bytes32 initial,,) = GameVote.jobAt(jobs, k);
        bytes32 digest = g.atRight ? g.right : g.left;
        _startBisection(g, id, k, s + 1, false, initial, digest);
    }

    /// The challenger disputes job `k`'s claim (its step count and state root) instead of a
    /// leaf: the bisection runs over [0, steps_k + 1] with the state root at the end. Allowed
    /// anywhere before the second phase, so that an executor cannot race the choice away.
    function disputeJob(uint256 id, bytes calldata jobs, uint32 k) external {
        Game storage g = _game(id);
        uint8 stage = g.stage;
        if (stage < TOP || stage > CLAIMS) revert WrongStage(stage);
        if (msg.sender != g.challenger) revert NotYourMove();
        if (block.timestamp > g.deadline) revert DeadlinePassed();
        (bytes32 initial, uint256 steps, bytes32 stateRoot) = GameVote.job(jobs, g.jobsHash, k);
        _startBisection(g, id, k, steps + 1, true, initial, stateRoot);
    }

    function _startBisection(
        Game storage g,
        uint256 id,
        uint256 k,
        uint256 end,
        bool finalClaim,
        bytes32 initial,
        bytes32 claim
    ) private {
        (g.lo, g.hi, g.end) = (0, uint64(end), uint64(end));
        (g.job, g.finalClaim) = (uint32(k), finalClaim);
        (g.left, g.right) = (initial, claim);
        emit StatesStarted(id, k, end, finalClaim, initial, claim);
        _next(g, end == 1 ? PROVE : COMMIT);
    }

    /// The executor's state commitments at this round's points (`points(id)`), one each.
    function commitStates(uint256 id, bytes32[] calldata states) external {
        Game storage g = _mover(id, COMMIT, true);
        uint256 lo = g.lo;
        uint256 hi = g.hi;
        if (states.length != GameTree.points(lo, hi).length) revert WrongCount();
        g.commits = _hash(states);
        emit StatesCommitted(id, lo, hi, states);
        _next(g, DISPUTE);
    }

    /// The challenger's choice in this round: the index of the first point whose committed
    /// state it disputes, or `type(uint256).max` for none (`Bisection::narrow`). `states` are
    /// the executor's commitments of the round, re-supplied.
    function disputeAt(uint256 id, bytes32[] calldata states, uint256 firstDisputed) external {
        Game storage g = _mover(id, DISPUTE, false);
        if (_hash(states) != g.commits) revert WrongStates();
        uint256[] memory pts = GameTree.points(g.lo, g.hi);
        uint256 lo;
        uint256 hi = g.hi;
        if (firstDisputed == type(uint256).max) {
            // All agreed: the interval after the last point, the executor's claim at hi kept.
            uint256 last = pts.length - 1;
            lo = pts[last];
            (g.lo, g.left) = (uint64(lo), states[last]);
        } else {
            if (firstDisputed >= pts.length) revert NotAPoint();
            hi = pts[firstDisputed];
            (g.hi, g.right) = (uint64(hi), states[firstDisputed]);
            if (firstDisputed > 0) {
                lo = pts[firstDisputed - 1];
                (g.lo, g.left) = (uint64(lo), states[firstDisputed - 1]);
            } else {
                lo = g.lo;
            }
        }
        emit Narrowed(id, firstDisputed, lo, hi);
        _next(g, hi - lo == 1 ? PROVE : COMMIT);
    }

    /// The ruling at one step (SPEC 6.7): anyone may submit the step proof from the agreed
    /// state (the challenger can always build it, so the challenger loses at the deadline if
    /// none comes). A proof that shows nothing (header not the agreed state's, refused by the
    /// verifier) reverts and changes nothing.
    function prove(uint256 id, bytes calldata stepProof) external {
        Game storage g = _game(id);
        if (g.stage != PROVE) revert WrongStage(g.stage);
        if (block.timestamp > g.deadline) revert DeadlinePassed();
        GameRuling.Claim memory c = GameRuling.Claim(GameRuling.STATE, g.right, 0, 0);
        if (g.hi == g.end && g.finalClaim) {
            c.kind = GameRuling.FINAL;
        } else if (g.hi == g.end) {
            c.kind = GameRuling.LEAF;
            c.uniqueSecret = g.uniqueSecret;
            // The link: 0 unless chained past the lane's first leaf (then the opened one).
            if (g.chained && g.leafIndex >= g.lanes) c.link = g.aux;
        }
        (bool executorLoses, uint8 reason) = GameRuling.rule(stepVerifier, g.left, c, stepProof);
        _end(g, id, executorLoses ? EXECUTOR_LOST : CHALLENGER_LOST, reason);
    }

    /// Ends a game whose mover let its deadline pass: that party loses.
    function timeout(uint256 id) external {
        Game storage g = _game(id);
        uint8 stage = g.stage;
        if (stage == NONE || stage >= EXECUTOR_LOST) revert WrongStage(stage);
        if (block.timestamp <= g.deadline) revert NotExpired();
        _end(g, id, _executorMoves(stage) ? EXECUTOR_LOST : CHALLENGER_LOST, TIMEOUT);
    }

    // ---------------------------------------------------------------------------------------
    // Stateless judgement: a ruling of an off-chain transcript replayed in an EVM

    /// The inputs of `judgeLeaf`: a vote's commitment (root, layout, n), the executor's address
    /// and its revealed salt, the opening of leaf `index` as the executor signed it (its
    /// digest, link and RFC 9162 audit paths, SPEC 3.7), the agreed state one step before the
    /// leaf, and the step proof from it.
    struct JudgeLeafInput {
        bytes32 root;
        uint32 lanes;
        bool chained;
        uint64 n;
        address executor;
        bytes32 salt;
        bytes32 saltCommitment;
        uint64 index;
        /// The executor's digest of the leaf.
        bytes32 leaf;
        bytes32[] laneBranch;
        bytes32[] topBranch;
        /// The leaf's link: 0 and `prevBranch` empty unless chained at position p > 0.
        bytes32 link;
        bytes32[] prevBranch;
        bytes32 agreed;
        bytes stepProof;
    }

    /// Whether the executor loses on its leaf `x.index`: the leaf must be the vote's (its
    /// branches recompute the root, SPEC 3.7; else WrongPath), and then the step from
    /// `x.agreed` rules as `prove` does on a leaf claim.
    ///
    /// Stateless: `root`, `executor`, `saltCommitment` and `agreed` are taken as given, so the
    /// answer proves nothing unless the caller authenticated them (the vote's signature, and
    /// the agreed state as the executor's own commitment); any state with a valid step from it
    /// "convicts" an honest leaf. The same holds for `judgeOpening` and `judgeState`.
    function judgeLeaf(JudgeLeafInput calldata x) external view returns (bool executorLoses) {
        if (keccak256(abi.encodePacked("poie/v1/salt", x.salt)) != x.saltCommitment) revert WrongSalt();
        _checkOpening(x);
        bytes32 uniqueSecret = keccak256(abi.encodePacked("poie/v1/unique-secret", x.salt, x.executor));
        GameRuling.Claim memory c = GameRuling.Claim(GameRuling.LEAF, x.leaf, uniqueSecret, x.link);
        (executorLoses,) = GameRuling.rule(stepVerifier, x.agreed, c, x.stepProof);
    }

    /// Whether the executor loses on the chunk it opened at `x.index` (off-chain games: the
    /// link is the one the executor signed in its opening, and `x.prevBranch` must be empty):
    /// the opened `chunk` and `x.link` must hash to `x.leaf` under the unique secret, the leaf
    /// must be the vote's (lane and top branches to the root), and the step from `x.agreed`
    /// must give another chunk for the executor to lose. Whether the link is the lane's
    /// previous leaf is another dispute (the link dispute), settled without a step.
    function judgeOpening(JudgeLeafInput calldata x, bytes32 chunk) external view returns (bool executorLoses) {
        if (keccak256(abi.encodePacked("poie/v1/salt", x.salt)) != x.saltCommitment) revert WrongSalt();
        if (x.prevBranch.length != 0) revert WrongPath();
        _leafUnderRoot(x);
        bytes32 uniqueSecret = keccak256(abi.encodePacked("poie/v1/unique-secret", x.salt, x.executor));
        if (keccak256(abi.encodePacked(bytes1(0x00), uniqueSecret, chunk, x.link)) != x.leaf) revert WrongPath();
        GameRuling.Claim memory c = GameRuling.Claim(GameRuling.LEAF, x.leaf, uniqueSecret, x.link);
        (executorLoses,) = GameRuling.rule(stepVerifier, x.agreed, c, x.stepProof);
    }

    /// SPEC 3.7's steps 2 to 5 for the leaf's digest (not its chunk, which the step gives).
    function _checkOpening(JudgeLeafInput calldata x) private pure {
        (bytes32 laneRoot, uint256 p, uint256 m) = _leafUnderRoot(x);
        if (x.chained && p > 0) {
            if (GameTree.rootFromPath(x.link, p - 1, m, x.prevBranch) != laneRoot) revert WrongPath();
        } else if (x.link != 0 || x.prevBranch.length != 0) {
            revert WrongPath();
        }
    }

    /// The leaf's lane root, position and lane length, after checking that the leaf's lane and
    /// top branches give the vote's root.
    function _leafUnderRoot(JudgeLeafInput calldata x) private pure returns (bytes32 laneRoot, uint256 p, uint256 m) {
        uint256 lanes = x.lanes;
        uint256 n = x.n;
        if (lanes == 0 || lanes > GameVote.MAX_LANES || n > GameVote.MAX_CHUNKS || x.index >= n) {
            revert WrongPath();
        }
        uint256 j = x.index % lanes;
        p = x.index / lanes;
        m = GameTree.laneLength(n, lanes, j);
        laneRoot = GameTree.rootFromPath(x.leaf, p, m, x.laneBranch);
        bytes32 top = GameTree.rootFromPath(laneRoot, j, GameTree.usedLanes(n, lanes), x.topBranch);
        if (GameTree.commitmentRoot(lanes, x.chained, n, top) != x.root) revert WrongPath();
    }

    /// Whether the executor loses on its claim one step after `agreed`: the next state's
    /// commitment (`finalClaim` false) or the job's state root at its claimed end (true).
    function judgeState(bytes32 agreed, bool finalClaim, bytes32 claimed, bytes calldata stepProof)
        external
        view
        returns (bool executorLoses)
    {
        GameRuling.Claim memory c =
            GameRuling.Claim(finalClaim ? GameRuling.FINAL : GameRuling.STATE, claimed, 0, 0);
        (executorLoses,) = GameRuling.rule(stepVerifier, agreed, c, stepProof);
    }

    // ---------------------------------------------------------------------------------------
    // Views: what a player needs to know whose move it is and what to answer

    /// 0 while the game runs, 1 when the executor lost, 2 when the challenger lost.
    function outcome(uint256 id) external view returns (uint8) {
        uint8 stage = _game(id).stage;
        if (stage == EXECUTOR_LOST) return OUTCOME_EXECUTOR_LOST;
        if (stage == CHALLENGER_LOST) return OUTCOME_CHALLENGER_LOST;
        return RUNNING;
    }

    /// Why the game ended: GameRuling's reasons 1 to 11 (a step's ruling), 12 (the vote's steps
    /// do not add up to its n), 13 (a timeout: the loser did not move, which proves no fault);
    /// 0 while it runs.
    function endReason(uint256 id) external view returns (uint8) {
        return _game(id).endReason;
    }

    /// The stage (the constants above), who must move (address(0) for anyone, or after the
    /// end), and the last second at which the move is accepted.
    function status(uint256 id) external view returns (uint8 stage, address mover, uint256 deadline) {
        Game storage g = _game(id);
        stage = g.stage;
        deadline = g.deadline;
        if (stage < PROVE) mover = _executorMoves(stage) ? g.executor : g.challenger;
    }

    function players(uint256 id) external view returns (address executor, address challenger) {
        Game storage g = _game(id);
        return (g.executor, g.challenger);
    }

    /// The descent: the current node (`inLane`, `lane`, range [lo, hi)), the two digests
    /// (before a pick: the revealed children; otherwise `atRight` says which is the node's),
    /// the lane root (or, once opened, the link) and the opened leaf's index.
    function descent(uint256 id)
        external
        view
        returns (
            bool inLane,
            uint256 lane,
            uint256 lo,
            uint256 hi,
            bytes32 left,
            bytes32 right,
            bool atRight,
            bytes32 laneRootOrLink,
            uint256 leafIndex
        )
    {
        Game storage g = _game(id);
        return (g.inLane, g.lane, g.lo, g.hi, g.left, g.right, g.atRight, g.aux, g.leafIndex);
    }

    /// The second phase: the job, the interval [lo, hi], its original right end, whether the
    /// claim there is final, and the executor's commitments at lo and hi.
    function bisection(uint256 id)
        external
        view
        returns (uint256 job, uint256 lo, uint256 hi, uint256 end, bool finalClaim, bytes32 atLo, bytes32 atHi)
    {
        Game storage g = _game(id);
        return (g.job, g.lo, g.hi, g.end, g.finalClaim, g.left, g.right);
    }

    /// The points the executor must commit to in this round (meaningful at COMMIT and DISPUTE).
    function points(uint256 id) external view returns (uint256[] memory) {
        Game storage g = _game(id);
        return GameTree.points(g.lo, g.hi);
    }

    // ---------------------------------------------------------------------------------------

    function _game(uint256 id) private view returns (Game storage g) {
        g = games[id];
        if (g.stage == NONE) revert UnknownGame();
    }

    /// The game, if it is at `stage`, the sender is the mover (the executor if `byExecutor`)
    /// and the deadline has not passed.
    function _mover(uint256 id, uint8 stage, bool byExecutor) private view returns (Game storage g) {
        g = _game(id);
        if (g.stage != stage) revert WrongStage(g.stage);
        if (msg.sender != (byExecutor ? g.executor : g.challenger)) revert NotYourMove();
        if (block.timestamp > g.deadline) revert DeadlinePassed();
    }

    function _executorMoves(uint8 stage) private pure returns (bool) {
        return stage == TOP || stage == REVEAL || stage == LINK || stage == COMMIT;
    }

    /// The next stage, with a fresh deadline for its mover.
    function _next(Game storage g, uint8 stage) private {
        (g.stage, g.deadline) = (stage, uint40(block.timestamp + moveSeconds));
    }

    function _end(Game storage g, uint256 id, uint8 stage, uint8 reason) private {
        (g.stage, g.endReason) = (stage, reason);
        emit Ended(id, stage == EXECUTOR_LOST ? OUTCOME_EXECUTOR_LOST : OUTCOME_CHALLENGER_LOST, reason);
    }

    /// keccak256 of a bytes32[]'s words.
    function _hash(bytes32[] calldata words) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            let len := mul(words.length, 32)
            calldatacopy(p, words.offset, len)
            h := keccak256(p, len)
        }
    }
}
