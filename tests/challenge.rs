//! The challenge game over loopback TCP: lying executors lose at the first, a middle and the
//! last leaf; a silent one loses on the timeout; a false challenge loses; the referee agrees
//! offline; garbage and oversized messages neither crash nor hang either side.

use poie::proof::{unique_secret, HashId, Hasher, Layout, Params, Simd};
use poie::protocol::challenge::{
    challenge, referee, serve_one, Behaviour, ChunkCollector, Outcome, Tree, MAX_LINE,
};
use poie::source::synthetic_chunk;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const N: u64 = 1000;

fn tree(params: Params, corrupt_at: Option<u64>) -> Tree {
    let h = Hasher::new(
        params.hash,
        unique_secret(params.hash, &[1; 32], &[2; 20]),
        Simd::detect(),
    )
    .expect("backend");
    let mut c = ChunkCollector {
        chunks: Vec::new(),
        corrupt_at,
    };
    let chunks: Vec<_> = (0..N).map(|i| synthetic_chunk(5, i)).collect();
    poie::trace::TraceSink::consume(&mut c, &chunks).expect("collect");
    Tree::new(params, h, c.chunks)
}

fn vote_root(t: &Tree) -> [u8; 32] {
    t.params.commitment_root(t.n(), &t.digest(t.root_node()))
}

/// Runs the executor's tree as a server and challenges it with the correct tree.
fn game(
    params: Params,
    executor: Tree,
    behaviour: Behaviour,
) -> (
    Outcome,
    Vec<poie::protocol::challenge::Entry>,
    Tree,
    [u8; 32],
) {
    let correct = tree(params, None);
    let root = vote_root(&executor);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = std::thread::spawn(move || {
        serve_one(&listener, &executor, behaviour, Duration::from_millis(500))
    });
    let (outcome, transcript) =
        challenge(&addr, &correct, &root, Duration::from_millis(300)).expect("connects");
    let _ = server.join();
    (outcome, transcript, correct, root)
}

#[test]
fn lying_executor_loses_at_first_middle_and_last_leaf() {
    for (lanes, chained) in [(4, true), (1, false), (7, true)] {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout { lanes, chained },
        };
        for lie in [0, N / 2, N - 1] {
            let (outcome, transcript, correct, root) =
                game(params, tree(params, Some(lie)), Behaviour::Honest);
            match &outcome {
                Outcome::Challenger(why) => {
                    assert!(why.contains(&format!("wrong chunk at step {lie}")), "{why}")
                }
                other => panic!("lie at {lie}: {other:?}"),
            }
            assert_eq!(
                referee(&correct, &root, &transcript),
                Ok(outcome),
                "the referee agrees"
            );
        }
    }
}

#[test]
fn honest_executor_wins_a_false_challenge() {
    let params = Params {
        hash: HashId::Keccak,
        layout: Layout {
            lanes: 4,
            chained: true,
        },
    };
    let (outcome, transcript, correct, root) = game(params, tree(params, None), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Executor(_)), "{outcome:?}");
    assert_eq!(referee(&correct, &root, &transcript), Ok(outcome));
}

#[test]
fn silent_executor_loses_on_the_timeout() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 4,
            chained: true,
        },
    };
    let start = Instant::now();
    let (outcome, transcript, correct, root) =
        game(params, tree(params, Some(3)), Behaviour::Silent);
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("timed out")),
        "{outcome:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the challenger does not hang"
    );
    assert_eq!(referee(&correct, &root, &transcript), Ok(outcome));
}

#[test]
fn a_doctored_transcript_is_refused() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 4,
            chained: true,
        },
    };
    let (_, mut transcript, correct, root) =
        game(params, tree(params, Some(10)), Behaviour::Honest);
    // Pretend the challenger asked about another node.
    let k = transcript
        .iter()
        .rposition(|e| e.from == "challenger")
        .expect("a challenger message");
    transcript[k].msg = Some(poie::protocol::challenge::Msg::Open { index: 999 });
    assert!(referee(&correct, &root, &transcript).is_err());
}

#[test]
fn garbage_and_oversized_messages_are_survived() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 2,
            chained: true,
        },
    };
    let t = tree(params, None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        serve_one(&listener, &t, Behaviour::Honest, Duration::from_millis(300)).expect("no error");
        serve_one(&listener, &t, Behaviour::Honest, Duration::from_millis(300)).expect("no error");
        serve_one(&listener, &t, Behaviour::Honest, Duration::from_millis(300)).expect("no error");
    });
    // Garbage: the server closes the session.
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"\x00\x01 not json\n").expect("send");
    let mut line = String::new();
    let _ = BufReader::new(s).read_line(&mut line);
    assert!(line.is_empty());
    // Oversized: same.
    let mut s = TcpStream::connect(addr).expect("connect");
    let _ = s.write_all(&vec![b'a'; MAX_LINE + 10]);
    let mut line = String::new();
    let _ = BufReader::new(s).read_line(&mut line);
    assert!(line.is_empty());
    // Slow: the client never finishes a line; the server times out.
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"{\"type\":").expect("send");
    server.join().expect("the server survives and returns");
}

#[test]
fn a_garbling_executor_loses() {
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout {
            lanes: 2,
            chained: true,
        },
    };
    let correct = tree(params, None);
    let root = vote_root(&tree(params, Some(1)));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut line = String::new();
        r.read_line(&mut line).expect("hello");
        (&s).write_all(b"]]] garbage\n").expect("reply");
    });
    let (outcome, _) =
        challenge(&addr, &correct, &root, Duration::from_millis(300)).expect("connects");
    assert!(
        matches!(&outcome, Outcome::Challenger(w) if w.contains("malformed")),
        "{outcome:?}"
    );
    server.join().expect("server");
}
