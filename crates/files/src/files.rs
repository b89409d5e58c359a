//! Reading files that may be hostile: a path meant to be a document (JSON, manifest, secret,
//! program, input) must be a regular file of bounded size. A FIFO, `/dev/zero` or a huge file
//! would otherwise block the reader or exhaust its memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// JSON documents (votes, reveals, commitments, openings, transcripts) and manifests.
pub const MAX_DOCUMENT: u64 = 64 << 20;
/// Secret files: a header line and 64 hex characters, with room for whitespace.
pub const MAX_SECRET: u64 = 4 << 10;
/// Guest programs and their inputs.
pub const MAX_PROGRAM: u64 = 256 << 20;

/// Opens `path` for streaming, which must be a regular file: checked before it is opened
/// (opening a FIFO would block until a writer comes) and again once open. Files in `/proc`
/// and `/sys` are refused too: they call themselves regular, but their length is a fiction
/// and their content changes as it is read.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let pseudo = path
        .canonicalize()
        .is_ok_and(|p| p.starts_with("/proc") || p.starts_with("/sys"));
    if pseudo || !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let f = File::open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// Reads all of `path`, which must be a regular file of at most `max` bytes. The path is
/// checked before it is opened (opening a FIFO would block until a writer comes), the opened
/// file again, and the read itself is capped, so a file that grows while read is refused too.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let f = File::open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > max {
        return Err(too_big(meta.len(), max));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(too_big(buf.len() as u64, max));
    }
    Ok(buf)
}

/// Reads at most `max` bytes of `path`, of any kind (a pipe such as `<(echo ...)` included),
/// refusing more: for inputs the user names on the command line, where a FIFO is legitimate
/// but `/dev/zero` must not fill the memory.
pub fn read_capped(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(too_big(buf.len() as u64, max));
    }
    Ok(buf)
}

/// As [`read_bounded`], for UTF-8 text.
pub fn read_text_bounded(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, max)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn too_big(len: u64, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{len} bytes, more than the {max} allowed"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_small_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").expect("write");
        assert_eq!(read_bounded(&p, 5).expect("fits"), b"hello");
        let e = read_bounded(&p, 4).expect_err("too big");
        assert!(e.to_string().contains("more than the 4"), "{e}");
        let e = read_bounded(dir.path(), 100).expect_err("a directory");
        assert!(
            e.to_string().contains("not a regular file") || e.kind() == io::ErrorKind::IsADirectory,
            "{e}"
        );
        #[cfg(unix)]
        {
            let e = read_bounded(Path::new("/dev/zero"), 100).expect_err("a device");
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        #[cfg(unix)]
        {
            let e = read_capped(Path::new("/dev/zero"), 1000).expect_err("endless");
            assert!(e.to_string().contains("more than the 1000"), "{e}");
        }
        std::fs::write(&p, [0xff, 0xfe]).expect("write");
        assert!(read_text_bounded(&p, 10).is_err());
    }
}
