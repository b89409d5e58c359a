//! `poie prove`, `poie open` and `poie verify-opening`.

use super::{program, secret};
use anyhow::{bail, Context, Result};
use poie::json::VersionedFile;
use poie::proof::commitment::{Commitment, SourceInfo};
use poie::proof::opening::{self, Opening, OpeningCollector};
use poie::proof::{
    unique_secret, Address, HashId, Hasher, Layout, Params, Prover, ProverConfig, SimdChoice,
};
use poie::source::{Device, Source};
use poie::trace::Tee;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Where the trace comes from: a guest (default), a recorded trace file, or a synthetic trace.
#[derive(clap::Args, Debug, Clone)]
pub struct SourceArgs {
    /// Built-in guest name or RV32IM ELF path.
    #[arg(required_unless_present_any = ["trace_file", "synthetic"])]
    program: Option<String>,
    /// The guest's stdin: a file or `-`. Default: a built-in guest's sample input.
    #[arg(long, value_name = "FILE|-")]
    input: Option<PathBuf>,
    /// Stop the guest after N instructions (the trace up to there is proved).
    #[arg(long, value_name = "N", default_value_t = u64::MAX, hide_default_value = true)]
    max_steps: u64,
    /// A recorded trace (from `poie run --trace-out`) instead of running a guest.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["program", "synthetic"])]
    trace_file: Option<PathBuf>,
    /// A synthetic trace of N chunks instead of a guest (measures the Merkleisation alone).
    #[arg(long, value_name = "N", conflicts_with = "program")]
    synthetic: Option<u64>,
    /// Seed of the synthetic trace.
    #[arg(long, default_value_t = 0, requires = "synthetic")]
    seed: u64,
}

/// How to run the prover; none of these change the root.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Hashing worker threads (0: hash in the producer thread). Default: all cores.
    #[arg(long, value_name = "P", value_parser = parse_threads)]
    threads: Option<usize>,
    /// SIMD backend of the hash (blake3 or keccak): auto, portable, sse41, avx2 or avx512.
    #[arg(long, default_value = "auto", value_parser = parse_simd)]
    simd: SimdChoice,
    /// Pin worker threads to cores.
    #[arg(long)]
    pin: bool,
    /// Target chunks per block handed to the workers.
    #[arg(long, value_name = "N", default_value_t = poie::proof::pipeline::DEFAULT_BATCH, value_parser = parse_batch)]
    batch: usize,
}

/// A count in `lo..=hi`, refused with the range otherwise.
fn parse_count(s: &str, lo: usize, hi: usize) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("expected a whole number from {lo} to {hi}")),
    }
}

fn parse_threads(s: &str) -> Result<usize, String> {
    parse_count(s, 0, poie::proof::pipeline::MAX_THREADS)
}

fn parse_batch(s: &str) -> Result<usize, String> {
    parse_count(s, 1, poie::proof::pipeline::MAX_BATCH)
}

fn parse_simd(s: &str) -> Result<SimdChoice, String> {
    s.parse()
        .map_err(|e: poie::proof::backend::SimdError| e.to_string())
}

impl RunArgs {
    pub fn config(&self) -> Result<ProverConfig> {
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let cfg = ProverConfig {
            threads,
            simd: self.simd.resolve()?,
            batch: self.batch,
            pin: self.pin,
        };
        cfg.validate().map_err(anyhow::Error::msg)?;
        Ok(cfg)
    }
}

impl SourceArgs {
    fn resolve(&self) -> Result<(Source, SourceInfo)> {
        if let Some(path) = &self.trace_file {
            // The file's digest is taken as it streams into the prover, in the same pass
            // (`poie::source::commit`); a file is never read whole.
            let info = SourceInfo::File {
                trace_blake3: [0; 32],
            };
            return Ok((Source::File(path.clone()), info));
        }
        if let Some(n) = self.synthetic {
            return Ok((
                Source::Synthetic { n, seed: self.seed },
                SourceInfo::Synthetic { seed: self.seed },
            ));
        }
        let name = self.program.as_deref().context("no program given")?;
        let prog = program::resolve(name)?;
        let input = program::input(&prog, self.input.as_ref())?;
        let info = SourceInfo::Vm {
            program: prog.label.clone(),
            program_blake3: poie::proof::hash::blake3_digest(&prog.elf),
            input_blake3: poie::proof::hash::blake3_digest(&input),
            outcome: String::new(),
            exit_code: 0,
            max_steps: self.max_steps,
        };
        Ok((
            Source::Vm {
                elf: prog.elf,
                input,
                max_steps: self.max_steps,
            },
            info,
        ))
    }
}

/// The proof's parameters: they determine the root.
#[derive(clap::Args, Debug, Clone)]
pub struct LayoutArgs {
    /// Number of lanes L: at most L-way parallelism can help build the proof (when chained).
    #[arg(long, default_value_t = 16)]
    lanes: u32,
    /// Do not chain the leaves of a lane (unbounded parallelism; L = 1 unchained is the
    /// original proposal's construction).
    #[arg(long)]
    unchained: bool,
    /// Hash function: blake3 or keccak.
    #[arg(long, default_value = "blake3")]
    hash: HashId,
}

impl LayoutArgs {
    pub fn params(&self) -> Result<Params> {
        let layout = Layout::new(self.lanes, !self.unchained).map_err(anyhow::Error::msg)?;
        Ok(Params {
            hash: self.hash,
            layout,
        })
    }
}

/// Computes the salted, lane-bounded Merkle root of a trace and writes the commitment.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// File holding the executor's secret salt (see `poie salt new`).
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    /// The executor's 20-byte address, 0x + 40 hex digits.
    #[arg(long)]
    address: Address,
    /// Where to hash: cpu, or cuda / cuda:N (blake3 only; same root). CUDA's driver and NVRTC
    /// are loaded when asked for; without them poie says why and exits 125.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    device: Device,
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Write the commitment JSON here (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn prove(a: ProveArgs) -> Result<ExitCode> {
    let params = a.layout.params()?;
    let layout = params.layout;
    let cfg = a.run.config()?;
    let salt = secret::read_salt(&a.salt_file)?;
    let (source, info) = a.source.resolve()?;
    let start = Instant::now();
    let bar = chunk_counter();
    let c = poie::source::commit(
        &source,
        info,
        poie::source::Run {
            device: a.device,
            cfg,
        },
        params,
        &salt,
        &a.address,
        &|k| bar.inc(k),
    )?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    super::write_json(a.out.as_deref(), &c)?;
    eprintln!(
        "poie: proved {} chunks ({layout}, {}, {} threads, {}) in {secs:.3} s: {:.1} M chunks/s; root {}; {}",
        c.n,
        params.hash,
        cfg.threads,
        cfg.simd,
        c.n as f64 / secs.max(1e-9) / 1e6,
        hex::encode(c.root),
        super::wrote(a.out.as_deref())
    );
    Ok(ExitCode::SUCCESS)
}

/// A chunk counter on stderr while a long proof runs (hidden when stderr is not a terminal).
fn chunk_counter() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let target = if std::io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(None, target);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {human_pos} chunks proved, {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Re-executes with the secret and writes the opening of one chunk.
#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The commitment to open (layout, hash, length and address come from it).
    #[arg(long, value_name = "FILE")]
    commitment: PathBuf,
    /// File holding the executor's secret salt.
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
    /// Index of the chunk (step) to open.
    #[arg(long, value_name = "I")]
    index: u64,
    #[command(flatten)]
    run: RunArgs,
    /// Write the opening JSON here (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn hasher_for(c: &Commitment, salt_file: &std::path::Path, simd: SimdChoice) -> Result<Hasher> {
    let salt = secret::read_salt(salt_file)?;
    Ok(Hasher::new(
        c.params.hash,
        unique_secret(c.params.hash, &salt, &c.address),
        simd.resolve()?,
    )?)
}

pub fn open(a: OpenArgs) -> Result<ExitCode> {
    let c = Commitment::load(&a.commitment)?;
    let cfg = a.run.config()?;
    let h = hasher_for(&c, &a.salt_file, a.run.simd)?;
    let (source, _) = a.source.resolve()?;
    let prover = Prover::new(c.params, h.clone(), cfg);
    let collector = OpeningCollector::new(h, c.params, c.n, &[a.index])?;
    let mut tee = Tee(prover, collector);
    source.feed(&mut tee)?;
    let Tee(prover, collector) = tee;
    let proof = prover.into_proof()?;
    if proof.root != c.root {
        bail!(
            "re-execution gives root {} but the commitment has {}: wrong salt, program, input or limits",
            hex::encode(proof.root),
            hex::encode(c.root)
        );
    }
    let o = collector
        .into_openings(&proof.lane_roots)?
        .pop()
        .context("no opening collected")?;
    super::write_json(a.out.as_deref(), &o)?;
    eprintln!(
        "poie: opened chunk {} of {} against root {}; {}",
        o.index,
        c.n,
        hex::encode(c.root),
        super::wrote(a.out.as_deref())
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks an opening against a commitment (needs the revealed salt).
#[derive(clap::Args, Debug)]
pub struct VerifyOpeningArgs {
    /// The commitment (`poie prove --out`).
    #[arg(long, value_name = "FILE")]
    commitment: PathBuf,
    /// The opening (`poie open --out`).
    #[arg(long, value_name = "FILE")]
    opening: PathBuf,
    /// The executor's revealed salt.
    #[arg(long, value_name = "FILE")]
    salt_file: PathBuf,
}

pub fn verify_opening(a: VerifyOpeningArgs) -> Result<ExitCode> {
    let c = Commitment::load(&a.commitment)?;
    let o = Opening::load(&a.opening)?;
    let h = hasher_for(&c, &a.salt_file, SimdChoice::Auto)?;
    match opening::verify(&h, &o, &c.params, c.n, &c.root) {
        Ok(()) => {
            println!(
                "valid: chunk {} opens against root {}",
                o.index,
                hex::encode(c.root)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(
            e @ (opening::OpeningError::LinkNotCommitted | opening::OpeningError::RootMismatch),
        ) => {
            // Every leaf hash depends on the unique secret, so a wrong salt or address fails
            // here, at the first hash checked, as a forged opening would.
            println!(
                "invalid: {e}; or the salt file is not the executor's revealed salt, or the \
                 commitment is not this executor's (address {}): every leaf depends on both",
                c.address
            );
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            println!("invalid: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
