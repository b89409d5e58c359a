//! The executor's side of the challenge game: any bytes a challenger sends are parsed and
//! answered or refused, never a panic; a node outside the tree is never answered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poie::proof::{HashId, Hasher, Layout, Params, Simd};
use poie::protocol::challenge::{Msg, Tree};
use std::sync::OnceLock;

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let params = Params {
            hash: HashId::Blake3,
            layout: Layout::new(3, true).expect("valid"),
        };
        let chunks = (0u8..100).map(|i| [i; 32]).collect();
        let h = Hasher::new(HashId::Blake3, [5; 32], Simd::detect()).expect("hasher");
        Tree::new(params, h, chunks)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = serde_json::from_slice::<Msg>(data) {
        if let Msg::Query { node } = m {
            if tree().check_node(node).is_err() {
                assert!(tree().respond(&m).is_err());
            }
        }
        let _ = tree().respond(&m);
    }
});
