//! Windback manifests: loaded or refused, never a panic, never a file outside the folder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let d = dir.path();
    let (Ok(()), Ok(())) = (
        std::fs::write(d.join("in.txt"), "20 1"),
        std::fs::write(d.join("m.txt"), data),
    ) else {
        return;
    };
    if let Ok(jobs) = poie::protocol::windback::load(&d.join("m.txt")) {
        assert!(!jobs.is_empty());
    }
});
