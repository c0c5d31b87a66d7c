//! The messaging benchmark: BEAM->BEAM, BEAM->Rust and Rust->BEAM side by
//! side in one run, plus the C `ei` library and the `erl_dist` crate as
//! peers, on loopback.
//!
//! ```text
//! bench_messaging [--otp 25|27|28|29] [--tls] [--quick] [--runs N] [--only PATH]
//!                  [--atoms N] [--small N] [--pings N]
//! ```
//!
//! `--tls` runs every node, the two `erl`s and ours, with TLS
//! distribution (`-proto_dist inet_tls`, mutual TLS from one generated CA
//! and optfile), so that all three paths are measured over TLS; the `ei`
//! and `erl_dist` rows, which speak only TCP, are left out. It defaults to
//! OTP 29, the newest release with `ssl` (28's wheel has none).
//!
//! `--small` and `--pings` set how many one-way messages and round trips
//! each run makes (after `--quick`, which sets them all low), to stretch
//! one measurement out for a profiler.
//!
//! `--atoms N` makes the small message a tuple of N atoms instead of
//! `{msg, 1}`.
//!
//! `--only` keeps the rows whose path contains PATH (`"BEAM -> Rust"`,
//! `ei`, ...), for profiling one path.
//!
//! It starts its own `epmd` on a free port, two `erl` nodes (`a`, the BEAM
//! client, and `b`, the BEAM server, both running `bench_msg.erl` compiled
//! with OTP 25's `erlc`) and our node, which serves the same `sink` and
//! `echo` processes as `b`. The BEAM client is driven by rpc from our node
//! over a connection of its own, so it never shares the measured link.
//!
//! - one-way: a single sender sends N messages and then `{done, Self}`; the
//!   time runs until the sink's `{sunk, N}` comes back (all were received);
//! - ping-pong: sequential round trips to `echo`, p50 and p99;
//! - set-up: connect (EPMD lookup + handshake) and disconnect, N times.
//!
//! Every measurement takes turns, round by round, between the paths (the
//! one-way and ping-pong runs with ei as well), and the median of each
//! path's per-round ratios to BEAM -> BEAM of (a) and (c) (and of Rust ->
//! BEAM's to ei) is printed under the table.
//!
//! `scripts/bench-messaging.sh` runs it; results go to BENCHMARKS.md.
#![forbid(unsafe_code)]

mod erl_dist_peer;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cnode::{Node, Process, TlsConfig};
use etf::Term;
use interop_tests::local::{short_host, start_epmd_blocking};
use interop_tests::tls::TlsFiles;
use interop_tests::Otp;

const COOKIE: &str = "bench_messaging_cookie";
const SOURCE: &str = include_str!("bench_msg.erl");
const EI_SOURCE: &str = include_str!("bench_ei.c");
const WAIT: Duration = Duration::from_secs(180);
/// The row of the C `ei` peer.
const EI_PATH: &str = "ei (C) -> BEAM";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How much work each measurement does.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    small: u64,
    big: u64,
    pings: u64,
    connects: u64,
    /// Runs of each measurement; the best one is reported (the machine is
    /// shared, so the best run is the one least disturbed).
    runs: u32,
    /// The small message is a tuple of this many atoms instead of
    /// `{msg, 1}`, when not 0 (what the atom cache is for).
    atoms: usize,
}

/// Which rows to run: those whose path contains the text, or all.
#[derive(Clone, Debug, Default)]
struct Only(Option<String>);

impl Only {
    fn wants(&self, path: &str) -> bool {
        self.0.as_deref().is_none_or(|only| path.contains(only))
    }
}

/// The count an option takes.
fn count(arg: Option<String>, option: &str) -> Result<usize, Error> {
    arg.and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{option} takes a count").into())
}

/// An OS process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> Result<(), Error> {
    let mut otp = None;
    let mut tls = false;
    let mut sizes = Sizes {
        small: 200_000,
        big: 300,
        pings: 10_000,
        connects: 200,
        runs: 3,
        atoms: 0,
    };
    let mut only = Only::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--otp" => {
                let release = args.next();
                otp = Some(
                    release
                        .as_deref()
                        .and_then(|r| r.parse().ok())
                        .and_then(Otp::release)
                        .ok_or_else(|| format!("--otp 25|27|28|29, not {release:?}"))?,
                );
            }
            "--tls" => tls = true,
            "--quick" => {
                sizes = Sizes {
                    small: 20_000,
                    big: 30,
                    pings: 1_000,
                    connects: 20,
                    runs: 1,
                    atoms: sizes.atoms,
                }
            }
            "--runs" => {
                sizes.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs takes a positive count")?;
            }
            "--only" => only = Only(Some(args.next().ok_or("--only takes a path")?)),
            "--atoms" => sizes.atoms = count(args.next(), "--atoms")?,
            "--small" => sizes.small = count(args.next(), "--small")?.max(1) as u64,
            "--pings" => sizes.pings = count(args.next(), "--pings")?.max(1) as u64,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if let Ok(n) = std::env::var("BENCH_SMALL") {
        sizes.small = n.parse()?;
    }
    if let Ok(n) = std::env::var("BENCH_PINGS") {
        sizes.pings = n.parse()?;
    }
    let runtime = if std::env::var("BENCH_RT").as_deref() == Ok("current") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
    };
    // On a worker thread, as a service's processes are: the future that
    // `block_on` runs lives on the main thread, and every message to it
    // would cross threads (a futex wake per round trip).
    // Over TLS, the newest release with `ssl` (the OTP 28 wheel has none):
    // the BEAM's TLS distribution at its best is the row to match.
    let otp = otp.unwrap_or_else(|| if tls { Otp::v29() } else { Otp::v28() });
    runtime.block_on(async { tokio::spawn(run(otp, tls, sizes, only)).await? })
}

/// Compiles `bench_msg.erl` (OTP 25's `erlc`) and `bench_ei.c` (`gcc`
/// against OTP 25's `erl_interface`) into a fresh directory.
fn build(dir: &Path) -> Result<Option<PathBuf>, Error> {
    std::fs::create_dir_all(dir)?;
    let erl = dir.join("bench_msg.erl");
    std::fs::write(&erl, SOURCE)?;
    let status = Command::new(Otp::v25().erlc())
        .arg("-o")
        .arg(dir)
        .arg(&erl)
        .status()?;
    if !status.success() {
        return Err(format!("erlc {}: {status}", erl.display()).into());
    }
    let ei_root = std::fs::read_dir(Otp::v25().root.join("lib"))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("erl_interface-"))
        });
    let Some(ei_root) = ei_root.filter(|p| p.join("lib/libei.a").is_file()) else {
        eprintln!("no erl_interface with libei.a: the ei rows are skipped");
        return Ok(None);
    };
    let c = dir.join("bench_ei.c");
    std::fs::write(&c, EI_SOURCE)?;
    let exe = dir.join("bench_ei");
    let status = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&c)
        .arg(format!("-I{}", ei_root.join("include").display()))
        .arg(format!("-L{}", ei_root.join("lib").display()))
        .args(["-lei", "-lpthread"])
        .status()?;
    if !status.success() {
        return Err(format!("gcc {}: {status}", c.display()).into());
    }
    Ok(Some(exe))
}

/// How the benchmark's `erl` nodes are started: the release, the EPMD,
/// the directory of `bench_msg.beam`, and with `--tls` the optfile every
/// node's TLS distribution reads.
struct Erls {
    otp: Otp,
    epmd: u16,
    dir: PathBuf,
    optfile: Option<PathBuf>,
}

impl Erls {
    fn command(&self, name: &str, eval: &str) -> Command {
        let mut cmd =
            self.otp
                .erl_command(["-sname", name, "-setcookie", COOKIE, "-noshell", "-pa"]);
        cmd.arg(&self.dir);
        if let Some(optfile) = &self.optfile {
            cmd.args(["-proto_dist", "inet_tls", "-ssl_dist_optfile"])
                .arg(optfile);
        }
        cmd.arg("-eval").arg(eval);
        cmd.env("ERL_EPMD_PORT", self.epmd.to_string());
        cmd
    }
}

/// Starts an erl serving `sink` and `echo`, and waits until it answers.
fn server_erl(erls: &Erls, name: &str) -> Result<Killed, Error> {
    let child = erls
        .command(name, "bench_msg:serve(), io:format(\"ready~n\").")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()?;
    let mut child = Killed(child);
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    match lines.next() {
        Some(Ok(line)) if line.trim() == "ready" => Ok(child),
        other => Err(format!("{name} did not start: {other:?}").into()),
    }
}

/// Runs a short-lived erl that prints one term and halts.
async fn erl_eval(erls: &Erls, name: &str, expr: &str) -> Result<String, Error> {
    // The term on a line of its own after a marker: OTP 29's TLS
    // distribution logs error reports on stdout when a connection is
    // taken down (its `ssl_gen_statem` stops with a `badmatch`).
    let eval = format!("io:format(\"~nresult: ~w~n\", [{expr}]), halt().");
    let output = tokio::process::Command::from(erls.command(name, &eval))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(WAIT, output).await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("result: "))
        .map(|term| term.trim().to_owned())
        .ok_or_else(|| format!("{name} printed no result: {stdout:?}").into())
}

/// Runs our `sink`: counts messages until `{done, From}`, answers
/// `{sunk, Count}`.
fn rust_sink(mut me: Process) {
    tokio::spawn(async move {
        let mut count: i64 = 0;
        while let Ok(message) = me.recv().await {
            if let Some([Term::Atom(done), Term::Pid(from)]) = message.payload.as_tuple() {
                if done.as_str() == "done" {
                    let reply = Term::tuple(vec![Term::atom("sunk"), Term::Int(count)]);
                    let _ = me.send(from, reply);
                    count = 0;
                    continue;
                }
            }
            count += 1;
        }
    });
}

/// Runs our `echo`: `{From, Msg}` -> `From ! Msg`.
fn rust_echo(mut me: Process) {
    tokio::spawn(async move {
        while let Ok(message) = me.recv().await {
            if let Some([Term::Pid(from), msg]) = message.payload.as_tuple() {
                let _ = me.send(from, msg.clone());
            }
        }
    });
}

/// `{Int, Int}`.
fn pair(term: &Term) -> Result<(i64, i64), Error> {
    match term.as_tuple() {
        Some([a, b]) => Ok((
            a.as_i64().ok_or("not an integer")?,
            b.as_i64().ok_or("not an integer")?,
        )),
        _ => Err(format!("expected a pair of integers, got {term}").into()),
    }
}

/// CPU seconds process `pid` has used so far, all its threads, from
/// `/proc/<pid>/stat` (user + system, at the usual 100 ticks per second).
fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<f64>() / 100.0
}

/// CPU seconds our own process (our node) has used so far.
fn cpu_seconds() -> f64 {
    cpu_seconds_of(std::process::id())
}

/// The best of several one-way runs of small messages: the highest rate,
/// and the least CPU per message the sending and the receiving node used
/// (each the lowest of the runs: the least disturbed).
#[derive(Clone, Copy, Debug)]
struct Small {
    per_s: f64,
    send_us: f64,
    receive_us: f64,
}

impl Small {
    const NONE: Small = Small {
        per_s: 0.0,
        send_us: f64::INFINITY,
        receive_us: f64::INFINITY,
    };

    fn best(self, other: Small) -> Small {
        Small {
            per_s: self.per_s.max(other.per_s),
            send_us: self.send_us.min(other.send_us),
            receive_us: self.receive_us.min(other.receive_us),
        }
    }
}

/// One measurement row.
struct Row {
    path: &'static str,
    small_per_s: Option<f64>,
    /// CPU microseconds per small message: the sender's and the receiver's.
    small_cpu_us: Option<(f64, f64)>,
    big_mb_s: Option<f64>,
    /// The share of one core our node used during the 1 MiB runs.
    big_rust_cpu: Option<f64>,
    rtt: Option<(f64, f64)>,
    connects_per_s: Option<f64>,
}

/// A measured path: which node sends to which.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Direction {
    BeamToBeam,
    BeamToRust,
    RustToBeam,
}

impl Direction {
    const ALL: [Direction; 3] = [
        Direction::BeamToBeam,
        Direction::BeamToRust,
        Direction::RustToBeam,
    ];

    fn name(self) -> &'static str {
        match self {
            Direction::BeamToBeam => "BEAM -> BEAM",
            Direction::BeamToRust => "BEAM -> Rust",
            Direction::RustToBeam => "Rust -> BEAM",
        }
    }
}

struct Bench {
    erls: Erls,
    sizes: Sizes,
    node: Node,
    /// Our node's name.
    us: String,
    /// The BEAM client and server nodes, and their OS process ids.
    a: String,
    b: String,
    a_os_pid: u32,
    b_os_pid: u32,
    small: Term,
    big: Term,
}

impl Bench {
    /// The OS processes of the sending and the receiving node on `path`.
    fn os_pids(&self, path: Direction) -> (u32, u32) {
        let us = std::process::id();
        match path {
            Direction::BeamToBeam => (self.a_os_pid, self.b_os_pid),
            Direction::BeamToRust => (self.a_os_pid, us),
            Direction::RustToBeam => (us, self.b_os_pid),
        }
    }

    /// Sends `n` copies of `msg` one way on `path`; returns messages per
    /// second.
    async fn oneway(&self, path: Direction, n: u64, msg: &Term) -> Result<f64, Error> {
        match path {
            Direction::BeamToBeam => self.beam_oneway(sink_of(&self.b), n, msg).await,
            Direction::BeamToRust => self.beam_oneway(sink_of(&self.us), n, msg).await,
            Direction::RustToBeam => self.rust_oneway(n, msg).await,
        }
    }

    /// One one-way run of small messages, with the CPU each side used.
    async fn small_run(&self, path: Direction) -> Result<Small, Error> {
        let n = self.sizes.small;
        let (sender, receiver) = self.os_pids(path);
        let before = (cpu_seconds_of(sender), cpu_seconds_of(receiver));
        let per_s = self.oneway(path, n, &self.small).await?;
        let us_per_msg = |pid, before| (cpu_seconds_of(pid) - before) * 1e6 / n as f64;
        Ok(Small {
            per_s,
            send_us: us_per_msg(sender, before.0),
            receive_us: us_per_msg(receiver, before.1),
        })
    }

    async fn pingpong(&self, path: Direction) -> Result<(f64, f64), Error> {
        match path {
            Direction::BeamToBeam => self.beam_pingpong(echo_of(&self.b)).await,
            Direction::BeamToRust => self.beam_pingpong(echo_of(&self.us)).await,
            Direction::RustToBeam => self.rust_pingpong().await,
        }
    }

    async fn connects(&self, path: Direction) -> Result<f64, Error> {
        match path {
            Direction::BeamToBeam => self.beam_connects(&self.b).await,
            Direction::BeamToRust => self.beam_connects(&self.us).await,
            Direction::RustToBeam => self.rust_connects().await,
        }
    }

    /// BEAM `a` sends to `dest` (`{Name, Node}`); returns messages per second.
    async fn beam_oneway(&self, dest: Term, n: u64, msg: &Term) -> Result<f64, Error> {
        let result = self
            .node
            .rpc()
            .call(
                &self.a,
                "bench_msg",
                "oneway",
                vec![dest, Term::from(n), msg.clone()],
                WAIT,
            )
            .await?;
        let (count, us) = pair(&result)?;
        if count != i64::try_from(n)? {
            return Err(format!("the sink counted {count} of {n}").into());
        }
        Ok(n as f64 / (us as f64 / 1e6))
    }

    async fn rust_oneway(&self, n: u64, msg: &Term) -> Result<f64, Error> {
        let mut me = self.node.spawn_process()?;
        let to = ("sink", self.b.as_str());
        let start = Instant::now();
        for _ in 0..n {
            // Past the send buffer limit (1 MiB messages pile up behind
            // each other), it waits for room as a BEAM sender is suspended.
            me.send_wait(to, msg.clone()).await?;
        }
        me.send_wait(
            to,
            Term::tuple(vec![Term::atom("done"), Term::Pid(me.pid().clone())]),
        )
        .await?;
        let reply = me.recv_timeout(WAIT).await?;
        let elapsed = start.elapsed();
        let counted = match reply.payload.as_tuple() {
            Some([_, count]) => count.as_i64(),
            _ => None,
        };
        if counted != Some(i64::try_from(n)?) {
            return Err(format!("the sink answered {}", reply.payload).into());
        }
        Ok(n as f64 / elapsed.as_secs_f64())
    }

    async fn beam_pingpong(&self, dest: Term) -> Result<(f64, f64), Error> {
        let result = self
            .node
            .rpc()
            .call(
                &self.a,
                "bench_msg",
                "pingpong",
                vec![dest, Term::from(self.sizes.pings)],
                WAIT,
            )
            .await?;
        let (p50, p99) = pair(&result)?;
        Ok((p50 as f64, p99 as f64))
    }

    async fn rust_pingpong(&self) -> Result<(f64, f64), Error> {
        let mut me = self.node.spawn_process()?;
        let own = Term::Pid(me.pid().clone());
        let mut rtts = Vec::new();
        for i in 0..self.sizes.pings {
            let tag = Term::tuple(vec![Term::atom("pong"), Term::from(i)]);
            let start = Instant::now();
            me.send(
                ("echo", self.b.as_str()),
                Term::tuple(vec![own.clone(), tag.clone()]),
            )?;
            let reply = me.recv_timeout(WAIT).await?;
            rtts.push(start.elapsed().as_secs_f64() * 1e6);
            if reply.payload != tag {
                return Err(format!("echo answered {}", reply.payload).into());
            }
        }
        Ok(percentiles(&mut rtts))
    }

    async fn beam_connects(&self, target: &str) -> Result<f64, Error> {
        let name = format!("bench_c_{}", std::process::id());
        let out = erl_eval(
            &self.erls,
            &name,
            &format!("bench_msg:connects('{target}', {})", self.sizes.connects),
        )
        .await?;
        let (ok, us) = parse_pair(&out)?;
        if ok != i64::try_from(self.sizes.connects)? {
            eprintln!(
                "  only {ok} of {} connects to {target} succeeded",
                self.sizes.connects
            );
        }
        Ok(ok as f64 / (us as f64 / 1e6))
    }

    async fn rust_connects(&self) -> Result<f64, Error> {
        let start = Instant::now();
        for _ in 0..self.sizes.connects {
            self.node.connect(&self.b).await?;
            self.node.disconnect(&self.b);
        }
        Ok(self.sizes.connects as f64 / start.elapsed().as_secs_f64())
    }
}

/// `{A,B}` as printed by `~p`.
fn parse_pair(text: &str) -> Result<(i64, i64), Error> {
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("expected {{A,B}}, got {text:?}"))?;
    let (a, b) = inner
        .split_once(',')
        .ok_or_else(|| format!("expected {{A,B}}, got {text:?}"))?;
    Ok((a.trim().parse()?, b.trim().parse()?))
}

fn percentiles(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q) as usize).saturating_sub(1);
        samples.get(i).copied().unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.99))
}

fn sink_of(node: &str) -> Term {
    Term::tuple(vec![Term::atom("sink"), Term::atom(node)])
}

fn echo_of(node: &str) -> Term {
    Term::tuple(vec![Term::atom("echo"), Term::atom(node)])
}

async fn run(otp: Otp, tls: bool, sizes: Sizes, only: Only) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("cnode-bench-messaging-{}", std::process::id()));
    let ei = build(&dir)?;
    // Over TLS every node, ours and the `erl`s, reads one optfile: mutual
    // TLS with one CA. The C and `erl_dist` peers speak only TCP.
    let optfile = match tls {
        true => {
            let files = TlsFiles::generate(&dir, "bench")?;
            Some(files.write_optfile(&dir.join("dist.conf"), &[])?)
        }
        false => None,
    };
    let ei = ei.filter(|_| !tls);
    let (_epmd, epmd) = start_epmd_blocking(&otp)?;
    let erls = Erls {
        otp: otp.clone(),
        epmd,
        dir: dir.clone(),
        optfile: optfile.clone(),
    };
    let host = short_host()?;
    let pid = std::process::id();
    let (a_name, b_name) = (format!("bench_a_{pid}"), format!("bench_b_{pid}"));
    let a = server_erl(&erls, &a_name)?;
    let b = server_erl(&erls, &b_name)?;
    let mut builder = Node::builder(format!("bench_rust_{pid}"))
        .cookie(COOKIE)
        .epmd_port(epmd)
        .start_epmd(false)
        .listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if let Some(optfile) = &optfile {
        builder = builder.tls(TlsConfig::from_optfile(optfile)?);
    }
    let node = builder.start().await?;
    let sink = node.spawn_process()?;
    sink.register("sink")?;
    rust_sink(sink);
    let echo = node.spawn_process()?;
    echo.register("echo")?;
    rust_echo(echo);
    let us = node.name().to_owned();
    let bench = Bench {
        erls,
        sizes,
        us: us.clone(),
        a_os_pid: a.0.id(),
        b_os_pid: b.0.id(),
        a: format!("{a_name}@{host}"),
        b: format!("{b_name}@{host}"),
        node,
        small: match sizes.atoms {
            0 => Term::tuple(vec![Term::atom("msg"), Term::Int(1)]),
            n => Term::tuple((0..n).map(|i| Term::atom(&format!("atom_{i}"))).collect()),
        },
        big: Term::tuple(vec![
            Term::atom("msg"),
            Term::binary(Bytes::from(vec![7u8; 1 << 20])),
        ]),
    };
    bench.node.ping(&bench.a).await?;
    bench.node.ping(&bench.b).await?;
    println!(
        "OTP {}{} | one-way {} small ({}), {} x 1 MiB, {} round trips, {} set-ups; best of {} runs",
        otp.release,
        if tls { " over TLS" } else { "" },
        sizes.small,
        match sizes.atoms {
            0 => "{msg, 1}".to_owned(),
            n => format!("tuples of {n} atoms"),
        },
        sizes.big,
        sizes.pings,
        sizes.connects,
        sizes.runs
    );
    // Warm up every path (connections, code loading).
    bench
        .beam_oneway(sink_of(&bench.b), 1000, &bench.small)
        .await?;
    bench.beam_oneway(sink_of(&us), 1000, &bench.small).await?;
    bench.rust_oneway(1000, &bench.small).await?;

    let paths: Vec<Direction> = Direction::ALL
        .into_iter()
        .filter(|path| only.wants(path.name()))
        .collect();
    let (big, runs) = (sizes.big, sizes.runs);
    let mb = |per_s: f64| per_s * (1 << 20) as f64 / 1e6;
    // Small messages and round trips take turns between the paths, so that
    // each path meets the same moods of a shared machine.
    let mut smalls = vec![Small::NONE; paths.len()];
    // The round trips of the run with the lowest p50.
    let mut rtts = vec![(f64::INFINITY, f64::INFINITY); paths.len()];
    // Every run's rate and p50, per path, for the per-round ratios.
    let mut round_ratios = RoundRatios::default();
    let ei = ei.filter(|_| only.wants(EI_PATH));
    let mut ei_best: Option<Row> = None;
    for _ in 0..runs {
        for (i, path) in paths.iter().enumerate() {
            let small = bench.small_run(*path).await?;
            smalls[i] = smalls[i].best(small);
            let rtt = bench.pingpong(*path).await?;
            if rtt.0 < rtts[i].0 {
                rtts[i] = rtt;
            }
            round_ratios.push(path.name(), small.per_s, rtt.0);
        }
        // ei takes its turn in the same round, so that it too is compared
        // with runs that met the same machine.
        if let Some(ei) = &ei {
            let row = ei_row(ei, epmd, &bench.b, sizes).await?;
            if let (Some(rate), Some((p50, _))) = (row.small_per_s, row.rtt) {
                round_ratios.push(EI_PATH, rate, p50);
            }
            ei_best = Some(match ei_best {
                None => row,
                Some(mut best) => {
                    if row.small_per_s > best.small_per_s {
                        best.small_per_s = row.small_per_s;
                    }
                    if row.rtt.map(|r| r.0) < best.rtt.map(|r| r.0) {
                        best.rtt = row.rtt;
                    }
                    best
                }
            });
        }
    }
    // 1 MiB messages and set-ups take turns between the paths too.
    let mut bigs = vec![0.0f64; paths.len()];
    // Our node's CPU seconds and the wall seconds of each path's 1 MiB runs.
    let mut big_cpu = vec![(0.0f64, 0.0f64); paths.len()];
    let mut connects = vec![0.0f64; paths.len()];
    for _ in 0..runs {
        for (i, path) in paths.iter().enumerate() {
            let (cpu, wall) = (cpu_seconds(), Instant::now());
            bigs[i] = bigs[i].max(mb(bench.oneway(*path, big, &bench.big).await?));
            big_cpu[i].0 += cpu_seconds() - cpu;
            big_cpu[i].1 += wall.elapsed().as_secs_f64();
        }
        for (i, path) in paths.iter().enumerate() {
            connects[i] = connects[i].max(bench.connects(*path).await?);
        }
        // Our set-ups end disconnected from `b`: connect again before the
        // next round's sends (`send_wait` does not wait on a connection
        // still being set up; past its queue limit it fails with
        // `QueueFull`).
        bench.node.ping(&bench.b).await?;
    }
    let mut rows = Vec::new();
    for (i, ((path, small), rtt)) in paths.into_iter().zip(smalls).zip(rtts).enumerate() {
        let (big_rate, cpu, connects) = (bigs[i], big_cpu[i].0 / big_cpu[i].1, connects[i]);
        rows.push(Row {
            path: path.name(),
            small_per_s: Some(small.per_s),
            small_cpu_us: Some((small.send_us, small.receive_us)),
            big_mb_s: Some(big_rate),
            big_rust_cpu: Some(cpu),
            rtt: Some(rtt),
            connects_per_s: Some(connects),
        });
    }
    rows.extend(ei_best);
    if !tls && only.wants("erl_dist (Rust) -> BEAM") {
        rows.push(erl_dist_peer::erl_dist_row(epmd, &bench.b, sizes).await?);
    }
    print_table(&rows);
    round_ratios.print();
    let _ = std::fs::remove_dir_all(&dir);
    bench.node.shutdown().await;
    Ok(())
}

/// `bench_ei` against `b`.
async fn ei_row(exe: &Path, epmd: u16, b: &str, sizes: Sizes) -> Result<Row, Error> {
    let output = tokio::process::Command::new(exe)
        .args([
            b,
            COOKIE,
            &sizes.small.to_string(),
            &sizes.pings.to_string(),
        ])
        .env("ERL_EPMD_PORT", epmd.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(WAIT, output).await??;
    if !output.status.success() {
        return Err(format!(
            "bench_ei: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut row = Row {
        path: EI_PATH,
        small_per_s: None,
        small_cpu_us: None,
        big_mb_s: None,
        big_rust_cpu: None,
        rtt: None,
        connects_per_s: None,
    };
    for line in text.lines() {
        let fields: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        match (line.split_whitespace().next(), fields.as_slice()) {
            (Some("oneway"), [count, us]) => row.small_per_s = Some(count / (us / 1e6)),
            (Some("pingpong"), [p50, p99]) => row.rtt = Some((*p50, *p99)),
            _ => {}
        }
    }
    Ok(row)
}

/// Each run's small-message rate and round-trip p50 per path, to compare
/// the paths round by round: a run of BEAM -> BEAM and the runs of the
/// other paths just after it met nearly the same machine, so their ratio
/// is steadier than the ratio of the best runs.
#[derive(Default)]
struct RoundRatios {
    /// In the order first seen.
    paths: Vec<PathRuns>,
}

/// Every run of one path.
struct PathRuns {
    path: &'static str,
    rates: Vec<f64>,
    p50s: Vec<f64>,
}

impl RoundRatios {
    fn push(&mut self, path: &'static str, rate: f64, p50: f64) {
        let runs = match self.paths.iter().position(|runs| runs.path == path) {
            Some(at) => &mut self.paths[at],
            None => {
                self.paths.push(PathRuns {
                    path,
                    rates: Vec::new(),
                    p50s: Vec::new(),
                });
                self.paths.last_mut().expect("just pushed")
            }
        };
        runs.rates.push(rate);
        runs.p50s.push(p50);
    }

    /// The ratios to BEAM -> BEAM, then our node's ratios to ei.
    fn print(&self) {
        for base in [Direction::BeamToBeam.name(), EI_PATH] {
            self.print_series("(a) small msg/s", base, |runs| &runs.rates);
            self.print_series("(c) RTT p50 (lower is better)", base, |runs| &runs.p50s);
        }
    }

    /// One line: for each path but `base`, the median, least and greatest
    /// of its runs' ratios to the `base` run of their round. Against ei,
    /// only the paths where our node sends, as ei does.
    fn print_series(&self, what: &str, base: &str, series: impl Fn(&PathRuns) -> &Vec<f64>) {
        let Some(base_runs) = self.paths.iter().find(|runs| runs.path == base) else {
            return;
        };
        let mut line = format!("{what}, median per-round ratio to {base} [min-max]:");
        for runs in &self.paths {
            if runs.path == base || (base == EI_PATH && runs.path != Direction::RustToBeam.name()) {
                continue;
            }
            let mut ratios: Vec<f64> = series(runs)
                .iter()
                .zip(series(base_runs))
                .map(|(v, b)| v / b)
                .collect();
            ratios.sort_by(f64::total_cmp);
            if let (Some(min), Some(max)) = (ratios.first(), ratios.last()) {
                let mid = ratios.len() / 2;
                let median = if ratios.len() % 2 == 0 {
                    (ratios[mid - 1] + ratios[mid]) / 2.0
                } else {
                    ratios[mid]
                };
                line += &format!(" {} {median:.2}x [{min:.2}-{max:.2}];", runs.path);
            }
        }
        println!("{line}");
    }
}

fn print_table(rows: &[Row]) {
    // Ratios are against BEAM -> BEAM, when it ran.
    let base = rows.first().filter(|row| row.path == "BEAM -> BEAM");
    let ratio = |value: Option<f64>, base: Option<f64>| match (value, base) {
        (Some(v), Some(b)) if b > 0.0 => format!(" ({:.2}x)", v / b),
        _ => String::new(),
    };
    let show = |value: Option<f64>, digits: usize| {
        value.map_or("-".to_owned(), |v| format!("{v:.digits$}"))
    };
    println!();
    println!(
        "| path | (a) small msg/s | (a) CPU us/msg sender / receiver | (b) 1 MiB msgs MB/s | our node's CPU during (b) | (c) RTT p50 / p99 us | (d) set-ups/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        let rtt = row
            .rtt
            .map_or("-".to_owned(), |(p50, p99)| format!("{p50:.0} / {p99:.0}"));
        println!(
            "| {} | {}{} | {} | {}{} | {} | {} | {}{} |",
            row.path,
            show(row.small_per_s, 0),
            ratio(row.small_per_s, base.and_then(|b| b.small_per_s)),
            row.small_cpu_us
                .map_or("-".to_owned(), |(s, r)| format!("{s:.2} / {r:.2}")),
            show(row.big_mb_s, 0),
            ratio(row.big_mb_s, base.and_then(|b| b.big_mb_s)),
            row.big_rust_cpu
                .map_or("-".to_owned(), |c| format!("{:.0}%", c * 100.0)),
            rtt,
            show(row.connects_per_s, 0),
            ratio(row.connects_per_s, base.and_then(|b| b.connects_per_s)),
        );
    }
    println!("(ratios against BEAM -> BEAM; for RTT lower is better)");
}
