//! Every JSON document poie reads from a file: parsed through the same loader the commands
//! use, never a panic, and a parsed layout is always a valid one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poie::json::VersionedFile;
use poie::proof::commitment::Commitment;
use poie::proof::opening::Opening;
use poie::protocol::audit::{AuditChallenge, AuditResponse};
use poie::protocol::leak::LeakClaim;
use poie::protocol::vote::{Reveal, Vote};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("f.json");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(v) = Vote::load(&path) {
        assert!(v.params.layout.lanes >= 1);
        let _ = v.authentic();
    }
    let _ = Reveal::load(&path);
    let _ = Commitment::load(&path);
    let _ = Opening::load(&path);
    let _ = AuditResponse::load(&path);
    if let Ok(c) = AuditChallenge::load(&path) {
        let _ = c.indices(u64::MAX);
    }
    let _ = LeakClaim::load(&path);
    let _ = poie::protocol::transcript::TranscriptFile::load(&path);
});
