//! Files the tests make and read: salts and keys made by the command, the arguments of the
//! vote, reveal, check and challenge-game commands over the conventional file names, reveals,
//! written inputs and JSON documents.

use super::cli;
use poie::proof::Salt;
use poie::protocol::vote::{Reveal, Vote, VOTE_VERSION};
use std::path::{Path, PathBuf};

/// A windback job running built-in guest `name` on `input`.
pub fn guest_job(name: &str, input: &[u8]) -> poie::protocol::windback::Job {
    poie::protocol::windback::Job {
        program: name.into(),
        elf: poie::guests::find(name).expect("a guest").elf.into(),
        input: input.to_vec().into(),
    }
}

/// `poie salt new NAME` in `dir`, which must succeed: the salt file's path.
pub fn salt(dir: &Path, name: &str) -> PathBuf {
    cli::assert_ok(&cli::poie(dir, &["salt", "new", name]));
    dir.join(name)
}

/// In `dir`: the input in.txt, the windback manifest wb.txt and, by `poie key new`, the key
/// k.key, whose address it returns.
pub fn windback_and_key(dir: &Path, input: &str, manifest: &str) -> String {
    std::fs::write(dir.join("in.txt"), input).expect("write");
    std::fs::write(dir.join("wb.txt"), manifest).expect("write");
    key(dir, "k.key")
}

/// `poie key new NAME` in `dir`, which must succeed: the address it prints.
pub fn key(dir: &Path, name: &str) -> String {
    let o = cli::poie(dir, &["key", "new", name]);
    cli::assert_ok(&o);
    cli::stdout(&o).trim().to_string()
}

/// `poie vote`, signed with `k.key`, over the windback `wb.txt`, its salt written to
/// `salt_out`; `extra` adds options such as `--lanes` and `--out`.
pub fn vote_args<'a>(salt_out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "vote",
        "--key",
        "k.key",
        "--windback",
        "wb.txt",
        "--salt-out",
        salt_out,
    ];
    args.extend_from_slice(extra);
    args
}

/// `poie reveal --vote VOTE --salt-file SALT --out OUT`.
pub fn reveal_args<'a>(vote: &'a str, salt: &'a str, out: &'a str) -> [&'a str; 7] {
    ["reveal", "--vote", vote, "--salt-file", salt, "--out", out]
}

/// `poie check --vote VOTE --reveal REVEAL --windback WINDBACK`.
pub fn check_args<'a>(vote: &'a str, reveal: &'a str, windback: &'a str) -> [&'a str; 7] {
    [
        "check",
        "--vote",
        vote,
        "--reveal",
        reveal,
        "--windback",
        windback,
    ]
}

// The challenge game's files: the vote `v.json`, its salt `s` and its reveal `r.json`, the
// windback `wb.txt` and the transcript `t.json`.

/// `poie serve` of the vote `v.json` with the key `key`, listening on `listen`; `extra` adds
/// options.
pub fn serve_args<'a>(key: &'a str, listen: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "serve",
        "--vote",
        "v.json",
        "--key",
        key,
        "--salt-file",
        "s",
        "--windback",
        "wb.txt",
        "--listen",
        listen,
    ];
    args.extend_from_slice(extra);
    args
}

/// The vote, reveal and windback options of the challenger's and the referee's commands.
pub const GAME: [&str; 6] = [
    "--vote",
    "v.json",
    "--reveal",
    "r.json",
    "--windback",
    "wb.txt",
];

/// `poie challenge` of the executor at `addr`, writing the transcript `t.json`; `extra` adds
/// options.
pub fn challenge_args<'a>(addr: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [
        &["challenge", "--connect", addr][..],
        &GAME,
        &["--transcript", "t.json"],
        extra,
    ]
    .concat()
}

/// In `dir`: `poie serve` with key k.key and `serve_extra` (a drill's `--lie-at`, say) on a
/// free loopback port, then `poie challenge` against it, retried while the server is not yet
/// listening (10 s at most); waits for the server to exit and returns the challenger's output.
pub fn serve_and_challenge(dir: &Path, serve_extra: &[&str]) -> std::process::Output {
    use std::time::{Duration, Instant};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = cli::bin()
        .current_dir(dir)
        .args(serve_args("k.key", &addr, serve_extra))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    // Until the server listens, the challenger's connection is refused (and it exits 125).
    let deadline = Instant::now() + Duration::from_secs(10);
    let o = loop {
        let o = cli::poie(dir, &challenge_args(&addr, &[]));
        if o.status.success() || Instant::now() > deadline {
            break o;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = server.wait();
    o
}

/// `poie referee` of the transcript `t.json`.
pub fn referee_args() -> Vec<&'static str> {
    [&["referee", "--transcript", "t.json"][..], &GAME].concat()
}

/// The reveal of the vote `v`, made with `salt`.
pub fn reveal(v: &Vote, salt: Salt) -> Reveal {
    Reveal {
        version: VOTE_VERSION,
        address: v.address,
        root: v.root,
        salt,
    }
}

/// Writes `bytes` to `dir/name`: its path, as a command line takes it.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_string_lossy().into_owned()
}

/// The JSON document at `path`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: impl AsRef<Path>) -> T {
    let path = path.as_ref();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file below `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// On Unix, `path` may be read and written by its owner only (mode 0600).
pub fn assert_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
}
