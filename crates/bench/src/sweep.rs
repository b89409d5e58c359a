//! The sweep of `poie bench`: the points of a mode's plan, each calibrated, then sampled in
//! rounds until its median is known to within the tolerance or the budget runs out.
//!
//! Every point is sampled once per round, a layout's thread counts back to back, the layouts
//! in a shuffled order: a slow spell of a shared machine then lands on the samples of one
//! round rather than on whole points, and the ratios between points (speedups, gains) pair
//! samples taken seconds apart. After the first `min_samples` rounds only the layouts with a
//! point still uncertain go on, so the budget goes where the noise is.

use super::fingerprint::{self, CpuTimes};
use super::primitives::{hasher, round_window, RoundCeilings};
use super::progress::Progress;
use super::report::fairness::keeps_the_line;
use super::report::{Mode, Point, SourceKind, TOLERANCE};
use super::stats::{self, Estimate};
use super::Backends;
use poie_guests as guests;
use poie_proof::{HashId, Layout, Params, ProverConfig, Simd};
use poie_source::Source;
use std::io;
use std::time::Instant;

/// How long to sample, and which points.
pub(super) struct Plan {
    /// Seconds per sample.
    pub target: f64,
    /// Seconds per primitive of the primitives phase (three windows of a third each; the
    /// ceilings get twice as long).
    pub primitive_secs: f64,
    /// Samples every point gets, and the most any gets.
    pub min_samples: usize,
    pub max_samples: usize,
    /// Seconds the rounds may take in all, beyond which no new round starts.
    pub budget: f64,
    pub lanes: Vec<u32>,
    pub simd_layouts: Vec<(u32, bool)>,
    pub keccak_layouts: Vec<(u32, bool)>,
    pub vm_layouts: Vec<(u32, bool)>,
    pub vm_input: &'static [u8],
}

impl Plan {
    pub fn for_mode(mode: Mode) -> Plan {
        match mode {
            Mode::Quick => Plan {
                target: 0.02,
                primitive_secs: 0.05,
                min_samples: 6,
                max_samples: 6,
                budget: 10.0,
                lanes: vec![1, 4, 16, 64],
                simd_layouts: vec![(16, true)],
                keccak_layouts: vec![(1, false), (1, true), (16, true)],
                vm_layouts: vec![(16, true)],
                vm_input: b"20000 1",
            },
            Mode::Default => Plan {
                target: 0.1,
                primitive_secs: 0.45,
                min_samples: 8,
                max_samples: 100,
                budget: 420.0,
                lanes: vec![1, 2, 4, 8, 16, 32, 64],
                simd_layouts: vec![(1, false), (1, true), (4, true), (16, true), (64, true)],
                keccak_layouts: vec![(1, false), (1, true), (4, true), (8, true), (16, true)],
                vm_layouts: vec![(1, false), (16, true)],
                // About 6.5 M steps, a tenth of a second or so: the VM's samples are whole
                // runs, and longer ones would take a fifth of the budget.
                vm_input: b"20000 1",
            },
            Mode::Full => Plan {
                target: 0.4,
                primitive_secs: 0.9,
                min_samples: 8,
                max_samples: 40,
                budget: 1800.0,
                lanes: vec![1, 2, 4, 8, 16, 32, 64, 128, 256],
                simd_layouts: vec![
                    (1, false),
                    (1, true),
                    (2, true),
                    (4, true),
                    (8, true),
                    (16, true),
                    (32, true),
                    (64, true),
                ],
                keccak_layouts: vec![
                    (1, false),
                    (1, true),
                    (2, true),
                    (4, true),
                    (8, true),
                    (16, true),
                    (64, true),
                ],
                vm_layouts: vec![(1, false), (4, true), (16, true), (64, true)],
                vm_input: b"60000 1",
            },
        }
    }
}

/// 1, 2, 4, ... up to the logical cores, the core count itself, and one oversubscribed point.
pub fn thread_axis(cores: usize) -> Vec<usize> {
    let mut t: Vec<usize> = std::iter::successors(Some(1usize), |x| Some(x * 2))
        .take_while(|&x| x <= cores)
        .collect();
    if t.last() != Some(&cores) {
        t.push(cores);
    }
    t.push(2 * cores);
    t
}

/// One point of the plan.
pub(super) struct Spec {
    pub hash: HashId,
    pub simd: Simd,
    pub lanes: u32,
    pub chained: bool,
    pub threads: usize,
    pub source: SourceKind,
    /// Workers pinned to cores.
    pub pin: bool,
}

pub(super) fn label(s: &Spec) -> String {
    let kind = if s.chained { "chained" } else { "unchained" };
    let src = if s.source == SourceKind::Vm {
        " vm"
    } else {
        ""
    };
    let pin = if s.pin { " pinned" } else { "" };
    format!(
        "{} {} L={} {kind} t={}{src}{pin}",
        s.hash, s.simd, s.lanes, s.threads
    )
}

/// The points of `plan` on `backends`: blake3's main sweep on the widest backend (every
/// layout at every thread count of `axis`, and again with the workers pinned at every count
/// from 2 up to the cores), the other backends on one thread, keccak and the VM end to end on
/// one thread and all cores. With `pin` every point is pinned, and none twice.
///
/// Why pinned twins: on a small shared machine an unpinned worker now and then lands on its
/// partner's core, and a chained layout whose every chain has one worker stalls with it (a
/// 2-core VM measured L=16 on 2 threads at 46 to 72 M chunks/s unpinned, 67 to 76 pinned);
/// on a 16-core Xeon pinning cost chained layouts instead. A determined executor runs
/// whichever is faster, so the fairness table takes the better of the two.
pub(super) fn specs(
    plan: &Plan,
    backends: &Backends,
    cores: usize,
    axis: &[usize],
    pin: bool,
) -> Vec<Spec> {
    let best = backends.best();
    let mut specs = Vec::new();
    let synthetic = |hash, simd, lanes, chained, threads| Spec {
        hash,
        simd,
        lanes,
        chained,
        threads,
        source: SourceKind::Synthetic,
        pin,
    };
    let layouts = std::iter::once((1, false)).chain(plan.lanes.iter().map(|&l| (l, true)));
    for (lanes, chained) in layouts {
        for &threads in axis {
            specs.push(synthetic(HashId::Blake3, best, lanes, chained, threads));
        }
        for &threads in axis.iter().filter(|&&t| !pin && t >= 2 && t <= cores) {
            specs.push(Spec {
                pin: true,
                ..synthetic(HashId::Blake3, best, lanes, chained, threads)
            });
        }
    }
    for &simd in backends.blake3.iter().filter(|s| **s != best) {
        for &(lanes, chained) in &plan.simd_layouts {
            specs.push(synthetic(HashId::Blake3, simd, lanes, chained, 1));
        }
    }
    let one_and_all: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
    let keccak_best = keccak_kernel(best);
    for &(lanes, chained) in &plan.keccak_layouts {
        for &threads in &one_and_all {
            specs.push(synthetic(
                HashId::Keccak,
                keccak_best,
                lanes,
                chained,
                threads,
            ));
        }
    }
    for simd in backends.keccak().into_iter().filter(|s| *s != keccak_best) {
        for &(lanes, chained) in &plan.keccak_layouts {
            specs.push(synthetic(HashId::Keccak, simd, lanes, chained, 1));
        }
    }
    for &(lanes, chained) in &plan.vm_layouts {
        for &threads in &one_and_all {
            specs.push(Spec {
                source: SourceKind::Vm,
                ..synthetic(HashId::Blake3, best, lanes, chained, threads)
            });
        }
    }
    specs
}

/// The backend whose kernel keccak runs for `simd`: `sse41` runs the portable one.
pub(super) fn keccak_kernel(simd: Simd) -> Simd {
    if simd == Simd::Sse41 {
        Simd::Portable
    } else {
        simd
    }
}

/// One proof of `source`; returns (seconds, chunks, pinned workers).
pub(super) fn prove_once(
    params: Params,
    cfg: ProverConfig,
    source: &Source,
) -> io::Result<(f64, u64, usize)> {
    let start = Instant::now();
    let (proof, fed) = source
        .prove(params, hasher(params.hash, cfg.simd), cfg, &|_| {})
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok((start.elapsed().as_secs_f64(), fed.chunks, proof.pinned))
}

/// One point of the sweep while it is being sampled.
pub(super) struct Pending<'a> {
    pub spec: &'a Spec,
    params: Params,
    cfg: ProverConfig,
    /// Chunks per sample (the VM: the whole run).
    n: u64,
    samples: Vec<f64>,
    rounds: Vec<u32>,
    pinned: bool,
    /// Other runnable tasks read just before and after each sample (none without /proc).
    loads: Vec<f64>,
    /// CPU time stolen and in all over the samples (none without /proc/stat).
    stolen: Option<(u64, u64)>,
}

impl Pending<'_> {
    fn source(&self, n: u64, vm_elf: &[u8], vm_input: &[u8]) -> Source {
        match self.spec.source {
            SourceKind::Synthetic => Source::Synthetic { n, seed: 1 },
            SourceKind::Vm => Source::Vm {
                elf: vm_elf.to_vec(),
                input: vm_input.to_vec(),
                max_steps: u64::MAX,
            },
        }
    }

    /// One timed proof, recorded as a sample of `round`.
    fn sample(&mut self, round: u32, vm_elf: &[u8], vm_input: &[u8]) -> io::Result<()> {
        let source = self.source(self.n, vm_elf, vm_input);
        let before: Option<CpuTimes> = fingerprint::cpu_times();
        self.loads
            .extend(fingerprint::loadavg().map(|l| l.others()));
        let (secs, _, p) = prove_once(self.params, self.cfg, &source)?;
        self.loads
            .extend(fingerprint::loadavg().map(|l| l.others()));
        if let (Some(a), Some(b)) = (before, fingerprint::cpu_times()) {
            if let (Some(dt), Some(ds)) =
                (b.total.checked_sub(a.total), b.steal.checked_sub(a.steal))
            {
                let (s, t) = self.stolen.unwrap_or((0, 0));
                self.stolen = Some((s.saturating_add(ds), t.saturating_add(dt)));
            }
        }
        self.pinned |= p > 0;
        self.samples.push(secs);
        self.rounds.push(round);
        Ok(())
    }

    /// The median rate so far, with its interval.
    fn estimate(&self) -> Estimate {
        let n = self.n as f64;
        Estimate::of(&self.samples.iter().map(|s| n / s).collect::<Vec<_>>())
    }

    /// Whether this point needs another sample: it has fewer than `min`, or its median is
    /// not yet known to within the tolerance and it has fewer than `max`. An oversubscribed
    /// point (more workers than `cores`) asks for no more than `min`: it shows what
    /// oversubscription does and decides nothing, so its noise does not spend the budget (it
    /// is still sampled whenever its layout is).
    fn wants_more(&self, min: usize, max: usize, cores: usize) -> bool {
        let n = self.samples.len();
        n < min
            || (self.spec.threads <= cores && n < max && self.estimate().half_width() > TOLERANCE)
    }

    pub fn into_point(self, cores: usize) -> Point {
        let n = self.n;
        let mut rates: Vec<f64> = self.samples.iter().map(|s| n as f64 / s).collect();
        rates.sort_by(f64::total_cmp);
        let s = self.spec;
        Point {
            hash: s.hash,
            simd: s.simd,
            lanes: s.lanes,
            chained: s.chained,
            threads: s.threads,
            oversubscribed: s.threads > cores,
            source: s.source,
            pinned: self.pinned,
            chunks_per_sample: n,
            samples_secs: self.samples,
            rounds: self.rounds,
            median: stats::median(&rates),
            min: rates.first().copied().unwrap_or(0.0),
            max: rates.last().copied().unwrap_or(0.0),
            ceiling: 0.0,
            predicted: 0.0,
            load: (!self.loads.is_empty())
                .then(|| self.loads.iter().sum::<f64>() / self.loads.len() as f64),
            steal: self
                .stolen
                .filter(|(_, t)| *t > 0)
                .map(|(s, t)| s as f64 / t as f64),
        }
    }
}

/// The layouts of `specs`: runs of consecutive specs that differ only in thread count.
fn layouts(specs: &[Spec]) -> Vec<std::ops::Range<usize>> {
    let same_layout = |a: &Spec, b: &Spec| {
        (a.hash, a.simd, a.lanes, a.chained, a.source)
            == (b.hash, b.simd, b.lanes, b.chained, b.source)
    };
    let mut layouts: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match layouts.last_mut() {
            Some(last) if specs.get(last.start).is_some_and(|s| same_layout(s, spec)) => {
                last.end = i + 1;
            }
            _ => layouts.push(i..i + 1),
        }
    }
    layouts
}

/// The order in which round `round` samples the layouts given: shuffled, each layout's
/// thread counts back to back, so that its paired ratios (speedups) compare samples taken
/// seconds apart. In a fixed order each point always follows the same one and whatever that
/// one leaves behind (a hot or throttled core, another backend's clock) is a bias of the
/// point; shuffled, it is noise that the median absorbs. Deterministic: a report's rounds can
/// be replayed.
fn round_order(mut layouts: Vec<std::ops::Range<usize>>, round: usize) -> Vec<usize> {
    // Fisher-Yates on a splitmix64 stream seeded by the round.
    let mut state = (round as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..layouts.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        layouts.swap(i, j);
    }
    layouts.into_iter().flatten().collect()
}

/// A warm-up proof of `spec`, which also sizes its samples to the plan's target time.
pub(super) fn calibrate<'a>(
    spec: &'a Spec,
    plan: &Plan,
    guess: f64,
    vm_elf: &[u8],
) -> io::Result<Pending<'a>> {
    let params = Params {
        hash: spec.hash,
        layout: Layout::new(spec.lanes, spec.chained).map_err(io::Error::other)?,
    };
    let cfg = ProverConfig {
        threads: spec.threads,
        simd: spec.simd,
        pin: spec.pin,
        ..ProverConfig::default()
    };
    let mut p = Pending {
        spec,
        params,
        cfg,
        n: 0,
        samples: Vec::with_capacity(plan.max_samples),
        rounds: Vec::with_capacity(plan.max_samples),
        pinned: false,
        loads: Vec::with_capacity(2 * plan.max_samples),
        stolen: None,
    };
    let n0 = ((guess * plan.target / 4.0) as u64).clamp(4096, 1 << 28);
    let (secs, chunks, _) = prove_once(params, cfg, &p.source(n0, vm_elf, plan.vm_input))?;
    p.n = match spec.source {
        SourceKind::Synthetic => {
            ((chunks as f64 / secs.max(1e-6)) * plan.target).clamp(4096.0, 4e9) as u64
        }
        SourceKind::Vm => chunks,
    };
    Ok(p)
}

/// The samples of `p` as `(round, rate)`.
fn round_rates(p: &Pending) -> Vec<(u32, f64)> {
    let n = p.n as f64;
    p.rounds
        .iter()
        .zip(&p.samples)
        .map(|(r, s)| (*r, n / s))
        .collect()
}

/// The layouts (indices into `all`) whose comparison the verdict makes is not yet decided:
/// the recommended L rests on whether each chained layout of the blake3 main sweep keeps 90%
/// of the unbounded rate, a ratio of the layout's best point to the best unchained point.
/// While the data cannot tell ([`keeps_the_line`]), both layouts go on being sampled, up to
/// `max` samples: each point may be known to within ±5% and their ratio still straddle the
/// line, and a verdict that flips between runs is no verdict.
fn undecided(
    pending: &[Pending],
    all: &[std::ops::Range<usize>],
    cores: usize,
    max: usize,
) -> Vec<bool> {
    let mut out = vec![false; all.len()];
    // The main sweep: blake3 synthetic layouts of the backend with the most threads.
    let is_main = |p: &Pending| {
        p.spec.hash == HashId::Blake3
            && p.spec.source == SourceKind::Synthetic
            && p.spec.threads > 1
    };
    let Some(main_simd) = pending.iter().find(|p| is_main(p)).map(|p| p.spec.simd) else {
        return out;
    };
    // Each main layout's best point so far (its highest median, oversubscribed ones
    // excepted), with the layout's index.
    let best: Vec<(usize, &Pending)> = all
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let ps = pending.get(l.clone())?;
            let first = ps.first()?;
            if !(first.spec.hash == HashId::Blake3
                && first.spec.simd == main_simd
                && first.spec.source == SourceKind::Synthetic)
            {
                return None;
            }
            let b = ps
                .iter()
                .filter(|p| p.spec.threads <= cores && !p.samples.is_empty())
                .max_by(|a, b| a.estimate().median.total_cmp(&b.estimate().median))?;
            Some((i, b))
        })
        .collect();
    let Some(&(ui, unchained)) = best.iter().find(|(_, p)| !p.spec.chained) else {
        return out;
    };
    for &(i, p) in best.iter().filter(|(_, p)| p.spec.chained) {
        let keep = Estimate::of(&stats::paired(&round_rates(p), &round_rates(unchained)));
        let straddles = keeps_the_line(&keep).is_none();
        if straddles && (p.samples.len() < max || unchained.samples.len() < max) {
            for j in [i, ui] {
                if let Some(slot) = out.get_mut(j) {
                    *slot = true;
                }
            }
        }
    }
    out
}

/// What the rounds did.
pub(super) struct Rounds {
    pub rounds: usize,
    pub secs: f64,
}

/// Samples `pending` (calibrated points of `specs`, in the same order) in rounds: every layout
/// in each of the first `plan.min_samples` rounds, then only the layouts with a point that
/// [`Pending::wants_more`] or a comparison still [`undecided`], until there are none (a point
/// stops at `plan.max_samples`) or the rounds have run `plan.budget` seconds. Each round also
/// samples the ceilings.
pub(super) fn sample_rounds(
    plan: &Plan,
    cores: usize,
    specs: &[Spec],
    pending: &mut [Pending],
    ceilings: &mut RoundCeilings,
    progress: &dyn Progress,
) -> io::Result<Rounds> {
    let sort = guests::find("sort").expect("sort guest").elf;
    let all = layouts(specs);
    let start = Instant::now();
    let mut round = 0usize;
    loop {
        let undecided = undecided(pending, &all, cores, plan.max_samples);
        let active: Vec<std::ops::Range<usize>> = all
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                undecided.get(*i).copied().unwrap_or(false)
                    || pending.get((*l).clone()).is_some_and(|ps| {
                        ps.iter()
                            .any(|p| p.wants_more(plan.min_samples, plan.max_samples, cores))
                    })
            })
            .map(|(_, l)| l.clone())
            .collect();
        let elapsed = start.elapsed().as_secs_f64();
        if active.is_empty() || (round >= plan.min_samples && elapsed > plan.budget) {
            break;
        }
        let rides = |p: &Pending| p.spec.threads > cores && p.samples.len() >= plan.min_samples;
        let points = active
            .iter()
            .flat_map(|l| pending.get(l.clone()).unwrap_or(&[]))
            .filter(|p| !rides(p))
            .count();
        progress.round(round + 1, points, pending.len(), elapsed);
        ceilings.sample(round_window(plan.target));
        for i in round_order(active, round) {
            let Some(p) = pending.get_mut(i) else {
                continue;
            };
            // An oversubscribed point past its minimum is not sampled again: it decides
            // nothing, and its samples are the slowest of the sweep.
            if rides(p) {
                continue;
            }
            progress.step(&label(p.spec));
            p.sample(round as u32, sort, plan.vm_input)?;
        }
        round += 1;
    }
    Ok(Rounds {
        rounds: round,
        secs: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(lanes: u32, chained: bool, threads: usize, source: SourceKind) -> Spec {
        Spec {
            hash: HashId::Blake3,
            simd: Simd::Portable,
            lanes,
            chained,
            threads,
            source,
            pin: false,
        }
    }

    #[test]
    fn rounds_shuffle_the_layouts_and_keep_each_layouts_threads_together() {
        let mut specs = Vec::new();
        for (lanes, chained, source) in [
            (1, false, SourceKind::Synthetic),
            (1, true, SourceKind::Synthetic),
            (4, true, SourceKind::Synthetic),
            (16, true, SourceKind::Synthetic),
            (64, true, SourceKind::Synthetic),
            (16, true, SourceKind::Vm),
        ] {
            for threads in [1, 2, 4] {
                specs.push(spec(lanes, chained, threads, source));
            }
        }
        let orders: Vec<Vec<usize>> = (0..8).map(|r| round_order(layouts(&specs), r)).collect();
        for order in &orders {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(
                sorted,
                (0..specs.len()).collect::<Vec<_>>(),
                "a permutation"
            );
            // Each layout's three thread counts, back to back and in their own order.
            for run in order.chunks(3) {
                assert_eq!(run[0] % 3, 0, "{order:?}");
                assert_eq!(run, [run[0], run[0] + 1, run[0] + 2], "{order:?}");
            }
        }
        assert_eq!(orders[3], round_order(layouts(&specs), 3), "deterministic");
        // The rounds do not all share one order, and the first layout does not always lead.
        assert!(orders.iter().any(|o| *o != orders[0]));
        assert!(orders.iter().any(|o| o[0] != 0));
    }

    /// `specs` calibrated at once (the quick plan, the shortest proofs).
    fn calibrated(specs: &[Spec]) -> Vec<Pending<'_>> {
        let plan = Plan {
            target: 0.0,
            ..Plan::for_mode(Mode::Quick)
        };
        specs
            .iter()
            .map(|s| calibrate(s, &plan, 1e5, &[]).expect("calibrates"))
            .collect()
    }

    #[test]
    fn only_uncertain_layouts_go_on_after_the_first_rounds() {
        let specs = [
            spec(1, true, 1, SourceKind::Synthetic),
            spec(4, true, 1, SourceKind::Synthetic),
        ];
        let mut pending = calibrated(&specs);
        for p in &mut pending {
            p.samples = vec![1.0; 6];
            p.rounds = (0..6).collect();
        }
        // A steady point is done after the minimum; a scattered one goes on to the maximum,
        // unless it is oversubscribed.
        assert!(!pending[0].wants_more(6, 30, 2));
        pending[1].samples = vec![1.0, 0.5, 2.0, 0.7, 1.4, 1.0];
        assert!(pending[1].wants_more(6, 30, 2));
        assert!(!pending[1].wants_more(6, 6, 2));
        assert!(!pending[1].wants_more(6, 30, 0));
        assert!(pending[0].wants_more(7, 30, 2));
    }

    #[test]
    fn a_keep_ratio_that_straddles_the_line_keeps_both_layouts_sampled() {
        let specs = [
            spec(1, false, 1, SourceKind::Synthetic),
            spec(1, false, 2, SourceKind::Synthetic),
            spec(16, true, 1, SourceKind::Synthetic),
            spec(16, true, 2, SourceKind::Synthetic),
        ];
        let mut pending = calibrated(&specs);
        let set = |p: &mut Pending, rates: &[f64]| {
            p.n = 1;
            p.samples = rates.iter().map(|r| 1.0 / r).collect();
            p.rounds = (0..rates.len() as u32).collect();
        };
        let all = layouts(&specs);
        set(&mut pending[0], &[50.0; 10]);
        set(&mut pending[1], &[100.0; 10]);
        set(&mut pending[2], &[45.0; 10]);
        // L=16 keeps 85% to 95% of unchained, round by round: the data cannot tell.
        set(
            &mut pending[3],
            &[85.0, 95.0, 88.0, 92.0, 90.0, 86.0, 94.0, 89.0, 91.0, 87.0],
        );
        assert_eq!(undecided(&pending, &all, 2, 60), vec![true, true]);
        // ...unless the samples are used up.
        assert_eq!(undecided(&pending, &all, 2, 10), vec![false, false]);
        // Clearly below the line, or above it: decided.
        set(
            &mut pending[3],
            &[80.0, 81.0, 79.0, 80.0, 82.0, 80.0, 78.0, 80.0, 81.0, 79.0],
        );
        assert_eq!(undecided(&pending, &all, 2, 60), vec![false, false]);
        set(
            &mut pending[3],
            &[96.0, 97.0, 95.0, 96.0, 98.0, 96.0, 94.0, 96.0, 97.0, 95.0],
        );
        assert_eq!(undecided(&pending, &all, 2, 60), vec![false, false]);
    }

    #[test]
    fn samples_record_their_round_load_and_steal() {
        let plan = Plan::for_mode(Mode::Quick);
        let s = spec(4, true, 1, SourceKind::Synthetic);
        let mut p = calibrate(&s, &plan, 1e6, &[]).expect("calibrates");
        for round in [0, 3] {
            p.sample(round, &[], plan.vm_input).expect("samples");
        }
        let point = p.into_point(2);
        assert_eq!(point.rounds, vec![0, 3]);
        assert_eq!(point.samples_secs.len(), 2);
        if std::path::Path::new("/proc/stat").exists() {
            assert!(point.steal.is_some_and(|s| (0.0..=1.0).contains(&s)));
        }
        if std::path::Path::new("/proc/loadavg").exists() {
            assert!(point.load.is_some());
        }
    }

    #[test]
    fn the_main_sweep_has_pinned_twins_from_two_threads_to_the_cores() {
        let plan = Plan::for_mode(Mode::Quick);
        let backends = Backends::capped(Some(Simd::Portable));
        let all = specs(&plan, &backends, 2, &[1, 2, 4], false);
        let main: Vec<(u32, bool, usize, bool)> = all
            .iter()
            .filter(|s| s.hash == HashId::Blake3 && s.source == SourceKind::Synthetic)
            .map(|s| (s.lanes, s.chained, s.threads, s.pin))
            .collect();
        // Unchained and four chained layouts: 1, 2, 4 threads unpinned, 2 pinned.
        assert_eq!(main.len(), 5 * 4, "{main:?}");
        assert!(main.contains(&(16, true, 2, true)));
        assert!(!main.contains(&(16, true, 1, true)) && !main.contains(&(16, true, 4, true)));
        // A layout's points stay together, so its rounds pair seconds apart.
        assert_eq!(
            &main[..4],
            &[
                (1, false, 1, false),
                (1, false, 2, false),
                (1, false, 4, false),
                (1, false, 2, true)
            ]
        );
        // --pin: every point pinned, none twice.
        let pinned = specs(&plan, &backends, 2, &[1, 2, 4], true);
        assert!(pinned.iter().all(|s| s.pin));
        assert_eq!(
            pinned
                .iter()
                .filter(|s| s.hash == HashId::Blake3 && s.source == SourceKind::Synthetic)
                .count(),
            5 * 3
        );
    }

    #[test]
    fn thread_axis_includes_cores_and_one_oversubscribed_point() {
        assert_eq!(thread_axis(2), vec![1, 2, 4]);
        assert_eq!(thread_axis(6), vec![1, 2, 4, 6, 12]);
        assert_eq!(thread_axis(1), vec![1, 2]);
    }
}
