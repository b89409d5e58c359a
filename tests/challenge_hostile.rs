//! The challenge game against hostile peers (issue 9): garbage and oversized messages neither
//! crash nor hang either side; a node outside the tree is refused, never answered and never a
//! panic; a session ends at its message cap; and an honest executor never signs anything a
//! referee could convict it on, whatever a challenger sends. Every socket is on 127.0.0.1 and
//! every loop is bounded.

mod common;

use common::game::*;
use common::rng::Rng;
use poie::proof::{HashId, Hasher};
use poie::protocol::challenge::{
    referee, serve_one, session, BadNode, Behaviour, Entry, Executor, Line, Msg, Node, Outcome,
    Party, Refusal, Reply, SessionEnd, Transcript, Tree, MAX_LINE, MAX_SESSION_MESSAGES,
};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

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
        })
        .ok(),
        Some([0; 32])
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

/// Every node of the tree over `len` leaves with its digest, by splitting from the root (the
/// largest power of two below a range's length goes left), written without the crate's trees.
fn nodes_of(h: &Hasher, leaves: &[[u8; 32]], lo: usize, out: &mut Vec<(usize, usize, [u8; 32])>) {
    let hi = lo + leaves.len();
    if !leaves.is_empty() {
        out.push((lo, hi, mth(h, leaves)));
    }
    if leaves.len() > 1 {
        let mut k = 1;
        while k * 2 < leaves.len() {
            k *= 2;
        }
        nodes_of(h, &leaves[..k], lo, out);
        nodes_of(h, &leaves[k..], lo + k, out);
    }
}

/// The digest a node must have, from the leaves alone; `None` for a node outside the tree (a
/// range no split from the root reaches is not one).
fn reference_digest(t: &Tree, node: Node) -> Option<[u8; 32]> {
    let lanes = t.params.layout.lanes as usize;
    let all: Vec<[u8; 32]> = (0..t.n())
        .map(|i| {
            let (chunk, link) = t.leaf_at(i).expect("in memory").expect("a leaf");
            t.h.leaf(&chunk, &link)
        })
        .collect();
    let lane_leaves =
        |lane: usize| -> Vec<[u8; 32]> { all.iter().skip(lane).step_by(lanes).copied().collect() };
    let find = |leaves: &[[u8; 32]], lo: u64, hi: u64| {
        let mut nodes = Vec::new();
        nodes_of(&t.h, leaves, 0, &mut nodes);
        nodes
            .into_iter()
            .find(|&(a, b, _)| (a as u64, b as u64) == (lo, hi))
            .map(|(_, _, d)| d)
    };
    match node {
        Node::Lane { lane, lo, hi } => {
            let lane = lane as usize;
            if lane >= lanes {
                return None;
            }
            find(&lane_leaves(lane), lo, hi)
        }
        Node::Top { lo, hi } => {
            let used = lanes.min(all.len());
            let roots: Vec<_> = (0..used).map(|j| mth(&t.h, &lane_leaves(j))).collect();
            if hi.checked_sub(lo) == Some(1) && (hi as usize) <= used {
                // A one-lane top node is that lane's root.
                return roots.get(lo as usize).copied();
            }
            find(&roots, u64::from(lo), u64::from(hi))
        }
    }
}

/// A node of the tree, walked down from the root by random splits: the nodes a game asks.
fn random_tree_node(t: &Tree, rng: &mut Rng) -> Node {
    let mut node = t.root_node();
    while let Some((l, r)) = t.children(node) {
        if rng.next().is_multiple_of(4) {
            break;
        }
        node = if rng.next().is_multiple_of(2) { l } else { r };
    }
    node
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
            let node = if rng.next().is_multiple_of(2) {
                random_tree_node(&t, &mut rng)
            } else if rng.next().is_multiple_of(3) {
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
                    assert_eq!(t.digest(node).ok(), expected);
                }
                Ok(other) => panic!("{node:?}: {other:?}"),
                Err(Refusal::Leaf { .. }) => {
                    assert_eq!(t.digest(node).ok(), expected, "a leaf of the tree");
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
            first_phase(addr, &correct, &disputed, ms(3000)).expect("connects");
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
