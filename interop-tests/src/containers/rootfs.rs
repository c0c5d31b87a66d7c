//! The root filesystem of an OTP image, assembled from this host: the OTP
//! tree at its own path, the shared libraries `ldd` lists for every ELF file
//! in it, a POSIX shell and the few tools the `erl` script calls, and the
//! network tools the impairment scenarios use (`tc`, `ip`, `iptables`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use md5::{Digest, Md5};

use super::ContainerError;
use crate::Otp;

/// Bumped whenever the layout below changes, so that old images are not reused.
const LAYOUT_VERSION: &str = "cnode-rootfs-1";

/// Programs the `erl` script and the harness need; the image fails to build
/// without them.
const REQUIRED_TOOLS: [(&str, &str); 3] = [
    ("sh", "/bin/sh"),
    ("dirname", "/usr/bin/dirname"),
    ("basename", "/usr/bin/basename"),
];

/// Network tools for the impairment scenarios, taken when the host has them.
/// `iptables` is the multi-call binary under the name it dispatches on.
const NETWORK_TOOLS: [(&str, &str); 3] = [
    ("tc", "/usr/sbin/tc"),
    ("ip", "/usr/sbin/ip"),
    ("xtables-nft-multi", "/usr/sbin/iptables"),
];

/// Directories of plugins loaded with `dlopen` (so `ldd` does not list them),
/// relative to the directory holding `libc.so.6`.
const PLUGIN_DIRS: [&str; 2] = ["xtables", "tc"];

/// How a host file goes into the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placement {
    /// As it is: a symlink stays a symlink (inside the OTP tree).
    AsIs,
    /// The file a symlink points to, under the symlink's name (libraries and
    /// tools, whose host symlinks may cross a merged `/usr`).
    Dereferenced,
}

/// The files of one image, keyed by their path inside the image.
#[derive(Debug, Default)]
pub(crate) struct RootFs {
    entries: BTreeMap<PathBuf, (PathBuf, Placement)>,
}

impl RootFs {
    /// Everything `otp` needs to run, with the tools above. A release that
    /// runs in a Debian root of its own (see [`Otp::debian_root`]) is that
    /// root as it is, `erl` at `/usr/bin/erl`.
    pub(crate) fn for_otp(otp: &Otp) -> Result<RootFs, ContainerError> {
        if let Some(root) = otp.debian_root() {
            let mut rootfs = RootFs::default();
            rootfs.add_tree_at(&root, Path::new("/"), &mut Vec::new())?;
            // The engine provides these file systems; keep only the mount points.
            rootfs.entries.retain(|path, _| {
                ["/dev", "/proc", "/sys"]
                    .iter()
                    .all(|mount| path == Path::new(mount) || !path.starts_with(mount))
            });
            return Ok(rootfs);
        }
        let mut rootfs = RootFs::default();
        let mut elf_files = Vec::new();
        rootfs.add_tree(&otp.root, &mut elf_files)?;
        for (tool, image_path) in REQUIRED_TOOLS {
            let host = find_tool(tool).ok_or_else(|| ContainerError::MissingTool {
                tool: tool.to_owned(),
            })?;
            rootfs.add_file(&host, Path::new(image_path));
            elf_files.push(host);
        }
        for (tool, image_path) in NETWORK_TOOLS {
            if let Some(host) = find_tool(tool) {
                rootfs.add_file(&host, Path::new(image_path));
                elf_files.push(host);
            }
        }
        let mut libraries = Vec::new();
        for file in &elf_files {
            libraries.extend(shared_libraries(file)?);
        }
        if let Some(libdir) = libraries
            .iter()
            .find(|lib| lib.file_name().is_some_and(|name| name == "libc.so.6"))
            .and_then(|libc| libc.parent())
            // The plugins' compiled-in directory is under `/usr/lib`, which
            // `/lib` may only point to on the host.
            .and_then(|dir| std::fs::canonicalize(dir).ok())
        {
            for plugin_dir in PLUGIN_DIRS.map(|dir| libdir.join(dir)) {
                if plugin_dir.is_dir() {
                    let mut plugins = Vec::new();
                    rootfs.add_tree(&plugin_dir, &mut plugins)?;
                    for plugin in &plugins {
                        libraries.extend(shared_libraries(plugin)?);
                    }
                }
            }
        }
        for library in libraries {
            rootfs.add_file(&library, &library);
        }
        Ok(rootfs)
    }

    fn add_file(&mut self, host: &Path, image: &Path) {
        self.entries.insert(
            image.to_path_buf(),
            (host.to_path_buf(), Placement::Dereferenced),
        );
    }

    /// Adds `dir` and everything under it at the same paths, and collects the
    /// ELF files found.
    fn add_tree(&mut self, dir: &Path, elf_files: &mut Vec<PathBuf>) -> Result<(), ContainerError> {
        self.add_tree_at(dir, dir, elf_files)
    }

    /// Adds `dir` and everything under it at `image_dir` in the image, and
    /// collects the ELF files found.
    fn add_tree_at(
        &mut self,
        dir: &Path,
        image_dir: &Path,
        elf_files: &mut Vec<PathBuf>,
    ) -> Result<(), ContainerError> {
        let read_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ContainerError::Rootfs { path, source }
        };
        let mut pending = vec![dir.to_path_buf()];
        while let Some(path) = pending.pop() {
            let meta = std::fs::symlink_metadata(&path).map_err(read_error(&path))?;
            let image_path = match path.strip_prefix(dir) {
                Ok(relative) if relative.as_os_str().is_empty() => image_dir.to_path_buf(),
                Ok(relative) => image_dir.join(relative),
                Err(_) => path.clone(),
            };
            if image_path != Path::new("/") {
                self.entries
                    .insert(image_path, (path.clone(), Placement::AsIs));
            }
            if meta.is_dir() {
                for entry in std::fs::read_dir(&path).map_err(read_error(&path))? {
                    pending.push(entry.map_err(read_error(&path))?.path());
                }
            } else if meta.is_file() && is_elf(&path).map_err(read_error(&path))? {
                elf_files.push(path);
            }
        }
        Ok(())
    }

    /// A digest of every input's path, kind, size, mode and modification
    /// time: an image tagged with it is rebuilt exactly when an input changed.
    pub(crate) fn fingerprint(&self) -> Result<String, ContainerError> {
        let mut hasher = Md5::new();
        hasher.update(LAYOUT_VERSION);
        for (image, (host, copy)) in &self.entries {
            let meta = match copy {
                Placement::AsIs => std::fs::symlink_metadata(host),
                Placement::Dereferenced => std::fs::metadata(host),
            }
            .map_err(|source| ContainerError::Rootfs {
                path: host.clone(),
                source,
            })?;
            hasher.update(image.as_os_str().as_encoded_bytes());
            hasher.update([0]);
            hasher.update(host.as_os_str().as_encoded_bytes());
            for n in [
                meta.size(),
                u64::from(meta.mode()),
                meta.mtime() as u64,
                meta.mtime_nsec() as u64,
            ] {
                hasher.update(n.to_le_bytes());
            }
        }
        Ok(hasher
            .finalize()
            .iter()
            .take(8)
            .map(|byte| format!("{byte:02x}"))
            .collect())
    }

    /// Writes the root filesystem as a tar stream (what `docker import` reads).
    pub(crate) fn write_tar(&self, out: &mut dyn Write) -> Result<(), ContainerError> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        let tar_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ContainerError::Rootfs { path, source }
        };
        if !self.entries.contains_key(Path::new("/tmp")) {
            let mut tmp = tar::Header::new_gnu();
            tmp.set_entry_type(tar::EntryType::Directory);
            tmp.set_mode(0o1777);
            tmp.set_size(0);
            tar.append_data(&mut tmp, "tmp", std::io::empty())
                .map_err(tar_error(Path::new("/tmp")))?;
        }
        for (image, (host, copy)) in &self.entries {
            let name = image.strip_prefix("/").unwrap_or(image);
            match copy {
                Placement::AsIs => tar.append_path_with_name(host, name),
                Placement::Dereferenced => {
                    File::open(host).and_then(|mut file| tar.append_file(name, &mut file))
                }
            }
            .map_err(tar_error(host))?;
        }
        tar.finish().map_err(tar_error(Path::new("<tar stream>")))
    }
}

fn is_elf(path: &Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path)?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(&magic == b"\x7fELF"),
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(err) => Err(err),
    }
}

/// Where `tool` lives on this host, looking in the system directories.
fn find_tool(tool: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(tool))
        .find(|path| path.is_file())
}

/// The shared libraries (and the dynamic loader) `ldd` lists for `file`;
/// none for a static executable.
fn shared_libraries(file: &Path) -> Result<Vec<PathBuf>, ContainerError> {
    let output = Command::new("ldd")
        .arg(file)
        .output()
        .map_err(|err| ContainerError::Ldd {
            path: file.to_path_buf(),
            reason: err.to_string(),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // `ldd` fails on static executables and on scripts; neither needs libraries.
        return Ok(Vec::new());
    }
    let mut libraries = Vec::new();
    for line in stdout.lines() {
        // A library the host lacks ("=> not found") belongs to an optional
        // application that fails the same way on the host: leave it out.
        let path = match line.split_once("=>") {
            Some((_, resolved)) => resolved.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(path) = path.filter(|path| path.starts_with('/')) {
            libraries.push(without_dot_dot(Path::new(path)));
        }
    }
    Ok(libraries)
}

/// `path` with `.` and `..` resolved lexically, as the dynamic loader
/// resolves an `$ORIGIN/../..` run path (`ldd` prints such paths as is).
fn without_dot_dot(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_paths_from_ldd_are_resolved_lexically() {
        assert_eq!(
            without_dot_dot(Path::new(
                "/opt/otp/erts-16.4/bin/../../../libs/./libtinfo.so.6"
            )),
            Path::new("/opt/libs/libtinfo.so.6")
        );
    }

    #[test]
    fn the_otp_25_rootfs_has_the_tree_the_loader_and_a_shell() {
        let rootfs = RootFs::for_otp(&Otp::v25()).expect("rootfs");
        let otp = Otp::v25();
        for needed in [
            otp.erl(),
            PathBuf::from("/bin/sh"),
            PathBuf::from("/usr/bin/dirname"),
        ] {
            assert!(
                rootfs.entries.contains_key(&needed),
                "{} missing",
                needed.display()
            );
        }
        assert!(
            rootfs
                .entries
                .keys()
                .any(|path| path.ends_with("libc.so.6")),
            "no C library"
        );
        assert!(rootfs.entries.keys().all(|path| path.is_absolute()
            && !path
                .components()
                .any(|c| c == std::path::Component::ParentDir)));
        assert_eq!(
            rootfs.fingerprint().ok(),
            rootfs.fingerprint().ok(),
            "stable fingerprint"
        );
    }
}
