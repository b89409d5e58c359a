//! The challenge game: bisection over the executor's committed tree, over TCP.
//!
//! The tree is the top tree over lane roots, whose leaves continue into the lane trees (a top
//! leaf *is* its lane's root). The challenger, holding the revealed salt, computes the correct
//! tree; each round the executor reveals the two children of the current node, which must hash
//! to it, and the challenger descends into the leftmost child that differs from its own. At a
//! leaf the executor opens it (chunk and link). Messages are newline-delimited JSON, at most
//! [`MAX_LINE`] bytes; each whole message must arrive within the timeout (a deadline per
//! message, not per read, so a peer dripping bytes cannot stretch it).
//!
//! Evidence. The challenger opens each session with a fresh random nonce, and the executor
//! signs every reply with its vote's key, over the nonce, its vote's root, the reply's index in
//! the session, the request and the reply ([`reply_message`]). A transcript therefore proves
//! what the executor said, and nothing about what it did not say: silence, a timeout, a refusal
//! or an unsigned reply is something only the live challenger saw, and a challenger who wanted
//! to frame an executor could write it into a transcript as easily as a true one. So a game
//! convicts ([`Outcome::Challenger`]) only on a signed reply that contradicts the correct tree,
//! and otherwise ends [`Outcome::Unproven`]; [`referee()`] replays a transcript under that rule.
//!
//! The executor's side ([`serve`]) treats every challenger as hostile: a node outside the tree,
//! an unexpected, malformed, oversized or late message is a protocol error that ends that
//! session (with an unsigned `error` reply when the connection allows), never the server. It
//! plays several sessions at once, up to a cap in all and a smaller one per peer address, and
//! counts as games only sessions that reached a leaf opening and ended cleanly (a hello is
//! public: a stranger's hello must not use up `serve --games`). It signs only answers its tree
//! gives, so whatever a challenger sends, an honest executor signs nothing a referee could
//! convict it on.
//!
//! A transcript file is read in proportion to the game: at most [`MAX_TRANSCRIPT_ENTRIES`]
//! entries (the executor's message cap, each message with its reply) and
//! [`MAX_TRANSCRIPT_BYTES`] bytes, parsed as a stream and refused at its first entry that no
//! game records ([`TranscriptError`]).
//!
//! One module per job: `wire`, the messages, their signed bytes and their JSON lines; `tree`,
//! the tree in memory; `executor`, the executor's answers; `challenger`, the challenger's play;
//! `referee`, the offline verdict; [`transcript`], the record of a session and its file; `net`,
//! the TCP connection and the challenger's client; `server`, the executor's server. Their
//! public items are re-exported here.

mod bounded;
mod challenger;
mod executor;
mod judge;
mod net;
mod referee;
mod server;
pub mod transcript;
mod tree;
mod wire;

pub use bounded::{Bounded, Kept, Limits, ReplayError};
pub use challenger::{locate, play, play_claim, play_to_one_step, Outcome, SecondPhase};
pub use executor::{check_key, Executor, Refusal, StateSource, MAX_ROUND_POINTS};
pub use judge::{judge, judge_to_last_step, JudgeError, LastStep, OpenedLeaf};
pub use net::{challenge, challenge_claim, connect, MAX_TIMEOUT_MS};
pub use referee::{referee, RefereeError};
pub use server::{
    peer_key, serve, serve_one, session, Behaviour, ServeOptions, SessionEnd, DEFAULT_PER_PEER,
    MAX_SESSION_MESSAGES,
};
pub use transcript::{
    BadTranscript, Entry, Party, Transcript, TranscriptError, MAX_TRANSCRIPT_BYTES,
    MAX_TRANSCRIPT_ENTRIES,
};
pub use tree::{BadNode, ChunkCollector, SetupError, Shape, Tree};
pub use wire::{
    fresh_nonce, reply_message, Disputed, Line, LineError, Msg, Node, Nonce, Reply, Signature,
    DS_REPLY, MAX_LINE,
};
