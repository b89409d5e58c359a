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
            write_secret(&file, SecretKind::Salt, &random32()?)?;
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

/// What a secret file holds. Each kind has its own header line, so one kind is never taken
/// for another: `poie reveal --salt-file me.key` must not publish a signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    Salt,
    Key,
    UniqueSecret,
}

impl SecretKind {
    const ALL: [SecretKind; 3] = [SecretKind::Salt, SecretKind::Key, SecretKind::UniqueSecret];

    /// The file's first line (docs/SPEC.md, section 6).
    pub fn header(self) -> &'static str {
        match self {
            SecretKind::Salt => "poie-salt-v1",
            SecretKind::Key => "poie-key-v1",
            SecretKind::UniqueSecret => "poie-unique-secret-v1",
        }
    }

    fn name(self) -> &'static str {
        match self {
            SecretKind::Salt => "salt",
            SecretKind::Key => "signing key",
            SecretKind::UniqueSecret => "unique secret",
        }
    }
}

/// Writes a 32-byte secret as its kind's header line and 64 hex characters, atomically, mode
/// 0600.
pub fn write_secret(path: &Path, kind: SecretKind, secret: &[u8; 32]) -> Result<()> {
    Ok(atomic::write(
        path,
        format!("{}\n{}\n", kind.header(), hex::encode(secret)).as_bytes(),
        true,
    )?)
}

/// Reads a secret file of `kind`: a regular file of at most 4 KiB, its kind's header line,
/// then 64 hex characters (surrounding whitespace ignored). Another kind's file is refused.
pub fn read_secret(path: &Path, kind: SecretKind) -> Result<[u8; 32]> {
    let text = poie::files::read_text_bounded(path, poie::files::MAX_SECRET)
        .with_context(|| format!("reading {} file {}", kind.name(), path.display()))?;
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
    let mut lines = text.trim().lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != kind.header() {
        let what = match SecretKind::ALL.into_iter().find(|k| k.header() == header) {
            Some(other) => format!("it holds a {}", other.name()),
            None => format!("its first line is not `{}`", kind.header()),
        };
        bail!("{} is not a {} file: {what}", path.display(), kind.name());
    }
    let body: String = lines.collect::<Vec<_>>().join("");
    poie::hexser::decode::<32>(body.trim()).map_err(|e| {
        anyhow::anyhow!(
            "{} file {}: expected 64 hex characters after the header ({e})",
            kind.name(),
            path.display()
        )
    })
}

/// Reads a salt file.
pub fn read_salt(path: &Path) -> Result<[u8; 32]> {
    read_secret(path, SecretKind::Salt)
}

/// Parses a 20-byte executor address: `0x` + 40 hex characters, as poie writes them (the bare
/// 40 characters are accepted too).
pub fn parse_address(s: &str) -> Result<[u8; 20], String> {
    poie::hexser::parse_address(s)
}
