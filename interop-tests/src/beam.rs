//! Compiling the Erlang side of the oracle.
//!
//! The module is compiled once per compiler (see [`Otp::compiler`]: OTP 28
//! borrows OTP 25's) into a directory under the system temp dir named after
//! the compiling release and a hash of the source. Later runs and concurrent
//! test binaries reuse it; a changed source gets a new directory.

use crate::oracle::OracleError;
use crate::Otp;
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;

/// The oracle's Erlang source, built into the test harness.
const SOURCE: &str = include_str!("../erl/etf_oracle.erl");

/// The module's name, and so the stem of its source and object files.
const MODULE: &str = "etf_oracle";

/// The directory holding an `etf_oracle.beam` that `otp` loads, compiling
/// it on first use.
pub(crate) fn oracle_dir(otp: &Otp) -> Result<PathBuf, OracleError> {
    static DIRS: Mutex<BTreeMap<u32, Result<PathBuf, String>>> = Mutex::new(BTreeMap::new());
    let compiler = otp.compiler();
    let mut dirs = DIRS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    dirs.entry(compiler.release)
        .or_insert_with(|| compile(&compiler))
        .clone()
        .map_err(|detail| OracleError::Compile {
            erlc: compiler.erlc(),
            detail,
        })
}

fn compile(otp: &Otp) -> Result<PathBuf, String> {
    let mut hasher = DefaultHasher::new();
    SOURCE.hash(&mut hasher);
    let final_dir = std::env::temp_dir().join(format!(
        "cnode-etf-oracle-otp{}-{:016x}",
        otp.release,
        hasher.finish()
    ));
    let beam = format!("{MODULE}.beam");
    if final_dir.join(&beam).is_file() {
        return Ok(final_dir);
    }
    // Compile into a private directory, then rename it into place, so that a
    // concurrent reader never sees a half-written .beam.
    let staging = std::env::temp_dir().join(format!(
        "cnode-etf-oracle-staging-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|err| format!("creating {}: {err}", staging.display()))?;
    let source = staging.join(format!("{MODULE}.erl"));
    std::fs::write(&source, SOURCE)
        .map_err(|err| format!("writing {}: {err}", source.display()))?;
    let output = std::process::Command::new(otp.erlc())
        .arg("-o")
        .arg(&staging)
        .arg(&source)
        .output()
        .map_err(|err| err.to_string())?;
    if !output.status.success() || !staging.join(&beam).is_file() {
        return Err(format!(
            "{}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if std::fs::rename(&staging, &final_dir).is_err() {
        // Another process won the race; its copy is identical.
        let _ = std::fs::remove_dir_all(&staging);
    }
    if final_dir.join(&beam).is_file() {
        Ok(final_dir)
    } else {
        Err(format!(
            "{} did not appear",
            final_dir.join(&beam).display()
        ))
    }
}
