//! The built-in guest programs: prebuilt RV32IM ELFs from `guests/src`, embedded in the binary
//! so `poie run ledger` needs no files, each with a sample input.

/// A built-in guest program.
#[derive(Debug, Clone, Copy)]
pub struct Guest {
    pub name: &'static str,
    pub about: &'static str,
    pub elf: &'static [u8],
    /// The input used when none is given (`poie run NAME` with no `--input`).
    pub sample_input: &'static [u8],
}

macro_rules! guest {
    ($name:literal, $about:literal, $input:expr) => {
        Guest {
            name: $name,
            about: $about,
            elf: include_bytes!(concat!("../guests/bin/", $name, ".elf")),
            sample_input: $input,
        }
    };
}

/// All built-in guests, in the order `poie guests` lists them.
pub const GUESTS: &[Guest] = &[
    guest!("hello", "prints a greeting", b""),
    guest!(
        "sha256",
        "SHA-256 of stdin, then 1000 chained re-hashes",
        include_bytes!("../guests/inputs/sha256.txt")
    ),
    guest!(
        "sort",
        "heapsort of N xorshift words; stdin \"N SEED\"",
        include_bytes!("../guests/inputs/sort.txt")
    ),
    guest!(
        "sieve",
        "counts primes below LIMIT; stdin \"LIMIT\"",
        include_bytes!("../guests/inputs/sieve.txt")
    ),
    guest!(
        "ledger",
        "applies a block of transfers to 4096 accounts, prints a state digest",
        include_bytes!("../guests/inputs/ledger-block.txt")
    ),
];

/// Looks a built-in guest up by name.
pub fn find(name: &str) -> Option<&'static Guest> {
    GUESTS.iter().find(|g| g.name == name)
}

/// Ledger blocks: the input format of the `ledger` guest, and a reference implementation of its
/// state transition (used by tests and by windback generation).
pub mod ledger {
    /// Number of accounts the guest keeps.
    pub const ACCOUNTS: u32 = 4096;
    /// Every account's starting balance.
    pub const INITIAL: u32 = 1_000_000;

    /// A deterministic block of `transfers` lines from `seed`: mostly valid transfers, some
    /// overdrafts (rejected by the guest) and comment lines.
    pub fn generate_block(seed: u64, transfers: usize) -> String {
        let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            // splitmix64
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut out = format!("# ledger block, seed {seed}, {transfers} transfers\n");
        for _ in 0..transfers {
            let r = next();
            let from = (r % ACCOUNTS as u64) as u32;
            let to = ((r >> 16) % ACCOUNTS as u64) as u32;
            // One in 16 asks for more than any account can hold at the start.
            let amount = if (r >> 32) % 16 == 0 {
                2_000_000 + ((r >> 40) % 1000) as u32
            } else {
                ((r >> 40) % 5000) as u32
            };
            out.push_str(&format!("{from} {to} {amount}\n"));
        }
        out
    }

    /// Applies a block as the guest does; returns (applied, rejected, balances).
    pub fn apply(block: &[u8]) -> (u32, u32, Vec<u32>) {
        let mut bal = vec![INITIAL; ACCOUNTS as usize];
        let (mut applied, mut rejected) = (0, 0);
        for line in block.split(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line);
            let t = text.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let nums: Vec<Option<u32>> = t
                .split([' ', '\t'])
                .filter(|s| !s.is_empty())
                .map(|s| {
                    (s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| s.parse().ok())
                        .flatten()
                })
                .collect();
            match nums[..] {
                [Some(f), Some(to), Some(a)]
                    if f < ACCOUNTS && to < ACCOUNTS && f != to && bal[f as usize] >= a =>
                {
                    bal[f as usize] -= a;
                    bal[to as usize] += a;
                    applied += 1;
                }
                _ => rejected += 1,
            }
        }
        (applied, rejected, bal)
    }
}
