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
    ("poie-referee", &[]),
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
            "poie-referee",
        ],
    ),
    (
        "poie-chain",
        &[
            "poie-trace",
            "poie-files",
            "poie-vm",
            "poie-guests",
            "poie-proof",
            "poie-referee",
            "poie-protocol",
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

/// The rooms rule of docs/ARCHITECTURE.md: no source file over `MAX_FILE` lines before its
/// `#[cfg(test)]` module, no function over `MAX_FN` lines, except where a reason is given.
const MAX_FILE: usize = 800;
const MAX_FN: usize = 120;

/// Functions allowed to be longer, and why.
const LONG_FUNCTIONS: &[(&str, &str, &str)] = &[
    (
        "crates/vm/src/exec.rs",
        "step",
        "the interpreter's dispatch: one match arm per instruction, kept in one function so \
         the compiler sees the whole hot loop",
    ),
    (
        "crates/bench/src/report/fixture.rs",
        "sample_report",
        "test data (a test-only module): one literal report",
    ),
];

/// The Rust files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines before a file's `#[cfg(test)] mod ... {` (the whole file when it has none).
fn non_test_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines
        .windows(2)
        .position(|w| {
            w[0].starts_with("#[cfg(test)]")
                && w[1].contains("mod ")
                && w[1].trim_end().ends_with('{')
        })
        .unwrap_or(lines.len());
    lines[..cut].to_vec()
}

/// `(name, lines)` of every function with a body: from its `fn` line to the `}` at its own
/// indentation.
fn functions(lines: &[&str]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let rest = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .find_map(|p| trimmed.strip_prefix(p))
            .unwrap_or(trimmed);
        let rest = rest.strip_prefix("const ").unwrap_or(rest);
        let rest = rest.strip_prefix("unsafe ").unwrap_or(rest);
        let Some(sig) = rest.strip_prefix("fn ") else {
            continue;
        };
        // A declaration, or a body on one line.
        if line.trim_end().ends_with(';') || line.trim_end().ends_with('}') {
            continue;
        }
        let name: String = sig
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            out.push((name, end + 2));
        }
    }
    out
}

#[test]
fn no_source_file_or_function_is_too_big_to_hold_in_ones_head() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 50, "found the sources ({})", files.len());
    let mut too_big = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path).expect("read");
        let lines = non_test_lines(&text);
        if lines.len() > MAX_FILE {
            too_big.push(format!("{rel}: {} lines before its tests", lines.len()));
        }
        for (name, len) in functions(&lines) {
            let excused = LONG_FUNCTIONS
                .iter()
                .any(|(f, n, _)| *f == rel && *n == name);
            if len > MAX_FN && !excused {
                too_big.push(format!("{rel}: fn {name} is {len} lines"));
            }
        }
    }
    assert!(
        too_big.is_empty(),
        "split these by job (or argue an exception in LONG_FUNCTIONS):\n{}",
        too_big.join("\n")
    );
}

#[test]
fn the_size_check_sees_a_long_function_and_stops_at_the_tests() {
    let body = "    x += 1;\n".repeat(130);
    let text = format!(
        "pub fn long(x: &mut u32) {{\n{body}}}\n\nfn short() {{}}\n\n#[cfg(test)]\nmod tests {{\n    fn hidden() {{\n{body}    }}\n}}\n"
    );
    let lines = non_test_lines(&text);
    let found = functions(&lines);
    assert_eq!(found, [("long".to_string(), 132)]);
    assert!(lines.len() < 140);
}
