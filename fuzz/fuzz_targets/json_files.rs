//! Every JSON document poie reads from a file: parsed through the same loader the commands
//! use, never a panic, and a parsed layout is always a valid one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poie::proof::commitment::{load_json, Commitment};
use poie::proof::opening::Opening;
use poie::protocol::audit::AuditResponse;
use poie::protocol::leak::LeakClaim;
use poie::protocol::vote::{Reveal, Vote};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("f.json");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(v) = load_json(&path, "vote", 2, |v: &Vote| v.version) {
        assert!(v.params.layout.lanes >= 1);
        let _ = v.authentic();
    }
    let _ = load_json(&path, "reveal", 2, |r: &Reveal| r.version);
    let _ = Commitment::load(&path);
    let _ = load_json(&path, "opening", 1, |o: &Opening| o.version);
    let _ = load_json(&path, "audit response", 1, |a: &AuditResponse| a.version);
    let _ = load_json(&path, "leak claim", 1, |c: &LeakClaim| c.version);
});
