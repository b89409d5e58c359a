//! The challenge game: bisection over the executor's committed tree, over TCP.
//!
//! The tree is the top tree over lane roots, whose leaves continue into the lane trees (a top
//! leaf *is* its lane's root). The challenger, holding the revealed salt, computes the correct
//! tree; each round the executor reveals the two children of the current node, which must hash
//! to it, and the challenger descends into the leftmost child that differs from its own. At a
//! leaf the executor opens it (chunk and link). Messages are newline-delimited JSON, at most
//! [`MAX_LINE`] bytes; each whole message must arrive within the timeout (a deadline per
//! message, not per read, so a peer dripping bytes cannot stretch it): a silent, slow, garbled or
//! lying executor loses; a challenge against a correct root loses.
//!
//! The executor's side ([`serve`]) treats every challenger as hostile: a node outside the tree,
//! an unexpected, malformed, oversized or late message is a protocol error that ends that
//! session (with an `error` reply when the connection allows), never the server. It plays
//! several sessions at once, up to a cap, and counts only sessions that ended cleanly as games.
//!
//! Both sides hold the trace's leaves in memory (32 bytes per step): fine for disputes over
//! windbacks of millions of steps, not for 10^9.

use crate::proof::hash::{Digest32, Hasher};
use crate::proof::layout::Params;
use crate::proof::tree::split_point;
use crate::trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Longest accepted message line, newline included. Honest messages are under 300 bytes; the
/// bound is what keeps a peer from making the other side buffer without end.
pub const MAX_LINE: usize = 64 * 1024;

/// Most messages the executor reads in one session. An honest game needs at most 82 (a hello,
/// one query per level of a top tree of at most 2^16 lanes and of a lane tree of at most 2^64
/// positions, an open); the cap bounds how long and how much hashing one challenger can take.
pub const MAX_SESSION_MESSAGES: u32 = 256;

/// Longest per-message timeout, in milliseconds (an hour): a longer one would let a silent peer
/// hold a session, and a server slot, for most of a day.
pub const MAX_TIMEOUT_MS: u32 = 3_600_000;

/// How often [`serve`]'s accept loop looks for a new connection and for the end of its games.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    /// Top-tree node over lanes `[lo, hi)`.
    Top { lo: u32, hi: u32 },
    /// Lane tree node over positions `[lo, hi)` of `lane`.
    Lane { lane: u32, lo: u64, hi: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Msg {
    Hello {
        #[serde(with = "crate::hexser::bytes")]
        root: Digest32,
    },
    Top {
        #[serde(with = "crate::hexser::bytes")]
        digest: Digest32,
    },
    Query {
        node: Node,
    },
    Children {
        #[serde(with = "crate::hexser::bytes")]
        left: Digest32,
        #[serde(with = "crate::hexser::bytes")]
        right: Digest32,
    },
    Open {
        index: u64,
    },
    Leaf {
        #[serde(with = "crate::hexser::bytes")]
        chunk: Chunk,
        #[serde(with = "crate::hexser::bytes")]
        link: Digest32,
    },
    /// The executor refuses the last message (a protocol error) and closes the session.
    Error {
        reason: String,
    },
}

impl Msg {
    /// The message's `type`, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Hello { .. } => "hello",
            Msg::Top { .. } => "top",
            Msg::Query { .. } => "query",
            Msg::Children { .. } => "children",
            Msg::Open { .. } => "open",
            Msg::Leaf { .. } => "leaf",
            Msg::Error { .. } => "error",
        }
    }
}

/// Why a node a peer named is not a node of the tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadNode {
    #[error("top node [{lo}, {hi}) is not a non-empty range of the tree's {used} used lanes")]
    Top { lo: u32, hi: u32, used: u32 },
    #[error("lane {lane} does not exist: the tree has {lanes} lanes")]
    NoLane { lane: u32, lanes: u32 },
    #[error(
        "lane node [{lo}, {hi}) of lane {lane} is not a non-empty range of its {len} positions"
    )]
    Lane {
        lane: u32,
        lo: u64,
        hi: u64,
        len: u64,
    },
}

/// Why the executor refuses a challenger's message: a protocol error, which ends the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    BadNode(#[from] BadNode),
    #[error("{node:?} is a single leaf: it has no children (open it instead)")]
    Leaf { node: Node },
    #[error("step {index} does not exist: the trace has {n} steps")]
    NoStep { index: u64, n: u64 },
    #[error("a challenger does not send `{0}` messages")]
    Unexpected(&'static str),
}

/// A whole tree in memory: chunks, links and leaves of a trace under one secret.
pub struct Tree {
    pub params: Params,
    pub h: Hasher,
    pub chunks: Vec<Chunk>,
    pub links: Vec<Digest32>,
    pub leaves: Vec<Digest32>,
}

/// Collects chunks (optionally corrupting one, to play a lying executor in tests and drills).
pub struct ChunkCollector {
    pub chunks: Vec<Chunk>,
    pub corrupt_at: Option<u64>,
}

impl TraceSink for ChunkCollector {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        for c in chunks {
            let mut c = *c;
            if self.corrupt_at == Some(self.chunks.len() as u64) {
                c[0] ^= 1;
            }
            self.chunks.push(c);
        }
        Ok(())
    }
}

/// Passes the trace on with step `at` corrupted: how drills and tests play a lying executor
/// whose vote and tree agree with each other but not with the real execution.
pub struct Corrupting<S> {
    pub inner: S,
    pub at: Option<u64>,
    pub seen: u64,
}

impl<S: TraceSink> TraceSink for Corrupting<S> {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let end = self.seen + chunks.len() as u64;
        match self.at.filter(|&a| a >= self.seen && a < end) {
            Some(a) => {
                let mut copy = chunks.to_vec();
                copy[(a - self.seen) as usize][0] ^= 1;
                self.inner.consume(&copy)?;
            }
            None => self.inner.consume(chunks)?,
        }
        self.seen = end;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.inner.finish()
    }
}

impl Tree {
    pub fn new(params: Params, h: Hasher, chunks: Vec<Chunk>) -> Tree {
        let lanes = params.layout.lanes as usize;
        let mut links = Vec::with_capacity(chunks.len());
        let mut leaves: Vec<Digest32> = Vec::with_capacity(chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            // The previous leaf of the lane; none for a lane's first leaf (and, were a layout
            // of zero lanes ever built by hand, for every leaf rather than a panic).
            let link = match i.checked_sub(lanes).and_then(|j| leaves.get(j)) {
                Some(prev) if params.layout.chained => *prev,
                _ => [0; 32],
            };
            leaves.push(h.leaf(c, &link));
            links.push(link);
        }
        Tree {
            params,
            h,
            chunks,
            links,
            leaves,
        }
    }

    pub fn n(&self) -> u64 {
        self.chunks.len() as u64
    }

    /// Chunk and link of step `index`, if the trace has it.
    pub fn leaf_at(&self, index: u64) -> Option<(Chunk, Digest32)> {
        let i = usize::try_from(index).ok()?;
        Some((*self.chunks.get(i)?, *self.links.get(i)?))
    }

    /// A single-lane top node is that lane's whole tree. Other nodes are returned as they are;
    /// this does not check that the node belongs to the tree ([`Tree::check_node`] does).
    pub fn normalize(&self, node: Node) -> Node {
        match node {
            Node::Top { lo, hi } if hi.checked_sub(lo) == Some(1) => Node::Lane {
                lane: lo,
                lo: 0,
                hi: self.params.layout.lane_len(self.n(), lo),
            },
            other => other,
        }
    }

    /// Checks that `node` is a node of this tree, and returns it normalized. Every node a peer
    /// names goes through here first: indexing the leaves with an unchecked node would read
    /// another lane's leaves (lane >= L) or past the trace.
    pub fn check_node(&self, node: Node) -> Result<Node, BadNode> {
        let layout = self.params.layout;
        if let Node::Top { lo, hi } = node {
            let used = layout.used_lanes(self.n());
            if lo >= hi || hi > used {
                return Err(BadNode::Top { lo, hi, used });
            }
        }
        let node = self.normalize(node);
        if let Node::Lane { lane, lo, hi } = node {
            if lane >= layout.lanes {
                return Err(BadNode::NoLane {
                    lane,
                    lanes: layout.lanes,
                });
            }
            let len = layout.lane_len(self.n(), lane);
            if lo >= hi || hi > len {
                return Err(BadNode::Lane { lane, lo, hi, len });
            }
        }
        Ok(node)
    }

    /// The digest of a node of the tree; the zero digest for a node that is not in it (as for
    /// the empty tree's root).
    pub fn digest(&self, node: Node) -> Digest32 {
        match self.check_node(node) {
            Ok(node) => self.digest_checked(node),
            Err(_) => [0; 32],
        }
    }

    /// The RFC 6962 split of a node of more than one leaf; `None` for a leaf or a node that is
    /// not in the tree.
    pub fn children(&self, node: Node) -> Option<(Node, Node)> {
        self.split(self.check_node(node).ok()?)
    }

    /// `digest` of a node that passed `check_node`: its children pass it too, so it is checked
    /// once, at the top of the recursion.
    fn digest_checked(&self, node: Node) -> Digest32 {
        // A split yields single-lane top nodes: they are their lane's tree, maybe one leaf.
        let node = self.normalize(node);
        match self.split(node) {
            Some((l, r)) => self
                .h
                .node(&self.digest_checked(l), &self.digest_checked(r)),
            None => match node {
                Node::Lane { lane, lo, .. } => self
                    .params
                    .layout
                    .index(lane, lo)
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| self.leaves.get(i))
                    .copied()
                    .unwrap_or([0; 32]),
                Node::Top { .. } => [0; 32],
            },
        }
    }

    /// The split of a normalized node that passed `check_node` (so `lo < hi` and `lo + k`
    /// stays below `hi`).
    fn split(&self, node: Node) -> Option<(Node, Node)> {
        match self.normalize(node) {
            Node::Top { lo, hi } if hi.checked_sub(lo)? > 1 => {
                let k = u32::try_from(split_point(u64::from(hi - lo))).ok()?;
                let mid = lo.checked_add(k)?;
                Some((Node::Top { lo, hi: mid }, Node::Top { lo: mid, hi }))
            }
            Node::Lane { lane, lo, hi } if hi.checked_sub(lo)? > 1 => {
                let mid = lo.checked_add(split_point(hi - lo))?;
                Some((
                    Node::Lane { lane, lo, hi: mid },
                    Node::Lane { lane, lo: mid, hi },
                ))
            }
            _ => None,
        }
    }

    pub fn root_node(&self) -> Node {
        Node::Top {
            lo: 0,
            hi: self.params.layout.used_lanes(self.n()),
        }
    }

    /// The executor's answer to a challenger's message, or why it refuses it.
    pub fn respond(&self, m: &Msg) -> Result<Msg, Refusal> {
        match m {
            Msg::Hello { .. } => Ok(Msg::Top {
                digest: self.digest(self.root_node()),
            }),
            Msg::Query { node } => {
                let node = self.check_node(*node)?;
                let (l, r) = self.split(node).ok_or(Refusal::Leaf { node })?;
                Ok(Msg::Children {
                    left: self.digest_checked(l),
                    right: self.digest_checked(r),
                })
            }
            Msg::Open { index } => {
                let (chunk, link) = self.leaf_at(*index).ok_or(Refusal::NoStep {
                    index: *index,
                    n: self.n(),
                })?;
                Ok(Msg::Leaf { chunk, link })
            }
            other => Err(Refusal::Unexpected(other.kind())),
        }
    }

    /// [`Tree::respond`] without the reason (None: no answer is due).
    pub fn answer(&self, m: &Msg) -> Option<Msg> {
        self.respond(m).ok()
    }
}

/// Who won, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "winner", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    /// The executor lost: its commitment is wrong, or it did not play.
    Challenger(String),
    /// The challenger lost: the executor's tree is correct.
    Executor(String),
}

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// "challenger" or "executor".
    pub from: String,
    pub msg: Option<Msg>,
    /// Why an expected executor message is missing (timeout, garbage, closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// The challenger's side, over any source of executor answers: `ask` sends a message and
/// returns the executor's reply, or why there is none. Records the transcript.
pub fn play(
    correct: &Tree,
    vote_root: &Digest32,
    mut ask: impl FnMut(&Msg) -> Result<Msg, String>,
    transcript: &mut Vec<Entry>,
) -> Outcome {
    let mut exchange = |m: Msg, transcript: &mut Vec<Entry>| -> Result<Msg, Outcome> {
        transcript.push(Entry {
            from: "challenger".into(),
            msg: Some(m.clone()),
            failure: None,
        });
        match ask(&m) {
            Ok(reply) => {
                transcript.push(Entry {
                    from: "executor".into(),
                    msg: Some(reply.clone()),
                    failure: None,
                });
                match reply {
                    // The reason is the peer's text: escaped, so it cannot drive a terminal.
                    Msg::Error { reason } => Err(Outcome::Challenger(format!(
                        "the executor refused to answer: {}",
                        reason.escape_debug()
                    ))),
                    reply => Ok(reply),
                }
            }
            Err(why) => {
                transcript.push(Entry {
                    from: "executor".into(),
                    msg: None,
                    failure: Some(why.clone()),
                });
                Err(Outcome::Challenger(format!(
                    "the executor did not answer: {why}"
                )))
            }
        }
    };
    let n = correct.n();
    let top = match exchange(Msg::Hello { root: *vote_root }, transcript) {
        Ok(Msg::Top { digest }) => digest,
        Ok(other) => return Outcome::Challenger(format!("unexpected reply {other:?}")),
        Err(o) => return o,
    };
    if correct.params.commitment_root(n, &top) != *vote_root {
        return Outcome::Challenger(
            "the revealed top root does not hash to the vote's root".into(),
        );
    }
    let mut node = correct.root_node();
    let mut claimed = top;
    if claimed == correct.digest(node) {
        return Outcome::Executor("no divergence: the executor's root is correct".into());
    }
    loop {
        node = correct.normalize(node);
        match correct.children(node) {
            Some((l, r)) => {
                let (left, right) = match exchange(Msg::Query { node }, transcript) {
                    Ok(Msg::Children { left, right }) => (left, right),
                    Ok(other) => return Outcome::Challenger(format!("unexpected reply {other:?}")),
                    Err(o) => return o,
                };
                if correct.h.node(&left, &right) != claimed {
                    return Outcome::Challenger(format!(
                        "the children of {node:?} do not hash to it"
                    ));
                }
                (node, claimed) = if left != correct.digest(l) {
                    (l, left)
                } else if right != correct.digest(r) {
                    (r, right)
                } else {
                    return Outcome::Executor("no divergent child".into());
                };
            }
            None => {
                // The node came from the challenger's own tree, so it is a leaf of it; were it
                // not, no one could be convicted, hence the executor's win.
                let Node::Lane { lane, lo, .. } = node else {
                    return Outcome::Executor("empty tree".into());
                };
                let Some((index, (right_chunk, right_link))) = correct
                    .params
                    .layout
                    .index(lane, lo)
                    .and_then(|i| Some((i, correct.leaf_at(i)?)))
                else {
                    return Outcome::Executor(format!("{node:?} is not a leaf of the trace"));
                };
                let (chunk, link) = match exchange(Msg::Open { index }, transcript) {
                    Ok(Msg::Leaf { chunk, link }) => (chunk, link),
                    Ok(other) => return Outcome::Challenger(format!("unexpected reply {other:?}")),
                    Err(o) => return o,
                };
                if correct.h.leaf(&chunk, &link) != claimed {
                    return Outcome::Challenger(format!(
                        "the opened leaf {index} does not hash to its parent"
                    ));
                }
                if chunk != right_chunk {
                    return Outcome::Challenger(format!(
                        "wrong chunk at step {index}: the executor's trace diverges there"
                    ));
                }
                if link != right_link {
                    return Outcome::Challenger(format!("wrong link at step {index}"));
                }
                return Outcome::Executor("the opened leaf is correct".into());
            }
        }
    }
}

/// Why no message came.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("connection closed")]
    Closed,
    #[error("connection closed in the middle of a message")]
    ClosedMidMessage,
    #[error("timed out: no whole message within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("message longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("read failed: {0}")]
    Io(io::Error),
}

/// The instant `timeout` from now. A zero timeout is refused (the socket calls would read it as
/// "no timeout at all"), and so is one over [`MAX_TIMEOUT_MS`].
fn deadline(timeout: Duration) -> io::Result<Instant> {
    if timeout.is_zero() || timeout > Duration::from_millis(u64::from(MAX_TIMEOUT_MS)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the timeout must be 1 to {MAX_TIMEOUT_MS} ms (got {} ms)",
                timeout.as_millis()
            ),
        ));
    }
    Instant::now().checked_add(timeout).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("timeout of {} ms is too long", timeout.as_millis()),
        )
    })
}

/// One side of a game's connection: newline-delimited messages, each read or written whole
/// within the timeout.
struct Conn {
    reader: BufReader<TcpStream>,
    timeout: Duration,
}

impl Conn {
    fn new(stream: TcpStream, timeout: Duration) -> io::Result<Conn> {
        deadline(timeout)?;
        // A game is many small request-reply rounds: Nagle's delay would only slow each.
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
            timeout,
        })
    }

    fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Reads one whole message. The socket's read timeout is the time left until the
    /// message's deadline, set again before every read, so the whole line must arrive in time.
    fn read_msg(&mut self) -> Result<Msg, ReadError> {
        let deadline = deadline(self.timeout).map_err(ReadError::Io)?;
        let mut line = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::TimedOut(self.timeout));
            }
            self.stream()
                .set_read_timeout(Some(left))
                .map_err(ReadError::Io)?;
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::TimedOut(self.timeout))
                }
                Err(e) => return Err(ReadError::Io(e)),
            };
            if buf.is_empty() {
                return Err(if line.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::ClosedMidMessage
                });
            }
            let end = buf.iter().position(|&b| b == b'\n');
            let part = match end {
                Some(i) => buf.get(..=i).unwrap_or(buf),
                None => buf,
            };
            if line.len().saturating_add(part.len()) > MAX_LINE {
                return Err(ReadError::TooLong);
            }
            line.extend_from_slice(part);
            let used = part.len();
            self.reader.consume(used);
            if end.is_some() {
                break;
            }
        }
        // serde's message quotes the peer's text: escaped, so it cannot drive a terminal.
        serde_json::from_slice(&line)
            .map_err(|e| ReadError::Malformed(e.to_string().escape_debug().to_string()))
    }

    /// Writes one whole message within the timeout (a peer that does not read cannot block
    /// the writer longer).
    fn write_msg(&mut self, m: &Msg) -> io::Result<()> {
        let mut line = serde_json::to_vec(m).map_err(io::Error::other)?;
        line.push(b'\n');
        let deadline = deadline(self.timeout)?;
        let mut rest = line.as_slice();
        while !rest.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream().set_write_timeout(Some(left))?;
            match self.stream().write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(k) => rest = rest.get(k..).unwrap_or_default(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::ErrorKind::TimedOut.into())
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Connects to `addr` (any of the addresses it resolves to) within `timeout` in all. Name
/// resolution itself is the system's and has no timeout; a numeric address needs none.
pub fn connect(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let deadline = deadline(timeout)?;
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() != io::ErrorKind::TimedOut => e,
        Some(_) => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} ms", timeout.as_millis()),
        ),
        None if Instant::now() >= deadline => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} ms", timeout.as_millis()),
        ),
        None => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} resolves to no address"),
        ),
    })
}

/// Challenger over TCP: connects within the timeout, then awaits each whole reply at most the
/// timeout. Only setting up the connection is an error; whatever the executor does after that
/// is an outcome.
pub fn challenge(
    addr: &str,
    correct: &Tree,
    vote_root: &Digest32,
    timeout: Duration,
) -> io::Result<(Outcome, Vec<Entry>)> {
    let mut conn = Conn::new(connect(addr, timeout)?, timeout)?;
    let mut transcript = Vec::new();
    let outcome = play(
        correct,
        vote_root,
        |m| {
            conn.write_msg(m).map_err(|e| format!("send failed: {e}"))?;
            conn.read_msg().map_err(|e| e.to_string())
        },
        &mut transcript,
    );
    Ok((outcome, transcript))
}

/// How the executor's server behaves (misbehaviours exist for drills and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    #[default]
    Honest,
    /// Accepts and reads, never answers.
    Silent,
}

/// How one session of the executor's server ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// A game: the challenger sent `messages` messages, each answered (or, silent, read), and
    /// closed the connection between two messages.
    Played { messages: u32 },
    /// A protocol error ended the session: a node outside the tree, an unexpected, malformed,
    /// oversized or late message, or a broken connection. The peer was sent the reason as an
    /// `error` message where the connection allowed.
    Failed(String),
    /// Refused at once: the most sessions allowed were in progress.
    Busy,
}

impl SessionEnd {
    /// Whether the session counts as a game played.
    pub fn is_game(&self) -> bool {
        matches!(self, SessionEnd::Played { .. })
    }
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::Played { messages } => write!(f, "game played ({messages} messages)"),
            SessionEnd::Failed(why) => write!(f, "ended by a protocol error: {why}"),
            SessionEnd::Busy => write!(f, "refused: too many sessions in progress"),
        }
    }
}

/// Plays one session with a connected challenger, until it closes the connection or breaks the
/// protocol. Never panics on what the peer sends, and lasts at most about
/// [`MAX_SESSION_MESSAGES`] timeouts.
pub fn session(
    stream: TcpStream,
    tree: &Tree,
    behaviour: Behaviour,
    timeout: Duration,
) -> SessionEnd {
    let mut conn = match Conn::new(stream, timeout) {
        Ok(c) => c,
        Err(e) => return SessionEnd::Failed(format!("setting up the connection failed: {e}")),
    };
    let mut received: u32 = 0;
    let why = loop {
        let m = match conn.read_msg() {
            Ok(m) => m,
            Err(ReadError::Closed) if received > 0 => {
                return SessionEnd::Played { messages: received }
            }
            Err(ReadError::Closed) => {
                return SessionEnd::Failed(
                    "the peer closed the connection without a message".into(),
                )
            }
            Err(e @ (ReadError::ClosedMidMessage | ReadError::Io(_))) => {
                return SessionEnd::Failed(e.to_string())
            }
            Err(e) => break e.to_string(),
        };
        received = received.saturating_add(1);
        if received > MAX_SESSION_MESSAGES {
            break format!("more than {MAX_SESSION_MESSAGES} messages in one session");
        }
        if behaviour == Behaviour::Silent {
            continue;
        }
        match tree.respond(&m) {
            Ok(reply) => {
                if let Err(e) = conn.write_msg(&reply) {
                    return SessionEnd::Failed(format!("send failed: {e}"));
                }
            }
            Err(refusal) => break refusal.to_string(),
        }
    };
    // Best effort: the session ends whether or not the peer takes the reason.
    let _ = conn.write_msg(&Msg::Error {
        reason: why.clone(),
    });
    SessionEnd::Failed(why)
}

/// Executor over TCP: answers one challenger, then returns how the session ended. A malformed,
/// oversized or late message from the challenger ends the session without harm.
pub fn serve_one(
    listener: &TcpListener,
    tree: &Tree,
    behaviour: Behaviour,
    timeout: Duration,
) -> io::Result<SessionEnd> {
    deadline(timeout)?;
    let (stream, _) = listener.accept()?;
    Ok(session(stream, tree, behaviour, timeout))
}

/// How [`serve`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeOptions {
    pub behaviour: Behaviour,
    /// Per-message timeout (positive).
    pub timeout: Duration,
    /// Return once this many games have been played ([`SessionEnd::is_game`]); sessions ended
    /// by a protocol error do not count.
    pub games: u64,
    /// Most sessions in progress at once (at least 1); a connection beyond them gets an
    /// `error` message and is closed at once.
    pub max_sessions: usize,
}

#[derive(Default)]
struct Counts {
    active: usize,
    games: u64,
}

fn lock(m: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    // The counts stay meaningful if a reporting callback panicked while holding the lock.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Executor over TCP: plays sessions with challengers, each on its own thread, at most
/// `max_sessions` at once, until `games` games have been played; then waits for the sessions
/// in progress (each bounded by its timeouts) and returns the number of games. `report` hears
/// how each session ended. A bad session only ends itself: it is never the server's end.
pub fn serve(
    listener: &TcpListener,
    tree: &Tree,
    opts: &ServeOptions,
    report: &(dyn Fn(SocketAddr, &SessionEnd) + Sync),
) -> io::Result<u64> {
    deadline(opts.timeout)?;
    if opts.max_sessions == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "at least one session must be allowed",
        ));
    }
    // Non-blocking, so the loop sees the last game end without waiting for a connection.
    listener.set_nonblocking(true)?;
    let counts = Mutex::new(Counts::default());
    let counts = &counts;
    let result = std::thread::scope(|scope| -> io::Result<()> {
        loop {
            if lock(counts).games >= opts.games {
                return Ok(());
            }
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(ACCEPT_POLL);
                    continue;
                }
                // The peer gave up before the accept: its problem, not the server's.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            if let Err(e) = stream.set_nonblocking(false) {
                report(
                    peer,
                    &SessionEnd::Failed(format!("setting up the connection failed: {e}")),
                );
                continue;
            }
            {
                let mut c = lock(counts);
                if c.active >= opts.max_sessions {
                    drop(c);
                    if let Ok(mut conn) =
                        Conn::new(stream, opts.timeout.min(Duration::from_secs(1)))
                    {
                        let _ = conn.write_msg(&Msg::Error {
                            reason: format!(
                                "busy: {} sessions in progress, try again later",
                                opts.max_sessions
                            ),
                        });
                    }
                    report(peer, &SessionEnd::Busy);
                    continue;
                }
                c.active += 1;
            }
            let spawned = std::thread::Builder::new()
                .name("poie-session".into())
                .spawn_scoped(scope, move || {
                    // A bug in one session must not take the others down with the server.
                    let end = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        session(stream, tree, opts.behaviour, opts.timeout)
                    }))
                    .unwrap_or_else(|_| SessionEnd::Failed("internal error (a panic)".into()));
                    report(peer, &end);
                    let mut c = lock(counts);
                    c.active = c.active.saturating_sub(1);
                    if end.is_game() {
                        c.games = c.games.saturating_add(1);
                    }
                });
            if let Err(e) = spawned {
                let mut c = lock(counts);
                c.active = c.active.saturating_sub(1);
                drop(c);
                report(
                    peer,
                    &SessionEnd::Failed(format!("could not start a session thread: {e}")),
                );
            }
        }
    });
    let restored = listener.set_nonblocking(false);
    result?;
    restored?;
    let games = lock(counts).games;
    Ok(games)
}
/// Re-judges a transcript offline: replays the challenger's logic against the executor's
/// recorded answers, re-deriving every challenger message; the replay's outcome is the verdict.
pub fn referee(
    correct: &Tree,
    vote_root: &Digest32,
    transcript: &[Entry],
) -> Result<Outcome, String> {
    let mut answers = transcript.iter().filter(|e| e.from == "executor");
    let mut asked = transcript.iter().filter(|e| e.from == "challenger");
    let mut replay = Vec::new();
    let mut mismatch = None;
    let outcome = play(
        correct,
        vote_root,
        |m| {
            if asked.next().and_then(|e| e.msg.as_ref()) != Some(m) && mismatch.is_none() {
                mismatch = Some(format!(
                    "the transcript's challenger did not send {m:?} here"
                ));
            }
            match answers.next() {
                Some(Entry {
                    msg: Some(reply), ..
                }) => Ok(reply.clone()),
                Some(Entry {
                    failure: Some(why), ..
                }) => Err(why.clone()),
                _ => Err("no answer recorded".into()),
            }
        },
        &mut replay,
    );
    match mismatch {
        Some(m) => Err(m),
        None => Ok(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected loopback pair: (the side under test, the peer).
    fn pair(timeout: Duration) -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let peer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mine, _) = listener.accept().expect("accept");
        (Conn::new(mine, timeout).expect("conn"), peer)
    }

    #[test]
    fn messages_split_over_writes_or_sharing_one_are_each_read_whole() {
        let (mut conn, mut peer) = pair(Duration::from_secs(5));
        let hello = b"{\"type\":\"open\",\"index\":7}\n{\"type\":\"open\",\"ind";
        peer.write_all(hello).expect("send");
        let rest = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(b"ex\":8}\n").expect("send");
            peer
        });
        assert_eq!(conn.read_msg().expect("first"), Msg::Open { index: 7 });
        assert_eq!(conn.read_msg().expect("second"), Msg::Open { index: 8 });
        drop(rest.join().expect("writer"));
        assert!(matches!(conn.read_msg(), Err(ReadError::Closed)));
    }

    #[test]
    fn a_line_may_be_max_line_bytes_and_not_one_more() {
        let open = b"{\"type\":\"open\",\"index\":7}";
        for (pad, ok) in [
            (MAX_LINE - open.len() - 1, true),
            (MAX_LINE - open.len(), false),
        ] {
            let (mut conn, mut peer) = pair(Duration::from_secs(5));
            let mut line = open.to_vec();
            line.resize(open.len() + pad, b' ');
            line.push(b'\n');
            // The writer may be cut short when the reader gives up: that is the point.
            let writer = std::thread::spawn(move || {
                let _ = peer.write_all(&line);
                peer
            });
            match conn.read_msg() {
                Ok(m) => assert!(ok && m == Msg::Open { index: 7 }, "{pad}: {m:?}"),
                Err(e) => assert!(!ok && matches!(e, ReadError::TooLong), "{pad}: {e}"),
            }
            drop(writer.join().expect("writer"));
        }
    }

    #[test]
    fn a_line_cut_by_the_peer_is_not_a_message() {
        let (mut conn, mut peer) = pair(Duration::from_secs(5));
        peer.write_all(b"{\"type\":\"open\"").expect("send");
        drop(peer);
        assert!(matches!(conn.read_msg(), Err(ReadError::ClosedMidMessage)));
    }

    #[test]
    fn timeouts_must_be_positive_and_at_most_an_hour() {
        assert!(deadline(Duration::ZERO).is_err());
        assert!(deadline(Duration::from_millis(u64::from(MAX_TIMEOUT_MS) + 1)).is_err());
        assert!(deadline(Duration::MAX).is_err());
        assert!(deadline(Duration::from_millis(1)).is_ok());
        assert!(deadline(Duration::from_millis(u64::from(MAX_TIMEOUT_MS))).is_ok());
    }
}
