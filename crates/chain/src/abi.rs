//! The Solidity ABI of the few calls poie makes (static words, `bytes`, `bytes32[]` and tuples
//! of them), and of the errors its contracts revert with: a selector is the first four bytes of
//! the keccak256 of the signature, then 32-byte words, then each dynamic argument in the tail
//! (a `bytes` as its length and its bytes padded to whole words, an array as its length and its
//! words, a tuple as its own head and tail), its head word the offset to it. Written out rather
//! than generated: the signatures are fixed and few.

use revm::primitives::keccak256;

/// The four-byte selector of a function or error signature, e.g. `step(bytes32,bytes)`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// One ABI word from an unsigned integer.
pub fn word(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// An argument of a call.
pub enum Arg<'a> {
    /// A static 32-byte word (`bytes32`, `uint`, `bool`, `address` right-aligned).
    Word([u8; 32]),
    /// A dynamic `bytes`.
    Bytes(&'a [u8]),
    /// A dynamic array of words: `bytes32[]`, `uint256[]`.
    Words(&'a [[u8; 32]]),
    /// A tuple (a struct argument): dynamic, in the tail, when any member is; else inline.
    Tuple(Vec<Arg<'a>>),
}

impl Arg<'_> {
    fn is_dynamic(&self) -> bool {
        match self {
            Arg::Word(_) => false,
            Arg::Bytes(_) | Arg::Words(_) => true,
            Arg::Tuple(members) => members.iter().any(Arg::is_dynamic),
        }
    }

    /// The bytes a static argument takes in its head.
    fn head_len(&self) -> usize {
        match self {
            Arg::Tuple(members) if !self.is_dynamic() => members.iter().map(Arg::head_len).sum(),
            _ => 32,
        }
    }

    /// A static argument in place, or a dynamic one's encoding in the tail.
    fn encode(&self) -> Vec<u8> {
        match self {
            Arg::Word(w) => w.to_vec(),
            Arg::Bytes(b) => {
                let mut out = word(b.len() as u64).to_vec();
                out.extend_from_slice(b);
                out.resize(out.len().next_multiple_of(32), 0);
                out
            }
            Arg::Words(ws) => {
                let mut out = word(ws.len() as u64).to_vec();
                ws.iter().for_each(|w| out.extend_from_slice(w));
                out
            }
            Arg::Tuple(members) => encode_args(members),
        }
    }
}

/// `head || tail` of a list of arguments (a call's, or a tuple's): static arguments in place,
/// each dynamic one as its offset from the head's start into the tail.
pub fn encode_args(args: &[Arg]) -> Vec<u8> {
    let head_len: usize = args.iter().map(Arg::head_len).sum();
    let mut head = Vec::with_capacity(head_len);
    let mut tail = Vec::new();
    for a in args {
        if a.is_dynamic() {
            head.extend_from_slice(&word((head_len + tail.len()) as u64));
            tail.extend_from_slice(&a.encode());
        } else {
            head.extend_from_slice(&a.encode());
        }
    }
    head.extend_from_slice(&tail);
    head
}

/// `selector || head || tail`.
pub fn encode_call(signature: &str, args: &[Arg]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    out.extend_from_slice(&encode_args(args));
    out
}

/// Why return data is not what a call's signature says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed return data: {0}")]
pub struct AbiError(pub &'static str);

/// Word `i` of ABI data.
pub fn word_at(data: &[u8], i: usize) -> Result<[u8; 32], AbiError> {
    let at = i.checked_mul(32).ok_or(AbiError("offset"))?;
    let end = at.checked_add(32).ok_or(AbiError("offset"))?;
    let w = data.get(at..end).ok_or(AbiError("short"))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(w);
    Ok(out)
}

/// Word `i` as a `bool` (0 or 1, nothing else).
pub fn bool_at(data: &[u8], i: usize) -> Result<bool, AbiError> {
    match u64_at(data, i)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(AbiError("a bool that is neither 0 nor 1")),
    }
}

/// Word `i` as an unsigned integer that fits 64 bits.
pub fn u64_at(data: &[u8], i: usize) -> Result<u64, AbiError> {
    let w = word_at(data, i)?;
    if w[..24].iter().any(|&b| b != 0) {
        return Err(AbiError("an integer wider than 64 bits"));
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&w[24..]);
    Ok(u64::from_be_bytes(b))
}

/// The `bytes` whose offset is word `i`.
pub fn bytes_at(data: &[u8], i: usize) -> Result<Vec<u8>, AbiError> {
    let offset = usize::try_from(u64_at(data, i)?).map_err(|_| AbiError("offset"))?;
    let len_word = data.get(offset..).ok_or(AbiError("offset past the end"))?;
    let len = usize::try_from(u64_at(len_word, 0)?).map_err(|_| AbiError("length"))?;
    let start = offset.checked_add(32).ok_or(AbiError("offset"))?;
    let end = start.checked_add(len).ok_or(AbiError("length"))?;
    Ok(data
        .get(start..end)
        .ok_or(AbiError("short bytes"))?
        .to_vec())
}

/// The `uint256[]` (or `bytes32[]`) whose offset is word `i`, each element as an integer that
/// fits 64 bits.
pub fn u64s_at(data: &[u8], i: usize) -> Result<Vec<u64>, AbiError> {
    let offset = usize::try_from(u64_at(data, i)?).map_err(|_| AbiError("offset"))?;
    let array = data.get(offset..).ok_or(AbiError("offset past the end"))?;
    let len = usize::try_from(u64_at(array, 0)?).map_err(|_| AbiError("length"))?;
    let words = array.get(32..).ok_or(AbiError("short array"))?;
    (0..len).map(|k| u64_at(words, k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_encoding_match_solidity() {
        // Known selectors (ERC-20's, as every explorer lists them).
        assert_eq!(
            selector("transfer(address,uint256)"),
            [0xa9, 0x05, 0x9c, 0xbb]
        );
        assert_eq!(selector("balanceOf(address)"), [0x70, 0xa0, 0x82, 0x31]);
        let data = encode_call(
            "f(bytes32,bytes)",
            &[Arg::Word([7; 32]), Arg::Bytes(&[1, 2, 3])],
        );
        assert_eq!(data.len(), 4 + 32 * 4);
        let body = &data[4..];
        assert_eq!(word_at(body, 0).unwrap(), [7; 32]);
        assert_eq!(u64_at(body, 1).unwrap(), 64);
        assert_eq!(bytes_at(body, 1).unwrap(), vec![1, 2, 3]);
        assert!(bytes_at(&body[..98], 1).is_err());
        assert!(bool_at(&word(2), 0).is_err());
        assert!(bool_at(&word(1), 0).unwrap());
    }

    #[test]
    fn arrays_and_tuples_encode_as_solidity_does() {
        // f(uint256[]) with [1, 2]: offset 32, length 2, the words (the ABI spec's example shape).
        let data = encode_call("f(uint256[])", &[Arg::Words(&[word(1), word(2)])]);
        let body = &data[4..];
        assert_eq!(body.len(), 32 * 4);
        assert_eq!(u64_at(body, 0).unwrap(), 32);
        assert_eq!(u64s_at(body, 0).unwrap(), vec![1, 2]);
        // A tuple with a dynamic member goes in the tail, its own offsets from its start.
        let data = encode_call(
            "g((bytes32,bytes),uint256)",
            &[
                Arg::Tuple(vec![Arg::Word([9; 32]), Arg::Bytes(&[5])]),
                Arg::Word(word(3)),
            ],
        );
        let body = &data[4..];
        assert_eq!(u64_at(body, 0).unwrap(), 64);
        assert_eq!(u64_at(body, 1).unwrap(), 3);
        let tuple = &body[64..];
        assert_eq!(word_at(tuple, 0).unwrap(), [9; 32]);
        assert_eq!(bytes_at(tuple, 1).unwrap(), vec![5]);
        // A static tuple is inline.
        let data = encode_call(
            "h((uint256,uint256))",
            &[Arg::Tuple(vec![Arg::Word(word(1)), Arg::Word(word(2))])],
        );
        assert_eq!(data.len(), 4 + 64);
        assert_eq!(u64_at(&data[4..], 1).unwrap(), 2);
    }
}
