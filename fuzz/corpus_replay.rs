//! Reading the checked-in seed corpora, for the replay tests of `etf`,
//! `epmd-client` and `dist-proto` (each includes this file with
//! `#[path = "../../fuzz/corpus_replay.rs"] mod corpus_replay;`), so that
//! every seed runs through its fuzz target's property on stable Rust.
#![allow(dead_code)] // Each test crate uses a different part.

/// Every file of `fuzz/corpus/<target>/`, sorted, with its bytes.
pub(crate) fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.expect("corpus directory entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            (name.unwrap_or_default(), bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
}

/// Runs `property` on every seed of `target`, naming the seed that fails.
pub(crate) fn replay(target: &str, property: impl Fn(&[u8])) {
    for (name, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(&bytes)));
        if let Err(panic) = outcome {
            eprintln!("fuzz/corpus/{target}/{name} fails");
            std::panic::resume_unwind(panic);
        }
    }
}

/// The seeds of `target` captured from real OTP (named `otp25_*`, `otp28_*`, `otp29_*`).
pub(crate) fn real_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let seeds: Vec<_> = corpus(target)
        .into_iter()
        .filter(|(name, _)| name.starts_with("otp"))
        .collect();
    assert!(!seeds.is_empty(), "no OTP seeds for {target}");
    seeds
}
