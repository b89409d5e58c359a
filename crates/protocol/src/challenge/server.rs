//! The executor's server: sessions with challengers over TCP, several at once up to a cap (and a
//! smaller one per peer address), each ended by its challenger or by a protocol error, never the
//! server.
//!
//! The hello is public (a vote's root), so anyone can open a session. A session counts as a game
//! only once the executor has answered a leaf opening, the end of a bisection: a stranger who
//! connects and closes, or says hello and goes, no longer uses up `serve --games`. That is not
//! a proof of a real challenge (an `open` may come right after the hello, and the server cannot
//! see the challenger's verdict), only a floor on what a session costs to count.

use super::executor::{Executor, Refusal};
use super::net::{deadline, Conn, ReadError};
use super::wire::{Line, Msg, Nonce};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
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
    /// A game: the challenger sent `messages` messages, each answered, among them a leaf
    /// opening, and closed the connection between two messages. (A silent executor, a drill,
    /// answers nothing: there any session its challenger closed after a message is a game.)
    Played { messages: u32 },
    /// The challenger closed the connection between two messages, each answered, before any
    /// leaf opening: not a game, as a hello costs a stranger nothing.
    Unfinished { messages: u32 },
    /// A protocol error ended the session: a node outside the tree, an unexpected, malformed,
    /// oversized or late message, or a broken connection. The peer was sent the reason as an
    /// `error` message where the connection allowed.
    Failed(String),
    /// Refused at once: the most sessions allowed were in progress.
    Busy,
    /// Refused at once: the most sessions allowed from the peer's address were in progress.
    PeerBusy,
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
            SessionEnd::Unfinished { messages } => write!(
                f,
                "closed before a leaf opening after {messages} message(s): not counted as a game"
            ),
            SessionEnd::Failed(why) => write!(f, "ended by a protocol error: {why}"),
            SessionEnd::Busy => write!(f, "refused: too many sessions in progress"),
            SessionEnd::PeerBusy => {
                write!(
                    f,
                    "refused: too many sessions from this address in progress"
                )
            }
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
    // Whether a leaf opening was answered: only then is the session a game.
    let mut opened = false;
    let why = loop {
        let line = match conn.read_line() {
            Ok(l) => l,
            Err(ReadError::Closed) if received > 0 => {
                return if opened || behaviour == Behaviour::Silent {
                    SessionEnd::Played { messages: received }
                } else {
                    SessionEnd::Unfinished { messages: received }
                };
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
                opened |= matches!(reply.msg, Msg::Leaf { .. });
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
    /// Return once this many games have been played ([`SessionEnd::is_game`]): sessions that
    /// reached a leaf opening. Sessions closed before it or ended by a protocol error do not
    /// count.
    pub games: u64,
    /// Most sessions in progress at once (at least 1); a connection beyond them gets an
    /// `error` message and is closed at once.
    pub max_sessions: usize,
    /// Most sessions in progress at once from one peer address (at least 1; see
    /// [`peer_key`]), so that one address cannot take every session; a connection beyond them
    /// is refused as one beyond `max_sessions` is.
    pub per_peer: usize,
}

/// The default of [`ServeOptions::per_peer`] (`poie serve --per-peer`): an honest challenger
/// plays one session at a time, and a second allows for one retrying before its first has
/// timed out on the server's side.
pub const DEFAULT_PER_PEER: usize = 2;

#[derive(Default)]
struct Counts {
    active: usize,
    games: u64,
    /// Sessions in progress by [`peer_key`]; an address leaves the map with its last session,
    /// so the map holds at most `max_sessions` addresses.
    peers: HashMap<IpAddr, usize>,
}

impl Counts {
    /// Takes a session for a peer, or says why not.
    fn admit(&mut self, opts: &ServeOptions, peer: IpAddr) -> Result<(), (SessionEnd, String)> {
        if self.active >= opts.max_sessions {
            return Err((
                SessionEnd::Busy,
                format!(
                    "busy: {} sessions in progress, try again later",
                    opts.max_sessions
                ),
            ));
        }
        let mine = self.peers.entry(peer).or_insert(0);
        if *mine >= opts.per_peer {
            return Err((
                SessionEnd::PeerBusy,
                format!(
                    "busy: {} sessions from your address in progress, try again later",
                    opts.per_peer
                ),
            ));
        }
        *mine = mine.saturating_add(1);
        self.active = self.active.saturating_add(1);
        Ok(())
    }

    /// Gives back a session taken by [`Counts::admit`], counting it as a game if it was one.
    fn release(&mut self, peer: IpAddr, game: bool) {
        self.active = self.active.saturating_sub(1);
        if let Some(n) = self.peers.get_mut(&peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.peers.remove(&peer);
            }
        }
        if game {
            self.games = self.games.saturating_add(1);
        }
    }
}

/// The address [`ServeOptions::per_peer`] bounds: an IPv4 address (also when it comes mapped
/// into IPv6), or an IPv6 address's /64 prefix, as one host is commonly given a whole /64 and
/// could otherwise take a fresh address for each session.
pub fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

/// Tells a refused peer why (best effort, within a second at most) and closes the connection.
fn refuse(stream: TcpStream, timeout: Duration, reason: String) {
    if let Ok(mut conn) = Conn::new(stream, timeout.min(Duration::from_secs(1))) {
        let _ = conn.write_msg(&Msg::Error { reason });
    }
}

fn lock(m: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    // The counts stay meaningful if a reporting callback panicked while holding the lock.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Executor over TCP: plays sessions with challengers, each on its own thread, at most
/// `max_sessions` at once and `per_peer` from one address, until `games` games have been
/// played; then waits for the sessions in progress (each bounded by its timeouts) and returns
/// the number of games. `report` hears how each session ended. A bad session only ends itself:
/// it is never the server's end.
pub fn serve(
    listener: &TcpListener,
    exec: &Executor<'_>,
    opts: &ServeOptions,
    report: &(dyn Fn(SocketAddr, &SessionEnd) + Sync),
) -> io::Result<u64> {
    deadline(opts.timeout)?;
    if opts.max_sessions == 0 || opts.per_peer == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "at least one session (and one per peer) must be allowed",
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
            let key = peer_key(peer.ip());
            let admitted = lock(counts).admit(opts, key);
            if let Err((end, reason)) = admitted {
                refuse(stream, opts.timeout, reason);
                report(peer, &end);
                continue;
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
                    lock(counts).release(key, end.is_game());
                });
            if let Err(e) = spawned {
                lock(counts).release(key, false);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_its_ipv4_address_or_its_ipv6_slash_64() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        assert_eq!(peer_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(peer_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(peer_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            peer_key(ip("2001:db8:1:2:ffff:1:2:3")),
            peer_key(ip("2001:db8:1:2::9"))
        );
        assert_ne!(peer_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
    }

    #[test]
    fn sessions_are_bounded_per_peer_and_in_all_and_given_back() {
        let opts = ServeOptions {
            behaviour: Behaviour::Honest,
            timeout: Duration::from_secs(1),
            games: 1,
            max_sessions: 3,
            per_peer: 2,
        };
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let mut c = Counts::default();
        assert!(c.admit(&opts, a).is_ok());
        assert!(c.admit(&opts, a).is_ok());
        assert_eq!(
            c.admit(&opts, a).map_err(|e| e.0),
            Err(SessionEnd::PeerBusy)
        );
        assert!(c.admit(&opts, b).is_ok());
        assert_eq!(c.admit(&opts, b).map_err(|e| e.0), Err(SessionEnd::Busy));
        c.release(a, false);
        c.release(a, true);
        assert_eq!(
            (c.active, c.games, c.peers.len()),
            (1, 1, 1),
            "a is forgotten"
        );
        assert!(c.admit(&opts, a).is_ok());
    }
}
