//! Salt files and executor addresses. A salt never appears on the command line or in output;
//! its file is created with mode 0600.

use anyhow::{bail, Context, Result};
use poie::atomic;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum SaltCommand {
    /// Create a new random 32-byte salt file (hex, mode 0600). Refuses to overwrite.
    New {
        /// Where to write the salt.
        file: PathBuf,
    },
}

pub fn salt(cmd: SaltCommand) -> Result<std::process::ExitCode> {
    match cmd {
        SaltCommand::New { file } => {
            if file.exists() {
                bail!(
                    "{} already exists: refusing to overwrite a salt",
                    file.display()
                );
            }
            write_secret(&file, &random32()?)?;
            eprintln!("poie: wrote a new salt to {} (mode 0600)", file.display());
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// 32 bytes from the operating system's randomness.
pub fn random32() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(b)
}

/// Writes a 32-byte secret (salt, key seed, unique secret) as hex, atomically, mode 0600.
pub fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<()> {
    Ok(atomic::write(
        path,
        format!("{}\n", hex::encode(secret)).as_bytes(),
        true,
    )?)
}

/// Reads a 32-byte secret file (salt, key seed or unique secret): 64 hex characters,
/// surrounding whitespace ignored.
pub fn read_salt(path: &Path) -> Result<[u8; 32]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading salt file {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "poie: warning: secret file {} is readable by others (chmod 600 it)",
                    path.display()
                );
            }
        }
    }
    poie::hexser::decode::<32>(text.trim()).map_err(|e| {
        anyhow::anyhow!(
            "secret file {}: expected 64 hex characters ({e})",
            path.display()
        )
    })
}

/// Parses a 20-byte executor address, `0x` + 40 hex characters.
pub fn parse_address(s: &str) -> Result<[u8; 20], String> {
    let hex = s.strip_prefix("0x").ok_or("an address starts with 0x")?;
    poie::hexser::decode::<20>(hex).map_err(|e| format!("bad address: {e}"))
}
