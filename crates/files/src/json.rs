//! Versioned JSON documents: one mechanism for every JSON file poie writes and reads. A
//! document type says what it is, its version and where the version is ([`VersionedFile`]);
//! reading it checks a bounded regular file, then the version before any field (a newer file
//! gets a version error, not a field error), then the fields; writing it is atomic and
//! refuses a value of another version, a file this poie would not read back.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io;
use std::path::Path;

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a valid {what} file")]
    Parse {
        path: String,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("{path}: unsupported {what} {} {found} (this poie reads {} {})", field.replace('_', " "), field.replace('_', " "), one_of(expected))]
    Version {
        path: String,
        what: &'static str,
        field: &'static str,
        found: u64,
        /// The versions this poie reads.
        expected: &'static [u32],
    },
    #[error("{path}: no {field} field: not a {what} file")]
    NoVersion {
        path: String,
        what: &'static str,
        field: &'static str,
    },
    #[error("{path}: {msg}")]
    Invalid { path: String, msg: String },
}

/// "3", "3 or 4", "2, 3 or 4": the versions a reader takes, for messages.
fn one_of(versions: &[u32]) -> String {
    let mut s = String::new();
    for (i, v) in versions.iter().enumerate() {
        if i > 0 {
            s.push_str(if i + 1 == versions.len() {
                " or "
            } else {
                ", "
            });
        }
        s.push_str(&v.to_string());
    }
    s
}

/// A JSON document with a version field.
pub trait VersionedFile: Serialize + DeserializeOwned {
    /// What the file is, for error messages ("transcript").
    const WHAT: &'static str;
    /// The version this poie writes and reads.
    const VERSION: u32;
    /// Every version this poie writes and reads: [`Self::VERSION`] alone, unless a type has
    /// several current versions (votes and reveals: one per profile, docs/SPEC.md 6.3).
    const VERSIONS: &'static [u32] = &[Self::VERSION];
    /// The field that holds it.
    const VERSION_FIELD: &'static str = "version";

    fn version(&self) -> u32;

    /// Parses a document read from `origin` (a path, for error messages): the version first,
    /// then the fields, then the version the fields give.
    fn from_text(text: &str, origin: &str) -> Result<Self, FileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| FileError::Parse {
                path: origin.into(),
                what: Self::WHAT,
                source,
            })?;
        match value.get(Self::VERSION_FIELD).and_then(|v| v.as_u64()) {
            Some(found) if Self::VERSIONS.iter().any(|&v| u64::from(v) == found) => {}
            Some(found) => {
                return Err(FileError::Version {
                    path: origin.into(),
                    what: Self::WHAT,
                    field: Self::VERSION_FIELD,
                    found,
                    expected: Self::VERSIONS,
                })
            }
            None => {
                return Err(FileError::NoVersion {
                    path: origin.into(),
                    what: Self::WHAT,
                    field: Self::VERSION_FIELD,
                })
            }
        }
        let doc: Self = serde_json::from_value(value).map_err(|source| FileError::Parse {
            path: origin.into(),
            what: Self::WHAT,
            source,
        })?;
        // Defensive: a type whose version field is not what serde read.
        if !Self::VERSIONS.contains(&doc.version()) {
            return Err(FileError::Version {
                path: origin.into(),
                what: Self::WHAT,
                field: Self::VERSION_FIELD,
                found: u64::from(doc.version()),
                expected: Self::VERSIONS,
            });
        }
        Ok(doc)
    }

    /// Reads and checks a file: a regular file of at most [`crate::files::MAX_DOCUMENT`]
    /// bytes, this version only, no unknown fields (where the type denies them).
    fn load(path: &Path) -> Result<Self, FileError> {
        let origin = path.display().to_string();
        let text = crate::files::read_text_bounded(path, crate::files::MAX_DOCUMENT).map_err(
            |source| FileError::Io {
                path: origin.clone(),
                source,
            },
        )?;
        Self::from_text(&text, &origin)
    }

    /// The document as pretty JSON, with a final newline.
    fn to_json(&self) -> io::Result<String> {
        if !Self::VERSIONS.contains(&self.version()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to write a {} of version {} (this poie writes version {})",
                    Self::WHAT,
                    self.version(),
                    one_of(Self::VERSIONS)
                ),
            ));
        }
        Ok(serde_json::to_string_pretty(self).map_err(io::Error::other)? + "\n")
    }

    /// Writes the file atomically.
    fn save(&self, path: &Path) -> io::Result<()> {
        crate::atomic::write(path, self.to_json()?.as_bytes(), false)
    }

    /// Writes the file atomically with mode 0600: a document that holds a secret.
    fn save_secret(&self, path: &Path) -> io::Result<()> {
        crate::atomic::write(path, self.to_json()?.as_bytes(), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        version: u32,
        x: u64,
    }

    impl VersionedFile for Doc {
        const WHAT: &'static str = "test document";
        const VERSION: u32 = 3;
        fn version(&self) -> u32 {
            self.version
        }
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    #[serde(transparent)]
    struct Twice(Doc);

    impl VersionedFile for Twice {
        const WHAT: &'static str = "test document";
        const VERSION: u32 = 4;
        const VERSIONS: &'static [u32] = &[3, 4];
        fn version(&self) -> u32 {
            self.0.version
        }
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Report {
        schema_version: u32,
    }

    impl VersionedFile for Report {
        const WHAT: &'static str = "report";
        const VERSION: u32 = 1;
        const VERSION_FIELD: &'static str = "schema_version";
        fn version(&self) -> u32 {
            self.schema_version
        }
    }

    #[test]
    fn the_version_is_checked_before_the_fields_and_written_back_as_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.json");
        let d = Doc { version: 3, x: 7 };
        d.save(&path).expect("saves");
        assert_eq!(Doc::load(&path).expect("loads"), d);
        // A newer file with fields this poie does not know: the version is what is wrong.
        let e = Doc::from_text(r#"{"version": 4, "y": 1}"#, "f").expect_err("refused");
        assert!(
            e.to_string()
                .contains("unsupported test document version 4"),
            "{e}"
        );
        let e = Doc::from_text(r#"{"x": 1}"#, "f").expect_err("refused");
        assert!(e.to_string().contains("no version field"), "{e}");
        let e = Doc::from_text(r#"{"version": 3, "x": 1, "z": 2}"#, "f").expect_err("refused");
        assert!(matches!(e, FileError::Parse { .. }), "{e}");
        assert!(Doc::from_text("[1,", "f").is_err());
        // A value of another version is not written.
        assert!(Doc { version: 2, x: 0 }.save(&path).is_err());
        // Another field name for the version.
        assert_eq!(
            Report::from_text(r#"{"schema_version": 1}"#, "r").expect("loads"),
            Report { schema_version: 1 }
        );
        assert!(Report::from_text(r#"{"version": 1}"#, "r").is_err());
        // A type with two current versions reads and writes both, and names both when refusing.
        assert_eq!(
            Twice::from_text(r#"{"version": 4, "x": 1}"#, "t").expect("loads"),
            Twice(Doc { version: 4, x: 1 })
        );
        assert!(Twice(Doc { version: 3, x: 0 }).save(&path).is_ok());
        let e = Twice::from_text(r#"{"version": 5, "x": 1}"#, "t").expect_err("refused");
        assert!(
            e.to_string()
                .contains("unsupported test document version 5 (this poie reads version 3 or 4)"),
            "{e}"
        );
        assert!(Twice(Doc { version: 5, x: 0 }).save(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_document_is_private_and_a_fifo_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        Doc { version: 3, x: 1 }.save_secret(&path).expect("saves");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let e = Doc::load(Path::new("/dev/zero")).expect_err("not a regular file");
        assert!(matches!(e, FileError::Io { .. }), "{e}");
    }
}
