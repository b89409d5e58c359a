//! Versioned JSON files: one trait for the pair of functions that write and read them, so the
//! version a writer stamps is the one its reader demands, and every read goes through
//! [`load_json`] (a bounded regular file, the version checked before the fields).

use crate::proof::commitment::{load_json, FileError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io;
use std::path::Path;

/// A JSON document with a `version` field.
pub trait VersionedFile: Serialize + DeserializeOwned {
    /// What the file is, for error messages ("transcript").
    const WHAT: &'static str;
    /// The version this poie writes and reads.
    const VERSION: u32;

    fn version(&self) -> u32;

    /// Reads and checks a file: bounded size, this version only, no unknown fields (where the
    /// type denies them).
    fn load(path: &Path) -> Result<Self, FileError> {
        load_json(path, Self::WHAT, Self::VERSION, Self::version)
    }

    /// Writes the file atomically as pretty JSON. Refuses a value of another version: a file
    /// this poie would not read back.
    fn save(&self, path: &Path) -> io::Result<()> {
        if self.version() != Self::VERSION {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to write a {} of version {} (this poie writes version {})",
                    Self::WHAT,
                    self.version(),
                    Self::VERSION
                ),
            ));
        }
        let json = serde_json::to_string_pretty(self).map_err(io::Error::other)? + "\n";
        crate::atomic::write(path, json.as_bytes(), false)
    }
}
