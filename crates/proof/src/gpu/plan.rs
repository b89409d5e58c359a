//! The GPU prover's schedule as data: which kernels run, with which sizes, for each block of
//! the trace. [`super::cuda`] runs these steps on a device; the emulation test feeds the same
//! steps (their `Display` form) to `emulate/driver.c`, which runs `kernel.cu` compiled by gcc.
//! So the arithmetic that decides block shapes, tails and frontier counts is checked against
//! the CPU prover on every machine, GPU or not.

use std::fmt;

/// One kernel launch (or upload) of the GPU prover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Chunks `first..first + count` of the trace into the block buffer.
    Upload { first: u64, count: u64 },
    /// Leaves of `rows` rows; only `active` lanes in the last row (`rows == 1` when
    /// `active < lanes`). Chained or not as the layout says.
    Leaves { rows: u32, active: u32 },
    /// Unchained only: the leaves of `rows` rows (every lane) and the first `height` levels
    /// of their trees in one pass, leaving `rows >> height` rows of subtrees.
    LeafTrees { rows: u32, height: u32 },
    /// One tree level of every lane: `2 half` rows become `half`.
    Level { half: u32 },
    /// Push every active lane's subtree (`2^height` leaves) onto its frontier; each lane held
    /// `count` leaves before.
    Fold {
        height: u32,
        count: u64,
        active: u32,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Step::Upload { first, count } => write!(f, "upload {first} {count}"),
            Step::Leaves { rows, active } => write!(f, "leaves {rows} {active}"),
            Step::LeafTrees { rows, height } => write!(f, "leaf-trees {rows} {height}"),
            Step::Level { half } => write!(f, "level {half}"),
            Step::Fold {
                height,
                count,
                active,
            } => write!(f, "fold {height} {count} {active}"),
        }
    }
}

/// Chunks per block the GPU prover aims for: 2^22 chunks, 128 MiB of trace, enough work per
/// launch to fill a large GPU while double buffering stays well under 1 GiB of device memory.
pub const TARGET_BLOCK: u64 = 1 << 22;

/// Rows per block for `lanes` lanes: the largest power of two with `rows x lanes <= target`
/// (at least 1), as the CPU prover's `rows_per_block`, so a block is whole rows and each
/// lane's part of it is a perfect subtree.
pub fn rows_for(lanes: u32, target: u64) -> u32 {
    let r = (target / u64::from(lanes.max(1))).clamp(1, 1 << 31);
    1 << (63 - r.leading_zeros())
}

/// The most levels [`Step::LeafTrees`] folds into the leaves (`POIE_FUSE_MAX` in kernel.cu).
pub const FUSE: u32 = 5;

/// The steps of `rows` whole rows starting at chunk `first`, every lane holding `count`
/// leaves before them (`count` a multiple of `rows`, `rows` a power of two). `fuse`: the
/// levels to fold into the leaf pass (0 when chained, where a lane's leaves are sequential).
pub fn rows_steps(lanes: u32, first: u64, rows: u32, count: u64, fuse: u32, out: &mut Vec<Step>) {
    out.push(Step::Upload {
        first,
        count: u64::from(rows) * u64::from(lanes),
    });
    let height = fuse.min(FUSE).min(rows.trailing_zeros());
    if height > 0 {
        out.push(Step::LeafTrees { rows, height });
    } else {
        out.push(Step::Leaves {
            rows,
            active: lanes,
        });
    }
    let mut half = (rows >> height) / 2;
    while half >= 1 {
        out.push(Step::Level { half });
        half /= 2;
    }
    out.push(Step::Fold {
        height: rows.trailing_zeros(),
        count,
        active: lanes,
    });
}

/// What is left after the last full block: `tail` chunks (fewer than a block) starting at
/// chunk `first`, every lane holding `count` leaves before them. Whole rows go as perfect
/// subtrees, largest first, so each push stays aligned; the final partial row goes leaf by leaf.
/// Returns the lanes' counts after it: every lane `count`, plus one for lanes `< rem`.
pub fn tail_steps(
    lanes: u32,
    first: u64,
    tail: u64,
    count: u64,
    fuse: u32,
    out: &mut Vec<Step>,
) -> Ends {
    let l = u64::from(lanes.max(1));
    let (whole, rem) = (tail / l, tail % l);
    let mut first = first;
    let mut count = count;
    for bit in (0..32).rev() {
        let rows = 1u64 << bit;
        if whole & rows != 0 {
            rows_steps(lanes, first, rows as u32, count, fuse, out);
            first += rows * l;
            count += rows;
        }
    }
    if rem > 0 {
        out.push(Step::Upload { first, count: rem });
        out.push(Step::Leaves {
            rows: 1,
            active: rem as u32,
        });
        out.push(Step::Fold {
            height: 0,
            count,
            active: rem as u32,
        });
    }
    Ends {
        count,
        rem: rem as u32,
    }
}

/// The lanes' leaf counts at the end: `count`, plus one for the lanes `j < rem`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ends {
    pub count: u64,
    pub rem: u32,
}

/// The whole plan of a trace of `n` chunks known in advance (indexable sources, tests): full
/// blocks of `rows` rows, then the tail.
pub fn whole(lanes: u32, rows: u32, n: u64, fuse: u32) -> (Vec<Step>, Ends) {
    let block = u64::from(rows) * u64::from(lanes);
    let mut steps = Vec::new();
    let full = n / block;
    for b in 0..full {
        rows_steps(
            lanes,
            b * block,
            rows,
            b * u64::from(rows),
            fuse,
            &mut steps,
        );
    }
    let ends = tail_steps(
        lanes,
        full * block,
        n - full * block,
        full * u64::from(rows),
        fuse,
        &mut steps,
    );
    (steps, ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_powers_of_two_within_the_target() {
        assert_eq!(rows_for(1, 1 << 22), 1 << 22);
        assert_eq!(rows_for(3, 1 << 22), 1 << 20);
        assert_eq!(rows_for(65536, 1 << 22), 64);
        assert_eq!(rows_for(65536, 100), 1, "never below one row");
        assert_eq!(rows_for(0, 8), 8);
    }

    /// Every chunk is uploaded exactly once, in order, and every lane's pushes are aligned and
    /// add up to its length.
    #[test]
    fn plans_cover_the_trace_and_stay_aligned() {
        for lanes in [1u32, 2, 3, 5, 16] {
            for rows in [1u32, 2, 4, 8] {
                for (n, fuse) in [0u64, 1, 2, 7, 15, 16, 17, 63, 64, 65, 200]
                    .into_iter()
                    .flat_map(|n| [(n, 0), (n, FUSE)])
                {
                    let (steps, ends) = whole(lanes, rows, n, fuse);
                    let mut next = 0;
                    let mut counts = vec![0u64; lanes as usize];
                    for s in &steps {
                        match *s {
                            Step::Upload { first, count } => {
                                assert_eq!(first, next);
                                assert!(count <= u64::from(rows) * u64::from(lanes));
                                next += count;
                            }
                            Step::Fold {
                                height,
                                count,
                                active,
                            } => {
                                for c in counts.iter_mut().take(active as usize) {
                                    assert_eq!(*c, count);
                                    assert_eq!(count % (1 << height), 0, "aligned push");
                                    *c += 1 << height;
                                }
                            }
                            _ => {}
                        }
                    }
                    assert_eq!(next, n);
                    let layout = crate::Layout::new(lanes, true).expect("valid");
                    for (j, c) in counts.iter().enumerate() {
                        assert_eq!(*c, layout.lane_len(n, j as u32));
                        assert_eq!(*c, ends.count + u64::from((j as u32) < ends.rem));
                    }
                }
            }
        }
    }
}
