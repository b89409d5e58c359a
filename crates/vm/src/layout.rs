//! Laying an executable's `PT_LOAD` segments out in guest memory (SPEC 1.2) with work that
//! grows with what ends up there, not with the sum of the segments' sizes.
//!
//! A file may hold up to 65535 segments, and the resident-page limit counts the pages they
//! fill once however many segments overlap, so the limit does not bound the sum: 60,000
//! segments may each map the same 2 GiB, or each load the same 16 MiB of file bytes. Mapping
//! or copying segment by segment would cost that sum, minutes of a verifier's time for one
//! hostile file. Here each permission bit is set once per page, over the union of the segments
//! that carry it, and each file byte is copied once, from the last segment covering it: the
//! work is `O(k log k)` for `k` segments plus the pages mapped plus the bytes written.

use crate::elf::Segment;
use crate::memory::{Fault, Memory, EXEC, WRITE};
use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};

/// The byte range `[start, end)` of a segment's memory; `end` may be 2^32.
fn mem_range(s: &Segment) -> (u64, u64) {
    let start = u64::from(s.vaddr);
    (start, start + u64::from(s.memsz))
}

/// Sorts byte ranges and merges those that overlap or touch, dropping empty ones: the result
/// is ascending and disjoint, and touches the same pages as the input.
fn merge(ranges: impl Iterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = ranges.filter(|r| r.0 < r.1).collect();
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Maps `[start, end)` (`end <= 2^32`) with `perms`. [`Memory::map`] takes a 32-bit length,
/// which a merged range of 2^32 bytes would not fit, so the range goes in halves at most.
fn map_range(mem: &mut Memory, (start, end): (u64, u64), perms: u8) {
    let mut at = start;
    while at < end {
        let len = (end - at).min(1 << 31);
        // Both fit: `at < end <= 2^32` and `len <= 2^31`.
        mem.map(at as u32, len as u32, perms);
        at += len;
    }
}

/// Whether a segment carries a permission bit.
type Carries = fn(&Segment) -> bool;

/// Maps every page a segment touches, with the union of the permissions of the segments
/// touching it ([`Memory::map`] adds bits to those a page has): mapped for all of them,
/// writable for the writable ones, executable for the executable ones.
pub(crate) fn map_segments(mem: &mut Memory, segments: &[Segment]) {
    let layers: [(u8, Carries); 3] = [
        (0, |_| true),
        (WRITE, Segment::writable),
        (EXEC, Segment::executable),
    ];
    for (perms, carries) in layers {
        let ranges = segments.iter().filter(|s| carries(s)).map(mem_range);
        for range in merge(ranges) {
            map_range(mem, range, perms);
        }
    }
}

/// Writes the segments' file bytes from `image` (already mapped by [`map_segments`]), the
/// later segment's bytes winning where two overlap. Walks the segments from the last,
/// keeping the ranges already written, merged, so that each writes only what no later one
/// covers and every byte is written once. Fails as [`Memory::write_bytes`] does.
pub(crate) fn write_file_bytes(
    mem: &mut Memory,
    segments: &[Segment],
    image: &[u8],
) -> Result<(), Fault> {
    // Disjoint ranges already written, start -> end; ranges that touch are merged.
    let mut written: BTreeMap<u64, u64> = BTreeMap::new();
    for s in segments.iter().rev() {
        let bytes = s.file_bytes(image);
        let start = u64::from(s.vaddr);
        let end = start + bytes.len() as u64;
        if start == end {
            continue;
        }
        // The written ranges overlapping or touching `[start, end)`, ascending: the one
        // starting at or below `start` if it reaches it, then those starting inside.
        let below = written
            .range(..=start)
            .next_back()
            .filter(|r| *r.1 >= start);
        let inside = written.range((Excluded(start), Included(end)));
        let near: Vec<(u64, u64)> = below
            .into_iter()
            .chain(inside)
            .map(|(&a, &b)| (a, b))
            .collect();
        // The gaps between them are this segment's to write.
        let mut cursor = start;
        for &(a, b) in near.iter().chain([(end, end)].iter()) {
            if cursor < a {
                let piece = usize::try_from(cursor - start)
                    .ok()
                    .zip(usize::try_from(a.min(end) - start).ok())
                    .and_then(|(from, to)| bytes.get(from..to))
                    .ok_or(Fault::Access)?;
                let at = u32::try_from(cursor).map_err(|_| Fault::Access)?;
                mem.write_bytes(at, piece, true)?;
            }
            cursor = cursor.max(b);
        }
        let lo = near.first().map_or(start, |r| r.0.min(start));
        let hi = near.last().map_or(end, |r| r.1.max(end));
        for (a, _) in &near {
            written.remove(a);
        }
        written.insert(lo, hi);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::PAGE_SIZE;

    /// The layout segment by segment, as the VM did it before this module: the reference
    /// whose result the fast one must equal exactly.
    fn naive(segments: &[Segment], image: &[u8]) -> Memory {
        let mut mem = Memory::new();
        for s in segments {
            let w = if s.writable() { WRITE } else { 0 };
            let x = if s.executable() { EXEC } else { 0 };
            mem.map(s.vaddr, s.memsz, w | x);
        }
        for s in segments {
            mem.write_bytes(s.vaddr, s.file_bytes(image), true)
                .expect("fits");
        }
        mem
    }

    fn fast(segments: &[Segment], image: &[u8]) -> Memory {
        let mut mem = Memory::new();
        map_segments(&mut mem, segments);
        write_file_bytes(&mut mem, segments, image).expect("fits");
        mem
    }

    fn assert_same(a: &Memory, b: &Memory, what: &str) {
        assert!(a.perms_table() == b.perms_table(), "{what}: permissions");
        assert_eq!(a.resident_pages(), b.resident_pages(), "{what}");
        let pages = |m: &Memory| -> Vec<(usize, [u8; PAGE_SIZE])> {
            m.resident_iter().map(|(n, d)| (n, *d)).collect()
        };
        assert!(pages(a) == pages(b), "{what}: resident bytes");
    }

    /// splitmix64, so that every case replays.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn merge_joins_overlapping_and_touching_ranges() {
        let ranges = [(5, 9), (0, 2), (2, 3), (7, 12), (20, 20), (14, 15)];
        assert_eq!(merge(ranges.into_iter()), vec![(0, 3), (5, 12), (14, 15)]);
        assert_eq!(
            merge([(0, 1 << 32), (8, 9)].into_iter()),
            vec![(0, 1 << 32)]
        );
    }

    #[test]
    fn a_range_of_the_whole_address_space_is_mapped_whole() {
        let mut mem = Memory::new();
        map_range(&mut mem, (0, 1 << 32), WRITE);
        assert!(mem
            .perms_table()
            .iter()
            .all(|&p| p == crate::memory::MAPPED | WRITE));
    }

    /// Random overlapping layouts in a few pages, and one huge bss now and then: the same
    /// permissions, resident pages and bytes as segment by segment.
    #[test]
    fn random_layouts_come_out_as_segment_by_segment() {
        let image: Vec<u8> = (0..0x6000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut rng = 0x01a0_u64;
        for case in 0..300 {
            let n = 1 + next(&mut rng) % 12;
            let segments: Vec<Segment> = (0..n)
                .map(|_| {
                    let vaddr = 0x10_0000 + (next(&mut rng) % 0x5000) as u32;
                    let filesz = (next(&mut rng) % 0x2800) as u32;
                    let huge = next(&mut rng).is_multiple_of(8);
                    let memsz = filesz
                        + if huge {
                            0x4000_0000
                        } else {
                            (next(&mut rng) % 0x1800) as u32
                        };
                    let offset = (next(&mut rng) % (0x6000 - u64::from(filesz))) as u32;
                    let flags = (next(&mut rng) % 8) as u32;
                    Segment {
                        vaddr,
                        memsz,
                        offset,
                        filesz,
                        flags,
                    }
                })
                .collect();
            assert_same(
                &naive(&segments, &image),
                &fast(&segments, &image),
                &format!("case {case}"),
            );
        }
    }
}
