//! A thin, typed front for the `docker` command-line client.
//!
//! The harness talks to the engine through its CLI rather than the HTTP API:
//! the engine here (20.10, API 1.41) and the client ship together, the CLI
//! needs no registry and no extra crates, and every call the tests make is
//! a single short command whose failure text is worth showing as is.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Once;

use super::ContainerError;

/// The label every container and network of this harness carries; its value
/// is the pid of the test process that created them.
pub const OWNER_LABEL: &str = "org.cnode.interop.owner";

/// The label naming the network (the "lab") a container belongs to, so that
/// removing a network removes its containers first.
pub(crate) const LAB_LABEL: &str = "org.cnode.interop.lab";

/// The `docker` client. Cheap to clone; every method runs one command.
#[derive(Clone, Debug)]
pub struct Docker {
    program: std::path::PathBuf,
}

impl Default for Docker {
    fn default() -> Docker {
        Docker::new()
    }
}

impl Docker {
    /// The client named by `DOCKER` or `docker` on `PATH`. The first client
    /// made in a process also removes what crashed earlier runs left behind
    /// ([`Docker::remove_leftovers`]).
    pub fn new() -> Docker {
        static SWEEP: Once = Once::new();
        let docker = Docker {
            program: std::env::var_os("DOCKER")
                .map(Into::into)
                .unwrap_or_else(|| "docker".into()),
        };
        // Inside a lab's container the pids of the host are not visible:
        // sweeping from there would take live tests' containers for leftovers.
        if !super::lab::inside() {
            SWEEP.call_once(|| docker.remove_leftovers());
        }
        docker
    }

    /// Runs `docker args…` and returns its stdout, trimmed.
    pub fn run<I, S>(&self, args: I) -> Result<String, ContainerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.execute(args, |_| Ok(())).map(|(stdout, _)| stdout)
    }

    /// Runs `docker args…` and returns its stdout and stderr one after the
    /// other (what `docker logs` gives back of a container's two streams).
    pub fn run_both<I, S>(&self, args: I) -> Result<String, ContainerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.execute(args, |_| Ok(()))
            .map(|(stdout, stderr)| format!("{stdout}\n{stderr}").trim().to_owned())
    }

    /// Runs `docker args…` and returns its exit status and both streams,
    /// whether it succeeded or not (for commands expected to fail).
    pub fn output<I, S>(&self, args: I) -> Result<std::process::Output, ContainerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| ContainerError::Spawn {
                args: args
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                source,
            })
    }

    /// Runs `docker args…` with `feed` writing its stdin, and returns its
    /// stdout, trimmed.
    pub(crate) fn run_with_stdin<I, S, F>(&self, args: I, feed: F) -> Result<String, ContainerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
        F: FnOnce(&mut dyn Write) -> Result<(), ContainerError>,
    {
        self.execute(args, feed).map(|(stdout, _)| stdout)
    }

    fn execute<I, S, F>(&self, args: I, feed: F) -> Result<(String, String), ContainerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
        F: FnOnce(&mut dyn Write) -> Result<(), ContainerError>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let shown = args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let spawn_error = |source| ContainerError::Spawn {
            args: shown.clone(),
            source,
        };
        let mut child = Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let fed = match child.stdin.take() {
            Some(mut stdin) => feed(&mut stdin),
            None => Ok(()),
        };
        let output = child.wait_with_output().map_err(spawn_error)?;
        fed?;
        if !output.status.success() {
            return Err(ContainerError::Docker {
                args: shown,
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok((
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }

    /// The client's executable, looked up on `PATH` (to mount it into a
    /// container that drives the engine too).
    pub(crate) fn executable(&self) -> Option<std::path::PathBuf> {
        if self.program.components().count() > 1 {
            return Some(self.program.clone());
        }
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(&self.program))
            .find(|path| path.is_file())
    }

    /// Whether `docker image inspect tag` finds the image locally.
    pub fn has_image(&self, tag: &str) -> bool {
        self.run(["image", "inspect", "--format", "{{.Id}}", tag])
            .is_ok()
    }

    /// Removes the containers and networks of this harness whose owning
    /// test process is gone (a run that crashed or was killed before its
    /// guards ran). Those of live processes, such as tests running in
    /// parallel, are left alone. Failures are ignored: this is hygiene.
    pub fn remove_leftovers(&self) {
        let filter = format!("label={OWNER_LABEL}");
        let format = format!("{{{{.ID}}}} {{{{.Label \"{OWNER_LABEL}\"}}}}");
        let stale = |listing: Result<String, ContainerError>| -> Vec<String> {
            listing
                .unwrap_or_default()
                .lines()
                .filter_map(|line| {
                    let (id, owner) = line.split_once(' ')?;
                    (!owner_alive(owner)).then(|| id.to_owned())
                })
                .collect()
        };
        let containers = stale(self.run(["ps", "-a", "--filter", &filter, "--format", &format]));
        if !containers.is_empty() {
            let _ = self.run(
                ["rm", "-f", "-v"]
                    .into_iter()
                    .map(String::from)
                    .chain(containers),
            );
        }
        let networks = stale(self.run(["network", "ls", "--filter", &filter, "--format", &format]));
        if !networks.is_empty() {
            let _ = self.run(
                ["network", "rm"]
                    .into_iter()
                    .map(String::from)
                    .chain(networks),
            );
        }
    }
}

/// This process's value for [`OWNER_LABEL`]: its pid, or inside a lab's
/// container the pid of the test process on the host that started it.
pub(crate) fn owner() -> String {
    std::env::var(super::lab::env::OWNER).unwrap_or_else(|_| std::process::id().to_string())
}

fn owner_alive(owner: &str) -> bool {
    match owner.parse::<u32>() {
        Ok(pid) => std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => false,
    }
}
