//! The CUDA kernels checked on the CPU, where no GPU is needed: `kernel.cu` is compiled by the
//! host C compiler with `emulate/emulate.h` (every thread of a launch run in a loop), driven by
//! `emulate/driver.c` through the very steps [`super::plan`] gives the GPU, and every leaf,
//! every block's lane subtree, every lane root and the final root are compared with the CPU
//! prover and the reference. Skipped, saying so, where no C compiler exists.

use super::plan::{self, Step};
use crate::hash::blake3_node_key;
use crate::{
    prove_chunks, reference, unique_secret, Address, Digest32, HashId, Hasher, Layout, Params,
    ProverConfig, Salt, Simd,
};
use poie_trace::synthetic::fill;
use poie_trace::Chunk;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/gpu");

/// Builds the emulated kernels once per test binary; `None` (with a note) without `cc`.
fn driver() -> Option<PathBuf> {
    static BUILT: std::sync::OnceLock<Option<(tempfile::TempDir, PathBuf)>> =
        std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let exe = dir.path().join("driver");
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
            let status = Command::new(&cc)
                .args([
                    "-std=c11",
                    "-O2",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                    "-DPOIE_EMULATE",
                ])
                .arg(format!("-I{DIR}"))
                .arg(Path::new(DIR).join("emulate/driver.c"))
                .arg("-o")
                .arg(&exe)
                .status();
            match status {
                Ok(s) if s.success() => Some((dir, exe)),
                Ok(s) => panic!("{cc} failed to compile kernel.cu in emulation: {s}"),
                Err(e) => {
                    eprintln!("skipped: no C compiler ({cc}: {e}) to run kernel.cu on the CPU");
                    None
                }
            }
        })
        .as_ref()
        .map(|(_, exe)| exe.clone())
}

/// What the emulated kernels printed.
#[derive(Default)]
struct Output {
    leaves: Vec<Digest32>,
    subtrees: Vec<Digest32>,
    lanes: Vec<Digest32>,
}

fn hex32(s: &str) -> Digest32 {
    let mut d = [0u8; 32];
    hex::decode_to_slice(s, &mut d).expect("hex digest");
    d
}

/// Runs `steps` (plus the final lane roots) on the emulated kernels; with `show`, prints
/// each block's leaves and lane subtrees too.
fn emulate(
    exe: &Path,
    params: &Params,
    secret: &Digest32,
    rows: u32,
    trace: &[Chunk],
    (steps, ends): (&[Step], plan::Ends),
    show: bool,
) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trace.bin");
    std::fs::write(&path, trace.as_flattened()).expect("write trace");
    let lanes = params.layout.lanes;
    let mut script = format!(
        "init {lanes} {rows} {} {}{}\n",
        u8::from(params.layout.chained),
        hex::encode(secret),
        hex::encode(blake3_node_key())
    );
    let mut pending_leaves = 0u64;
    for s in steps {
        script.push_str(&format!("{s}\n"));
        if show {
            match *s {
                Step::Upload { count, .. } => pending_leaves = count,
                Step::Leaves { .. } => script.push_str(&format!("show-leaves {pending_leaves}\n")),
                Step::Fold { .. } => script.push_str("show-subtrees\n"),
                Step::LeafTrees { .. } | Step::Level { .. } => {}
            }
        }
    }
    let used = (trace.len() as u64).min(u64::from(lanes));
    script.push_str(&format!("roots {} {} {used}\n", ends.count, ends.rem));
    let mut child = Command::new(exe)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the driver");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(script.as_bytes()).expect("write plan");
    }
    let out = child.wait_with_output().expect("driver output");
    assert!(out.status.success(), "driver failed: {}", out.status);
    let mut o = Output::default();
    for line in String::from_utf8(out.stdout).expect("utf-8").lines() {
        let (tag, hex) = line.split_once(' ').expect("tagged line");
        let d = hex32(hex);
        match tag {
            "leaf" => o.leaves.push(d),
            "subtree" => o.subtrees.push(d),
            "lane" => o.lanes.push(d),
            _ => panic!("unexpected line {line}"),
        }
    }
    o
}

fn trace(n: usize, seed: u64) -> Vec<Chunk> {
    let mut t = vec![[0u8; 32]; n];
    fill(seed, 0, &mut t);
    t
}

/// The full check of one configuration.
fn check(lanes: u32, chained: bool, rows: u32, n: usize, show: bool) {
    let t = trace(n, n as u64 ^ u64::from(lanes));
    let secret = unique_secret(
        HashId::Blake3,
        &Salt::from([0x5a; 32]),
        &Address::from([0xa5; 20]),
    );
    // Unchained blocks go both ways: leaves then levels (the leaves visible), and the fused
    // leaf pass the GPU prover uses.
    let fuses: &[u32] = if chained { &[0] } else { &[0, plan::FUSE] };
    for &fuse in fuses {
        check_trace(lanes, chained, rows, &t, &secret, fuse, show);
    }
}

/// The full check of one trace under the unique secret `secret`; returns the root, `None`
/// where no C compiler exists.
fn check_trace(
    lanes: u32,
    chained: bool,
    rows: u32,
    t: &[Chunk],
    secret: &Digest32,
    fuse: u32,
    show: bool,
) -> Option<Digest32> {
    let exe = driver()?;
    let (t, secret, n) = (t.to_vec(), *secret, t.len());
    let params = Params {
        hash: HashId::Blake3,
        layout: Layout::new(lanes, chained).expect("valid"),
    };
    let (steps, ends) = plan::whole(lanes, rows, n as u64, fuse);
    let out = emulate(&exe, &params, &secret, rows, &t, (&steps, ends), show);
    let what = format!("L={lanes} chained={chained} rows={rows} n={n} fuse={fuse}");

    let all = reference::leaves(&params, &secret, &t);
    let want_lanes = reference::lane_roots(&params, &all);
    assert_eq!(out.lanes, want_lanes, "lane roots, {what}");
    let h = Hasher::new(HashId::Blake3, secret, Simd::detect()).expect("backend");
    let top = crate::tree::root_of(&h, &out.lanes).unwrap_or([0; 32]);
    let root = params.commitment_root(n as u64, &top);
    assert_eq!(root, reference::root(&params, &secret, &t), "root, {what}");
    let cpu = prove_chunks(params, h, ProverConfig::default(), &t).expect("cpu proof");
    assert_eq!(root, cpu.root, "CPU prover, {what}");
    assert_eq!(out.lanes, cpu.lane_roots, "CPU lane roots, {what}");

    if show {
        // Leaves come out block by block in trace order; each block's subtrees are the lane
        // trees over that block's rows.
        if fuse == 0 {
            assert_eq!(out.leaves, all, "leaves, {what}");
        }
        let mut first = 0usize;
        let mut subtrees = out.subtrees.iter();
        for s in &steps {
            if let Step::Upload { count, .. } = *s {
                let count = count as usize;
                let block = &all[first..first + count];
                let block_rows = count.div_ceil(lanes as usize);
                let active = if block_rows == 1 {
                    count
                } else {
                    lanes as usize
                };
                for j in 0..lanes as usize {
                    let got = subtrees.next().expect("a subtree per lane");
                    if j < active {
                        let lane: Vec<Digest32> = block
                            .iter()
                            .skip(j)
                            .step_by(lanes as usize)
                            .copied()
                            .collect();
                        assert_eq!(*got, reference::mth(&params, &lane), "subtree {j}, {what}");
                    }
                }
                first += count;
            }
        }
    }
    Some(root)
}

/// The golden configurations (tests/data/golden-roots.json, blake3): VM traces of the built-in
/// guests, through the emulated kernels with small blocks, give the committed roots.
#[test]
fn emulated_kernels_give_the_golden_roots() {
    let mut checked = 0;
    for g in crate::golden::load()
        .iter()
        .filter(|g| g.hash == HashId::Blake3)
    {
        let guest = poie_guests::find(&g.guest).expect("guest");
        let mut sink = poie_trace::VecSink::default();
        poie_vm::Vm::new(guest.elf, g.input.as_bytes().to_vec())
            .expect("loads")
            .run(&mut sink, u64::MAX)
            .expect("runs");
        assert_eq!(sink.0.len() as u64, g.n);
        let secret = unique_secret(HashId::Blake3, &g.salt(), &g.address());
        let rows = plan::rows_for(g.lanes, 64);
        let fuse = if g.chained { 0 } else { plan::FUSE };
        let Some(root) = check_trace(g.lanes, g.chained, rows, &sink.0, &secret, fuse, false)
        else {
            return;
        };
        assert_eq!(
            hex::encode(root),
            g.root,
            "{} L={} chained={}",
            g.guest,
            g.lanes,
            g.chained
        );
        checked += 1;
    }
    assert!(checked >= 12, "every blake3 golden configuration");
}

#[test]
fn emulated_kernels_match_the_cpu_leaf_by_leaf() {
    for chained in [false, true] {
        for (lanes, rows, n) in [
            (1, 4, 0),
            (1, 4, 1),
            (1, 4, 13),
            (3, 2, 20),
            (4, 4, 16),
            (4, 4, 37),
            (16, 2, 100),
            (5, 8, 3),
            (1, 64, 300),
            (2, 32, 200),
        ] {
            check(lanes, chained, rows, n, true);
        }
    }
}

#[test]
fn emulated_kernels_match_the_cpu_over_many_blocks_and_tails() {
    for chained in [false, true] {
        for lanes in [1u32, 2, 3, 7, 16, 64] {
            for n in [1usize, 63, 64, 65, 1000, 4097] {
                let rows = plan::rows_for(lanes, 256);
                check(lanes, chained, rows, n, false);
            }
        }
    }
}

/// A randomised sweep (fixed seed, so a failure reproduces): lengths, lanes and block sizes.
#[test]
fn emulated_kernels_random_sweep() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..24 {
        let lanes = 1 + (next() % 40) as u32;
        let chained = next() % 2 == 0;
        let rows = 1u32 << (next() % 5);
        let n = (next() % 3000) as usize;
        check(lanes, chained, rows, n, false);
    }
}

/// NVRTC compiles kernel.cu as C++: check it is valid C++ too (with the CUDA keywords stubbed
/// out), so a GPU machine does not discover a syntax error. Skipped without `c++`.
#[test]
fn kernel_source_is_valid_cpp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shim = dir.path().join("cuda_shim.h");
    std::fs::write(
        &shim,
        "#define __global__\n#define __device__\n#define __forceinline__ inline\n\
         struct poie_d3 { unsigned x, y, z; };\n\
         static poie_d3 threadIdx, blockIdx, blockDim;\n",
    )
    .expect("write shim");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    match Command::new(&cxx)
        .args([
            "-std=c++17",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-include",
        ])
        .arg(&shim)
        .args(["-x", "c++"])
        .arg(Path::new(DIR).join("kernel.cu"))
        .status()
    {
        Ok(s) => assert!(s.success(), "kernel.cu is not valid C++ ({cxx}: {s})"),
        Err(e) => eprintln!("skipped: no C++ compiler ({cxx}: {e})"),
    }
}
