//! The game's TCP connection (newline-delimited messages, each whole within a deadline) and the
//! challenger's client.

use super::challenger::{play_claim, play_to_one_step, Outcome, SecondPhase};
use super::transcript::Transcript;
use super::tree::Tree;
use super::wire::{Disputed, Line, LineError, Msg, Nonce, Reply, MAX_LINE};
use crate::vote::Vote;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Longest per-message timeout, in milliseconds (an hour): a longer one would let a silent peer
/// hold a session, and a server slot, for most of a day.
pub const MAX_TIMEOUT_MS: u32 = 3_600_000;

/// Why no message came.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("connection closed")]
    Closed,
    #[error("connection closed in the middle of a message")]
    ClosedMidMessage,
    #[error("timed out: no whole message within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("message longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("malformed message: {0}")]
    Malformed(LineError),
    #[error("read failed: {0}")]
    Io(io::Error),
}

/// The instant `timeout` from now. A zero timeout is refused (the socket calls would read it as
/// "no timeout at all"), and so is one over [`MAX_TIMEOUT_MS`].
pub(super) fn deadline(timeout: Duration) -> io::Result<Instant> {
    if timeout.is_zero() || timeout > Duration::from_millis(u64::from(MAX_TIMEOUT_MS)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the timeout must be 1 to {MAX_TIMEOUT_MS} ms (got {} ms)",
                timeout.as_millis()
            ),
        ));
    }
    Instant::now().checked_add(timeout).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("timeout of {} ms is too long", timeout.as_millis()),
        )
    })
}

/// One side of a game's connection: newline-delimited messages, each read or written whole
/// within the timeout.
pub(super) struct Conn {
    reader: BufReader<TcpStream>,
    timeout: Duration,
}

impl Conn {
    pub(super) fn new(stream: TcpStream, timeout: Duration) -> io::Result<Conn> {
        deadline(timeout)?;
        // A game is many small request-reply rounds: Nagle's delay would only slow each.
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
            timeout,
        })
    }

    fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Reads one whole message. The socket's read timeout is the time left until the
    /// message's deadline, set again before every read, so the whole line must arrive in time.
    pub(super) fn read_line(&mut self) -> Result<Line, ReadError> {
        let deadline = deadline(self.timeout).map_err(ReadError::Io)?;
        let mut line = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::TimedOut(self.timeout));
            }
            self.stream()
                .set_read_timeout(Some(left))
                .map_err(ReadError::Io)?;
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::TimedOut(self.timeout))
                }
                Err(e) => return Err(ReadError::Io(e)),
            };
            if buf.is_empty() {
                return Err(if line.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::ClosedMidMessage
                });
            }
            let end = buf.iter().position(|&b| b == b'\n');
            let part = match end {
                Some(i) => buf.get(..=i).unwrap_or(buf),
                None => buf,
            };
            if line.len().saturating_add(part.len()) > MAX_LINE {
                return Err(ReadError::TooLong);
            }
            line.extend_from_slice(part);
            let used = part.len();
            self.reader.consume(used);
            if end.is_some() {
                break;
            }
        }
        let line = line.strip_suffix(b"\n").unwrap_or(&line);
        Line::decode(line).map_err(ReadError::Malformed)
    }

    /// Writes a message with neither nonce nor signature: an executor's `error`.
    pub(super) fn write_msg(&mut self, m: &Msg) -> io::Result<()> {
        self.write_line(&Line {
            msg: m.clone(),
            nonce: None,
            sig: None,
        })
    }

    /// Writes one whole line within the timeout (a peer that does not read cannot block the
    /// writer longer).
    pub(super) fn write_line(&mut self, l: &Line) -> io::Result<()> {
        let mut line = l.encode()?;
        line.push(b'\n');
        let deadline = deadline(self.timeout)?;
        let mut rest = line.as_slice();
        while !rest.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream().set_write_timeout(Some(left))?;
            match self.stream().write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(k) => rest = rest.get(k..).unwrap_or_default(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::ErrorKind::TimedOut.into())
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Connects to `addr` (any of the addresses it resolves to) within `timeout` in all. A refused
/// connection is retried until then, so a challenger started just after `poie serve` waits for
/// the server to finish building its tree. Name resolution itself is the system's and has no
/// timeout; a numeric address needs none.
pub fn connect(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let deadline = deadline(timeout)?;
    let addrs: Vec<_> = addr.to_socket_addrs()?.collect();
    let mut last = None;
    'retry: loop {
        let mut refused = false;
        for a in &addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break 'retry;
            }
            match TcpStream::connect_timeout(a, left) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    refused |= e.kind() == io::ErrorKind::ConnectionRefused;
                    last = Some(e);
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if !refused || left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
    Err(match last {
        Some(e) if e.kind() != io::ErrorKind::TimedOut => e,
        Some(_) => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} ms", timeout.as_millis()),
        ),
        None if Instant::now() >= deadline => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} ms", timeout.as_millis()),
        ),
        None => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} resolves to no address"),
        ),
    })
}

/// Challenger over TCP: connects within the timeout, opens the session with `nonce` (draw a
/// fresh one per session: [`fresh_nonce`](super::fresh_nonce)), then awaits each whole reply at most the timeout.
/// Only setting up the connection is an error; whatever the executor does after that is an
/// outcome.
/// With `second`, a wrong chunk goes to the second phase (SPEC 6.7, [`play_to_one_step`]).
pub fn challenge(
    addr: &str,
    correct: &Tree,
    disputed: &Disputed,
    nonce: &Nonce,
    second: Option<SecondPhase<'_>>,
    timeout: Duration,
) -> io::Result<(Outcome, Transcript)> {
    over_tcp(addr, nonce, timeout, |ask, entries| {
        play_to_one_step(correct, disputed, nonce, second, ask, entries)
    })
}

/// As [`challenge`], but disputing job `job`'s claim in vote `v` ([`play_claim`]).
pub fn challenge_claim(
    addr: &str,
    v: &Vote,
    nonce: &Nonce,
    second: SecondPhase<'_>,
    job: usize,
    timeout: Duration,
) -> io::Result<(Outcome, Transcript)> {
    over_tcp(addr, nonce, timeout, |ask, entries| {
        play_claim(v, nonce, second, job, ask, entries)
    })
}

/// One session over TCP, played by `play` with the executor's replies.
fn over_tcp(
    addr: &str,
    nonce: &Nonce,
    timeout: Duration,
    play: impl FnOnce(
        &mut dyn FnMut(&Msg) -> Result<Reply, NoReply>,
        &mut Vec<super::transcript::Entry>,
    ) -> Outcome,
) -> io::Result<(Outcome, Transcript)> {
    let mut conn = Conn::new(connect(addr, timeout)?, timeout)?;
    let mut entries = Vec::new();
    let mut ask = |m: &Msg| {
        let hello = matches!(m, Msg::Hello { .. });
        conn.write_line(&Line {
            msg: m.clone(),
            nonce: hello.then_some(*nonce),
            sig: None,
        })
        .map_err(NoReply::Send)?;
        let line = conn.read_line().map_err(NoReply::Read)?;
        if line.nonce.is_some() {
            return Err(NoReply::NonceOnReply);
        }
        Ok(Reply {
            msg: line.msg,
            sig: line.sig,
        })
    };
    let outcome = play(&mut ask, &mut entries);
    Ok((
        outcome,
        Transcript {
            nonce: *nonce,
            entries,
        },
    ))
}

/// Why the challenger has no reply to a request over TCP.
#[derive(Debug, thiserror::Error)]
enum NoReply {
    #[error("send failed: {0}")]
    Send(io::Error),
    #[error(transparent)]
    Read(ReadError),
    #[error("malformed message: a reply carries a nonce")]
    NonceOnReply,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A connected loopback pair: (the side under test, the peer).
    fn pair(timeout: Duration) -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let peer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mine, _) = listener.accept().expect("accept");
        (Conn::new(mine, timeout).expect("conn"), peer)
    }

    #[test]
    fn messages_split_over_writes_or_sharing_one_are_each_read_whole() {
        let (mut conn, mut peer) = pair(Duration::from_secs(5));
        let hello = b"{\"type\":\"open\",\"index\":7}\n{\"type\":\"open\",\"ind";
        peer.write_all(hello).expect("send");
        let rest = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(b"ex\":8}\n").expect("send");
            peer
        });
        assert_eq!(conn.read_line().expect("first").msg, Msg::Open { index: 7 });
        assert_eq!(
            conn.read_line().expect("second").msg,
            Msg::Open { index: 8 }
        );
        drop(rest.join().expect("writer"));
        assert!(matches!(conn.read_line(), Err(ReadError::Closed)));
    }

    #[test]
    fn a_line_may_be_max_line_bytes_and_not_one_more() {
        let open = b"{\"type\":\"open\",\"index\":7}";
        for (pad, ok) in [
            (MAX_LINE - open.len() - 1, true),
            (MAX_LINE - open.len(), false),
        ] {
            let (mut conn, mut peer) = pair(Duration::from_secs(5));
            let mut line = open.to_vec();
            line.resize(open.len() + pad, b' ');
            line.push(b'\n');
            // The writer may be cut short when the reader gives up: that is the point.
            let writer = std::thread::spawn(move || {
                let _ = peer.write_all(&line);
                peer
            });
            match conn.read_line() {
                Ok(l) => assert!(ok && l.msg == Msg::Open { index: 7 }, "{pad}: {l:?}"),
                Err(e) => assert!(!ok && matches!(e, ReadError::TooLong), "{pad}: {e}"),
            }
            drop(writer.join().expect("writer"));
        }
    }

    #[test]
    fn a_line_cut_by_the_peer_is_not_a_message() {
        let (mut conn, mut peer) = pair(Duration::from_secs(5));
        peer.write_all(b"{\"type\":\"open\"").expect("send");
        drop(peer);
        assert!(matches!(conn.read_line(), Err(ReadError::ClosedMidMessage)));
    }

    #[test]
    fn timeouts_must_be_positive_and_at_most_an_hour() {
        assert!(deadline(Duration::ZERO).is_err());
        assert!(deadline(Duration::from_millis(u64::from(MAX_TIMEOUT_MS) + 1)).is_err());
        assert!(deadline(Duration::MAX).is_err());
        assert!(deadline(Duration::from_millis(1)).is_ok());
        assert!(deadline(Duration::from_millis(u64::from(MAX_TIMEOUT_MS))).is_ok());
    }
}
