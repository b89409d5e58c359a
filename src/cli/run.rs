//! `poie run`: execute a guest, stream its output, optionally save its trace.

use super::program;
use anyhow::{bail, Context, Result};
use poie::atomic::AtomicFile;
use poie::trace::{NoTrace, NullSink, TraceSink, WriterSink};
use poie::vm::{Outcome, Output, RunResult, Vm};
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Runs a guest. Guest stdout and stderr go to poie's; the exit code is the guest's exit status,
/// 128 + signal for a trap (132 illegal instruction, 133 ebreak, 135 misaligned jump, 137 the
/// guest-memory limit, 139 memory fault), 124 at the step limit, and 125 when poie itself fails
/// (e.g. an invalid ELF).
#[derive(clap::Args, Debug)]
#[command(after_help = "PROGRAM is a built-in guest name (see `poie guests`) or an ELF path.")]
pub struct Args {
    /// Built-in guest name or path to an RV32IM ELF executable.
    program: String,
    /// The guest's stdin: a file, or `-` for poie's stdin. Default: the built-in guest's sample
    /// input; empty for an ELF file.
    #[arg(long, value_name = "FILE|-")]
    input: Option<PathBuf>,
    /// Stop after this many instructions (exit code 124).
    #[arg(long, value_name = "N", default_value_t = u64::MAX, hide_default_value = true)]
    max_steps: u64,
    /// Write the raw trace (32 bytes per instruction, see docs/SPEC.md) to this file
    /// (atomically: a failed or killed run leaves nothing behind).
    #[arg(long, value_name = "FILE")]
    trace_out: Option<PathBuf>,
    /// Refuse to write a trace larger than this (with --trace-out): the run stops there, exits
    /// 125 and writes nothing, so a guest that never ends cannot fill the disk.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30, requires = "trace_out")]
    max_trace_bytes: u64,
    /// Build the trace and drop it (measures the cost of tracing without any I/O).
    #[arg(long, conflicts_with = "trace_out")]
    discard_trace: bool,
    /// Print steps, time and steps/s to stderr.
    #[arg(long)]
    stats: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let prog = program::resolve(&args.program)?;
    let input = program::input(&prog, args.input.as_ref())?;
    let mut vm = Vm::new(&prog.elf, input).with_context(|| format!("loading {}", prog.label))?;
    vm.set_stdout(Output::Writer(Box::new(std::io::stdout())));
    vm.set_stderr(Output::Writer(Box::new(std::io::stderr())));

    let start = Instant::now();
    let result = match &args.trace_out {
        Some(path) => {
            super::check_out(path)?;
            let chunk = poie::trace::CHUNK_LEN as u64;
            let max_chunks = args.max_trace_bytes / chunk;
            let mut file = AtomicFile::create(path, false)?;
            let mut sink = WriterSink(BufWriter::with_capacity(1 << 20, file.file()));
            // One step past the budget tells a guest that stops there from one that goes on.
            let limit = args.max_steps.min(max_chunks.saturating_add(1));
            let r = run_into(&mut vm, &mut sink, limit)
                .with_context(|| format!("writing trace {}", path.display()))?;
            if r.steps > max_chunks {
                bail!(
                    "the trace passed --max-trace-bytes {} ({max_chunks} steps of {chunk} bytes): \
                     stopped, and wrote nothing to {}; raise the limit or set --max-steps",
                    args.max_trace_bytes,
                    path.display()
                );
            }
            drop(sink);
            file.commit()?;
            eprintln!(
                "poie: wrote {} ({} bytes, {} steps)",
                path.display(),
                r.steps.saturating_mul(chunk),
                r.steps
            );
            r
        }
        None if args.discard_trace => run_into(&mut vm, &mut NullSink, args.max_steps)?,
        None => run_into(&mut vm, &mut NoTrace, args.max_steps)?,
    };
    let secs = start.elapsed().as_secs_f64();

    match result.outcome {
        Outcome::Exited(_) => {}
        Outcome::Trapped(t) => eprintln!("poie: guest trapped: {t}"),
        Outcome::StepLimit => eprintln!(
            "poie: step limit reached: stopped after {} instructions (--max-steps)",
            result.steps
        ),
    }
    if args.stats {
        eprintln!(
            "poie: {} steps in {:.3} s ({:.1} M steps/s), {}",
            result.steps,
            secs,
            result.steps as f64 / secs.max(1e-9) / 1e6,
            result.outcome
        );
    }
    Ok(ExitCode::from(result.outcome.exit_code()))
}

fn run_into<S: TraceSink>(vm: &mut Vm, sink: &mut S, max_steps: u64) -> Result<RunResult> {
    Ok(vm.run(sink, max_steps)?)
}
