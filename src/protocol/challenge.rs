//! The challenge game: bisection over the executor's committed tree, over TCP.
//!
//! The tree is the top tree over lane roots, whose leaves continue into the lane trees (a top
//! leaf *is* its lane's root). The challenger, holding the revealed salt, computes the correct
//! tree; each round the executor reveals the two children of the current node, which must hash
//! to it, and the challenger descends into the leftmost child that differs from its own. At a
//! leaf the executor opens it (chunk and link). Messages are newline-delimited JSON, at most
//! [`MAX_LINE`] bytes, each awaited at most the timeout: a silent, slow, garbled or lying
//! executor loses; a challenge against a correct root loses.
//!
//! Both sides hold the trace's leaves in memory (32 bytes per step): fine for disputes over
//! windbacks of millions of steps, not for 10^9.

use crate::proof::hash::{Digest32, Hasher};
use crate::proof::layout::Params;
use crate::proof::tree::split_point;
use crate::trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Longest accepted message line.
pub const MAX_LINE: usize = 64 * 1024;

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
            let link = if params.layout.chained && i >= lanes {
                leaves[i - lanes]
            } else {
                [0; 32]
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

    fn lanes(&self) -> u64 {
        u64::from(self.params.layout.lanes)
    }

    fn lane_leaf(&self, lane: u32, pos: u64) -> Digest32 {
        self.leaves[(pos * self.lanes() + u64::from(lane)) as usize]
    }

    /// A single-lane top node is that lane's whole tree.
    pub fn normalize(&self, node: Node) -> Node {
        match node {
            Node::Top { lo, hi } if hi == lo + 1 => Node::Lane {
                lane: lo,
                lo: 0,
                hi: self.params.layout.lane_len(self.n(), lo),
            },
            other => other,
        }
    }

    pub fn digest(&self, node: Node) -> Digest32 {
        match self.normalize(node) {
            Node::Lane { lane, lo, hi } if hi == lo + 1 => self.lane_leaf(lane, lo),
            n => match self.children(n) {
                Some((l, r)) => self.h.node(&self.digest(l), &self.digest(r)),
                None => [0; 32],
            },
        }
    }

    /// The RFC 6962 split of a node of more than one leaf.
    pub fn children(&self, node: Node) -> Option<(Node, Node)> {
        match self.normalize(node) {
            Node::Top { lo, hi } if hi > lo + 1 => {
                let k = split_point(u64::from(hi - lo)) as u32;
                Some((Node::Top { lo, hi: lo + k }, Node::Top { lo: lo + k, hi }))
            }
            Node::Lane { lane, lo, hi } if hi > lo + 1 => {
                let k = split_point(hi - lo);
                Some((
                    Node::Lane {
                        lane,
                        lo,
                        hi: lo + k,
                    },
                    Node::Lane {
                        lane,
                        lo: lo + k,
                        hi,
                    },
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

    /// The executor's answer to a message (None: no answer is due).
    pub fn answer(&self, m: &Msg) -> Option<Msg> {
        match m {
            Msg::Hello { .. } => Some(Msg::Top {
                digest: self.digest(self.root_node()),
            }),
            Msg::Query { node } => {
                let (l, r) = self.children(*node)?;
                Some(Msg::Children {
                    left: self.digest(l),
                    right: self.digest(r),
                })
            }
            Msg::Open { index } => {
                let i = usize::try_from(*index)
                    .ok()
                    .filter(|&i| i < self.chunks.len())?;
                Some(Msg::Leaf {
                    chunk: self.chunks[i],
                    link: self.links[i],
                })
            }
            _ => None,
        }
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
                Ok(reply)
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
                let Node::Lane { lane, lo, .. } = node else {
                    return Outcome::Executor("empty tree".into());
                };
                let index = lo * u64::from(correct.params.layout.lanes) + u64::from(lane);
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
                let i = index as usize;
                if chunk != correct.chunks[i] {
                    return Outcome::Challenger(format!(
                        "wrong chunk at step {index}: the executor's trace diverges there"
                    ));
                }
                if link != correct.links[i] {
                    return Outcome::Challenger(format!("wrong link at step {index}"));
                }
                return Outcome::Executor("the opened leaf is correct".into());
            }
        }
    }
}

fn read_line(r: &mut impl BufRead) -> Result<Msg, String> {
    let mut buf = Vec::new();
    let got = r
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)
        .map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timed out".to_string(),
            _ => format!("read failed: {e}"),
        })?;
    if got == 0 {
        return Err("connection closed".into());
    }
    if buf.len() > MAX_LINE {
        return Err(format!("message longer than {MAX_LINE} bytes"));
    }
    serde_json::from_slice(&buf).map_err(|e| format!("malformed message: {e}"))
}

fn write_line(w: &mut impl Write, m: &Msg) -> io::Result<()> {
    let mut line = serde_json::to_vec(m).map_err(io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line)?;
    w.flush()
}

/// Challenger over TCP.
pub fn challenge(
    addr: &str,
    correct: &Tree,
    vote_root: &Digest32,
    timeout: Duration,
) -> io::Result<(Outcome, Vec<Entry>)> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut transcript = Vec::new();
    let outcome = play(
        correct,
        vote_root,
        |m| {
            write_line(&mut writer, m).map_err(|e| format!("send failed: {e}"))?;
            read_line(&mut reader)
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

/// Executor over TCP: answers one challenger, then returns. A malformed, oversized or late
/// message from the challenger ends the session without harm.
pub fn serve_one(
    listener: &TcpListener,
    tree: &Tree,
    behaviour: Behaviour,
    timeout: Duration,
) -> io::Result<()> {
    let (stream, _) = listener.accept()?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let Ok(m) = read_line(&mut reader) else {
            return Ok(());
        };
        if behaviour == Behaviour::Silent {
            continue;
        }
        match tree.answer(&m) {
            Some(reply) => write_line(&mut writer, &reply)?,
            None => return Ok(()),
        }
    }
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
