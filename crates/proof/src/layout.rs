//! Parameters of a proof: the hash and the lane layout, their committed encoding, and the
//! arithmetic of striping a trace over lanes.

use super::hash::{Digest32, HashId, DS_ROOT};

/// Version byte of the construction, first byte of the committed parameters.
pub const VERSION: u8 = 1;

/// The most lanes a layout may have. Far past any useful parallelism bound (a machine with
/// 2^16 SIMD lanes x cores), and small enough that the per-lane state every party keeps (links,
/// frontiers, lane roots: about 100 bytes a lane) stays a few MiB whatever a hostile vote says.
pub const MAX_LANES: u32 = 1 << 16;

/// How the trace is striped: chunk `i` goes to lane `i mod lanes`, position `i div lanes`.
/// Chained lanes link each leaf to the previous leaf of its lane, so a lane hashes sequentially.
///
/// Every layout read from a file or a peer goes through [`Layout::new`] (serde `try_from`), so
/// `1 <= lanes <= MAX_LANES` holds for any layout a loader returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawLayout")]
pub struct Layout {
    pub lanes: u32,
    pub chained: bool,
}

/// A layout as written in a file, before it is checked.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayout {
    lanes: u32,
    chained: bool,
}

/// A lane count no layout has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("lanes must be at least 1")]
    NoLanes,
    #[error("lanes must be at most {MAX_LANES} (got {0})")]
    TooManyLanes(u32),
}

impl TryFrom<RawLayout> for Layout {
    type Error = LayoutError;
    fn try_from(r: RawLayout) -> Result<Self, LayoutError> {
        Layout::new(r.lanes, r.chained)
    }
}

impl Layout {
    pub fn new(lanes: u32, chained: bool) -> Result<Self, LayoutError> {
        if lanes == 0 {
            return Err(LayoutError::NoLanes);
        }
        if lanes > MAX_LANES {
            return Err(LayoutError::TooManyLanes(lanes));
        }
        Ok(Layout { lanes, chained })
    }

    /// Where chunk `i` goes: `(lane, position in the lane)`.
    pub fn locate(&self, i: u64) -> (u32, u64) {
        let l = u64::from(self.lanes.max(1));
        ((i % l) as u32, i / l)
    }

    /// The trace index of position `pos` of lane `lane`, if it fits in a u64.
    pub fn index(&self, lane: u32, pos: u64) -> Option<u64> {
        pos.checked_mul(u64::from(self.lanes))?
            .checked_add(u64::from(lane))
    }

    /// Number of chunks in lane `j` for a trace of `n` chunks.
    pub fn lane_len(&self, n: u64, j: u32) -> u64 {
        let l = u64::from(self.lanes.max(1));
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
        assert!(Layout::new(MAX_LANES + 1, true).is_err());
        assert!(Layout::new(MAX_LANES, false).is_ok());
    }

    #[test]
    fn locate_and_index_are_inverse() {
        let l = Layout::new(7, true).expect("valid");
        for i in [0u64, 1, 6, 7, 8, 1000, u64::MAX] {
            let (lane, pos) = l.locate(i);
            assert!(lane < 7);
            assert_eq!(l.index(lane, pos), Some(i));
        }
        assert_eq!(l.index(0, u64::MAX), None);
    }

    #[test]
    fn loaders_refuse_invalid_layouts() {
        for bad in [
            r#"{"lanes":0,"chained":true}"#,
            r#"{"lanes":4294967295,"chained":true}"#,
            r#"{"lanes":65537,"chained":false}"#,
            r#"{"lanes":4,"chained":true,"extra":1}"#,
        ] {
            let e = serde_json::from_str::<Layout>(bad).expect_err(bad);
            assert!(
                e.to_string().contains("lanes") || e.to_string().contains("extra"),
                "{e}"
            );
        }
        let ok: Layout = serde_json::from_str(r#"{"lanes":16,"chained":true}"#).expect("valid");
        assert_eq!(ok, Layout::new(16, true).expect("valid"));
        let p: Result<Params, _> =
            serde_json::from_str(r#"{"hash":"blake3","layout":{"lanes":0,"chained":true}}"#);
        assert!(p.is_err());
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
