//! Parameters of a proof: the hash and the lane layout, their committed encoding, and the
//! arithmetic of striping a trace over lanes.

use super::hash::{Digest32, HashId, DS_ROOT};

/// Version byte of the construction, first byte of the committed parameters.
pub const VERSION: u8 = 1;

/// How the trace is striped: chunk `i` goes to lane `i mod lanes`, position `i div lanes`.
/// Chained lanes link each leaf to the previous leaf of its lane, so a lane hashes sequentially.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    pub lanes: u32,
    pub chained: bool,
}

impl Layout {
    pub fn new(lanes: u32, chained: bool) -> Result<Self, String> {
        if lanes == 0 {
            return Err("lanes must be at least 1".into());
        }
        Ok(Layout { lanes, chained })
    }

    /// Number of chunks in lane `j` for a trace of `n` chunks.
    pub fn lane_len(&self, n: u64, j: u32) -> u64 {
        let l = u64::from(self.lanes);
        n / l + u64::from(u64::from(j) < n % l)
    }

    /// Lanes holding at least one chunk: the leaves of the top tree.
    pub fn used_lanes(&self, n: u64) -> u32 {
        n.min(u64::from(self.lanes)) as u32
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.chained { "chained" } else { "unchained" };
        write!(f, "{} lanes, {kind}", self.lanes)
    }
}

/// Hash and layout: everything besides the trace and secret that determines the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Params {
    pub hash: HashId,
    pub layout: Layout,
}

impl Params {
    /// `VERSION || hash code || lanes (u32 LE) || chained (0 or 1)`: 7 bytes.
    pub fn encode(&self) -> [u8; 7] {
        let l = self.layout.lanes.to_le_bytes();
        [
            VERSION,
            self.hash.code(),
            l[0],
            l[1],
            l[2],
            l[3],
            u8::from(self.layout.chained),
        ]
    }

    /// `root = H(DS_ROOT || params || n (u64 LE) || top_root)`.
    pub fn commitment_root(&self, n: u64, top_root: &Digest32) -> Digest32 {
        self.hash
            .hash(&[DS_ROOT, &self.encode(), &n.to_le_bytes(), top_root])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_lengths_sum_to_n() {
        for lanes in [1, 2, 3, 7, 64] {
            let l = Layout::new(lanes, true).expect("valid");
            for n in [0u64, 1, 2, 5, 63, 64, 65, 1000] {
                let total: u64 = (0..lanes).map(|j| l.lane_len(n, j)).sum();
                assert_eq!(total, n);
                assert_eq!(
                    l.used_lanes(n),
                    (0..lanes).filter(|&j| l.lane_len(n, j) > 0).count() as u32
                );
            }
        }
        assert!(Layout::new(0, true).is_err());
    }

    #[test]
    fn params_encoding_is_pinned() {
        let p = Params {
            hash: HashId::Keccak,
            layout: Layout {
                lanes: 0x0102_0304,
                chained: true,
            },
        };
        assert_eq!(p.encode(), [1, 2, 4, 3, 2, 1, 1]);
    }
}
