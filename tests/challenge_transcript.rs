//! Transcript files: versioned, mutations never convict anew, and read in proportion to a game
//! (an entry count and a byte length no game exceeds, refused before the work).

mod common;

use common::game::*;
use common::rng::Rng;
use poie::json::VersionedFile;
use poie::proof::HashId;
use poie::protocol::challenge::{referee, Behaviour, Entry, Outcome, Party, MAX_LINE};
use poie::protocol::transcript::TranscriptFile;

/// The transcript file: version 2, written and read by one helper; version 1 files (no
/// signatures) are refused by version; and no mutation of a convicting transcript's file
/// convicts anything but the transcript it was, or panics the loader or the referee.
#[test]
fn transcript_files_are_versioned_and_mutations_never_convict_anew() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let params = params(HashId::Blake3, 4, true);
    let (outcome, transcript, correct, disputed) =
        game(params, tree(params, Some(500)), Behaviour::Honest);
    assert!(matches!(outcome, Outcome::Challenger(_)), "{outcome:?}");
    let file = TranscriptFile::new(disputed.root, transcript.clone(), outcome.clone());
    file.save(&path).expect("saved");
    let text = std::fs::read(&path).expect("read");
    let loaded = TranscriptFile::load(&path).expect("loads");
    assert_eq!(loaded, file);
    assert_eq!(loaded.transcript(), transcript);
    let json: serde_json::Value = serde_json::from_slice(&text).expect("json");
    assert_eq!(json["version"], 3);
    assert_eq!(json["outcome"]["winner"], "challenger");
    assert_eq!(json["entries"][1]["sig"].as_str().map(str::len), Some(128));
    assert_eq!(json["nonce"].as_str().map(str::len), Some(64));
    // The old format.
    for old_version in [1, 2] {
        let old = String::from_utf8(text.clone()).expect("utf-8").replacen(
            "\"version\": 3",
            &format!("\"version\": {old_version}"),
            1,
        );
        std::fs::write(&path, old).expect("write");
        let err = TranscriptFile::load(&path)
            .expect_err("refused")
            .to_string();
        assert!(err.contains(&format!("version {old_version}")), "{err}");
    }
    let mut stale = file.clone();
    stale.version = 1;
    assert!(
        stale.save(&path).is_err(),
        "a version this poie would not read back"
    );

    let mut rng = Rng(0x5eed_0062);
    let hex = b"0123456789abcdef";
    let (mut loaded_ok, mut convicted) = (0, 0);
    for _ in 0..400 {
        let mut bytes = text.clone();
        for _ in 0..1 + rng.next() % 2 {
            let at = (rng.next() % bytes.len() as u64) as usize;
            // Inside a long hex string: a digest, a signature or the nonce.
            let in_hex = bytes
                .get(at.saturating_sub(2)..at + 3)
                .is_some_and(|w| w.iter().all(u8::is_ascii_hexdigit));
            match rng.next() % 8 {
                // Mostly another hex digit there, which keeps the file loadable.
                0..=4 if in_hex => bytes[at] = hex[(rng.next() % 16) as usize],
                0..=4 => {}
                5 => bytes[at] = b' ' + (rng.next() % 94) as u8,
                6 => {
                    let end = (at + (rng.next() % 64) as usize).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    let end = (at + (rng.next() % 64) as usize).min(bytes.len());
                    let span = bytes[at..end].to_vec();
                    bytes.splice(at..at, span);
                }
            }
            if bytes.is_empty() {
                bytes.push(b'{');
            }
        }
        std::fs::write(&path, &bytes).expect("write");
        let Ok(t) = TranscriptFile::load(&path) else {
            continue;
        };
        loaded_ok += 1;
        if let Ok(Outcome::Challenger(_)) = referee(&correct, &disputed, &t.transcript()) {
            convicted += 1;
            assert_eq!(
                (t.nonce, &t.entries),
                (transcript.nonce, &transcript.entries),
                "only the transcript as signed convicts"
            );
        }
    }
    assert!(loaded_ok > 150, "{loaded_ok} mutants loaded");
    assert!(
        convicted > 0,
        "mutants of the outcome or spacing still convict"
    );
}

/// Attacker's report, A: a 63 MiB transcript of 3.3M entries made `referee` peak at 2.44 GB
/// before refusing entry 0. No game records more than `MAX_TRANSCRIPT_ENTRIES` entries (the
/// executor's message cap, each message with its reply): one more is refused by that count,
/// and the cap itself loads.
#[test]
fn a_transcript_longer_than_any_game_is_refused_by_its_entry_count() {
    use poie::protocol::challenge::{BadTranscript, MAX_TRANSCRIPT_ENTRIES};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (mut file, entries) = convicting_transcript(&path);
    assert_eq!(entries.len() % 2, 0, "message and reply");
    file.entries = entries
        .iter()
        .cycle()
        .take(MAX_TRANSCRIPT_ENTRIES)
        .cloned()
        .collect();
    file.save(&path).expect("saved");
    assert_eq!(
        TranscriptFile::read(&path)
            .expect("the cap loads")
            .entries
            .len(),
        MAX_TRANSCRIPT_ENTRIES
    );
    file.entries = entries
        .iter()
        .cycle()
        .take(MAX_TRANSCRIPT_ENTRIES + 1)
        .cloned()
        .collect();
    file.save(&path).expect("saved");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert_eq!(
        e.bad(),
        Some(&BadTranscript::TooManyEntries {
            max: MAX_TRANSCRIPT_ENTRIES
        }),
        "{e}"
    );
    let e = TranscriptFile::load(&path)
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains(&format!("more than {MAX_TRANSCRIPT_ENTRIES} entries")),
        "{e}"
    );
}

/// Attacker's report, A: the bytes are bounded too, by what the longest legal game writes, and
/// a longer file is refused by its length before it is read (a sparse 1 GiB file is reported
/// at its full length, where a read would have stopped one byte past the bound).
#[test]
fn a_transcript_larger_than_any_game_is_refused_before_it_is_read() {
    use poie::protocol::challenge::{BadTranscript, MAX_TRANSCRIPT_BYTES};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (file, _) = convicting_transcript(&path);
    // A valid transcript padded with spaces to one byte past the bound: it used to load.
    let mut text = file.to_json().expect("json").into_bytes();
    text.resize(
        usize::try_from(MAX_TRANSCRIPT_BYTES).expect("fits") + 1,
        b' ',
    );
    std::fs::write(&path, &text).expect("write");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert_eq!(
        e.bad(),
        Some(&BadTranscript::TooLarge {
            len: MAX_TRANSCRIPT_BYTES + 1,
            max: MAX_TRANSCRIPT_BYTES
        }),
        "{e}"
    );
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .expect("create")
        .set_len(1 << 30)
        .expect("sparse");
    let e = TranscriptFile::read(&huge).expect_err("refused");
    assert_eq!(
        e.bad(),
        Some(&BadTranscript::TooLarge {
            len: 1 << 30,
            max: MAX_TRANSCRIPT_BYTES
        }),
        "{e}"
    );
    // The longest legal transcript fits: the cap's entries, the last a failure quoting a
    // whole line escaped, and an outcome quoting it escaped again.
    let mut longest = file.clone();
    longest.entries = file
        .entries
        .iter()
        .cycle()
        .take(poie::protocol::challenge::MAX_TRANSCRIPT_ENTRIES - 1)
        .cloned()
        .collect();
    longest.entries.push(Entry {
        from: Party::Executor,
        msg: None,
        sig: None,
        failure: Some("\\\"".repeat(MAX_LINE)),
    });
    longest.outcome = Outcome::Unproven("\\\\\\\"".repeat(MAX_LINE));
    longest.save(&path).expect("saved");
    let len = std::fs::metadata(&path).expect("meta").len();
    assert!(len < MAX_TRANSCRIPT_BYTES, "{len}");
    assert_eq!(TranscriptFile::read(&path).expect("loads"), longest);
}

/// Attacker's report, A: entries are checked as they are read, and the first that no game
/// records (a signed challenger's message, two executor entries in a row) is named.
#[test]
fn a_transcript_entry_no_game_records_is_refused_at_the_first() {
    use poie::protocol::challenge::BadTranscript;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.json");
    let (file, _) = convicting_transcript(&path);
    let mut signed = file.clone();
    signed.entries[2].sig = signed.entries[1].sig;
    signed.save(&path).expect("saved");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert!(
        matches!(e.bad(), Some(BadTranscript::BadEntry { entry: 2, .. })),
        "{e}"
    );
    let mut twice = file.clone();
    twice.entries[4] = twice.entries[3].clone();
    twice.entries[6] = twice.entries[3].clone();
    twice.save(&path).expect("saved");
    let e = TranscriptFile::read(&path).expect_err("refused");
    assert!(
        matches!(e.bad(), Some(BadTranscript::BadEntry { entry: 4, .. })),
        "{e}"
    );
}
