//! The challenge game's test helpers: trees over synthetic traces, the executor's key and vote,
//! a whole game over loopback, a server with its session reports, and hand-written lines.

use poie::json::VersionedFile;
use poie::proof::{unique_secret, HashId, Hasher, Layout, Params, Simd};
use poie::proof::{Address, Salt};
use poie::protocol::challenge::{
    challenge, fresh_nonce, serve, serve_one, Behaviour, ChunkCollector, Disputed, Entry, Executor,
    Line, Msg, Outcome, Party, ServeOptions, SessionEnd, Transcript, Tree,
};
use poie::protocol::keys::Key;
use poie::protocol::transcript::TranscriptFile;
use poie::trace::synthetic::chunk as synthetic_chunk;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const N: u64 = 1000;

pub fn params(hash: HashId, lanes: u32, chained: bool) -> Params {
    Params {
        hash,
        layout: Layout::new(lanes, chained).expect("a valid layout"),
    }
}

pub fn tree_of(params: Params, n: u64, corrupt_at: Option<u64>) -> Tree {
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

pub fn tree(params: Params, corrupt_at: Option<u64>) -> Tree {
    tree_of(params, N, corrupt_at)
}

pub fn vote_root(t: &Tree) -> [u8; 32] {
    t.root()
}

/// The executor's vote key in these tests.
pub fn key() -> Key {
    Key::from_seed(&[3; 32])
}

/// The vote an executor with `t` defends: its root, and the key its replies are checked with.
pub fn disputed(t: &Tree) -> Disputed {
    Disputed {
        root: vote_root(t),
        public_key: key().public(),
    }
}

pub fn nonce() -> [u8; 32] {
    fresh_nonce().expect("system randomness")
}

/// Runs the executor's tree as a server and challenges it with the correct tree.
pub fn game(
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
        None,
        Duration::from_millis(300),
    )
    .expect("connects");
    let _ = server.join();
    (outcome, transcript, correct, disputed)
}

/// The first phase against the server at `addr`, the challenger judging by `correct`, with a
/// fresh nonce and no second phase: the outcome and transcript, or why there was no game.
pub fn first_phase(
    addr: impl ToString,
    correct: &Tree,
    disputed: &Disputed,
    timeout: Duration,
) -> std::io::Result<(Outcome, Transcript)> {
    challenge(
        &addr.to_string(),
        correct,
        disputed,
        &nonce(),
        None,
        timeout,
    )
}

pub fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Reads one line with a bound on the wait; "" on EOF, a reset or the bound.
pub fn read_line_within(r: &mut BufReader<TcpStream>, limit: Duration) -> String {
    r.get_ref().set_read_timeout(Some(limit)).expect("timeout");
    let mut line = String::new();
    let _ = r.read_line(&mut line);
    line
}

/// The nonce of the sessions tests open by hand.
pub const NONCE: [u8; 32] = [9; 32];

/// A challenger's line: a hello carries [`NONCE`].
pub fn line_of(m: &Msg) -> Vec<u8> {
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

pub fn send(s: &mut TcpStream, m: &Msg) {
    s.write_all(&line_of(m)).expect("send");
}

/// An executor's reply line, parsed.
pub fn parse(line: &str) -> Line {
    Line::decode(line.trim_end().as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// The executor's side with the report of every session, and when it came.
pub type Reports = Mutex<Vec<(SocketAddr, SessionEnd, Instant)>>;

pub fn start_serve(
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

/// The executor entries of a transcript, by position.
pub fn replies(t: &Transcript) -> Vec<usize> {
    (0..t.entries.len())
        .filter(|&k| t.entries[k].from == Party::Executor)
        .collect()
}

/// A convicting game's transcript file, written to `path`; its entries.
pub fn convicting_transcript(path: &std::path::Path) -> (TranscriptFile, Vec<Entry>) {
    let params = params(HashId::Blake3, 4, true);
    let (outcome, transcript, _, disputed) =
        game(params, tree(params, Some(500)), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    let file = TranscriptFile::new(disputed.root, transcript.clone(), outcome);
    file.save(path).expect("saved");
    (file, transcript.entries)
}
