//! The challenge game over loopback TCP: lying executors lose at the first, a middle and the
//! last leaf, on their own signed replies; a false challenge loses; the referee agrees offline;
//! garbage and oversized messages neither crash nor hang either side.
//!
//! Evidence (issue 9, item 6): replies are signed for the session's nonce, so a transcript
//! convicts only on a signed wrong answer. Silence, refusals and garbage are unproven, a
//! doctored transcript claiming silence convicts no one, altered or replayed signatures are not
//! evidence, and an honest executor never signs anything a referee could convict it on,
//! whatever a challenger sends.
//!
//! And against hostile peers (issue 9): a node outside the tree is refused, never answered and
//! never a panic; timeouts are per whole message, so a peer dripping bytes is cut off; connecting
//! has a timeout; the server plays several challengers and survives bad ones; a zero timeout is
//! refused. Every socket is on 127.0.0.1 and every loop is bounded.

mod common;

use common::cli::{self, assert_ok, poie};
use common::fixtures::{
    self, challenge_args, read_json, referee_args, reveal_args, serve_args, vote_args,
};
use common::rng::Rng;
use poie::proof::{Address, Salt};

use poie::json::VersionedFile;
use poie::proof::{unique_secret, HashId, Hasher, Layout, Params, Simd};
use poie::protocol::challenge::{
    challenge, connect, fresh_nonce, play, referee, serve, serve_one, session, BadNode, Behaviour,
    ChunkCollector, Disputed, Entry, Executor, Line, Msg, Node, Outcome, Party, Refusal, Reply,
    ServeOptions, SessionEnd, Transcript, Tree, MAX_LINE, MAX_SESSION_MESSAGES,
};
use poie::protocol::keys::Key;
use poie::protocol::transcript::TranscriptFile;
use poie::trace::synthetic::chunk as synthetic_chunk;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

const N: u64 = 1000;

fn params(hash: HashId, lanes: u32, chained: bool) -> Params {
    Params {
        hash,
        layout: Layout::new(lanes, chained).expect("a valid layout"),
    }
}

fn tree_of(params: Params, n: u64, corrupt_at: Option<u64>) -> Tree {
    let h = Hasher::new(
        params.hash,
        unique_secret(params.hash, &Salt::from([1; 32]), &Address::from([2; 20])),
        Simd::detect(),
    )
    .expect("backend");
    let mut c = ChunkCollector {
        chunks: Vec::new(),
        corrupt_at,
    };
    let chunks: Vec<_> = (0..n).map(|i| synthetic_chunk(5, i)).collect();
    poie::trace::TraceSink::consume(&mut c, &chunks).expect("collect");
    Tree::new(params, h, c.chunks)
}

fn tree(params: Params, corrupt_at: Option<u64>) -> Tree {
    tree_of(params, N, corrupt_at)
}

fn vote_root(t: &Tree) -> [u8; 32] {
    t.params.commitment_root(t.n(), &t.digest(t.root_node()))
}

/// The executor's vote key in these tests.
fn key() -> Key {
    Key::from_seed(&[3; 32])
}

/// The vote an executor with `t` defends: its root, and the key its replies are checked with.
fn disputed(t: &Tree) -> Disputed {
    Disputed {
        root: vote_root(t),
        public_key: key().public(),
    }
}

fn nonce() -> [u8; 32] {
    fresh_nonce().expect("system randomness")
}

/// Runs the executor's tree as a server and challenges it with the correct tree.
fn game(
    params: Params,
    executor: Tree,
    behaviour: Behaviour,
) -> (Outcome, Transcript, Tree, Disputed) {
    let correct = tree(params, None);
    let disputed = disputed(&executor);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = std::thread::spawn(move || {
        let key = key();
        let exec = Executor::new(&executor, &key);
        serve_one(&listener, &exec, behaviour, Duration::from_millis(500))
    });
    let (outcome, transcript) = challenge(
        &addr,
        &correct,
        &disputed,
        &nonce(),
        Duration::from_millis(300),
    )
    .expect("connects");
    let _ = server.join();
    (outcome, transcript, correct, disputed)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Reads one line with a bound on the wait; "" on EOF, a reset or the bound.
fn read_line_within(r: &mut BufReader<TcpStream>, limit: Duration) -> String {
    r.get_ref().set_read_timeout(Some(limit)).expect("timeout");
    let mut line = String::new();
    let _ = r.read_line(&mut line);
    line
}

/// The nonce of the sessions tests open by hand.
const NONCE: [u8; 32] = [9; 32];

/// A challenger's line: a hello carries [`NONCE`].
fn line_of(m: &Msg) -> Vec<u8> {
    let nonce = matches!(m, Msg::Hello { .. }).then_some(NONCE);
    let mut line = Line {
        msg: m.clone(),
        nonce,
        sig: None,
    }
    .encode()
    .expect("json");
    line.push(b'\n');
    line
}

fn send(s: &mut TcpStream, m: &Msg) {
    s.write_all(&line_of(m)).expect("send");
}

/// An executor's reply line, parsed.
fn parse(line: &str) -> Line {
    Line::decode(line.trim_end().as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

#[test]
fn lying_executor_loses_at_first_middle_and_last_leaf() {
    for (lanes, chained) in [(4, true), (1, false), (7, true)] {
        let params = params(HashId::Blake3, lanes, chained);
        for lie in [0, N / 2, N - 1] {
            let (outcome, transcript, correct, disputed) =
                game(params, tree(params, Some(lie)), Behaviour::Honest);
            match &outcome {
                Outcome::Challenger(why) => {
                    assert!(why.contains(&format!("wrong chunk at step {lie}")), "{why}")
                }
                other => panic!("lie at {lie}: {other:?}"),
            }
            assert_eq!(
                referee(&correct, &disputed, &transcript),
                Ok(outcome),
                "the referee agrees"
            );
            // The conviction rests on the executor's signed opening.
            let last = transcript.entries.last().expect("entries");
            assert!(
                matches!(
                    last,
                    Entry {
                        from: Party::Executor,
                        msg: Some(Msg::Leaf { .. }),
                        sig: Some(_),
                        ..
                    }
                ),
                "{last:?}"
            );
        }
    }
}

#[test]
fn honest_executor_wins_a_false_challenge() {
    let params = params(HashId::Keccak, 4, true);
    let (outcome, transcript, correct, disputed) =
        game(params, tree(params, None), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Executor(_)), "{outcome:?}");
    assert_eq!(referee(&correct, &disputed, &transcript), Ok(outcome));
}

/// A silent executor is cut off on the timeout, but a transcript cannot prove silence: the
/// game, and the referee, end unproven, not with a conviction.
#[test]
fn a_silent_executor_is_unproven_not_convicted() {
    let params = params(HashId::Blake3, 4, true);
    let start = Instant::now();
    let (outcome, transcript, correct, disputed) =
        game(params, tree(params, Some(3)), Behaviour::Silent);
    assert!(
        matches!(&outcome, Outcome::Unproven(w) if w.contains("timed out") && w.contains("no signed wrong answer")),
        "{outcome:?}"
    );
    assert!(!outcome.is_proven());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the challenger does not hang"
    );
    assert_eq!(referee(&correct, &disputed, &transcript), Ok(outcome));
}

#[test]
fn a_doctored_transcript_is_refused() {
    let params = params(HashId::Blake3, 4, true);
    let (_, mut transcript, correct, disputed) =
        game(params, tree(params, Some(10)), Behaviour::Honest);
    // Pretend the challenger asked about another node.
    let k = transcript
        .entries
        .iter()
        .rposition(|e| e.from == Party::Challenger)
        .expect("a challenger message");
    transcript.entries[k].msg = Some(Msg::Open { index: 999 });
    assert!(referee(&correct, &disputed, &transcript).is_err());
    // Entries after the game's end are refused too.
    let (_, mut transcript, ..) = game(params, tree(params, Some(10)), Behaviour::Honest);
    let extra = transcript.entries[0].clone();
    transcript.entries.push(extra);
    let err = referee(&correct, &disputed, &transcript).expect_err("refused");
    assert!(err.to_string().contains("after the game's end"), "{err}");
}

#[test]
fn garbage_oversized_and_unfinished_messages_end_only_their_session() {
    let params = params(HashId::Blake3, 2, true);
    let t = tree(params, None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let key = key();
        let exec = Executor::new(&t, &key);
        (0..3)
            .map(|_| serve_one(&listener, &exec, Behaviour::Honest, ms(300)).expect("no error"))
            .collect::<Vec<_>>()
    });
    // Garbage: the server says why and closes the session.
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"\x00\x01 not json\n").expect("send");
    let mut r = BufReader::new(s);
    let reply = parse(&read_line_within(&mut r, ms(5000)));
    assert!(
        matches!(&reply.msg, Msg::Error { reason } if reason.contains("malformed")),
        "{reply:?}"
    );
    assert_eq!(reply.sig, None, "refusals are never signed");
    assert_eq!(read_line_within(&mut r, ms(5000)), "", "then closed");
    // Oversized: the session ends (the error line may be lost to a reset: unread bytes remain).
    let mut s = TcpStream::connect(addr).expect("connect");
    let _ = s.write_all(&vec![b'a'; MAX_LINE + 10]);
    let mut r = BufReader::new(s);
    for _ in 0..2 {
        if read_line_within(&mut r, ms(5000)).is_empty() {
            break;
        }
    }
    // Unfinished: the client never ends its line; the server times out.
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"{\"type\":").expect("send");
    let ends = server.join().expect("the server survives and returns");
    assert!(
        matches!(&ends[0], SessionEnd::Failed(w) if w.contains("malformed")),
        "{ends:?}"
    );
    assert!(
        matches!(&ends[1], SessionEnd::Failed(w) if w.contains(&format!("longer than {MAX_LINE}"))),
        "{ends:?}"
    );
    assert!(
        matches!(&ends[2], SessionEnd::Failed(w) if w.contains("timed out")),
        "{ends:?}"
    );
}

/// Garbage is not a signed statement: the game ends unproven.
#[test]
fn a_garbling_executor_is_unproven() {
    let params = params(HashId::Blake3, 2, true);
    let correct = tree(params, None);
    let disputed = disputed(&tree(params, Some(1)));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut line = String::new();
        r.read_line(&mut line).expect("hello");
        (&s).write_all(b"]]] garbage\n").expect("reply");
    });
    let (outcome, _) = challenge(&addr, &correct, &disputed, &nonce(), ms(300)).expect("connects");
    assert!(
        matches!(&outcome, Outcome::Unproven(w) if w.contains("malformed")),
        "{outcome:?}"
    );
    server.join().expect("server");
}

/// An executor's `error` reply is a refusal to play: unproven (a transcript cannot tell a
/// refusal from a challenger's invention), the referee agrees, and the peer's text is escaped
/// before it reaches a terminal.
#[test]
fn a_refusing_executor_is_unproven_and_its_reason_is_escaped() {
    let params = params(HashId::Blake3, 2, true);
    let correct = tree(params, None);
    let disputed = disputed(&tree(params, Some(1)));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut line = String::new();
        r.read_line(&mut line).expect("hello");
        (&s).write_all(b"{\"type\":\"error\",\"reason\":\"no\\u001b[2J\"}\n")
            .expect("reply");
    });
    let (outcome, transcript) =
        challenge(&addr, &correct, &disputed, &nonce(), ms(2000)).expect("connects");
    server.join().expect("server");
    match &outcome {
        Outcome::Unproven(w) => {
            assert!(w.contains("refused to answer"), "{w}");
            assert!(!w.contains('\u{1b}'), "escaped: {w:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(referee(&correct, &disputed, &transcript), Ok(outcome));
}

/// Issue 9, item 1: a lane >= L used to be answered with another lane's leaves, positions past
/// the lane panicked on indexing, and `lo + 1` overflowed. Each is now a refusal.
#[test]
fn nodes_outside_the_tree_are_refused_not_answered() {
    let t = tree(params(HashId::Blake3, 4, true), None);
    let q = |node| t.respond(&Msg::Query { node });
    // Lane 4 of 4: positions 0..2 of it would be trace steps 4 and 8, leaves of lane 0.
    assert_eq!(
        q(Node::Lane {
            lane: 4,
            lo: 0,
            hi: 2
        }),
        Err(Refusal::BadNode(BadNode::NoLane { lane: 4, lanes: 4 }))
    );
    assert_eq!(
        t.children(Node::Lane {
            lane: 4,
            lo: 0,
            hi: 2
        }),
        None
    );
    assert_eq!(
        t.digest(Node::Lane {
            lane: 4,
            lo: 0,
            hi: 2
        }),
        [0; 32]
    );
    // The issue's query: far past lane 0's 250 positions.
    assert_eq!(
        q(Node::Lane {
            lane: 0,
            lo: 10_000_000,
            hi: 10_000_002
        }),
        Err(Refusal::BadNode(BadNode::Lane {
            lane: 0,
            lo: 10_000_000,
            hi: 10_000_002,
            len: 250
        }))
    );
    // Overflow bait.
    for node in [
        Node::Lane {
            lane: u32::MAX,
            lo: u64::MAX - 1,
            hi: u64::MAX,
        },
        Node::Lane {
            lane: 0,
            lo: u64::MAX,
            hi: u64::MAX,
        },
        Node::Lane {
            lane: 1,
            lo: 3,
            hi: 1,
        },
        Node::Lane {
            lane: 1,
            lo: 0,
            hi: 251,
        },
        Node::Top {
            lo: u32::MAX,
            hi: u32::MAX,
        },
        Node::Top {
            lo: u32::MAX - 1,
            hi: u32::MAX,
        },
        Node::Top { lo: 0, hi: 5 },
        Node::Top { lo: 2, hi: 2 },
    ] {
        assert!(
            matches!(q(node), Err(Refusal::BadNode(_))),
            "{node:?}: {:?}",
            q(node)
        );
    }
    // A leaf has no children; a step past the trace cannot be opened; executor messages are not
    // questions.
    assert!(matches!(
        q(Node::Lane {
            lane: 3,
            lo: 249,
            hi: 250
        }),
        Err(Refusal::Leaf { .. })
    ));
    assert_eq!(
        t.respond(&Msg::Open { index: N }),
        Err(Refusal::NoStep { index: N, n: N })
    );
    assert_eq!(
        t.respond(&Msg::Open { index: u64::MAX }),
        Err(Refusal::NoStep {
            index: u64::MAX,
            n: N
        })
    );
    assert_eq!(
        t.respond(&Msg::Top { digest: [0; 32] }),
        Err(Refusal::Unexpected("top"))
    );
    // The edges that are in the tree are still answered.
    assert!(matches!(
        q(Node::Lane {
            lane: 3,
            lo: 0,
            hi: 250
        }),
        Ok(Msg::Children { .. })
    ));
    assert!(matches!(
        q(Node::Top { lo: 3, hi: 4 }),
        Ok(Msg::Children { .. })
    ));
    assert!(matches!(
        t.respond(&Msg::Open { index: N - 1 }),
        Ok(Msg::Leaf { .. })
    ));
}

/// The property tests' draws.
impl Rng {
    /// Mostly values near the tree's bounds, where the off-by-ones live; sometimes anything.
    fn around(&mut self, bound: u64) -> u64 {
        match self.next() % 4 {
            0 => self.next(),
            1 => bound.saturating_add(self.next() % 3).saturating_sub(1),
            _ => self.next() % bound.saturating_add(2),
        }
    }
}

/// RFC 6962 root of `leaves`, written independently of the crate's trees.
fn mth(h: &Hasher, leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => [0; 32],
        1 => leaves[0],
        n => {
            // The largest power of two below n.
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            h.node(&mth(h, &leaves[..k]), &mth(h, &leaves[k..]))
        }
    }
}

/// The digest a node must have, from the leaves alone; `None` for a node outside the tree.
fn reference_digest(t: &Tree, node: Node) -> Option<[u8; 32]> {
    let lanes = t.params.layout.lanes as usize;
    let lane_leaves = |lane: usize| -> Vec<[u8; 32]> {
        t.leaves.iter().skip(lane).step_by(lanes).copied().collect()
    };
    match node {
        Node::Lane { lane, lo, hi } => {
            let lane = lane as usize;
            if lane >= lanes {
                return None;
            }
            let leaves = lane_leaves(lane);
            let (lo, hi) = (usize::try_from(lo).ok()?, usize::try_from(hi).ok()?);
            (lo < hi && hi <= leaves.len()).then(|| mth(&t.h, &leaves[lo..hi]))
        }
        Node::Top { lo, hi } => {
            let used = lanes.min(t.leaves.len());
            let (lo, hi) = (lo as usize, hi as usize);
            (lo < hi && hi <= used).then(|| {
                let roots: Vec<_> = (lo..hi).map(|j| mth(&t.h, &lane_leaves(j))).collect();
                mth(&t.h, &roots)
            })
        }
    }
}

/// For seeded random nodes, most near the bounds: validation never panics, refuses exactly the
/// nodes outside the tree, and every answer it gives verifies against a reference computed from
/// the leaves alone.
#[test]
fn random_nodes_never_panic_and_honest_answers_verify() {
    let mut rng = Rng(0x5eed_0009);
    let mut answered = 0;
    let mut refused = 0;
    for (lanes, chained, n) in [
        (1, true, 37),
        (3, false, 100),
        (4, true, 1000),
        (7, true, 5),
        (64, false, 300),
    ] {
        let t = tree_of(params(HashId::Blake3, lanes, chained), n, None);
        let used = u64::from(lanes).min(n);
        for _ in 0..400 {
            let node = if rng.next().is_multiple_of(3) {
                Node::Top {
                    lo: rng.around(used) as u32,
                    hi: rng.around(used) as u32,
                }
            } else {
                let lane = rng.around(u64::from(lanes)) as u32;
                let len = n / u64::from(lanes) + 1;
                Node::Lane {
                    lane,
                    lo: rng.around(len),
                    hi: rng.around(len),
                }
            };
            let expected = reference_digest(&t, node);
            assert_eq!(
                t.check_node(node).is_ok(),
                expected.is_some(),
                "{node:?} in {lanes} lanes, n = {n}"
            );
            match t.respond(&Msg::Query { node }) {
                Ok(Msg::Children { left, right }) => {
                    answered += 1;
                    let (l, r) = t.children(node).expect("an answered node splits");
                    assert_eq!(Some(left), reference_digest(&t, l), "{l:?}");
                    assert_eq!(Some(right), reference_digest(&t, r), "{r:?}");
                    assert_eq!(Some(t.h.node(&left, &right)), expected, "{node:?}");
                    assert_eq!(Some(t.digest(node)), expected);
                }
                Ok(other) => panic!("{node:?}: {other:?}"),
                Err(Refusal::Leaf { .. }) => {
                    assert_eq!(Some(t.digest(node)), expected, "a leaf of the tree");
                }
                Err(e) => {
                    refused += 1;
                    assert!(expected.is_none(), "{node:?} refused: {e}");
                    assert!(t.children(node).is_none());
                }
            }
        }
        let index = rng.around(n);
        assert_eq!(
            t.respond(&Msg::Open { index }).is_ok(),
            index < n,
            "open {index} of {n}"
        );
    }
    assert!(
        answered > 100 && refused > 100,
        "{answered} answered, {refused} refused"
    );
}

/// The executor's side with the report of every session, and when it came.
type Reports = Mutex<Vec<(SocketAddr, SessionEnd, Instant)>>;

fn start_serve(
    executor: Tree,
    opts: ServeOptions,
) -> (
    SocketAddr,
    std::thread::JoinHandle<std::io::Result<u64>>,
    std::sync::Arc<Reports>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let reports = std::sync::Arc::new(Reports::default());
    let r = reports.clone();
    let server = std::thread::spawn(move || {
        let key = key();
        let exec = Executor::new(&executor, &key);
        serve(&listener, &exec, &opts, &|peer, end| {
            r.lock()
                .expect("lock")
                .push((peer, end.clone(), Instant::now()))
        })
    });
    (addr, server, reports)
}

/// Issue 9, items 1 and 5: the query that killed `poie serve` gets an error reply and a closed
/// session; the same server then plays a whole game with an honest challenger.
#[test]
fn a_bad_node_ends_its_session_and_the_server_plays_the_next_challenger() {
    let params = params(HashId::Blake3, 4, true);
    let lie = 321;
    let executor = tree(params, Some(lie));
    let disputed = disputed(&executor);
    let root = disputed.root;
    let (addr, server, reports) = start_serve(
        executor,
        ServeOptions {
            behaviour: Behaviour::Honest,
            timeout: ms(2000),
            games: 1,
            max_sessions: 2,
            per_peer: 8,
        },
    );
    let mut s = TcpStream::connect(addr).expect("connect");
    let mine = s.local_addr().expect("addr");
    send(&mut s, &Msg::Hello { root });
    send(
        &mut s,
        &Msg::Query {
            node: Node::Lane {
                lane: 0,
                lo: 10_000_000,
                hi: 10_000_002,
            },
        },
    );
    let mut r = BufReader::new(s);
    let top = parse(&read_line_within(&mut r, ms(5000)));
    assert!(matches!(top.msg, Msg::Top { .. }), "{top:?}");
    let refusal = parse(&read_line_within(&mut r, ms(5000)));
    assert!(
        matches!(&refusal.msg, Msg::Error { reason } if reason.contains("lane node [10000000, 10000002) of lane 0")),
        "{refusal:?}"
    );
    assert_eq!(
        read_line_within(&mut r, ms(5000)),
        "",
        "the session is closed"
    );

    let correct = tree(params, None);
    let (outcome, transcript) =
        challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(2000)).expect("connects");
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains(&format!("wrong chunk at step {lie}"))),
        "{outcome:?}"
    );
    assert_eq!(referee(&correct, &disputed, &transcript), Ok(outcome));
    assert_eq!(server.join().expect("no panic").expect("serves"), 1);
    let reports = reports.lock().expect("lock");
    let bad = reports
        .iter()
        .find(|(peer, ..)| *peer == mine)
        .expect("the bad session is reported");
    assert!(
        matches!(&bad.1, SessionEnd::Failed(w) if w.contains("not a non-empty range")),
        "{:?}",
        bad.1
    );
    assert_eq!(reports.iter().filter(|(_, e, _)| e.is_game()).count(), 1);
}

/// Issue 9, item 5: an executor dripping one byte every 300 ms used to hold the challenger for
/// as long as it liked (every read reset the timeout). The whole reply must now come within
/// the timeout.
#[test]
fn a_dripping_executor_is_cut_off_within_the_message_timeout() {
    let params = params(HashId::Blake3, 4, true);
    let correct = tree(params, None);
    let disputed = disputed(&tree(params, Some(5)));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let drip = b"{\"type\":\"top\",\"digest\":\"0000000000000000000000000000000000";
    let dripper = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut line = String::new();
        r.read_line(&mut line).expect("hello");
        for b in drip {
            if (&s).write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(ms(300));
        }
    });
    let start = Instant::now();
    let (outcome, _) = challenge(&addr, &correct, &disputed, &nonce(), ms(1000)).expect("connects");
    let took = start.elapsed();
    assert!(
        matches!(&outcome, Outcome::Unproven(w) if w.contains("timed out")),
        "{outcome:?}"
    );
    // The drip lasts 60 x 300 ms = 18 s; the old per-read timeout waited all of it.
    assert!(took < ms(3000), "cut off after {took:?}");
    dripper.join().expect("dripper");
}

/// The same from the server's side: a challenger dripping a hello is cut off within about the
/// timeout, reported, and the server goes on to play an honest challenger.
#[test]
fn a_dripping_challenger_is_cut_off_and_reported_and_serve_goes_on() {
    let params = params(HashId::Blake3, 4, true);
    // A lying executor: only a game that reaches a leaf opening counts, and ends the server.
    let executor = tree(params, Some(5));
    let disputed = disputed(&executor);
    let root = disputed.root;
    let (addr, server, reports) = start_serve(
        executor,
        ServeOptions {
            behaviour: Behaviour::Honest,
            timeout: ms(1000),
            games: 1,
            max_sessions: 2,
            per_peer: 8,
        },
    );
    let hello = line_of(&Msg::Hello { root });
    let start = Instant::now();
    let dripper = std::thread::spawn(move || {
        let s = TcpStream::connect(addr).expect("connect");
        let mine = s.local_addr().expect("addr");
        // One byte every 300 ms, never the newline: at most 40 bytes (12 s) if never cut off.
        for b in hello.iter().take(40) {
            if (&s).write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(ms(300));
        }
        mine
    });
    let mine = dripper.join().expect("dripper");
    let cut = {
        let reports = reports.lock().expect("lock");
        let (_, end, at) = reports
            .iter()
            .find(|(peer, ..)| *peer == mine)
            .expect("the dripping session was cut off and reported")
            .clone();
        assert!(
            matches!(&end, SessionEnd::Failed(w) if w.contains("timed out")),
            "{end:?}"
        );
        at.duration_since(start)
    };
    assert!(cut < ms(3000), "cut off after {cut:?}, not 12 s");
    let correct = tree(params, None);
    let (outcome, _) =
        challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(2000)).expect("connects");
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    assert_eq!(server.join().expect("no panic").expect("serves"), 1);
}

/// Several challengers at once: one holding a session does not delay another, and one more
/// than the cap is told the server is busy instead of waiting; bad connections do not count as
/// games, so the server exits after the games it was asked for.
#[test]
fn serve_plays_challengers_at_once_up_to_its_cap() {
    let params = params(HashId::Blake3, 4, true);
    let executor = tree(params, Some(77));
    let disputed = disputed(&executor);
    let root = disputed.root;
    let (addr, server, reports) = start_serve(
        executor,
        ServeOptions {
            behaviour: Behaviour::Honest,
            timeout: ms(4000),
            games: 2,
            max_sessions: 2,
            per_peer: 8,
        },
    );
    // A challenger that says hello, then holds its session.
    let mut holder = TcpStream::connect(addr).expect("connect");
    send(&mut holder, &Msg::Hello { root });
    let mut holder = BufReader::new(holder);
    let top = parse(&read_line_within(&mut holder, ms(5000)));
    assert!(matches!(top.msg, Msg::Top { .. }), "{top:?}");
    // Meanwhile a whole game, well within the holder's timeout.
    let correct = tree(params, None);
    let start = Instant::now();
    let (outcome, _) =
        challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(4000)).expect("connects");
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("wrong chunk at step 77")),
        "{outcome:?}"
    );
    assert!(start.elapsed() < ms(3000), "not queued behind the holder");
    // Once the game's session has ended, two sessions: the holder and a second one. A third is
    // refused at once.
    let deadline = Instant::now() + ms(5000);
    while !reports
        .lock()
        .expect("lock")
        .iter()
        .any(|(_, e, _)| e.is_game())
    {
        assert!(Instant::now() < deadline, "the game's session never ended");
        std::thread::sleep(ms(10));
    }
    let second = TcpStream::connect(addr).expect("connect");
    send(
        &mut second.try_clone().expect("clone"),
        &Msg::Hello { root },
    );
    let mut second = BufReader::new(second);
    assert!(read_line_within(&mut second, ms(5000)).contains("\"top\""));
    let third = TcpStream::connect(addr).expect("connect");
    let mut third = BufReader::new(third);
    let busy = parse(&read_line_within(&mut third, ms(3000)));
    assert!(
        matches!(&busy.msg, Msg::Error { reason } if reason.contains("busy")),
        "{busy:?}"
    );
    // The holder and the second close after their hello: not games (a hello is public). A
    // second whole game is, and the server is done (it returns once the games are reached,
    // with the sessions in progress finished).
    drop(holder);
    drop(second);
    let (outcome, _) =
        challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(4000)).expect("connects");
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    let games = server.join().expect("no panic").expect("serves");
    assert_eq!(games, 2);
    let reports = reports.lock().expect("lock");
    assert_eq!(
        reports
            .iter()
            .filter(|(_, e, _)| matches!(e, SessionEnd::Unfinished { messages: 1 }))
            .count(),
        2,
        "{reports:?}"
    );
    assert_eq!(
        reports
            .iter()
            .filter(|(_, e, _)| *e == SessionEnd::Busy)
            .count(),
        1,
        "{reports:?}"
    );
}

/// Issue 9, item 5: `connect` had no timeout (135 s against a full backlog). A listener that
/// never accepts fills its backlog; connecting to it then fails within the timeout.
#[test]
fn connecting_to_a_full_backlog_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut held = Vec::new();
    // Linux queues backlog + 1 connections (129 for std's 128) and drops further SYNs.
    let full = (0..5000).any(|_| match TcpStream::connect_timeout(&addr, ms(200)) {
        Ok(s) => {
            held.push(s);
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => true,
        Err(e) => panic!("after {} connections: {e}", held.len()),
    });
    assert!(full, "the backlog never filled");
    let params = params(HashId::Blake3, 2, true);
    let t = tree_of(params, 10, None);
    let start = Instant::now();
    let err = challenge(&addr.to_string(), &t, &disputed(&t), &nonce(), ms(300))
        .expect_err("no connection");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() < ms(2000), "{:?}", start.elapsed());
    let err = connect(&addr.to_string(), ms(300)).expect_err("no connection");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
}

#[test]
fn zero_timeouts_are_refused_by_the_library() {
    let params = params(HashId::Blake3, 2, true);
    let t = tree_of(params, 10, None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let err = challenge(&addr, &t, &disputed(&t), &nonce(), Duration::ZERO).expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    let opts = ServeOptions {
        behaviour: Behaviour::Honest,
        timeout: Duration::ZERO,
        games: 1,
        max_sessions: 1,
        per_peer: 1,
    };
    let key = key();
    let exec = Executor::new(&t, &key);
    let err = serve(&listener, &exec, &opts, &|_, _| {}).expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    let err = serve_one(&listener, &exec, Behaviour::Honest, Duration::ZERO).expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
}

/// `play` over an executor's signed answers: a lying tree loses at its lie, an honest one wins;
/// no network involved.
#[test]
fn play_against_signed_answers_finds_the_lie() {
    let params = params(HashId::Keccak, 3, false);
    let correct = tree(params, None);
    let key = key();
    for (lie, executor) in [
        (Some(999), tree(params, Some(999))),
        (None, tree(params, None)),
    ] {
        let exec = Executor::new(&executor, &key);
        let nonce = nonce();
        let outcome = play(
            &correct,
            &disputed(&executor),
            &nonce,
            exec.responder(nonce),
            &mut Vec::new(),
        );
        match lie {
            Some(i) => assert!(
                matches!(&outcome, Outcome::Challenger(w) if w.contains(&format!("wrong chunk at step {i}"))),
                "{outcome:?}"
            ),
            None => assert!(matches!(outcome, Outcome::Executor(_)), "{outcome:?}"),
        }
    }
}

/// `--timeout-ms 0` would mean "no timeout" to the sockets: both commands refuse it as a usage
/// error (exit 2), before reading any file.
#[test]
fn cli_refuses_a_zero_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &[
            "serve",
            "--vote",
            "v.json",
            "--key",
            "k.key",
            "--salt-file",
            "s",
            "--windback",
            "wb.txt",
            "--timeout-ms",
            "0",
        ][..],
        &[
            "challenge",
            "--connect",
            "127.0.0.1:9",
            "--vote",
            "v.json",
            "--reveal",
            "r.json",
            "--windback",
            "wb.txt",
            "--timeout-ms",
            "0",
        ][..],
    ] {
        let o = poie(dir.path(), args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--timeout-ms"), "{err}");
    }
}

/// Issue 9, item 1, end to end: the query that killed `poie serve` now gets an error reply,
/// the session is reported on stderr, and the same process then plays an honest challenger
/// and exits 0.
#[test]
fn cli_serve_survives_a_bad_node_and_plays_the_next_challenger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures::windback_and_key(d, "200 3", "sort in.txt\n");
    // A lying executor: a game counts once it reaches a leaf opening, which a challenge of a
    // correct vote (settled at the hello) never does.
    assert_ok(&poie(
        d,
        &vote_args("s", &["--lanes", "4", "--lie-at", "57", "--out", "v.json"]),
    ));
    assert_ok(&poie(d, &reveal_args("v.json", "s", "r.json")));
    let vote: serde_json::Value = read_json(d.join("v.json"));
    let root = vote["root"].as_str().expect("a hex root").to_string();
    let mut server = cli::bin()
        .current_dir(d)
        .args(serve_args(
            "k.key",
            "127.0.0.1:0",
            &["--timeout-ms", "3000", "--lie-at", "57"],
        ))
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    // Its stderr, line by line, through a channel so every wait on it is bounded.
    let (tx, lines) = mpsc::channel();
    let stderr = server.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("serve announces its address");
        log.push(line.clone());
        if let Some(a) = line.strip_prefix("poie: serving the challenge game on ") {
            break a.to_string();
        }
        assert!(log.len() < 100, "{log:?}");
    };

    let mut s = TcpStream::connect(&addr).expect("connect");
    s.write_all(
        format!(
            "{{\"type\":\"hello\",\"root\":\"{root}\",\"nonce\":\"{}\"}}\n",
            "ab".repeat(32)
        )
        .as_bytes(),
    )
    .expect("hello");
    s.write_all(b"{\"type\":\"query\",\"node\":{\"kind\":\"lane\",\"lane\":0,\"lo\":10000000,\"hi\":10000002}}\n")
        .expect("query");
    let mut r = BufReader::new(s);
    assert!(read_line_within(&mut r, ms(10_000)).contains("\"top\""));
    let refusal = read_line_within(&mut r, ms(10_000));
    assert!(
        refusal.contains("\"error\"") && refusal.contains("10000000"),
        "{refusal}"
    );
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the session is closed");

    let o = poie(d, &challenge_args(&addr, &["--timeout-ms", "3000"]));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("executor loses: wrong chunk at step 57"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // One game played: the server exits 0 by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("serve did not exit after its game: {log:?}");
        }
        std::thread::sleep(ms(20));
    };
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
        log.push(line);
    }
    assert!(status.success(), "{status:?}: {log:?}");
    let log = log.join("\n");
    assert!(
        log.contains("ended by a protocol error: lane node [10000000, 10000002) of lane 0"),
        "{log}"
    );
    assert!(log.contains("game played"), "{log}");
    assert!(log.contains("1 game played; exiting"), "{log}");
    assert!(log.contains("exits after 1 game"), "{log}");

    // Issue 9, item 6, end to end: the referee agrees with the transcript as played; the same
    // transcript doctored to say the honest executor never answered used to convict it, and
    // is now unproven (exit 1).
    let referee = |d: &std::path::Path| poie(d, &referee_args());
    let o = referee(d);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("executor loses: wrong chunk at step 57"),
        "{out}"
    );
    let mut t: serde_json::Value = read_json(d.join("t.json"));
    assert_eq!(t["version"], 2);
    t["entries"][1] = serde_json::json!({"from": "executor", "failure": "timed out: no whole message within 3000 ms"});
    t["outcome"] =
        serde_json::json!({"winner": "challenger", "reason": "the executor did not answer"});
    std::fs::write(d.join("t.json"), serde_json::to_vec(&t).expect("json")).expect("write");
    let o = referee(d);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let verdict = out.lines().next().unwrap_or_default();
    assert!(
        verdict.starts_with("unproven: the executor did not answer the hello")
            && verdict.ends_with("the transcript shows no signed wrong answer"),
        "{out}"
    );
    assert!(
        out.contains("(the transcript claimed: executor loses"),
        "{out}"
    );
}

/// One session answers at most `MAX_SESSION_MESSAGES` messages (an honest game needs 82): a
/// challenger repeating queries cannot keep the executor hashing, or a session slot, forever.
#[test]
fn a_session_ends_at_its_message_cap() {
    let params = params(HashId::Blake3, 4, true);
    let t = tree(params, None);
    let root = vote_root(&t);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let key = key();
        serve_one(
            &listener,
            &Executor::new(&t, &key),
            Behaviour::Honest,
            ms(5000),
        )
    });
    let mut s = TcpStream::connect(addr).expect("connect");
    let cap = MAX_SESSION_MESSAGES as usize;
    let mut lines = line_of(&Msg::Hello { root });
    lines.extend(line_of(&Msg::Open { index: 0 }).repeat(cap));
    s.write_all(&lines).expect("send");
    let mut r = BufReader::new(s);
    for i in 0..cap {
        let line = read_line_within(&mut r, ms(5000));
        let kind = if i == 0 { "\"top\"" } else { "\"leaf\"" };
        assert!(line.contains(kind), "reply {i}: {line}");
    }
    let last = read_line_within(&mut r, ms(5000));
    assert!(
        last.contains("\"error\"") && last.contains(&format!("more than {cap} messages")),
        "{last}"
    );
    let end = server.join().expect("no panic").expect("serves");
    assert!(
        matches!(&end, SessionEnd::Failed(w) if w.contains("more than")),
        "{end:?}"
    );
}

/// The executor entries of a transcript, by position.
fn replies(t: &Transcript) -> Vec<usize> {
    (0..t.entries.len())
        .filter(|&k| t.entries[k].from == Party::Executor)
        .collect()
}

/// Issue 9, item 6: a transcript is the challenger's own record, so "the executor did not
/// answer" in it is only the challenger's word. Such a doctored transcript of a game an honest
/// executor won used to convict it; now it proves nothing either way.
#[test]
fn a_doctored_transcript_claiming_silence_does_not_convict() {
    let params = params(HashId::Blake3, 4, true);
    let (outcome, transcript, correct, disputed) =
        game(params, tree(params, None), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Executor(_)), "{outcome:?}");
    let hello = transcript.entries[0].clone();
    let silent = Entry {
        from: Party::Executor,
        msg: None,
        sig: None,
        failure: Some("timed out: no whole message within 300 ms".into()),
    };
    let refused = Entry {
        from: Party::Executor,
        msg: Some(Msg::Error {
            reason: "busy: 4 sessions in progress, try again later".into(),
        }),
        sig: None,
        failure: None,
    };
    for (what, entries) in [
        ("a timeout", vec![hello.clone(), silent]),
        ("a refusal", vec![hello.clone(), refused]),
        ("no reply at all", vec![hello]),
    ] {
        let doctored = Transcript {
            nonce: transcript.nonce,
            entries,
        };
        let verdict = referee(&correct, &disputed, &doctored).expect("a well-formed transcript");
        assert!(
            matches!(&verdict, Outcome::Unproven(w) if w.contains("no signed wrong answer")),
            "{what}: {verdict:?}"
        );
        assert!(!verdict.is_proven(), "{what}");
    }
}

/// Issue 9, item 6: a transcript whose signatures were altered, or whose signed replies were
/// altered under their signatures, is not evidence: not against a lying executor, and above all
/// not against an honest one framed with a reply it never signed.
#[test]
fn altered_signatures_or_replies_are_not_evidence() {
    let params = params(HashId::Blake3, 4, true);
    let (outcome, transcript, correct, disputed) =
        game(params, tree(params, Some(321)), Behaviour::Honest);
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("wrong chunk at step 321")),
        "{outcome:?}"
    );
    assert_eq!(referee(&correct, &disputed, &transcript), Ok(outcome));
    let replies = replies(&transcript);
    assert!(replies.len() > 5, "a bisection: {}", replies.len());
    for (i, &k) in replies.iter().enumerate() {
        let mut t = transcript.clone();
        let sig = t.entries[k].sig.as_mut().expect("every reply is signed");
        sig[i % 64] ^= 1 << (i % 8);
        let verdict = referee(&correct, &disputed, &t).expect("well-formed");
        assert!(
            matches!(&verdict, Outcome::Unproven(w) if w.contains(&format!("signature of reply {i}"))),
            "reply {i}: {verdict:?}"
        );
        t.entries[k].sig = None;
        let verdict = referee(&correct, &disputed, &t).expect("well-formed");
        assert!(
            matches!(&verdict, Outcome::Unproven(w) if w.contains(&format!("reply {i} (a"))
                && w.contains("not signed")),
            "reply {i}: {verdict:?}"
        );
    }
    // The liar's opening with its chunk "corrected" under the signature: not evidence either way.
    let mut t = transcript.clone();
    let last = t.entries.last_mut().expect("entries");
    if let Some(Msg::Leaf { chunk, .. }) = &mut last.msg {
        chunk[0] ^= 1;
    }
    assert!(matches!(
        referee(&correct, &disputed, &t),
        Ok(Outcome::Unproven(_))
    ));

    // Framing: the honest executor's real signed top, its digest altered so that it no longer
    // hashes to the vote's root. The old referee convicted on exactly this.
    let (outcome, honest, correct, disputed) = game(params, tree(params, None), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Executor(_)), "{outcome:?}");
    let mut framed = honest.clone();
    let top = framed
        .entries
        .iter_mut()
        .find(|e| e.from == Party::Executor)
        .expect("the top");
    let Some(Msg::Top { digest }) = &mut top.msg else {
        panic!("{top:?}")
    };
    digest[7] ^= 0x40;
    let verdict = referee(&correct, &disputed, &framed).expect("well-formed");
    assert!(
        matches!(&verdict, Outcome::Unproven(w) if w.contains("signature of reply 0")),
        "{verdict:?}"
    );
    // Signed by another key (one the framer holds): not the vote's key, not evidence.
    let mut forged = framed.clone();
    let framer = Key::from_seed(&[99; 32]);
    let hello = forged.entries[0].msg.clone().expect("hello");
    let top = forged.entries[1].msg.clone().expect("top");
    forged.entries[1].sig = Some(framer.sign(&poie::protocol::challenge::reply_message(
        &forged.nonce,
        &disputed.root,
        0,
        &hello,
        &top,
    )));
    assert!(matches!(
        referee(&correct, &disputed, &forged),
        Ok(Outcome::Unproven(_))
    ));
}

/// Issue 9, item 6: signatures are bound to the session's nonce. Replies recorded in one
/// session prove nothing under another nonce, whether written into a transcript or played back
/// live to a challenger, which draws a fresh nonce for every session.
#[test]
fn replies_replayed_from_another_session_are_rejected() {
    let params = params(HashId::Blake3, 4, true);
    let (outcome, recorded, correct, disputed) =
        game(params, tree(params, Some(77)), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    // The same entries under another nonce.
    let mut t = recorded.clone();
    t.nonce[31] ^= 1;
    let verdict = referee(&correct, &disputed, &t).expect("well-formed");
    assert!(
        matches!(&verdict, Outcome::Unproven(w) if w.contains("signature of reply 0")),
        "{verdict:?}"
    );
    // Live: a relay answers a new challenger with the recorded signed replies, in order.
    let lines: Vec<Line> = recorded
        .entries
        .iter()
        .filter(|e| e.from == Party::Executor)
        .map(|e| Line {
            msg: e.msg.clone().expect("a reply"),
            nonce: None,
            sig: e.sig,
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let relay = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        for l in lines {
            if read_line_within(&mut r, ms(5000)).is_empty() {
                break;
            }
            let mut bytes = l.encode().expect("json");
            bytes.push(b'\n');
            if (&s).write_all(&bytes).is_err() {
                break;
            }
        }
    });
    let fresh = nonce();
    assert_ne!(fresh, recorded.nonce);
    let (outcome, replayed) =
        challenge(&addr, &correct, &disputed, &fresh, ms(5000)).expect("connects");
    relay.join().expect("relay");
    assert!(
        matches!(&outcome, Outcome::Unproven(w) if w.contains("signature of reply 0")),
        "{outcome:?}"
    );
    assert_eq!(referee(&correct, &disputed, &replayed), Ok(outcome));
}

/// Seeded random challenger lines, most of them near the tree's bounds or along its real
/// nodes: the bytes to send (one line, no newline inside).
fn hostile_line(rng: &mut Rng, t: &Tree, root: [u8; 32], first: bool) -> Vec<u8> {
    let n = t.n();
    let lanes = u64::from(t.params.layout.lanes);
    let hello = |rng: &mut Rng, nonce: bool| {
        let mut nonce_bytes = [0u8; 32];
        nonce_bytes[..8].copy_from_slice(&rng.next().to_le_bytes());
        Line {
            msg: Msg::Hello { root },
            nonce: nonce.then_some(nonce_bytes),
            sig: None,
        }
    };
    // Mostly answerable requests, so sessions go deep; one in four is hostile.
    let pick = if first && rng.next() % 10 < 7 {
        0
    } else {
        match rng.next() % 20 {
            0..=11 => 3,
            12..=14 => 6,
            15 => 5,
            16 => 1 + rng.next() % 2,
            17 => 7,
            18 => 8,
            _ => 9,
        }
    };
    let line = match pick {
        0 => hello(rng, true),
        1 => {
            let with_nonce = rng.next().is_multiple_of(2);
            hello(rng, with_nonce)
        }
        2 => Line {
            msg: Msg::Hello {
                root: [rng.next() as u8; 32],
            },
            nonce: Some([1; 32]),
            sig: None,
        },
        3 => {
            // A real node: the root, descended a random number of levels; mostly not to a
            // single leaf, which has no children to ask for.
            let mut node = t.root_node();
            for _ in 0..rng.next() % 9 {
                let Some((l, r)) = t.children(node) else {
                    break;
                };
                let next = if rng.next().is_multiple_of(2) { l } else { r };
                if t.children(next).is_none() && !rng.next().is_multiple_of(10) {
                    break;
                }
                node = next;
            }
            Line {
                msg: Msg::Query { node },
                nonce: None,
                sig: None,
            }
        }
        5 => {
            let node = if rng.next().is_multiple_of(3) {
                Node::Top {
                    lo: rng.around(lanes) as u32,
                    hi: rng.around(lanes) as u32,
                }
            } else {
                let len = n / lanes + 1;
                Node::Lane {
                    lane: rng.around(lanes) as u32,
                    lo: rng.around(len),
                    hi: rng.around(len),
                }
            };
            Line {
                msg: Msg::Query { node },
                nonce: None,
                sig: None,
            }
        }
        6 => Line {
            msg: Msg::Open {
                index: if rng.next().is_multiple_of(2) {
                    rng.next() % n
                } else {
                    rng.around(n)
                },
            },
            nonce: None,
            sig: None,
        },
        7 => {
            // What only an executor sends, sometimes with a signature of its own.
            let msg = match rng.next() % 4 {
                0 => Msg::Top { digest: [2; 32] },
                1 => Msg::Children {
                    left: [3; 32],
                    right: [4; 32],
                },
                2 => Msg::Leaf {
                    chunk: [5; 32],
                    link: [6; 32],
                },
                _ => Msg::Error {
                    reason: "no".into(),
                },
            };
            let sig = (rng.next().is_multiple_of(2)).then_some([7; 64]);
            Line {
                msg,
                nonce: None,
                sig,
            }
        }
        8 => {
            // A good request carrying what it must not: a nonce after the hello, a signature.
            let mut l = Line {
                msg: Msg::Open { index: 0 },
                nonce: None,
                sig: None,
            };
            if rng.next().is_multiple_of(2) {
                l.nonce = Some([8; 32]);
            } else {
                l.sig = Some([8; 64]);
            }
            l
        }
        _ => {
            // Garbage: printable bytes, or JSON with a stray field.
            return if rng.next().is_multiple_of(2) {
                (0..rng.next() % 40)
                    .map(|_| b' ' + (rng.next() % 94) as u8)
                    .collect()
            } else {
                br#"{"type":"open","index":1,"extra":true}"#.to_vec()
            };
        }
    };
    line.encode().expect("json")
}

/// One hostile session in lockstep with the executor (a line, then its reply, so the executor
/// never closes on unread bytes and no reply is lost to a reset). Returns what was sent that
/// parses as a line, and the replies, in order.
fn hostile_session(
    rng: &mut Rng,
    addr: SocketAddr,
    t: &Tree,
    root: [u8; 32],
) -> (Vec<Option<Line>>, Vec<Line>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let (mut sent, mut got) = (Vec::new(), Vec::new());
    for i in 0..1 + rng.next() % 12 {
        let mut bytes = hostile_line(rng, t, root, i == 0);
        sent.push(Line::decode(&bytes).ok());
        bytes.push(b'\n');
        if s.write_all(&bytes).is_err() {
            break;
        }
        let reply = read_line_within(&mut r, ms(5000));
        if reply.is_empty() {
            break;
        }
        let reply = parse(&reply);
        let done = matches!(reply.msg, Msg::Error { .. });
        got.push(reply);
        if done {
            break;
        }
    }
    (sent, got)
}

/// Issue 9, tests: an honest executor never loses, whatever the challenger sends. Seeded random
/// sessions (hellos with and without nonces or for other roots, real and bogus nodes, opens
/// near the bounds, executor-only messages, garbage, in random orders) against an honest
/// executor over loopback: it signs only answers its tree gives, each for its session's nonce
/// and index, refuses the rest unsigned, and no transcript made of its replies, reordered or
/// mixed across sessions, convicts it; an honest challenger then still loses to it. A lying
/// executor, after the same treatment, is still convicted on a signed wrong answer.
#[test]
fn an_honest_executor_never_loses_whatever_the_challenger_sends() {
    let params = params(HashId::Blake3, 3, true);
    let n = 200;
    let correct = tree_of(params, n, None);
    let mut rng = Rng(0x5eed_0006);
    for lie in [None, Some(123)] {
        let executor = tree_of(params, n, lie);
        let disputed = disputed(&executor);
        let sessions = if lie.is_none() { 60 } else { 10 };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let key = key();
            let exec = Executor::new(&executor, &key);
            let ends: Vec<SessionEnd> = (0..=sessions)
                .map(|_| {
                    let (s, _) = listener.accept().expect("accept");
                    session(s, &exec, Behaviour::Honest, ms(3000))
                })
                .collect();
            ends
        });
        let mut transcripts = Vec::new();
        let mut signed = 0;
        for _ in 0..sessions {
            let (sent, got) = hostile_session(&mut rng, addr, &correct, disputed.root);
            let nonce = sent
                .first()
                .and_then(|l| l.as_ref())
                .and_then(|l| l.nonce)
                .unwrap_or([0; 32]);
            let mut entries = Vec::new();
            for (index, (request, reply)) in sent.iter().zip(&got).enumerate() {
                if reply.sig.is_some() {
                    signed += 1;
                    let request = request.as_ref().expect("only a line is answered");
                    let r = Reply {
                        msg: reply.msg.clone(),
                        sig: reply.sig,
                    };
                    assert!(
                        disputed.signed(&nonce, index as u64, &request.msg, &r),
                        "reply {index} to {request:?} is signed for its session and place"
                    );
                    if lie.is_none() {
                        assert_eq!(
                            correct.respond(&request.msg).as_ref(),
                            Ok(&reply.msg),
                            "the honest executor signs only the re-execution's answers"
                        );
                    }
                } else {
                    assert!(
                        matches!(reply.msg, Msg::Error { .. }),
                        "only refusals are unsigned: {reply:?}"
                    );
                }
                if let Some(request) = request {
                    entries.push(Entry {
                        from: Party::Challenger,
                        msg: Some(request.msg.clone()),
                        sig: None,
                        failure: None,
                    });
                    entries.push(Entry {
                        from: Party::Executor,
                        msg: Some(reply.msg.clone()),
                        sig: reply.sig,
                        failure: None,
                    });
                }
            }
            transcripts.push(Transcript { nonce, entries });
        }
        if lie.is_none() {
            assert!(
                signed > 90,
                "the sessions went deep enough: {signed} signed replies"
            );
            // Every transcript the hostile challenger can make of what it collected: as
            // played, with the replies rotated, and with another session's replies spliced in.
            for k in 0..transcripts.len() {
                let t = &transcripts[k];
                let other = &transcripts[(k + 1) % transcripts.len()];
                let mut rotated = t.clone();
                let replies: Vec<Entry> =
                    rotated.entries.iter().skip(1).step_by(2).cloned().collect();
                for (j, e) in rotated.entries.iter_mut().skip(1).step_by(2).enumerate() {
                    *e = replies[(j + 1) % replies.len()].clone();
                }
                let mut spliced = t.clone();
                for (e, o) in spliced
                    .entries
                    .iter_mut()
                    .zip(&other.entries)
                    .skip(1)
                    .step_by(2)
                {
                    *e = o.clone();
                }
                for candidate in [t, &rotated, &spliced] {
                    let verdict = referee(&correct, &disputed, candidate);
                    assert!(
                        !matches!(verdict, Ok(Outcome::Challenger(_))),
                        "session {k}: {verdict:?}"
                    );
                }
            }
        }
        // Then a real challenger, on the same server.
        let (outcome, transcript) =
            challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(3000))
                .expect("connects");
        let ends = server.join().expect("the server never panics");
        assert_eq!(ends.len(), sessions + 1);
        assert_eq!(
            referee(&correct, &disputed, &transcript),
            Ok(outcome.clone())
        );
        match lie {
            None => assert!(matches!(outcome, Outcome::Executor(_)), "{outcome:?}"),
            Some(i) => {
                assert!(
                    matches!(&outcome, Outcome::Challenger(w) if w.contains(&format!("wrong chunk at step {i}"))),
                    "{outcome:?}"
                );
                let last = transcript.entries.last().expect("entries");
                let request = transcript.entries[transcript.entries.len() - 2]
                    .msg
                    .clone()
                    .expect("the open");
                let reply = Reply {
                    msg: last.msg.clone().expect("the leaf"),
                    sig: last.sig,
                };
                let index = (transcript.entries.len() / 2 - 1) as u64;
                assert!(disputed.signed(&transcript.nonce, index, &request, &reply));
            }
        }
    }
}

/// The transcript file: version 2, written and read by one helper; version 1 files (no
/// signatures) are refused by version; and no mutation of a convicting transcript's file
/// convicts anything but the transcript it was, or panics the loader or the referee.
#[test]
fn transcript_files_are_versioned_and_mutations_never_convict_anew() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let params = params(HashId::Blake3, 4, true);
    let (outcome, transcript, correct, disputed) =
        game(params, tree(params, Some(500)), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    let file = TranscriptFile::new(disputed.root, transcript.clone(), outcome.clone());
    file.save(&path).expect("saved");
    let text = std::fs::read(&path).expect("read");
    let loaded = TranscriptFile::load(&path).expect("loads");
    assert_eq!(loaded, file);
    assert_eq!(loaded.transcript(), transcript);
    let json: serde_json::Value = serde_json::from_slice(&text).expect("json");
    assert_eq!(json["version"], 2);
    assert_eq!(json["outcome"]["winner"], "challenger");
    assert_eq!(json["entries"][1]["sig"].as_str().map(str::len), Some(128));
    assert_eq!(json["nonce"].as_str().map(str::len), Some(64));
    // The old format.
    let old = String::from_utf8(text.clone()).expect("utf-8").replacen(
        "\"version\": 2",
        "\"version\": 1",
        1,
    );
    std::fs::write(&path, old).expect("write");
    let err = TranscriptFile::load(&path)
        .expect_err("refused")
        .to_string();
    assert!(err.contains("version 1"), "{err}");
    let mut stale = file.clone();
    stale.version = 1;
    assert!(
        stale.save(&path).is_err(),
        "a version this poie would not read back"
    );

    let mut rng = Rng(0x5eed_0062);
    let hex = b"0123456789abcdef";
    let (mut loaded_ok, mut convicted) = (0, 0);
    for _ in 0..400 {
        let mut bytes = text.clone();
        for _ in 0..1 + rng.next() % 2 {
            let at = (rng.next() % bytes.len() as u64) as usize;
            // Inside a long hex string: a digest, a signature or the nonce.
            let in_hex = bytes
                .get(at.saturating_sub(2)..at + 3)
                .is_some_and(|w| w.iter().all(u8::is_ascii_hexdigit));
            match rng.next() % 8 {
                // Mostly another hex digit there, which keeps the file loadable.
                0..=4 if in_hex => bytes[at] = hex[(rng.next() % 16) as usize],
                0..=4 => {}
                5 => bytes[at] = b' ' + (rng.next() % 94) as u8,
                6 => {
                    let end = (at + (rng.next() % 64) as usize).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    let end = (at + (rng.next() % 64) as usize).min(bytes.len());
                    let span = bytes[at..end].to_vec();
                    bytes.splice(at..at, span);
                }
            }
            if bytes.is_empty() {
                bytes.push(b'{');
            }
        }
        std::fs::write(&path, &bytes).expect("write");
        let Ok(t) = TranscriptFile::load(&path) else {
            continue;
        };
        loaded_ok += 1;
        if let Ok(Outcome::Challenger(_)) = referee(&correct, &disputed, &t.transcript()) {
            convicted += 1;
            assert_eq!(
                (t.nonce, &t.entries),
                (transcript.nonce, &transcript.entries),
                "only the transcript as signed convicts"
            );
        }
    }
    assert!(loaded_ok > 150, "{loaded_ok} mutants loaded");
    assert!(
        convicted > 0,
        "mutants of the outcome or spacing still convict"
    );
}

/// `poie serve` signs with the vote's key, so it refuses another key; and it refuses to serve
/// a tree whose root is not the vote's (here, a lie the vote was not made with), which would
/// sign answers contradicting its own vote.
#[test]
fn cli_serve_checks_its_key_and_root_before_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures::windback_and_key(d, "50 3", "sort in.txt\n");
    fixtures::key(d, "other.key");
    assert_ok(&poie(d, &vote_args("s", &["--out", "v.json"])));
    let serve = |key: &str, extra: &[&str]| poie(d, &serve_args(key, "127.0.0.1:0", extra));
    let o = serve("other.key", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(
        err.contains("other.key") && err.contains("is not the vote's"),
        "{err}"
    );
    let o = serve("k.key", &["--lie-at", "3"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("root is not the vote's"), "{err}");
    // A key file of another kind is refused as such.
    let o = serve("s", &[]);
    assert_eq!(o.status.code(), Some(125));
}

/// Attacker's report, C: three connections that said the public hello and closed used to be
/// three games, so `serve --games 3` exited and the honest challenger found no server. A game
/// now counts only once it reaches a leaf opening: with `games = 1`, strangers' hellos (and a
/// bare connection) leave the server up, the honest challenger plays its whole game, and the
/// server exits after it.
#[test]
fn hello_only_sessions_do_not_use_up_the_games() {
    let params = params(HashId::Blake3, 4, true);
    let executor = tree(params, Some(400));
    let disputed = disputed(&executor);
    let root = disputed.root;
    let (addr, server, reports) = start_serve(
        executor,
        ServeOptions {
            behaviour: Behaviour::Honest,
            timeout: ms(3000),
            games: 1,
            max_sessions: 4,
            per_peer: 4,
        },
    );
    for _ in 0..3 {
        let mut s = TcpStream::connect(addr).expect("connect");
        send(&mut s, &Msg::Hello { root });
        let mut r = BufReader::new(s);
        assert!(read_line_within(&mut r, ms(5000)).contains("\"top\""));
    }
    drop(TcpStream::connect(addr).expect("connect"));
    let deadline = Instant::now() + ms(5000);
    while reports.lock().expect("lock").len() < 4 {
        assert!(Instant::now() < deadline, "the four sessions never ended");
        std::thread::sleep(ms(10));
    }
    assert!(!server.is_finished(), "strangers used up the server's game");
    let correct = tree(params, None);
    let (outcome, transcript) =
        challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(3000))
            .expect("the honest challenger is served");
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("wrong chunk at step 400")),
        "{outcome:?}"
    );
    assert_eq!(referee(&correct, &disputed, &transcript), Ok(outcome));
    assert_eq!(server.join().expect("no panic").expect("serves"), 1);
    let reports = reports.lock().expect("lock");
    let count = |f: &dyn Fn(&SessionEnd) -> bool| reports.iter().filter(|(_, e, _)| f(e)).count();
    assert_eq!(
        count(&|e| *e == SessionEnd::Unfinished { messages: 1 }),
        3,
        "{reports:?}"
    );
    assert_eq!(
        count(&|e| matches!(e, SessionEnd::Failed(_))),
        1,
        "{reports:?}"
    );
    assert_eq!(count(&|e| e.is_game()), 1, "{reports:?}");
}

/// Attacker's report, C: one address holds at most `per_peer` sessions at once, so it cannot
/// take every session from other challengers; one more from it is told so and closed, and
/// once its session ends it is served again.
#[test]
fn sessions_from_one_address_are_bounded() {
    let params = params(HashId::Blake3, 4, true);
    let executor = tree(params, Some(600));
    let disputed = disputed(&executor);
    let root = disputed.root;
    let (addr, server, reports) = start_serve(
        executor,
        ServeOptions {
            behaviour: Behaviour::Honest,
            timeout: ms(4000),
            games: 1,
            max_sessions: 4,
            per_peer: 1,
        },
    );
    let mut holder = TcpStream::connect(addr).expect("connect");
    send(&mut holder, &Msg::Hello { root });
    let mut holder = BufReader::new(holder);
    assert!(read_line_within(&mut holder, ms(5000)).contains("\"top\""));
    // The server has room (4 sessions), but not for a second one from 127.0.0.1.
    let mut other = BufReader::new(TcpStream::connect(addr).expect("connect"));
    let busy = parse(&read_line_within(&mut other, ms(3000)));
    assert!(
        matches!(&busy.msg, Msg::Error { reason } if reason.contains("1 sessions from your address")),
        "{busy:?}"
    );
    assert_eq!(read_line_within(&mut other, ms(3000)), "", "and closed");
    drop(holder);
    let deadline = Instant::now() + ms(5000);
    while !reports
        .lock()
        .expect("lock")
        .iter()
        .any(|(_, e, _)| matches!(e, SessionEnd::Unfinished { .. }))
    {
        assert!(
            Instant::now() < deadline,
            "the holder's session never ended"
        );
        std::thread::sleep(ms(10));
    }
    let correct = tree(params, None);
    let (outcome, _) =
        challenge(&addr.to_string(), &correct, &disputed, &nonce(), ms(4000)).expect("connects");
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    assert_eq!(server.join().expect("no panic").expect("serves"), 1);
    let reports = reports.lock().expect("lock");
    assert_eq!(
        reports
            .iter()
            .filter(|(_, e, _)| *e == SessionEnd::PeerBusy)
            .count(),
        1,
        "{reports:?}"
    );
}

/// A convicting game's transcript file, written to `path`; its entries.
fn convicting_transcript(path: &std::path::Path) -> (TranscriptFile, Vec<Entry>) {
    let params = params(HashId::Blake3, 4, true);
    let (outcome, transcript, _, disputed) =
        game(params, tree(params, Some(500)), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    let file = TranscriptFile::new(disputed.root, transcript.clone(), outcome);
    file.save(path).expect("saved");
    (file, transcript.entries)
}

/// Attacker's report, A: a 63 MiB transcript of 3.3M entries made `referee` peak at 2.44 GB
/// before refusing entry 0. No game records more than `MAX_TRANSCRIPT_ENTRIES` entries (the
/// executor's message cap, each message with its reply): one more is refused by that count,
/// and the cap itself loads.
#[test]
fn a_transcript_longer_than_any_game_is_refused_by_its_entry_count() {
    use poie::protocol::challenge::{BadTranscript, MAX_TRANSCRIPT_ENTRIES};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (mut file, entries) = convicting_transcript(&path);
    assert_eq!(entries.len() % 2, 0, "message and reply");
    file.entries = entries
        .iter()
        .cycle()
        .take(MAX_TRANSCRIPT_ENTRIES)
        .cloned()
        .collect();
    file.save(&path).expect("saved");
    assert_eq!(
        TranscriptFile::read(&path)
            .expect("the cap loads")
            .entries
            .len(),
        MAX_TRANSCRIPT_ENTRIES
    );
    file.entries = entries
        .iter()
        .cycle()
        .take(MAX_TRANSCRIPT_ENTRIES + 1)
        .cloned()
        .collect();
    file.save(&path).expect("saved");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert_eq!(
        e.bad(),
        Some(&BadTranscript::TooManyEntries {
            max: MAX_TRANSCRIPT_ENTRIES
        }),
        "{e}"
    );
    let e = TranscriptFile::load(&path)
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains(&format!("more than {MAX_TRANSCRIPT_ENTRIES} entries")),
        "{e}"
    );
}

/// Attacker's report, A: the bytes are bounded too, by what the longest legal game writes, and
/// a longer file is refused by its length before it is read (a sparse 1 GiB file is reported
/// at its full length, where a read would have stopped one byte past the bound).
#[test]
fn a_transcript_larger_than_any_game_is_refused_before_it_is_read() {
    use poie::protocol::challenge::{BadTranscript, MAX_TRANSCRIPT_BYTES};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (file, _) = convicting_transcript(&path);
    // A valid transcript padded with spaces to one byte past the bound: it used to load.
    let mut text = file.to_json().expect("json").into_bytes();
    text.resize(
        usize::try_from(MAX_TRANSCRIPT_BYTES).expect("fits") + 1,
        b' ',
    );
    std::fs::write(&path, &text).expect("write");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert_eq!(
        e.bad(),
        Some(&BadTranscript::TooLarge {
            len: MAX_TRANSCRIPT_BYTES + 1,
            max: MAX_TRANSCRIPT_BYTES
        }),
        "{e}"
    );
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .expect("create")
        .set_len(1 << 30)
        .expect("sparse");
    let e = TranscriptFile::read(&huge).expect_err("refused");
    assert_eq!(
        e.bad(),
        Some(&BadTranscript::TooLarge {
            len: 1 << 30,
            max: MAX_TRANSCRIPT_BYTES
        }),
        "{e}"
    );
    // The longest legal transcript fits: the cap's entries, the last a failure quoting a
    // whole line escaped, and an outcome quoting it escaped again.
    let mut longest = file.clone();
    longest.entries = file
        .entries
        .iter()
        .cycle()
        .take(poie::protocol::challenge::MAX_TRANSCRIPT_ENTRIES - 1)
        .cloned()
        .collect();
    longest.entries.push(Entry {
        from: Party::Executor,
        msg: None,
        sig: None,
        failure: Some("\\\"".repeat(MAX_LINE)),
    });
    longest.outcome = Outcome::Unproven("\\\\\\\"".repeat(MAX_LINE));
    longest.save(&path).expect("saved");
    let len = std::fs::metadata(&path).expect("meta").len();
    assert!(len < MAX_TRANSCRIPT_BYTES, "{len}");
    assert_eq!(TranscriptFile::read(&path).expect("loads"), longest);
}

/// Attacker's report, A: entries are checked as they are read, and the first that no game
/// records (a signed challenger's message, two executor entries in a row) is named.
#[test]
fn a_transcript_entry_no_game_records_is_refused_at_the_first() {
    use poie::protocol::challenge::BadTranscript;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (file, _) = convicting_transcript(&path);
    let mut signed = file.clone();
    signed.entries[2].sig = signed.entries[1].sig;
    signed.save(&path).expect("saved");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert!(
        matches!(e.bad(), Some(BadTranscript::BadEntry { entry: 2, .. })),
        "{e}"
    );
    let mut twice = file.clone();
    twice.entries[4] = twice.entries[3].clone();
    twice.entries[6] = twice.entries[3].clone();
    twice.save(&path).expect("saved");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert!(
        matches!(e.bad(), Some(BadTranscript::BadEntry { entry: 4, .. })),
        "{e}"
    );
}
