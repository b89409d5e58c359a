//! The committed bytecode in contracts/out is exactly what the pinned compiler makes of
//! contracts/src with the pinned settings (contracts/build.js): any drift of the sources, the
//! compiler or its settings fails here, so what the EVM tests run is what the sources say.
//!
//! It needs node and the compiler that scripts/solc.sh installs (scripts/test.sh runs it first).
//! Under CI (`CI` set) a missing node or compiler fails the test; elsewhere it says how to
//! install them and passes, so that `cargo test` works on a machine without node.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.expect("a directory entry").path();
            let name = p
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).expect("readable"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn committed_bytecode_is_what_the_pinned_compiler_makes() {
    let compiler = root().join("contracts/node_modules/solc/package.json");
    let node = Command::new("node").arg("--version").output();
    if node.is_err() || !compiler.exists() {
        let why = "node or the pinned solc is missing: run scripts/solc.sh";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let out = tempfile::tempdir().expect("a temporary directory");
    let run = Command::new("node")
        .arg(root().join("contracts/build.js"))
        .arg(out.path())
        .output()
        .expect("node runs");
    assert!(
        run.status.success(),
        "build.js failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let built = files(out.path());
    let committed = files(&root().join("contracts/out"));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&built),
        "contracts/out lists other contracts than build.js makes: run `node contracts/build.js`"
    );
    for ((name, a), (_, b)) in committed.iter().zip(&built) {
        assert!(
            a == b,
            "contracts/out/{name} differs from the pinned compiler's output: run `node contracts/build.js` and commit"
        );
    }
    assert!(
        built.iter().any(|(n, _)| n == "PoieStep.bin"),
        "{:?}",
        names(&built)
    );
}
