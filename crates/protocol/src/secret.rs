//! Secret files (docs/SPEC.md, section 6): a salt, an executor's signing key or a unique
//! secret, each a header line naming its kind and 64 hex characters, written atomically with
//! mode 0600. A secret never appears on the command line or in output.

use poie_files::{atomic, files, hexser};
use poie_proof::Salt;
use std::io;
use std::path::{Path, PathBuf};

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

    pub fn name(self) -> &'static str {
        match self {
            SecretKind::Salt => "salt",
            SecretKind::Key => "signing key",
            SecretKind::UniqueSecret => "unique secret",
        }
    }
}

/// Why a secret file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading {} file {}", .kind.name(), .path.display())]
    Read {
        kind: SecretKind,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{} is not a {} file: it holds a {}", .path.display(), .kind.name(), .found.name())]
    OtherKind {
        kind: SecretKind,
        found: SecretKind,
        path: PathBuf,
    },
    #[error("{} is not a {} file: its first line is not `{}`", .path.display(), .kind.name(), .kind.header())]
    NoHeader { kind: SecretKind, path: PathBuf },
    #[error("{} file {}: expected 64 hex characters after the header ({problem})", .kind.name(), .path.display())]
    Body {
        kind: SecretKind,
        path: PathBuf,
        problem: hexser::HexError,
    },
    #[error("writing {}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("no system randomness: {0}")]
    Random(getrandom::Error),
}

/// 32 bytes from the operating system's randomness.
pub fn random32() -> Result<[u8; 32], SecretError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(SecretError::Random)?;
    Ok(b)
}

/// Writes a 32-byte secret as its kind's header line and 64 hex characters, atomically, mode
/// 0600.
pub fn write_secret(path: &Path, kind: SecretKind, secret: &[u8; 32]) -> Result<(), SecretError> {
    atomic::write(
        path,
        format!("{}\n{}\n", kind.header(), hex::encode(secret)).as_bytes(),
        true,
    )
    .map_err(|source| SecretError::Write {
        path: path.into(),
        source,
    })
}

/// Reads a secret file of `kind`: a regular file of at most 4 KiB, its kind's header line,
/// then 64 hex characters (surrounding whitespace ignored). Another kind's file is refused.
pub fn read_secret(path: &Path, kind: SecretKind) -> Result<[u8; 32], SecretError> {
    let text =
        files::read_text_bounded(path, files::MAX_SECRET).map_err(|source| SecretError::Read {
            kind,
            path: path.into(),
            source,
        })?;
    let mut lines = text.trim().lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != kind.header() {
        return Err(
            match SecretKind::ALL.into_iter().find(|k| k.header() == header) {
                Some(found) => SecretError::OtherKind {
                    kind,
                    found,
                    path: path.into(),
                },
                None => SecretError::NoHeader {
                    kind,
                    path: path.into(),
                },
            },
        );
    }
    let body: String = lines.collect::<Vec<_>>().join("");
    hexser::decode::<32>(body.trim()).map_err(|problem| SecretError::Body {
        kind,
        path: path.into(),
        problem,
    })
}

/// Reads a salt file.
pub fn read_salt(path: &Path) -> Result<Salt, SecretError> {
    read_secret(path, SecretKind::Salt).map(Salt::from)
}

/// Writes a salt file ([`write_secret`] of its bytes).
pub fn write_salt(path: &Path, salt: &Salt) -> Result<(), SecretError> {
    write_secret(path, SecretKind::Salt, salt.expose())
}

/// A fresh salt from the operating system's randomness.
pub fn random_salt() -> Result<Salt, SecretError> {
    random32().map(Salt::from)
}

/// Whether others than the owner may read `path` (a secret file should be mode 0600);
/// `false` where permissions cannot be read.
pub fn exposed(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_reads_only_its_own_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let salt = dir.path().join("s");
        write_salt(&salt, &Salt::from([7; 32])).expect("writes");
        assert_eq!(read_salt(&salt).expect("reads"), Salt::from([7; 32]));
        assert!(!exposed(&salt));
        let e = read_secret(&salt, SecretKind::Key).expect_err("a salt is not a key");
        assert!(e.to_string().contains("it holds a salt"), "{e}");
        std::fs::write(&salt, "poie-salt-v1\nzz\n").expect("write");
        let e = read_salt(&salt).expect_err("bad body");
        assert!(e.to_string().contains("expected 64 hex characters"), "{e}");
        std::fs::write(&salt, "nonsense\n").expect("write");
        assert!(matches!(
            read_salt(&salt),
            Err(SecretError::NoHeader { .. })
        ));
        assert!(matches!(
            read_salt(Path::new("/dev/zero")),
            Err(SecretError::Read { .. })
        ));
        assert_ne!(random32().expect("random"), random32().expect("random"));
    }
}
