//! Replays every file of `corpus/TARGET/` through its target, without
//! libFuzzer: the fuzz smoke test that needs only a stable toolchain.

use std::path::Path;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, run) in fleetcache_fuzz::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} holds no seed", dir.display());
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file reads");
            eprintln!("{}", file.display());
            run(&data);
        }
    }
}
