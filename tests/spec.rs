//! docs/SPEC.md states facts a third party implements from; the ones that can drift from the
//! code are checked here against it.

fn spec() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/SPEC.md")).expect("SPEC")
}

/// The rows `| name | hex |` of the table under `heading`.
fn table(spec: &str, heading: &str) -> Vec<(String, String)> {
    let start = spec.find(heading).expect("heading");
    spec[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", name, hex, ""] if hex.len() == 64 => Some((name.to_string(), hex.to_string())),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn built_in_guest_hashes_in_the_spec_match_the_embedded_elfs() {
    let rows = table(&spec(), "### 6.6 Built-in guests");
    let guests = poie::guests::GUESTS;
    assert_eq!(
        rows.len(),
        guests.len(),
        "SPEC 6.6 lists {} guests, poie has {}",
        rows.len(),
        guests.len()
    );
    for g in guests {
        let hex = blake3::hash(g.elf).to_hex().to_string();
        assert!(
            rows.iter().any(|(n, h)| n == g.name && *h == hex),
            "SPEC 6.6 should list `| {} | {hex} |`",
            g.name
        );
    }
}
