//! The bytes of a step proof (SPEC 1.7, "Encoding"): what a challenger sends and a transcript
//! records, and what an on-chain verifier would take as calldata. Decoding is strict and
//! bounded: a proof is at most [`MAX_PROOF_BYTES`], every list at most two proofs, every proof
//! at most 27 siblings, and nothing may follow the last field.

use crate::header::HEADER_LEN;
use crate::merkle::Hash;
use crate::step::{LeafProof, StepProof};

/// The most bytes an encoded step proof may take: the largest honest one is 5,050 (SPEC 1.7).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The deepest tree's depth: no proof has more siblings.
const MAX_SIBLINGS: usize = 27;
/// No list of a step proof holds more than two leaves.
const MAX_LIST: usize = 2;

/// Why bytes are not a step proof.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofDecodeError {
    #[error("a step proof is at most {MAX_PROOF_BYTES} bytes, got {0}")]
    TooLong(usize),
    #[error("the step proof ends early, at byte {0}")]
    Short(usize),
    #[error("a list of {0} leaf proofs (at most {MAX_LIST})")]
    List(u8),
    #[error("a leaf proof with {0} siblings (at most {MAX_SIBLINGS})")]
    Siblings(u8),
    #[error("{0} bytes follow the step proof")]
    Trailing(usize),
}

fn put_leaf(out: &mut Vec<u8>, p: &LeafProof) {
    out.extend_from_slice(&p.index.to_le_bytes());
    out.extend_from_slice(&p.leaf);
    // A proof's siblings are its tree's depth, at most 27: one byte.
    out.push(p.siblings.len().min(255) as u8);
    for s in &p.siblings {
        out.extend_from_slice(s);
    }
}

impl StepProof {
    /// `header (394) || fetch || fetch_page || then for data, data_pages, input and
    /// page_memory in turn: count (u8) || that many leaf proofs`, where a leaf proof is `index
    /// (u64 LE) || leaf (32) || sibling count (u8) || siblings (32 each)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 2048);
        out.extend_from_slice(&self.header);
        put_leaf(&mut out, &self.fetch);
        put_leaf(&mut out, &self.fetch_page);
        for list in [&self.data, &self.data_pages, &self.input, &self.page_memory] {
            out.push(list.len().min(255) as u8);
            for p in list {
                put_leaf(&mut out, p);
            }
        }
        out
    }

    /// The inverse of [`StepProof::encode`], refusing anything longer, shorter or larger than
    /// a step proof can be. The header is taken as its 394 bytes; [`crate::step`] decodes it.
    pub fn decode(bytes: &[u8]) -> Result<StepProof, ProofDecodeError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(ProofDecodeError::TooLong(bytes.len()));
        }
        let mut r = Reader { bytes, at: 0 };
        let header = r.take(HEADER_LEN)?.to_vec();
        let fetch = r.leaf()?;
        let fetch_page = r.leaf()?;
        let mut lists: [Vec<LeafProof>; 4] = Default::default();
        for list in &mut lists {
            let n = r.byte()?;
            if usize::from(n) > MAX_LIST {
                return Err(ProofDecodeError::List(n));
            }
            for _ in 0..n {
                list.push(r.leaf()?);
            }
        }
        if r.at != bytes.len() {
            return Err(ProofDecodeError::Trailing(bytes.len() - r.at));
        }
        let [data, data_pages, input, page_memory] = lists;
        Ok(StepProof {
            header,
            fetch,
            fetch_page,
            data,
            data_pages,
            input,
            page_memory,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ProofDecodeError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(ProofDecodeError::Short(self.at))?;
        let s = self
            .bytes
            .get(self.at..end)
            .ok_or(ProofDecodeError::Short(self.at))?;
        self.at = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, ProofDecodeError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }

    fn hash(&mut self) -> Result<Hash, ProofDecodeError> {
        let mut h = [0u8; 32];
        h.copy_from_slice(self.take(32)?);
        Ok(h)
    }

    fn leaf(&mut self) -> Result<LeafProof, ProofDecodeError> {
        let mut index = [0u8; 8];
        index.copy_from_slice(self.take(8)?);
        let leaf = self.hash()?;
        let n = self.byte()?;
        if usize::from(n) > MAX_SIBLINGS {
            return Err(ProofDecodeError::Siblings(n));
        }
        let siblings = (0..n).map(|_| self.hash()).collect::<Result<_, _>>()?;
        Ok(LeafProof {
            index: u64::from_le_bytes(index),
            leaf,
            siblings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u64, n: usize) -> LeafProof {
        LeafProof {
            index: i,
            leaf: [i as u8; 32],
            siblings: (0..n).map(|k| [k as u8 ^ 0x33; 32]).collect(),
        }
    }

    #[test]
    fn step_proofs_round_trip_and_bad_bytes_are_refused() {
        let p = StepProof {
            header: vec![7; HEADER_LEN],
            fetch: leaf(1, 27),
            fetch_page: leaf(2, 15),
            data: vec![leaf(3, 27), leaf(4, 27)],
            data_pages: vec![leaf(5, 15)],
            input: vec![leaf(6, 27), leaf(7, 27)],
            page_memory: vec![],
        };
        let bytes = p.encode();
        assert_eq!(StepProof::decode(&bytes), Ok(p.clone()));
        for cut in [0, 10, HEADER_LEN, bytes.len() - 1] {
            assert!(matches!(
                StepProof::decode(&bytes[..cut]),
                Err(ProofDecodeError::Short(_))
            ));
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            StepProof::decode(&extra),
            Err(ProofDecodeError::Trailing(1))
        );
        let mut three = p.clone();
        three.data.push(leaf(8, 27));
        assert_eq!(
            StepProof::decode(&three.encode()),
            Err(ProofDecodeError::List(3))
        );
        let mut deep = p.clone();
        deep.fetch.siblings.push([0; 32]);
        assert_eq!(
            StepProof::decode(&deep.encode()),
            Err(ProofDecodeError::Siblings(28))
        );
        assert_eq!(
            StepProof::decode(&vec![0; MAX_PROOF_BYTES + 1]),
            Err(ProofDecodeError::TooLong(MAX_PROOF_BYTES + 1))
        );
    }
}
