//! The bodies of the fuzz targets, one module per target: each `run` takes
//! arbitrary bytes and panics only on a bug (a decoder panicking, or a
//! property of the decoded value failing). The binaries in `fuzz_targets/`
//! hand them libFuzzer's inputs; `tests/corpus.rs` hands them every file of
//! `corpus/`, so the corpus is replayed by a plain `cargo test` too.

pub mod envelope;
pub mod rest_input;
pub mod roadmap;
pub mod ws_op;

/// Every target: its name (the `corpus/` directory and the cargo-fuzz
/// binary) and its body.
pub const TARGETS: [(&str, fn(&[u8])); 4] = [
    ("envelope", envelope::run),
    ("rest_input", rest_input::run),
    ("roadmap", roadmap::run),
    ("ws_op", ws_op::run),
];
