//! Files written whole or not at all: contents go to a temporary file beside the target, which
//! is renamed over it only once complete, so a failure never leaves a half-written file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

fn ctx(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// A file being written; [`AtomicFile::commit`] makes it visible under its final name.
///
/// A destination that exists and is not a regular file (`/dev/null`, a pipe) is written in
/// place: renaming over it would replace the device.
pub struct AtomicFile {
    /// `None` when writing in place.
    tmp: Option<PathBuf>,
    dest: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// With `secret`, the file is created with mode 0600 from the start.
    pub fn create(dest: &Path, secret: bool) -> io::Result<Self> {
        if fs::metadata(dest).is_ok_and(|m| !m.is_file()) {
            let file = OpenOptions::new()
                .write(true)
                .open(dest)
                .map_err(|e| ctx(e, "opening", dest))?;
            return Ok(AtomicFile {
                tmp: None,
                dest: dest.to_path_buf(),
                file: Some(file),
            });
        }
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} has no file name", dest.display()),
            )
        })?;
        let tmp = dest.with_file_name(format!(
            ".{}.tmp{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let _ = secret;
        let file = opts.open(&tmp).map_err(|e| ctx(e, "creating", &tmp))?;
        Ok(AtomicFile {
            tmp: Some(tmp),
            dest: dest.to_path_buf(),
            file: Some(file),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("file is present until commit")
    }

    pub fn commit(mut self) -> io::Result<()> {
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        f.flush()?;
        let Some(tmp) = &self.tmp else {
            return Ok(());
        };
        f.sync_all().map_err(|e| ctx(e, "syncing", tmp))?;
        fs::rename(tmp, &self.dest).map_err(|e| ctx(e, "renaming into", &self.dest))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let (Some(_), Some(tmp)) = (self.file.take(), &self.tmp) {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Writes `bytes` to `dest` atomically.
pub fn write(dest: &Path, bytes: &[u8], secret: bool) -> io::Result<()> {
    let mut f = AtomicFile::create(dest, secret)?;
    f.file()
        .write_all(bytes)
        .map_err(|e| ctx(e, "writing", dest))?;
    f.commit()
}
