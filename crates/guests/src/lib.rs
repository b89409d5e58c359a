//! The built-in guest programs: prebuilt RV32IM ELFs from `guests/src`, embedded in the binary
//! so `poie run ledger` needs no files, each with a sample input.

/// A built-in guest program.
#[derive(Debug, Clone, Copy)]
pub struct Guest {
    pub name: &'static str,
    pub about: &'static str,
    /// What the guest reads from stdin, for `poie guests`.
    pub input: &'static str,
    pub elf: &'static [u8],
    /// The input used when none is given (`poie run NAME` with no `--input`).
    pub sample_input: &'static [u8],
}

macro_rules! guest {
    ($name:literal, $about:literal, $format:literal, $input:expr) => {
        Guest {
            name: $name,
            about: $about,
            input: $format,
            elf: include_bytes!(concat!("../../../guests/bin/", $name, ".elf")),
            sample_input: $input,
        }
    };
}

/// All built-in guests, in the order `poie guests` lists them.
pub const GUESTS: &[Guest] = &[
    guest!("hello", "prints a greeting", "none (stdin is ignored)", b""),
    guest!(
        "sha256",
        "SHA-256 of stdin, then 1000 chained re-hashes",
        "any bytes, at most 1 MiB (the rest is ignored)",
        include_bytes!("../../../guests/inputs/sha256.txt")
    ),
    guest!(
        "sort",
        "heapsort of N pseudo-random (xorshift) words it generates itself",
        "\"N SEED\": two decimal numbers, N <= 1048576 (default \"100000 1\"); \
         it sorts no data of yours; N = 100000 is 34 M steps, a 1.1 GB --trace-out",
        include_bytes!("../../../guests/inputs/sort.txt")
    ),
    guest!(
        "sieve",
        "counts primes below LIMIT",
        "\"LIMIT\": one decimal number <= 16777216 (default 1000000)",
        include_bytes!("../../../guests/inputs/sieve.txt")
    ),
    guest!(
        "ledger",
        "applies a block of transfers to 4096 accounts, prints a state digest",
        "one \"FROM TO AMOUNT\" (decimal) per line, # comments, at most 4 MiB; \
         `poie gen-ledger` writes one",
        include_bytes!("../../../guests/inputs/ledger-block.txt")
    ),
];

/// Looks a built-in guest up by name.
pub fn find(name: &str) -> Option<&'static Guest> {
    GUESTS.iter().find(|g| g.name == name)
}

impl Guest {
    /// What the guest will ignore or refuse in `input`, or `None` when it takes all of it as
    /// intended. The guests accept any bytes (their behaviour on any input is part of what is
    /// proved); this only tells a user when theirs will not be read the way they may expect.
    pub fn input_warning(&self, input: &[u8]) -> Option<String> {
        match self.name {
            "hello" if !input.is_empty() => Some("hello reads no input: it is ignored".into()),
            "sha256" if input.len() > SHA256_MAX_INPUT => Some(format!(
                "sha256 hashes only the first {SHA256_MAX_INPUT} bytes of its input; the other {} are ignored",
                input.len() - SHA256_MAX_INPUT
            )),
            "sort" => numbers_warning("sort", input, 64, &[("N", 1 << 20, 100_000), ("SEED", u32::MAX as u64, 1)]),
            "sieve" => numbers_warning("sieve", input, 32, &[("LIMIT", 1 << 24, 1_000_000)]),
            "ledger" => ledger_warning(input),
            _ => None,
        }
    }
}

/// The `sha256` guest's input buffer.
const SHA256_MAX_INPUT: usize = 1 << 20;
/// The `ledger` guest's input buffer.
const LEDGER_MAX_INPUT: usize = 1 << 22;

/// For a guest that reads up to `buffer` bytes and takes the decimal numbers in them, skipping
/// anything else (sort, sieve): says when the input is not just those numbers. `fields` are
/// each number's name, the guest's cap and its default.
fn numbers_warning(
    guest: &str,
    input: &[u8],
    buffer: usize,
    fields: &[(&str, u64, u64)],
) -> Option<String> {
    let text = String::from_utf8_lossy(input);
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
    let expected = format!(
        "{guest} reads only \"{}\" (decimal) from its input",
        names.join(" ")
    );
    let defaults: Vec<String> = fields
        .iter()
        .map(|f| format!("{} = {}", f.0, f.2))
        .collect();
    if words.is_empty() {
        return None;
    }
    if input.len() > buffer {
        return Some(format!(
            "{expected}, in its first {buffer} bytes; the other {} bytes are ignored",
            input.len() - buffer
        ));
    }
    if let Some(w) = words
        .iter()
        .find(|w| !w.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!(
            "{expected}; other text such as {:?} is skipped (with no number at all it runs \
             its defaults, {})",
            w.chars().take(20).collect::<String>(),
            defaults.join(", ")
        ));
    }
    if words.len() > fields.len() {
        return Some(format!(
            "{expected}; the rest ({} more number(s)) is ignored",
            words.len() - fields.len()
        ));
    }
    for (w, (name, cap, _)) in words.iter().zip(fields) {
        match w.parse::<u64>() {
            Ok(v) if v <= *cap => {}
            _ => return Some(format!("{guest}: {name} = {w} is above its limit, {cap}")),
        }
    }
    None
}

/// Lines of a ledger block the guest will count as rejected because they are not transfers at
/// all (overdrafts and the like are part of the workload and not reported).
fn ledger_warning(input: &[u8]) -> Option<String> {
    if input.len() > LEDGER_MAX_INPUT {
        return Some(format!(
            "ledger reads only the first {LEDGER_MAX_INPUT} bytes of its input; the other {} are ignored",
            input.len() - LEDGER_MAX_INPUT
        ));
    }
    let mut malformed = 0usize;
    let mut first = None;
    for (i, line) in input.split(|&b| b == b'\n').enumerate() {
        let text = String::from_utf8_lossy(line);
        let t = text.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = t.split([' ', '\t']).filter(|s| !s.is_empty()).collect();
        let ok = fields.len() == 3
            && fields
                .iter()
                .all(|f| (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            malformed += 1;
            first.get_or_insert(i + 1);
        }
    }
    first.map(|line| {
        format!(
            "{malformed} line(s) of the ledger block, the first at line {line}, are not \
             \"FROM TO AMOUNT\" (decimal, at most 9 digits each): the guest counts them as rejected"
        )
    })
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
