//! `poie salt new`, and the CLI's side of secret files (their format is the library's,
//! `poie::protocol::secret`) and executor addresses. A salt never appears on the command
//! line or in output; its file is created with mode 0600.

use anyhow::{bail, Result};
use poie::proof::Salt;
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
            write_salt(&file, &random_salt()?)?;
            eprintln!("poie: wrote a new salt to {} (mode 0600)", file.display());
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

pub use poie::protocol::secret::{random32, random_salt, write_salt, write_secret, SecretKind};

/// Reads a secret file of `kind`, warning on stderr where others may read it.
pub fn read_secret(path: &Path, kind: SecretKind) -> Result<[u8; 32]> {
    let s = poie::protocol::secret::read_secret(path, kind)?;
    if poie::protocol::secret::exposed(path) {
        eprintln!(
            "poie: warning: secret file {} is readable by others (chmod 600 it)",
            path.display()
        );
    }
    Ok(s)
}

/// Reads a salt file.
pub fn read_salt(path: &Path) -> Result<Salt> {
    read_secret(path, SecretKind::Salt).map(Salt::from)
}
