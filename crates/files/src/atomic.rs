//! Files written whole or not at all: contents go to a temporary file beside the target, which
//! is renamed over it only once complete, so a failure never leaves a half-written file.
//!
//! On Linux the temporary file is unnamed (`O_TMPFILE`) until the commit gives it a name, so a
//! process killed while writing (even by `SIGKILL`) leaves nothing behind: the kernel frees an
//! unnamed file when its last descriptor closes. Elsewhere, or on a file system without
//! `O_TMPFILE`, it is a hidden `.NAME.tmpPID` file, removed on drop.

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
    /// The temporary file has no name yet (`O_TMPFILE`): the commit links it at `tmp` first.
    unnamed: bool,
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
                unnamed: false,
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
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed_file(dest, secret) {
            return Ok(AtomicFile {
                tmp: Some(tmp),
                unnamed: true,
                dest: dest.to_path_buf(),
                file: Some(file),
            });
        }
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
            unnamed: false,
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
        #[cfg(target_os = "linux")]
        if self.unnamed {
            link_unnamed(&f, tmp).map_err(|e| ctx(e, "naming", tmp))?;
        }
        fs::rename(tmp, &self.dest).map_err(|e| {
            let _ = fs::remove_file(tmp);
            ctx(e, "renaming into", &self.dest)
        })
    }
}

/// An unnamed file in `dest`'s folder, if the kernel, the file system and `/proc` allow one
/// (the commit names it through `/proc/self/fd`).
#[cfg(target_os = "linux")]
fn unnamed_file(dest: &Path, secret: bool) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(if secret { 0o600 } else { 0o666 })
        .open(dir)
        .ok()
}

/// Gives the unnamed file `f` the name `at` (which must not exist).
#[cfg(target_os = "linux")]
fn link_unnamed(f: &File, at: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    let from = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let to = CString::new(at.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call; linkat reads
    // them and touches no memory of ours.
    let r = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // An unnamed file vanishes with its descriptor; a named one must be removed.
        if let (Some(_), Some(tmp), false) = (self.file.take(), &self.tmp, self.unnamed) {
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
