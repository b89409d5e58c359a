//! The challenger's side of a game: bisection against the correct tree, over any source of the
//! executor's replies, and the outcome it proves (or that nothing is proven).

use super::transcript::Entry;
use super::tree::Tree;
use super::wire::{Disputed, Msg, Node, Nonce, Reply};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who won, and why, or that nothing was proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "winner", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    /// The executor lost, on its own signed word: a signed reply contradicts the correct
    /// execution (or its vote). A transcript proves it to anyone.
    Challenger(String),
    /// The challenger lost: the executor's signed replies show its tree is correct.
    Executor(String),
    /// Nothing is proven: the executor did not finish the game with signed replies (silence, a
    /// timeout, a refusal, garbage, a missing or bad signature). The live challenger saw it;
    /// a transcript cannot show it, so no one is convicted on it.
    #[serde(rename = "none")]
    Unproven(String),
}

impl Outcome {
    /// Whether the outcome convicts one side or clears the executor: not [`Outcome::Unproven`].
    pub fn is_proven(&self) -> bool {
        !matches!(self, Outcome::Unproven(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Challenger(why) => write!(f, "executor loses: {why}"),
            Outcome::Executor(why) => write!(f, "challenger loses: {why}"),
            Outcome::Unproven(why) => write!(f, "unproven: {why}"),
        }
    }
}

fn unproven(why: impl fmt::Display) -> Outcome {
    Outcome::Unproven(format!(
        "{why}; the transcript shows no signed wrong answer"
    ))
}

/// The challenger's side, over any source of executor replies: `ask` sends a message (the
/// caller adds `nonce` to the hello) and returns the executor's reply, or why there is none.
/// Records the entries. Only a reply signed by the vote's key for this session, index and
/// request counts: anything else ends the game unproven.
pub fn play(
    correct: &Tree,
    disputed: &Disputed,
    nonce: &Nonce,
    mut ask: impl FnMut(&Msg) -> Result<Reply, String>,
    entries: &mut Vec<Entry>,
) -> Outcome {
    let mut index: u64 = 0;
    let mut exchange = |m: Msg, entries: &mut Vec<Entry>| -> Result<Msg, Outcome> {
        entries.push(Entry::challenger(m.clone()));
        let at = index;
        index = index.saturating_add(1);
        let reply = match ask(&m) {
            Ok(reply) => reply,
            Err(why) => {
                // The reason may come from a file or a peer: escaped, so it cannot drive a
                // terminal.
                let shown = why.escape_debug().to_string();
                entries.push(Entry::failure(why));
                return Err(unproven(format!(
                    "the executor did not answer the {} (request {at}): {shown}",
                    m.kind()
                )));
            }
        };
        entries.push(Entry::reply(&reply));
        if let Msg::Error { reason } = &reply.msg {
            return Err(unproven(format!(
                "the executor refused to answer the {} (request {at}): {}",
                m.kind(),
                reason.escape_debug()
            )));
        }
        if reply.sig.is_none() {
            return Err(unproven(format!(
                "reply {at} (a {}) is not signed",
                reply.msg.kind()
            )));
        }
        if !disputed.signed(nonce, at, &m, &reply) {
            return Err(unproven(format!(
                "the signature of reply {at} (a {}) is not the vote's key's for this session, request and reply",
                reply.msg.kind()
            )));
        }
        Ok(reply.msg)
    };
    // Past `exchange`, every reply is the executor's signed word: an honest executor's replies
    // are its tree's answers, so any reply other than the correct tree's convicts.
    let wrong_kind = |reply: &Msg, request: &str| {
        Outcome::Challenger(format!(
            "a signed `{}` reply to a `{request}`",
            reply.kind()
        ))
    };
    let n = correct.n();
    let top = match exchange(
        Msg::Hello {
            root: disputed.root,
        },
        entries,
    ) {
        Ok(Msg::Top { digest }) => digest,
        Ok(other) => return wrong_kind(&other, "hello"),
        Err(o) => return o,
    };
    if correct.params.commitment_root(n, &top) != disputed.root {
        return Outcome::Challenger(
            "the signed top root does not hash to the vote's root (with the trace's true length)"
                .into(),
        );
    }
    let mut node = correct.root_node();
    let mut claimed = top;
    if claimed == correct.digest(node) {
        return Outcome::Executor("no divergence: the executor's root is correct".into());
    }
    // Each round descends one level of a tree at most 16 + 64 levels deep: bounded.
    loop {
        node = correct.normalize(node);
        match correct.children(node) {
            Some((l, r)) => {
                let (left, right) = match exchange(Msg::Query { node }, entries) {
                    Ok(Msg::Children { left, right }) => (left, right),
                    Ok(other) => return wrong_kind(&other, "query"),
                    Err(o) => return o,
                };
                if correct.h.node(&left, &right) != claimed {
                    return Outcome::Challenger(format!(
                        "the signed children of {node:?} do not hash to it"
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
                let (chunk, link) = match exchange(Msg::Open { index }, entries) {
                    Ok(Msg::Leaf { chunk, link }) => (chunk, link),
                    Ok(other) => return wrong_kind(&other, "open"),
                    Err(o) => return o,
                };
                if correct.h.leaf(&chunk, &link) != claimed {
                    return Outcome::Challenger(format!(
                        "the signed opening of leaf {index} does not hash to its parent"
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
