//! The layering of docs/ARCHITECTURE.md, enforced: each crate of the workspace depends only on
//! the poie crates below it. Cargo already refuses a cycle; this refuses a wrong-way arrow that
//! is not a cycle (the protocol using the bench, the prover using the VM).

use std::collections::BTreeMap;
use std::path::Path;

/// Each crate and the poie crates it may use (docs/ARCHITECTURE.md, "may use").
const ALLOWED: &[(&str, &[&str])] = &[
    ("poie-trace", &[]),
    ("poie-files", &[]),
    ("poie-guests", &[]),
    ("poie-vm", &["poie-trace"]),
    ("poie-proof", &["poie-trace", "poie-files"]),
    (
        "poie-source",
        &["poie-trace", "poie-files", "poie-vm", "poie-proof"],
    ),
    (
        "poie-protocol",
        &[
            "poie-trace",
            "poie-files",
            "poie-vm",
            "poie-guests",
            "poie-proof",
        ],
    ),
    (
        "poie-bench",
        &[
            "poie-trace",
            "poie-files",
            "poie-vm",
            "poie-guests",
            "poie-proof",
            "poie-source",
        ],
    ),
];

/// The `poie-*` names in a manifest's `[dependencies]` and `[build-dependencies]` (dev
/// dependencies may reach further: a test may use a higher layer to drive a lower one).
fn poie_dependencies(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut section = "";
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section == "[dependencies]" || section == "[build-dependencies]" {
            if let Some(name) = line.split(['=', '.', ' ']).next() {
                if name.starts_with("poie-") {
                    deps.push(name.to_string());
                }
            }
        }
    }
    deps
}

fn package_name(manifest: &str) -> Option<String> {
    let package = manifest.split("[package]").nth(1)?;
    let line = package.lines().find(|l| l.trim().starts_with("name"))?;
    Some(line.split('"').nth(1)?.to_string())
}

#[test]
fn every_crate_uses_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&root).expect("crates/") {
        let manifest = entry.expect("entry").path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
        let name = package_name(&text).expect("a package name");
        let may = allowed.get(name.as_str()).unwrap_or_else(|| {
            panic!("{name} is not in the layering table: add it there and in docs/ARCHITECTURE.md")
        });
        for dep in poie_dependencies(&text) {
            assert!(
                may.contains(&dep.as_str()),
                "{name} depends on {dep}, which docs/ARCHITECTURE.md does not allow"
            );
        }
        seen.push(name);
    }
    seen.sort();
    let mut want: Vec<String> = allowed.keys().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(seen, want, "the table names every crate, and only those");
}

#[test]
fn the_parser_sees_a_wrong_way_dependency() {
    let manifest = "[package]\nname = \"poie-proof\"\n\n[dependencies]\npoie-trace.workspace = true\npoie-vm = { path = \"../vm\" }\nblake3.workspace = true\n\n[dev-dependencies]\npoie-bench.workspace = true\n";
    assert_eq!(package_name(manifest).as_deref(), Some("poie-proof"));
    assert_eq!(poie_dependencies(manifest), ["poie-trace", "poie-vm"]);
}

#[test]
fn the_architecture_doc_has_the_same_table() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md"))
            .expect("docs/ARCHITECTURE.md");
    for (name, may) in ALLOWED {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no row for {name}"));
        let cell = row.rsplit('|').nth(1).unwrap_or("").trim();
        let doc_may: Vec<String> = if cell == "nothing of poie" {
            vec![]
        } else {
            cell.split(", ").map(|d| format!("poie-{d}")).collect()
        };
        assert_eq!(doc_may, *may, "the doc's row for {name}");
    }
}
