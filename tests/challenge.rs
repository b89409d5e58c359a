//! The challenge game over loopback TCP: lying executors lose at the first, a middle and the
//! last leaf, on their own signed replies; a false challenge loses; the referee agrees offline.
//!
//! Evidence (issue 9, item 6): replies are signed for the session's nonce, so a transcript
//! convicts only on a signed wrong answer. Silence, refusals and garbage are unproven, a
//! doctored transcript claiming silence convicts no one, and altered or replayed signatures are
//! not evidence. Hostile peers are in `challenge_hostile.rs`, the server in
//! `challenge_serve.rs`, transcript files in `challenge_transcript.rs`; the shared game helpers
//! in `common/game.rs`.

mod common;

use common::game::*;
use poie::proof::HashId;
use poie::protocol::challenge::{
    challenge, play, referee, Behaviour, Entry, Executor, Line, Msg, Outcome, Party, Transcript,
};
use poie::protocol::keys::Key;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

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
    let (outcome, _) =
        challenge(&addr, &correct, &disputed, &nonce(), None, ms(300)).expect("connects");
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
        challenge(&addr, &correct, &disputed, &nonce(), None, ms(2000)).expect("connects");
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
        challenge(&addr, &correct, &disputed, &fresh, None, ms(5000)).expect("connects");
    relay.join().expect("relay");
    assert!(
        matches!(&outcome, Outcome::Unproven(w) if w.contains("signature of reply 0")),
        "{outcome:?}"
    );
    assert_eq!(referee(&correct, &disputed, &replayed), Ok(outcome));
}
