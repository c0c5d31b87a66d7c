//! Local BEAM processes for tests: a private `epmd`, `erl` nodes on it, and
//! the child-process guard that reads their output and kills them on drop.
//!
//! Tests that talk to real nodes each start their own [`Epmd`] on a
//! [`free_port`] and give every node a [`unique_name`], so that test binaries
//! and the tests inside them run in parallel without seeing each other.
//! Every process started here is killed (SIGKILL) when its guard drops, also
//! when the test fails half-way.
//!
//! [`ErlProcess`], [`Epmd`] and [`ErlNode`] are asynchronous and must be used
//! inside a Tokio runtime; [`ChildGuard`] is the same guard for synchronous
//! tests.
//!
//! ```no_run
//! use interop_tests::local::{unique_name, Epmd, ErlNode};
//! use interop_tests::Otp;
//!
//! # async fn demo() -> Result<(), interop_tests::local::LocalError> {
//! let otp = Otp::v28();
//! let epmd = Epmd::start(&otp).await?;
//! let mut erl = ErlNode::builder(&otp, &unique_name("demo", &otp))
//!     .cookie("secret")
//!     .epmd_port(epmd.port())
//!     .eval("io:format(\"ready~n\").")
//!     .start()?;
//! erl.wait_for_line("ready").await?;
//! # Ok(())
//! # }
//! ```

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use cnode::{Node, NodeBuilder};
use epmd_client::{EpmdClient, EpmdServer, ServerError, ServerHandle};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use crate::Otp;

/// How long one step (a line of output, `epmd` answering) may take unless a
/// guard is given another limit.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(20);

/// What went wrong starting or watching a local process.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// No loopback port could be bound to find a free one.
    #[error("finding a free loopback port: {0}")]
    FreePort(#[source] std::io::Error),
    /// The host name could not be read.
    #[error("reading the host name from {path}: {source}")]
    HostName {
        /// The file read.
        path: &'static str,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The program could not be started.
    #[error("starting {what}: {source}")]
    Spawn {
        /// The process, as the caller labelled it.
        what: String,
        /// Why spawning failed.
        source: std::io::Error,
    },
    /// The process ended before printing the line waited for.
    #[error("{what} ended before printing {expected:?}")]
    Ended {
        /// The process.
        what: String,
        /// The line waited for (empty when any line would do).
        expected: String,
    },
    /// The process printed no matching line in time.
    #[error("{what} printed no line {expected:?} within {within:?}")]
    NoLine {
        /// The process.
        what: String,
        /// The line waited for (empty when any line would do).
        expected: String,
        /// How long it was given.
        within: Duration,
    },
    /// A started `epmd` did not answer `names` in time.
    #[error("epmd on port {port} did not answer within {within:?}")]
    EpmdSilent {
        /// Its port.
        port: u16,
        /// How long it was given.
        within: Duration,
    },
    /// A server exited before listening on every port it was given.
    #[error("{what} exited before listening, last on port {port}")]
    NoPort {
        /// The server.
        what: String,
        /// The last port tried.
        port: u16,
        /// How long each attempt was given.
        within: Duration,
    },
    /// A condition polled by [`wait_until`] stayed false.
    #[error("timed out after {within:?} waiting for {what}")]
    TimedOut {
        /// What was waited for.
        what: String,
        /// How long it was given.
        within: Duration,
    },
    /// The process has already been reaped, so it cannot be signalled.
    #[error("{what} is no longer running")]
    NotRunning {
        /// The process.
        what: String,
    },
    /// Sending a signal or killing the process failed.
    #[error("signalling {what} with {signal}: {detail}")]
    Signal {
        /// The process.
        what: String,
        /// The signal, e.g. `STOP` or `KILL`.
        signal: String,
        /// What `kill` reported.
        detail: String,
    },
}

/// A TCP port that was free a moment ago on every address, chosen below the
/// kernel's ephemeral range so that no outgoing connection and no listener
/// bound to port 0 (an `erl` node's, say) can take it in the meantime.
/// Concurrent callers, in this process or others, start from different
/// points so that they rarely try the same port; a caller that loses the
/// race anyway sees its server fail to listen and retries (as
/// [`Epmd::start`] does).
pub fn free_port() -> Result<u16, LocalError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = quiet_port_range();
    let span = u32::from(high - low);
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
    for _ in 0..64 {
        let step = NEXT.fetch_add(1, Ordering::Relaxed).wrapping_mul(7_919);
        let port = low + (seed.wrapping_add(step) % span) as u16;
        // Binding the wildcard address fails while any address holds the port.
        if TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok() {
            return Ok(port);
        }
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(LocalError::FreePort)
}

/// Ports the kernel never hands out by itself: from 20000 up to the start
/// of its ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`).
fn quiet_port_range() -> (u16, u16) {
    const LOW: u16 = 20_000;
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    if ephemeral_start > LOW + 1_000 {
        (LOW, ephemeral_start)
    } else {
        (1_024, LOW)
    }
}

/// How many ports a server start tries before giving up.
const PORT_ATTEMPTS: usize = 5;

/// A name no other call in this process and no other concurrent test
/// process returns: `{prefix}_{process id}_{counter}`.
pub fn unique_label(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

/// A node name no other test, test binary or OTP release uses:
/// `{prefix}_{release}_{process id}_{counter}`.
pub fn unique_name(prefix: &str, otp: &Otp) -> String {
    unique_label(&format!("{prefix}_{}", otp.release))
}

/// The host part `erl -sname` gives its node: the host name up to its first
/// dot.
pub fn short_host() -> Result<String, LocalError> {
    const PATH: &str = "/proc/sys/kernel/hostname";
    let name = std::fs::read_to_string(PATH)
        .map_err(|source| LocalError::HostName { path: PATH, source })?;
    Ok(name
        .trim()
        .split('.')
        .next()
        .unwrap_or("localhost")
        .to_owned())
}

/// Polls `check` every 50 ms until it returns true, for at most `timeout`;
/// `what` names the condition in the error.
pub fn wait_until(
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> bool,
) -> Result<(), LocalError> {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(LocalError::TimedOut {
                what: what.to_owned(),
                within: timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The start of a [`cnode::Node`] for tests: named `name`, with `cookie`,
/// listening on 127.0.0.1 and registering with the EPMD already running on
/// `epmd_port` (it does not start one). Add settings, then `start()`.
pub fn loopback_node(name: impl Into<String>, cookie: &str, epmd_port: u16) -> NodeBuilder {
    Node::builder(name)
        .cookie(cookie)
        .epmd_port(epmd_port)
        .start_epmd(false)
        .listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Our own EPMD server ([`EpmdServer`]) in this process, on 127.0.0.1 and
/// a port of the system's choosing, for tests that need no `erl`.
pub async fn in_process_epmd() -> Result<ServerHandle, ServerError> {
    Ok(EpmdServer::builder()
        .address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port(0)
        .bind()
        .await?
        .spawn())
}

/// Sends `signal` (a name such as `STOP` or `CONT`) to process `pid` with
/// the `kill` command.
fn send_signal(pid: u32, signal: &str, what: &str) -> Result<(), LocalError> {
    let failed = |detail: String| LocalError::Signal {
        what: what.to_owned(),
        signal: signal.to_owned(),
        detail,
    };
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .map_err(|err| failed(err.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(status.to_string()))
    }
}

/// A child process under Tokio, killed on drop, whose standard output is
/// read line by line (and echoed to stderr, prefixed with `out>`, so that a
/// failing test shows it). Stdin is closed; stderr is inherited.
#[derive(Debug)]
pub struct ErlProcess {
    child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
    what: String,
    wait: Duration,
}

impl ErlProcess {
    /// Starts `cmd`, naming it `what` in errors. Must be called inside a
    /// Tokio runtime.
    pub fn spawn(cmd: Command, what: impl Into<String>) -> Result<ErlProcess, LocalError> {
        let what = what.into();
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| LocalError::Spawn {
            what: what.clone(),
            source,
        })?;
        let (tx, lines) = mpsc::unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(async move {
                let mut reader = tokio::io::BufReader::new(stdout).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    eprintln!("out> {line}");
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(ErlProcess {
            child,
            lines,
            what,
            wait: DEFAULT_WAIT,
        })
    }

    /// Gives each later wait `wait` instead of [`DEFAULT_WAIT`].
    pub fn with_wait(mut self, wait: Duration) -> ErlProcess {
        self.wait = wait;
        self
    }

    /// The OS process id, while the process has not been reaped.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// The next line of output, trimmed.
    pub async fn next_line(&mut self) -> Result<String, LocalError> {
        match tokio::time::timeout(self.wait, self.lines.recv()).await {
            Ok(Some(line)) => Ok(line.trim().to_owned()),
            Ok(None) => Err(self.ended("")),
            Err(_) => Err(self.no_line("")),
        }
    }

    /// Skips output lines until one equals `expected` (ignoring surrounding
    /// whitespace).
    pub async fn wait_for_line(&mut self, expected: &str) -> Result<(), LocalError> {
        let lines = &mut self.lines;
        let found = tokio::time::timeout(self.wait, async {
            while let Some(line) = lines.recv().await {
                if line.trim() == expected {
                    return true;
                }
            }
            false
        })
        .await;
        match found {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.ended(expected)),
            Err(_) => Err(self.no_line(expected)),
        }
    }

    /// Whether the process has ended (and been reaped).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `signal` (a name such as `STOP` or `CONT`) to the process.
    pub fn signal(&self, signal: &str) -> Result<(), LocalError> {
        let pid = self.id().ok_or_else(|| LocalError::NotRunning {
            what: self.what.clone(),
        })?;
        send_signal(pid, signal, &self.what)
    }

    /// Kills the process (SIGKILL) and waits for it to end.
    pub async fn kill(&mut self) -> Result<(), LocalError> {
        self.child.kill().await.map_err(|err| LocalError::Signal {
            what: self.what.clone(),
            signal: "KILL".to_owned(),
            detail: err.to_string(),
        })
    }

    fn ended(&self, expected: &str) -> LocalError {
        LocalError::Ended {
            what: self.what.clone(),
            expected: expected.to_owned(),
        }
    }

    fn no_line(&self, expected: &str) -> LocalError {
        LocalError::NoLine {
            what: self.what.clone(),
            expected: expected.to_owned(),
            within: self.wait,
        }
    }
}

/// A real `epmd -port P` of the given release, on a free loopback port,
/// killed on drop.
#[derive(Debug)]
pub struct Epmd {
    process: ErlProcess,
    port: u16,
}

impl Epmd {
    /// Starts `epmd` and waits (up to [`DEFAULT_WAIT`]) until it answers a
    /// `names` request. Must be called inside a Tokio runtime.
    pub async fn start(otp: &Otp) -> Result<Epmd, LocalError> {
        let mut last_port = 0;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            last_port = port;
            let mut cmd = Command::new(otp.epmd());
            cmd.arg("-port").arg(port.to_string());
            let mut process = ErlProcess::spawn(cmd, format!("epmd -port {port}"))?;
            let client = EpmdClient::new("127.0.0.1", port);
            let start = Instant::now();
            loop {
                if client.names().await.is_ok() {
                    return Ok(Epmd { process, port });
                }
                // An epmd that lost its port to someone else exits at once.
                if process.has_exited() || start.elapsed() >= DEFAULT_WAIT {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Err(LocalError::EpmdSilent {
            port: last_port,
            within: DEFAULT_WAIT,
        })
    }

    /// The port it listens on, for `ERL_EPMD_PORT` or a node builder.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (SIGKILL) and waits for it to end.
    pub async fn kill(&mut self) -> Result<(), LocalError> {
        self.process.kill().await
    }
}

/// How to start one `erl` node: built by [`ErlNode::builder`], started with
/// [`ErlNodeBuilder::start`].
#[derive(Debug)]
pub struct ErlNode;

impl ErlNode {
    /// A node called `name` (`-sname name` unless [`ErlNodeBuilder::long_name`]),
    /// with `-noshell` and nothing else until configured.
    pub fn builder(otp: &Otp, name: &str) -> ErlNodeBuilder {
        ErlNodeBuilder {
            otp: otp.clone(),
            name: name.to_owned(),
            long: false,
            cookie: None,
            epmd_port: None,
            tick_time: None,
            eval: None,
            extra: Vec::new(),
        }
    }
}

/// The settings of an `erl` node; see [`ErlNode::builder`].
#[derive(Debug, Clone)]
pub struct ErlNodeBuilder {
    otp: Otp,
    name: String,
    long: bool,
    cookie: Option<String>,
    epmd_port: Option<u16>,
    tick_time: Option<Duration>,
    eval: Option<String>,
    extra: Vec<String>,
}

impl ErlNodeBuilder {
    /// Uses `-name` (long names) instead of `-sname`.
    pub fn long_name(mut self) -> Self {
        self.long = true;
        self
    }

    /// `-setcookie cookie`.
    pub fn cookie(mut self, cookie: &str) -> Self {
        self.cookie = Some(cookie.to_owned());
        self
    }

    /// Registers with the `epmd` on `port` (through `ERL_EPMD_PORT`).
    pub fn epmd_port(mut self, port: u16) -> Self {
        self.epmd_port = Some(port);
        self
    }

    /// `-kernel net_ticktime` in whole seconds.
    pub fn tick_time(mut self, tick_time: Duration) -> Self {
        self.tick_time = Some(tick_time);
        self
    }

    /// More arguments for `erl` (e.g. `-proto_dist inet_tls`), after the
    /// others and before `-eval`.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra.extend(args.iter().map(|arg| (*arg).to_owned()));
        self
    }

    /// `-eval expression`, run once the node is up.
    pub fn eval(mut self, expression: &str) -> Self {
        self.eval = Some(expression.to_owned());
        self
    }

    /// The command line: `erl -sname|-name NAME [-setcookie C] -noshell
    /// [-kernel net_ticktime T] [-eval E]`, with `ERL_EPMD_PORT` set if asked.
    pub fn command(&self) -> Command {
        let mut args: Vec<String> = vec![
            if self.long { "-name" } else { "-sname" }.to_owned(),
            self.name.clone(),
        ];
        if let Some(cookie) = &self.cookie {
            args.extend(["-setcookie".to_owned(), cookie.clone()]);
        }
        args.push("-noshell".to_owned());
        if let Some(tick) = self.tick_time {
            args.extend([
                "-kernel".to_owned(),
                "net_ticktime".to_owned(),
                tick.as_secs().to_string(),
            ]);
        }
        args.extend(self.extra.iter().cloned());
        if let Some(eval) = &self.eval {
            args.extend(["-eval".to_owned(), eval.clone()]);
        }
        let mut cmd = self.otp.erl_command(args);
        if let Some(port) = self.epmd_port {
            cmd.env("ERL_EPMD_PORT", port.to_string());
        }
        cmd
    }

    /// Starts the node under Tokio (see [`ErlProcess::spawn`]).
    pub fn start(&self) -> Result<ErlProcess, LocalError> {
        ErlProcess::spawn(self.command(), self.describe())
    }

    /// Starts the node without Tokio (see [`ChildGuard::spawn`]).
    pub fn start_blocking(&self) -> Result<ChildGuard, LocalError> {
        ChildGuard::spawn(self.command(), self.describe())
    }

    fn describe(&self) -> String {
        format!("OTP {} erl node {}", self.otp.release, self.name)
    }
}

/// A child process for synchronous tests, killed (SIGKILL) and reaped on
/// drop, whose standard output is read line by line on a thread (and echoed
/// to stderr, prefixed with `out>`). Stdin is closed; stderr is inherited.
#[derive(Debug)]
pub struct ChildGuard {
    child: std::process::Child,
    lines: std_mpsc::Receiver<String>,
    what: String,
    wait: Duration,
}

impl ChildGuard {
    /// Starts `cmd`, naming it `what` in errors.
    pub fn spawn(mut cmd: Command, what: impl Into<String>) -> Result<ChildGuard, LocalError> {
        let what = what.into();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| LocalError::Spawn {
                what: what.clone(),
                source,
            })?;
        let (tx, lines) = std_mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut bytes = Vec::new();
                while reader.read_until(b'\n', &mut bytes).is_ok_and(|n| n > 0) {
                    let line = String::from_utf8_lossy(&bytes).trim_end().to_owned();
                    bytes.clear();
                    eprintln!("out> {line}");
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(ChildGuard {
            child,
            lines,
            what,
            wait: DEFAULT_WAIT,
        })
    }

    /// Gives each later wait `wait` instead of [`DEFAULT_WAIT`].
    pub fn with_wait(mut self, wait: Duration) -> ChildGuard {
        self.wait = wait;
        self
    }

    /// The OS process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The next line of output, trimmed, waiting at most `timeout`.
    pub fn next_line_within(&mut self, timeout: Duration) -> Result<String, LocalError> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Ok(line.trim().to_owned()),
            Err(std_mpsc::RecvTimeoutError::Disconnected) => Err(self.ended("")),
            Err(std_mpsc::RecvTimeoutError::Timeout) => Err(LocalError::NoLine {
                what: self.what.clone(),
                expected: String::new(),
                within: timeout,
            }),
        }
    }

    /// Skips output lines until one equals `expected` (ignoring surrounding
    /// whitespace).
    pub fn wait_for_line(&mut self, expected: &str) -> Result<(), LocalError> {
        let deadline = Instant::now() + self.wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.trim() == expected => return Ok(()),
                Ok(_) => {}
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return Err(self.ended(expected)),
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    return Err(LocalError::NoLine {
                        what: self.what.clone(),
                        expected: expected.to_owned(),
                        within: self.wait,
                    })
                }
            }
        }
    }

    /// Sends `signal` (a name such as `TERM` or `STOP`) to the process.
    pub fn signal(&self, signal: &str) -> Result<(), LocalError> {
        send_signal(self.id(), signal, &self.what)
    }

    /// Kills the process (SIGKILL) and reaps it; killing it twice is harmless.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to end by itself, at most `timeout`; its exit
    /// status, or `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ended(&self, expected: &str) -> LocalError {
        LocalError::Ended {
            what: self.what.clone(),
            expected: expected.to_owned(),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a real `epmd -port P` on a free port for a synchronous test and
/// waits (up to [`DEFAULT_WAIT`]) until it answers a NAMES request; returns
/// its guard and port.
pub fn start_epmd_blocking(otp: &Otp) -> Result<(ChildGuard, u16), LocalError> {
    start_epmd_blocking_with(otp, &[])
}

/// [`start_epmd_blocking`] with more arguments after `-port P`, such as
/// `-relaxed_command_check`.
pub fn start_epmd_blocking_with(otp: &Otp, args: &[&str]) -> Result<(ChildGuard, u16), LocalError> {
    let command = |port: u16| {
        let mut cmd = Command::new(otp.epmd());
        cmd.arg("-port").arg(port.to_string()).args(args);
        cmd
    };
    start_server_probed("epmd", command, answers_names)
}

/// [`start_epmd_blocking`] with what epmd logs (its standard error) read as
/// its output lines, for tests that check what it logs.
pub fn start_epmd_blocking_logged(otp: &Otp) -> Result<(ChildGuard, u16), LocalError> {
    let epmd = otp.epmd();
    let command = |port: u16| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("exec \"$0\" -port \"$1\" 2>&1")
            .arg(&epmd)
            .arg(port.to_string());
        cmd
    };
    start_server_probed("epmd", command, answers_names)
}

/// Whether an EPMD on 127.0.0.1:`port` answers a NAMES request. A bare
/// connect would do to see it listen, but epmd logs every connection that
/// closes without a request.
fn answers_names(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = Vec::new();
    // NAMES_REQ (110), length-prefixed; the answer is our port number and
    // the names, then EPMD closes.
    stream.write_all(&[0, 1, 110]).is_ok()
        && stream.read_to_end(&mut answer).is_ok()
        && answer.len() >= 4
}

/// Starts the server that `command(port)` runs on a [`free_port`] and waits
/// (up to [`DEFAULT_WAIT`]) until it accepts TCP connections on
/// 127.0.0.1; returns its guard (named `what` plus the port) and port. A
/// server that exits before listening (its port was taken between the
/// choice and its bind) is started again on another port, up to five
/// times.
pub fn start_server_blocking(
    what: &str,
    command: impl FnMut(u16) -> Command,
) -> Result<(ChildGuard, u16), LocalError> {
    let accepts = |port| std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok();
    start_server_probed(what, command, accepts)
}

/// [`start_server_blocking`] with `ready(port)` telling when the server
/// serves.
fn start_server_probed(
    what: &str,
    mut command: impl FnMut(u16) -> Command,
    ready: impl Fn(u16) -> bool,
) -> Result<(ChildGuard, u16), LocalError> {
    let mut last_port = 0;
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port()?;
        last_port = port;
        let mut guard = ChildGuard::spawn(command(port), format!("{what} on port {port}"))?;
        let start = Instant::now();
        loop {
            if ready(port) {
                return Ok((guard, port));
            }
            // A server that lost its port to someone else exits at once.
            if guard.wait_exit(Duration::ZERO).is_some() {
                break;
            }
            if start.elapsed() >= DEFAULT_WAIT {
                return Err(LocalError::TimedOut {
                    what: format!("{what} to listen on 127.0.0.1:{port}"),
                    within: DEFAULT_WAIT,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err(LocalError::NoPort {
        what: what.to_owned(),
        port: last_port,
        within: DEFAULT_WAIT,
    })
}

/// A directory under the system temp dir (so that every release of the
/// matrix sees it), named after a label, this process and the clock, and
/// removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// Makes a fresh directory labelled `label`.
    pub fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!("{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create the temporary directory");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Declares one test per OTP release of the matrix for each function named,
/// in modules `otp25`, `otp27`, `otp28` and `otp29`, so that the releases
/// run in parallel. Each function takes the [`Otp`] to test. With a leading
/// `async` the functions are `async` and run as multi-threaded Tokio tests
/// (two workers; the calling crate needs `tokio`); without it they are
/// plain `#[test]`s.
///
/// ```text
/// interop_tests::per_release!(async pings_both_ways, rpc_calls);
/// async fn pings_both_ways(otp: interop_tests::Otp) { /* … */ }
/// ```
#[macro_export]
macro_rules! per_release {
    (async $($name:ident),* $(,)?) => {
        $crate::per_release!(@async otp25 v25: $($name),*);
        $crate::per_release!(@async otp27 v27: $($name),*);
        $crate::per_release!(@async otp28 v28: $($name),*);
        $crate::per_release!(@async otp29 v29: $($name),*);
    };
    (@async $module:ident $release:ident: $($name:ident),*) => {
        mod $module {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Otp::$release()).await }) *
        }
    };
    (@sync $module:ident $release:ident: $($name:ident),*) => {
        mod $module {
            $(#[test]
            fn $name() { super::$name($crate::Otp::$release()) }) *
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::per_release!(@sync otp25 v25: $($name),*);
        $crate::per_release!(@sync otp27 v27: $($name),*);
        $crate::per_release!(@sync otp28 v28: $($name),*);
        $crate::per_release!(@sync otp29 v29: $($name),*);
    };
}

/// [`per_release!`] for the releases with OTP's `ssl` application
/// (Debian's 25, 27 and 29; the OTP 28 wheel has none): async tests in
/// modules `ssl_otp25`, `ssl_otp27` and `ssl_otp29`, so that a file can
/// declare these beside the tests of every release.
#[macro_export]
macro_rules! per_release_with_ssl {
    ($($name:ident),* $(,)?) => {
        $crate::per_release!(@async ssl_otp25 v25: $($name),*);
        $crate::per_release!(@async ssl_otp27 v27: $($name),*);
        $crate::per_release!(@async ssl_otp29 v29: $($name),*);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn erl_command_line_has_the_settings_in_erl_order() {
        let otp = Otp::v25();
        let cmd = ErlNode::builder(&otp, "n1")
            .cookie("c")
            .epmd_port(4370)
            .tick_time(Duration::from_secs(4))
            .eval("halt().")
            .command();
        assert_eq!(cmd.get_program(), otp.erl().as_os_str());
        assert_eq!(
            args(&cmd),
            [
                "-sname",
                "n1",
                "-setcookie",
                "c",
                "-noshell",
                "-kernel",
                "net_ticktime",
                "4",
                "-eval",
                "halt()."
            ]
        );
        let port = cmd
            .get_envs()
            .find(|(key, _)| *key == "ERL_EPMD_PORT")
            .and_then(|(_, value)| value);
        assert_eq!(port, Some(std::ffi::OsStr::new("4370")));

        let long = ErlNode::builder(&otp, "n2@127.0.0.1").long_name().command();
        assert_eq!(args(&long), ["-name", "n2@127.0.0.1", "-noshell"]);
        assert!(long.get_envs().all(|(key, _)| key != "ERL_EPMD_PORT"));
    }

    #[test]
    fn unique_names_differ_and_carry_the_release() {
        let otp = Otp::v28();
        let a = unique_name("x", &otp);
        let b = unique_name("x", &otp);
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("x_28_{}_", std::process::id())));
    }

    fn shell(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    #[test]
    fn child_guard_finds_a_line_and_reports_an_early_exit() {
        let mut child = ChildGuard::spawn(shell("echo noise; echo ' ready '"), "sh")
            .expect("sh starts")
            .with_wait(Duration::from_secs(10));
        child.wait_for_line("ready").expect("the ready line");
        let err = child.wait_for_line("never").expect_err("sh has ended");
        assert!(matches!(err, LocalError::Ended { ref expected, .. } if expected == "never"));
    }

    #[test]
    fn child_guard_gives_up_on_a_silent_process_and_kills_it_on_drop() {
        let mut child = ChildGuard::spawn(shell("exec sleep 30"), "sleep")
            .expect("sleep starts")
            .with_wait(Duration::from_millis(200));
        let started = Instant::now();
        let err = child.wait_for_line("anything").expect_err("silent");
        assert!(matches!(err, LocalError::NoLine { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = child.id();
        drop(child);
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .status()
            .expect("kill -0 runs");
        assert!(!alive.success(), "process {pid} outlived its guard");
    }

    #[tokio::test]
    async fn erl_process_reads_lines_and_is_killed() {
        let mut child = ErlProcess::spawn(shell("echo one; echo two; exec sleep 30"), "sh")
            .expect("sh starts")
            .with_wait(Duration::from_secs(10));
        assert_eq!(child.next_line().await.expect("a line"), "one");
        child.wait_for_line("two").await.expect("two");
        child.kill().await.expect("killed");
        assert!(child.id().is_none());
        assert!(matches!(
            child.signal("STOP"),
            Err(LocalError::NotRunning { .. })
        ));
    }

    #[test]
    fn wait_until_reports_what_it_waited_for() {
        let mut calls = 0;
        wait_until(Duration::from_secs(5), "the third call", || {
            calls += 1;
            calls == 3
        })
        .expect("true on the third call");
        let err = wait_until(Duration::from_millis(100), "never", || false).expect_err("times out");
        assert_eq!(err.to_string(), "timed out after 100ms waiting for never");
    }
}
