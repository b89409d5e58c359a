//! The golden roots, tests/data/golden-roots.json. The record and its loader are
//! `poie::proof::golden`, in the library so that the proof crate's unit tests share them with
//! the integration tests; here they are with what the integration tests do with them.

use poie::trace::{Chunk, VecSink};

/// One golden configuration and its root.
pub type Golden = poie::proof::golden::Golden;

/// The committed file.
pub const PATH: &str = poie::proof::golden::PATH;

/// Every golden configuration.
pub fn load() -> Vec<Golden> {
    poie::proof::golden::load()
}

/// The whole trace of the built-in `guest` run on `input`.
pub fn trace(guest: &str, input: &str) -> Vec<Chunk> {
    let g = poie::guests::find(guest).expect("guest");
    let mut sink = VecSink::default();
    poie::vm::Vm::new(g.elf, input.as_bytes().to_vec())
        .expect("loads")
        .run(&mut sink, u64::MAX)
        .expect("runs");
    sink.0
}
