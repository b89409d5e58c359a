//! The game's messages: what each carries, the bytes an executor signs for a reply, and the
//! JSON line each travels as (with the hello's nonce and a reply's signature beside it).

use crate::keys;
use crate::secret::{self, SecretError};
use crate::vote::Vote;
use poie_files::hexser;
use poie_proof::hash::Digest32;
use poie_trace::Chunk;
use serde::{Deserialize, Serialize};
use std::io;

/// Longest accepted message line, newline included. Honest messages are under 400 bytes; the
/// bound is what keeps a peer from making the other side buffer without end.
pub const MAX_LINE: usize = 64 * 1024;

/// Domain separator of a reply's signed bytes. The vote's signed bytes start with another, so a
/// challenger cannot get a vote (or anything but a reply) signed by choosing what it asks.
pub const DS_REPLY: &[u8] = b"poie/v1/challenge-reply";

/// A session's nonce: 32 random bytes the challenger draws for each session, so that a reply
/// signed in one session cannot be passed off as a reply in another.
pub type Nonce = [u8; 32];

/// An ed25519 signature.
pub type Signature = [u8; 64];

/// A fresh nonce from the system's randomness.
pub fn fresh_nonce() -> Result<Nonce, SecretError> {
    secret::random32()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    /// Top-tree node over lanes `[lo, hi)`.
    Top { lo: u32, hi: u32 },
    /// Lane tree node over positions `[lo, hi)` of `lane`.
    Lane { lane: u32, lo: u64, hi: u64 },
}

/// A message of the game, without what travels around it (the hello's nonce, a reply's
/// signature: see [`Line`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Msg {
    Hello {
        #[serde(with = "poie_files::hexser::bytes")]
        root: Digest32,
    },
    Top {
        #[serde(with = "poie_files::hexser::bytes")]
        digest: Digest32,
    },
    Query {
        node: Node,
    },
    Children {
        #[serde(with = "poie_files::hexser::bytes")]
        left: Digest32,
        #[serde(with = "poie_files::hexser::bytes")]
        right: Digest32,
    },
    Open {
        index: u64,
    },
    Leaf {
        #[serde(with = "poie_files::hexser::bytes")]
        chunk: Chunk,
        #[serde(with = "poie_files::hexser::bytes")]
        link: Digest32,
    },
    /// The executor refuses the last message (a protocol error) and closes the session. Never
    /// signed: a refusal is not evidence of anything (docs/PROTOCOL.md).
    Error {
        reason: String,
    },
    /// The second phase (SPEC 6.7): the challenger asks for the executor's commitments to job
    /// `job`'s states at `points` (a round of the bisection). `disputed` is its choice in the
    /// previous round: the index of the first point it disputed, or none (none in the first).
    States {
        job: u32,
        disputed: Option<u32>,
        points: Vec<u64>,
    },
    /// The executor's commitments, one per point asked.
    Commitments {
        #[serde(with = "poie_files::hexser::list")]
        states: Vec<Digest32>,
    },
    /// The challenger's last word: its choice in the last round, and the step proof (SPEC 1.7's
    /// encoding, as hex) from the agreed state that decides the game.
    Prove {
        disputed: Option<u32>,
        #[serde(with = "proof_hex")]
        proof: Vec<u8>,
    },
    /// The executor's acknowledgement of a `prove`: nothing more is asked of it.
    Noted,
}

/// A step proof's bytes as hex, at most `MAX_PROOF_BYTES` of them.
mod proof_hex {
    use poie_referee::MAX_PROOF_BYTES;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() > 2 * MAX_PROOF_BYTES {
            return Err(D::Error::custom("a step proof longer than 8 KiB"));
        }
        hex::decode(text).map_err(D::Error::custom)
    }
}

impl Msg {
    /// The message's `type`, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Hello { .. } => "hello",
            Msg::Top { .. } => "top",
            Msg::Query { .. } => "query",
            Msg::Children { .. } => "children",
            Msg::Open { .. } => "open",
            Msg::Leaf { .. } => "leaf",
            Msg::Error { .. } => "error",
            Msg::States { .. } => "states",
            Msg::Commitments { .. } => "commitments",
            Msg::Prove { .. } => "prove",
            Msg::Noted => "noted",
        }
    }

    /// The message's bytes under a signature (docs/SPEC.md 6.5): a tag byte, then the fields in
    /// order, integers little-endian, an error's reason prefixed by its length. Every encoding
    /// delimits itself, so a request and a reply concatenated read back only one way; and it is
    /// fixed, where JSON may be written many ways.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(72);
        match self {
            Msg::Hello { root } => {
                b.push(1);
                b.extend_from_slice(root);
            }
            Msg::Top { digest } => {
                b.push(2);
                b.extend_from_slice(digest);
            }
            Msg::Query { node } => {
                b.push(3);
                match *node {
                    Node::Top { lo, hi } => {
                        b.push(0);
                        b.extend_from_slice(&lo.to_le_bytes());
                        b.extend_from_slice(&hi.to_le_bytes());
                    }
                    Node::Lane { lane, lo, hi } => {
                        b.push(1);
                        b.extend_from_slice(&lane.to_le_bytes());
                        b.extend_from_slice(&lo.to_le_bytes());
                        b.extend_from_slice(&hi.to_le_bytes());
                    }
                }
            }
            Msg::Children { left, right } => {
                b.push(4);
                b.extend_from_slice(left);
                b.extend_from_slice(right);
            }
            Msg::Open { index } => {
                b.push(5);
                b.extend_from_slice(&index.to_le_bytes());
            }
            Msg::Leaf { chunk, link } => {
                b.push(6);
                b.extend_from_slice(chunk);
                b.extend_from_slice(link);
            }
            Msg::Error { reason } => {
                b.push(7);
                b.extend_from_slice(&(reason.len() as u64).to_le_bytes());
                b.extend_from_slice(reason.as_bytes());
            }
            Msg::States {
                job,
                disputed,
                points,
            } => {
                b.push(8);
                b.extend_from_slice(&job.to_le_bytes());
                put_choice(&mut b, *disputed);
                b.extend_from_slice(&(points.len() as u64).to_le_bytes());
                points
                    .iter()
                    .for_each(|p| b.extend_from_slice(&p.to_le_bytes()));
            }
            Msg::Commitments { states } => {
                b.push(9);
                b.extend_from_slice(&(states.len() as u64).to_le_bytes());
                states.iter().for_each(|h| b.extend_from_slice(h));
            }
            Msg::Prove { disputed, proof } => {
                b.push(10);
                put_choice(&mut b, *disputed);
                b.extend_from_slice(&(proof.len() as u64).to_le_bytes());
                b.extend_from_slice(proof);
            }
            Msg::Noted => b.push(11),
        }
        b
    }
}

/// A round's choice: `0x00` for none, else `0x01 || index (u32 LE)`.
fn put_choice(b: &mut Vec<u8>, c: Option<u32>) {
    match c {
        None => b.push(0),
        Some(t) => {
            b.push(1);
            b.extend_from_slice(&t.to_le_bytes());
        }
    }
}

/// The bytes an executor signs for its reply to request number `index` (0 for the hello) of
/// the session with `nonce`, about the vote with root `root`:
/// `DS_REPLY || nonce || root || index (u64 LE) || encode(request) || encode(reply)`.
pub fn reply_message(
    nonce: &Nonce,
    root: &Digest32,
    index: u64,
    request: &Msg,
    reply: &Msg,
) -> Vec<u8> {
    let request = request.encode();
    let reply = reply.encode();
    let mut m = Vec::with_capacity(DS_REPLY.len() + 72 + request.len() + reply.len());
    m.extend_from_slice(DS_REPLY);
    m.extend_from_slice(nonce);
    m.extend_from_slice(root);
    m.extend_from_slice(&index.to_le_bytes());
    m.extend_from_slice(&request);
    m.extend_from_slice(&reply);
    m
}

/// An executor's reply: the message and its signature, which is absent from an `error` (never
/// signed) and from whatever a faulty executor sends unsigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub msg: Msg,
    pub sig: Option<Signature>,
}

/// The vote a game is about: its root, and the public key every reply must be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disputed {
    pub root: Digest32,
    pub public_key: [u8; 32],
}

impl Disputed {
    pub fn of(v: &Vote) -> Disputed {
        Disputed {
            root: v.root,
            public_key: v.public_key,
        }
    }

    /// Whether `reply` is signed by the vote's key as the reply to `request`, number `index` of
    /// the session with `nonce`. A reply without a signature is not.
    pub fn signed(&self, nonce: &Nonce, index: u64, request: &Msg, reply: &Reply) -> bool {
        reply.sig.is_some_and(|sig| {
            keys::verify(
                &self.public_key,
                &reply_message(nonce, &self.root, index, request, &reply.msg),
                &sig,
            )
        })
    }
}

/// One message as it travels: the message, the session's nonce (on the challenger's hello
/// only) and the executor's signature (on its replies, errors excepted). On the wire, one JSON
/// object: the message's fields plus `"nonce"` and `"sig"` as hex where present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub msg: Msg,
    pub nonce: Option<Nonce>,
    pub sig: Option<Signature>,
}

impl Line {
    /// The line's JSON, without the newline.
    pub fn encode(&self) -> io::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            msg: &'a Msg,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            sig: Option<String>,
        }
        serde_json::to_vec(&Out {
            msg: &self.msg,
            nonce: self.nonce.map(hex::encode),
            sig: self.sig.map(hex::encode),
        })
        .map_err(io::Error::other)
    }

    /// Parses a line (without its newline). Any field besides the message's, `nonce` and
    /// `sig` is refused, as is any malformed value.
    pub fn decode(bytes: &[u8]) -> Result<Line, LineError> {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(bytes).map_err(LineError::Json)?;
        let nonce = hex_field::<32>(&mut fields, "nonce")?;
        let sig = hex_field::<64>(&mut fields, "sig")?;
        let msg =
            serde_json::from_value(serde_json::Value::Object(fields)).map_err(LineError::Json)?;
        Ok(Line { msg, nonce, sig })
    }
}

/// Takes field `field` out of a line's JSON object: `N` bytes as hex, if present.
fn hex_field<const N: usize>(
    fields: &mut serde_json::Map<String, serde_json::Value>,
    field: &'static str,
) -> Result<Option<[u8; N]>, LineError> {
    match fields.remove(field) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => hexser::decode(&s)
            .map(Some)
            .map_err(|problem| LineError::Hex { field, problem }),
        Some(_) => Err(LineError::NotHexString { field }),
    }
}

/// Why a line is not a message of the game. The text quotes no peer text unescaped: serde's
/// messages may quote the input, so they are escaped.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not JSON, not an object, or not one of the game's messages.
    #[error("{}", .0.to_string().escape_debug())]
    Json(serde_json::Error),
    #[error("`{field}`: {problem}")]
    Hex {
        field: &'static str,
        problem: hexser::HexError,
    },
    #[error("`{field}` is not a hex string")]
    NotHexString { field: &'static str },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_the_nonce_and_signature_beside_the_message_fields() {
        let hello = Line {
            msg: Msg::Hello { root: [1; 32] },
            nonce: Some([2; 32]),
            sig: None,
        };
        let text = String::from_utf8(hello.encode().expect("json")).expect("utf-8");
        assert_eq!(
            text,
            format!(
                "{{\"type\":\"hello\",\"root\":\"{}\",\"nonce\":\"{}\"}}",
                "01".repeat(32),
                "02".repeat(32)
            )
        );
        assert_eq!(Line::decode(text.as_bytes()).expect("decodes"), hello);
        let reply = Line {
            msg: Msg::Children {
                left: [3; 32],
                right: [4; 32],
            },
            nonce: None,
            sig: Some([5; 64]),
        };
        let text = reply.encode().expect("json");
        assert_eq!(Line::decode(&text).expect("decodes"), reply);
        let open = br#"{"type":"open","index":7}"#;
        assert_eq!(
            Line::decode(open).expect("decodes"),
            Line {
                msg: Msg::Open { index: 7 },
                nonce: None,
                sig: None
            }
        );
        for bad in [
            &br#"{"type":"open","index":7,"extra":1}"#[..],
            br#"{"type":"open","index":7,"sig":"00"}"#,
            br#"{"type":"open","index":7,"sig":7}"#,
            br#"{"type":"open","index":7,"nonce":"zz"}"#,
            br#"{"type":"open","index":-1}"#,
            br#"["open",7]"#,
            b"\x00\x01 not json",
        ] {
            let e = Line::decode(bad).expect_err("refused").to_string();
            assert!(!e.contains('\u{0}'), "escaped: {e:?}");
        }
    }

    /// The signed bytes are a wire format of their own (docs/SPEC.md 6.5): pinned here byte
    /// for byte, so a change to them cannot pass unnoticed.
    #[test]
    fn signed_bytes_are_pinned() {
        let node = Node::Lane {
            lane: 2,
            lo: 3,
            hi: 0x0102,
        };
        let mut query = vec![3, 1, 2, 0, 0, 0];
        query.extend_from_slice(&3u64.to_le_bytes());
        query.extend_from_slice(&0x0102u64.to_le_bytes());
        assert_eq!(Msg::Query { node }.encode(), query);
        assert_eq!(
            Msg::Query {
                node: Node::Top { lo: 1, hi: 4 }
            }
            .encode(),
            [3, 0, 1, 0, 0, 0, 4, 0, 0, 0]
        );
        assert_eq!(Msg::Open { index: 9 }.encode(), [5, 9, 0, 0, 0, 0, 0, 0, 0]);
        let mut error = vec![7, 2, 0, 0, 0, 0, 0, 0, 0];
        error.extend_from_slice(b"no");
        assert_eq!(
            Msg::Error {
                reason: "no".into()
            }
            .encode(),
            error
        );
        for (m, tag) in [
            (Msg::Hello { root: [8; 32] }, 1),
            (Msg::Top { digest: [8; 32] }, 2),
        ] {
            let mut b = vec![tag];
            b.extend_from_slice(&[8; 32]);
            assert_eq!(m.encode(), b);
        }
        for (m, tag) in [
            (
                Msg::Children {
                    left: [8; 32],
                    right: [9; 32],
                },
                4,
            ),
            (
                Msg::Leaf {
                    chunk: [8; 32],
                    link: [9; 32],
                },
                6,
            ),
        ] {
            let mut b = vec![tag];
            b.extend_from_slice(&[8; 32]);
            b.extend_from_slice(&[9; 32]);
            assert_eq!(m.encode(), b);
        }
        let mut expected = b"poie/v1/challenge-reply".to_vec();
        expected.extend_from_slice(&[1; 32]);
        expected.extend_from_slice(&[2; 32]);
        expected.extend_from_slice(&5u64.to_le_bytes());
        expected.extend_from_slice(&[5, 9, 0, 0, 0, 0, 0, 0, 0]);
        expected.push(2);
        expected.extend_from_slice(&[8; 32]);
        assert_eq!(
            reply_message(
                &[1; 32],
                &[2; 32],
                5,
                &Msg::Open { index: 9 },
                &Msg::Top { digest: [8; 32] }
            ),
            expected
        );
    }
}
