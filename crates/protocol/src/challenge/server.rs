//! The executor's server: sessions with challengers over TCP, several at once up to a cap, each
//! ended by its challenger or by a protocol error, never the server.

use super::executor::{Executor, Refusal};
use super::net::{deadline, Conn, ReadError};
use super::wire::{Line, Msg, Nonce};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Most messages the executor reads in one session. An honest game needs at most 82 (a hello,
/// one query per level of a top tree of at most 2^16 lanes and of a lane tree of at most 2^64
/// positions, an open); the cap bounds how long and how much hashing one challenger can take.
pub const MAX_SESSION_MESSAGES: u32 = 256;

/// How often [`serve`]'s accept loop looks for a new connection and for the end of its games.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

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
            SessionEnd::Played { messages: 1 } => write!(f, "game played (1 message)"),
            SessionEnd::Played { messages } => write!(f, "game played ({messages} messages)"),
            SessionEnd::Failed(why) => write!(f, "ended by a protocol error: {why}"),
            SessionEnd::Busy => write!(f, "refused: too many sessions in progress"),
        }
    }
}

/// Plays one session with a connected challenger, until it closes the connection or breaks the
/// protocol: its first message must be a hello with a nonce, and every answer is signed for
/// that nonce and the request's index. Never panics on what the peer sends, and lasts at most
/// about [`MAX_SESSION_MESSAGES`] timeouts.
pub fn session(
    stream: TcpStream,
    exec: &Executor<'_>,
    behaviour: Behaviour,
    timeout: Duration,
) -> SessionEnd {
    let mut conn = match Conn::new(stream, timeout) {
        Ok(c) => c,
        Err(e) => return SessionEnd::Failed(format!("setting up the connection failed: {e}")),
    };
    let mut received: u32 = 0;
    let mut nonce: Option<Nonce> = None;
    let why = loop {
        let line = match conn.read_line() {
            Ok(l) => l,
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
        // The request's index in the session: every earlier one was answered (a refusal ends
        // the session), so it numbers replies too.
        let index = u64::from(received);
        received = received.saturating_add(1);
        if received > MAX_SESSION_MESSAGES {
            break format!("more than {MAX_SESSION_MESSAGES} messages in one session");
        }
        if line.sig.is_some() {
            break "a challenger does not sign its messages".into();
        }
        match (index, &line.msg, line.nonce) {
            (0, Msg::Hello { .. }, Some(n)) => nonce = Some(n),
            (0, Msg::Hello { .. }, None) => break "the hello carries no session nonce".into(),
            (_, _, Some(_)) => {
                break "only the session's first message, its hello, carries a nonce".into()
            }
            _ => {}
        }
        if behaviour == Behaviour::Silent {
            continue;
        }
        let Some(nonce) = nonce else {
            break Refusal::NoHello(line.msg.kind()).to_string();
        };
        match exec.answer(&nonce, index, &line.msg) {
            Ok(reply) => {
                let out = Line {
                    msg: reply.msg,
                    nonce: None,
                    sig: reply.sig,
                };
                if let Err(e) = conn.write_line(&out) {
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
    exec: &Executor<'_>,
    behaviour: Behaviour,
    timeout: Duration,
) -> io::Result<SessionEnd> {
    deadline(timeout)?;
    let (stream, _) = listener.accept()?;
    Ok(session(stream, exec, behaviour, timeout))
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
    exec: &Executor<'_>,
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
                        session(stream, exec, opts.behaviour, opts.timeout)
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
