//! `serve` and the network around the game: timeouts are per whole message, so a peer dripping
//! bytes is cut off; connecting has a timeout; the server plays several challengers, survives
//! bad ones, bounds sessions per peer address and counts only sessions that reached a leaf
//! opening as games; a zero timeout is refused. Every socket is on 127.0.0.1.

mod common;

use common::cli::{self, assert_ok, poie};
use common::fixtures::{
    self, challenge_args, read_json, referee_args, reveal_args, serve_args, vote_args,
};
use common::game::*;
use poie::proof::HashId;
use poie::protocol::challenge::{
    challenge, connect, referee, serve, serve_one, Behaviour, Executor, Msg, Node, Outcome,
    ServeOptions, SessionEnd,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    let (outcome, transcript) = first_phase(addr, &correct, &disputed, ms(2000)).expect("connects");
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
    let (outcome, _) =
        challenge(&addr, &correct, &disputed, &nonce(), None, ms(1000)).expect("connects");
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
    let (outcome, _) = first_phase(addr, &correct, &disputed, ms(2000)).expect("connects");
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
    let (outcome, _) = first_phase(addr, &correct, &disputed, ms(4000)).expect("connects");
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
    // Their sessions end when the server sees them close: wait for that, or the last
    // challenger could still find both places taken and be told the server is busy.
    let deadline = Instant::now() + ms(5000);
    while reports
        .lock()
        .expect("lock")
        .iter()
        .filter(|(_, e, _)| matches!(e, SessionEnd::Unfinished { .. }))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "the closed sessions never ended");
        std::thread::sleep(ms(10));
    }
    let (outcome, _) = first_phase(addr, &correct, &disputed, ms(4000)).expect("connects");
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
    let err = challenge(
        &addr.to_string(),
        &t,
        &disputed(&t),
        &nonce(),
        None,
        ms(300),
    )
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
    let err =
        challenge(&addr, &t, &disputed(&t), &nonce(), None, Duration::ZERO).expect_err("refused");
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
        o.status.success()
            && out.contains("executor loses: one step proves the executor wrong at step 57"),
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
        out.contains("executor loses: one step proves the executor wrong at step 57"),
        "{out}"
    );
    let mut t: serde_json::Value = read_json(d.join("t.json"));
    assert_eq!(t["version"], 3);
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
        first_phase(addr, &correct, &disputed, ms(3000)).expect("the honest challenger is served");
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
    let (outcome, _) = first_phase(addr, &correct, &disputed, ms(4000)).expect("connects");
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
