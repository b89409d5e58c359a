//! Resolving a program argument (built-in guest name or ELF path) and its input.

use anyhow::{bail, Context, Result};
use poie::guests::{self, GUESTS};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A program to run: its ELF bytes and where they came from.
pub struct Program {
    pub label: String,
    pub elf: Vec<u8>,
    pub builtin: Option<&'static guests::Guest>,
}

/// A built-in name wins unless a file of that name exists.
pub fn resolve(arg: &str) -> Result<Program> {
    let path = Path::new(arg);
    if let Some(g) = guests::find(arg).filter(|_| !path.exists()) {
        return Ok(Program {
            label: g.name.into(),
            elf: g.elf.to_vec(),
            builtin: Some(g),
        });
    }
    if !path.exists() {
        let names: Vec<_> = GUESTS.iter().map(|g| g.name).collect();
        bail!(
            "'{arg}' is neither a file nor a built-in guest (built-ins: {})",
            names.join(", ")
        );
    }
    let elf = poie::files::read_capped(path, poie::files::MAX_PROGRAM)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Program {
        label: arg.into(),
        elf,
        builtin: None,
    })
}

/// `--input`: a file, `-` for stdin, or (when absent) a built-in guest's sample input and
/// nothing for an ELF file. Warns on stderr when a built-in guest will ignore part of the input
/// given (`poie guests` says what each reads).
pub fn input(program: &Program, arg: Option<&PathBuf>) -> Result<Vec<u8>> {
    let bytes = read_input(program, arg)?;
    if let (Some(g), Some(path)) = (program.builtin, arg) {
        if let Some(why) = g.input_warning(&bytes) {
            eprintln!(
                "poie: warning: input {}: {why} (`poie guests` says what each guest reads)",
                path.display()
            );
        }
    }
    Ok(bytes)
}

fn read_input(program: &Program, arg: Option<&PathBuf>) -> Result<Vec<u8>> {
    match arg {
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(poie::files::MAX_PROGRAM + 1)
                .read_to_end(&mut buf)
                .context("reading input from stdin")?;
            if buf.len() as u64 > poie::files::MAX_PROGRAM {
                anyhow::bail!(
                    "input from stdin is more than {} bytes",
                    poie::files::MAX_PROGRAM
                );
            }
            Ok(buf)
        }
        Some(p) => poie::files::read_capped(p, poie::files::MAX_PROGRAM)
            .with_context(|| format!("reading input {}", p.display())),
        None => Ok(program
            .builtin
            .map(|g| g.sample_input.to_vec())
            .unwrap_or_default()),
    }
}

/// `poie guests`: each built-in guest, what it does and what it reads from stdin (`--input`).
pub fn list_guests() {
    for g in GUESTS {
        println!("{:<8} {}", g.name, g.about);
        println!("{:<8} input: {}", "", g.input);
    }
    println!(
        "Run one with `poie run NAME [--input FILE]`; without --input it reads its sample input."
    );
}
