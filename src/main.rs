//! The `poie` command line: a thin layer over the library. Each subcommand lives in `cli/`.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
