//! The many-peers benchmark: our node and a BEAM node side by side in one
//! run, each connected to the same N `erl` sink nodes and sending to all of
//! them in turn.
//!
//! ```text
//! bench_peers [--otp 25|27|28|29] [--nodes N] [--messages M] [--runs R]
//! ```
//!
//! It starts its own `epmd` on a free port, N `erl` sink nodes (default 30,
//! `+S 1`: one scheduler each) whose registered `sink` counts the messages
//! that follow an `{expect, M, From}` and reports `{sunk, Node}` to `From`
//! when all M have come, and `a`, the BEAM measured (default schedulers).
//! Then, for our node and for `a`, the same workloads:
//!
//! - connect to all N sink nodes at once (EPMD lookup and handshake; one
//!   task, or Erlang process, per node): the time until all are up, and
//!   the resident memory (RSS of the OS process) this adds, per connection;
//!   the same RSS growth is measured again after the fan-outs;
//! - fan-out: M small messages (`{msg, 1}`) to each node's `sink` by name,
//!   round-robin (one to each node, then again, M times), from one process:
//!   the time from the first send until every sink has reported all M.
//!
//! The fan-outs take turns, ours then the BEAM's, R times (default 3), and
//! the best of each side is reported with every run. Our node runs on a
//! tokio runtime of two workers, the sending process in a spawned task.
//!
//! `scripts/bench-peers.sh` runs it; results go to BENCHMARKS.md.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use cnode::{Dest, Message, Process, SendError};
use etf::{Atom, Term};
use interop_tests::local::{
    loopback_node, short_host, start_epmd_blocking, unique_label, ChildGuard,
};
use interop_tests::Otp;

const COOKIE: &str = "bench_peers_cookie";
const SOURCE: &str = include_str!("bench_peers.erl");
const WAIT: Duration = Duration::from_secs(120);

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone, Copy, Debug)]
struct Sizes {
    nodes: usize,
    messages: usize,
    runs: usize,
}

fn main() -> Result<(), Error> {
    let mut otp = Otp::v28();
    let mut sizes = Sizes {
        nodes: 30,
        messages: 10_000,
        runs: 3,
    };
    let mut args = std::env::args().skip(1);
    let count = |arg: Option<String>, option: &str| -> Result<usize, Error> {
        arg.and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .ok_or_else(|| format!("{option} takes a positive count").into())
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--otp" => {
                let release = count(args.next(), "--otp")?;
                otp = Otp::release(release as u32).ok_or("--otp 25|27|28|29")?;
            }
            "--nodes" => sizes.nodes = count(args.next(), "--nodes")?,
            "--messages" => sizes.messages = count(args.next(), "--messages")?,
            "--runs" => sizes.runs = count(args.next(), "--runs")?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async { tokio::spawn(run(otp, sizes)).await? })
}

/// Compiles `bench_peers.erl` with a compiler whose `.beam` files `otp`
/// loads.
fn build(otp: &Otp, dir: &Path) -> Result<(), Error> {
    Ok(otp.compile_module(dir, "bench_peers.erl", SOURCE)?)
}

/// Starts `erl` running `bench_peers:{call}.`; it prints `ready` once
/// it serves.
fn spawn_erl(
    otp: &Otp,
    epmd: u16,
    dir: &Path,
    name: &str,
    call: &str,
    flags: &[&str],
) -> Result<ChildGuard, Error> {
    let mut cmd = otp.erl_command(flags);
    cmd.args(["-sname", name, "-setcookie", COOKIE, "-noshell", "-pa"])
        .arg(dir)
        .arg("-eval")
        .arg(format!("bench_peers:{call}."))
        .env("ERL_EPMD_PORT", epmd.to_string());
    Ok(ChildGuard::spawn(cmd, name)?.with_wait(WAIT))
}

/// The resident memory of OS process `pid`, in bytes.
fn rss_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// CPU time OS process `pid` has used so far, all its threads, from
/// `/proc/<pid>/stat` (user + system, at the usual 100 ticks per second).
fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // utime and stime are the 14th and 15th fields, the 12th and 13th
    // after the parenthesised command name.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The CPU time of a set of OS processes.
fn cpu_of_all(pids: &[u32]) -> Duration {
    pids.iter().map(|&pid| cpu_of(pid)).sum()
}

/// Waits for a message whose payload is `tag` or a tuple tagged `tag`.
async fn reply(me: &mut Process, tag: &str) -> Result<Term, Error> {
    let tagged = |m: &Message| match &m.payload {
        Term::Atom(a) => a.as_str() == tag,
        t => t
            .as_tuple()
            .and_then(|t| t.first())
            .is_some_and(|a| a.is_atom(tag)),
    };
    Ok(me.recv_matching_timeout(WAIT, tagged).await?.payload)
}

/// The non-negative integer at `index` of a tuple.
fn field(reply: &Term, index: usize) -> Result<u64, Error> {
    reply
        .as_tuple()
        .and_then(|t| t.get(index))
        .and_then(Term::as_i64)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format!("unexpected reply {reply}").into())
}

/// What one side measured.
#[derive(Debug, Default)]
struct Side {
    connect: Duration,
    rss_connected: usize,
    rss_after: usize,
    fanouts: Vec<Duration>,
    /// CPU time of the sending node and of all the sinks, during the
    /// fastest fan-out.
    cpu: (Duration, Duration),
}

impl Side {
    fn best(&self) -> Duration {
        self.fanouts.iter().copied().min().unwrap_or_default()
    }

    /// Records a fan-out, and its CPU times if it is the fastest yet.
    fn fanned(&mut self, time: Duration, cpu: (Duration, Duration)) {
        if self.fanouts.iter().all(|&t| time < t) {
            self.cpu = cpu;
        }
        self.fanouts.push(time);
    }
}

async fn run(otp: Otp, sizes: Sizes) -> Result<(), Error> {
    let Sizes {
        nodes,
        messages,
        runs,
    } = sizes;
    let dir = std::env::temp_dir().join(unique_label("bench_peers"));
    build(&otp, &dir)?;
    let (_epmd, epmd_port) = start_epmd_blocking(&otp)?;
    let host = short_host()?;

    // The sinks start all at once; then `a`.
    let t0 = Instant::now();
    let sink_names: Vec<String> = (0..nodes)
        .map(|i| unique_label(&format!("peers_sink{i}")))
        .collect();
    let mut sinks = sink_names
        .iter()
        .map(|name| spawn_erl(&otp, epmd_port, &dir, name, "sink()", &["+S", "1"]))
        .collect::<Result<Vec<_>, Error>>()?;
    for sink in &mut sinks {
        sink.wait_for_line("ready")?;
    }
    let sink_nodes: Vec<String> = sink_names.iter().map(|n| format!("{n}@{host}")).collect();
    let atoms = sink_nodes
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",");
    let warm = unique_label("peers_warm");
    spawn_erl(
        &otp,
        epmd_port,
        &dir,
        &warm,
        &format!("warm([{atoms}])"),
        &["-hidden"],
    )?
    .wait_for_line("ready")?;
    let a_name = unique_label("peers_a");
    let mut a = spawn_erl(&otp, epmd_port, &dir, &a_name, "fanout()", &["-hidden"])?;
    a.wait_for_line("ready")?;
    eprintln!(
        "{nodes} sink nodes and a up in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let node = loopback_node(
        format!("{}@{host}", unique_label("peers_rust")),
        COOKIE,
        epmd_port,
    )
    .start()
    .await?;
    let a_node = format!("{a_name}@{host}");
    let mut me = node.spawn_process()?;
    let my_pid = Term::Pid(me.pid().clone());
    let ask = |request: &str, rest: Vec<Term>| {
        let mut items = vec![Term::atom(request)];
        items.extend(rest);
        items.push(my_pid.clone());
        Term::tuple(items)
    };
    me.send(("fanout", a_node.as_str()), ask("os_pid", vec![]))?;
    let a_os_pid = u32::try_from(field(&reply(&mut me, "os_pid").await?, 1)?)?;
    println!(
        "OTP {}, {nodes} sink nodes (`+S 1`), {messages} messages to each, best of {runs}; \
         our node: tokio, 2 workers",
        otp.release
    );

    // Connect: ours, then the BEAM's.
    let mut ours = Side::default();
    let mut beam = Side::default();
    let rust_rss0 = rss_of(std::process::id());
    let t0 = Instant::now();
    let mut connects = tokio::task::JoinSet::new();
    for sink in &sink_nodes {
        let (node, sink) = (node.clone(), sink.clone());
        connects.spawn(async move { node.connect(&sink).await });
    }
    while let Some(connected) = connects.join_next().await {
        connected??;
    }
    ours.connect = t0.elapsed();
    ours.rss_connected = rss_of(std::process::id()).saturating_sub(rust_rss0) / nodes;

    let beam_rss0 = rss_of(a_os_pid);
    let node_list = Term::list(sink_nodes.iter().map(|n| Term::atom(n)).collect());
    me.send(
        ("fanout", a_node.as_str()),
        ask("connect", vec![node_list.clone()]),
    )?;
    let connected = reply(&mut me, "connected").await?;
    beam.connect = Duration::from_micros(field(&connected, 1)?);
    if field(&connected, 2)? != nodes as u64 {
        return Err(format!("a connected to only {connected}").into());
    }
    beam.rss_connected = rss_of(a_os_pid).saturating_sub(beam_rss0) / nodes;

    // Fan-outs, taking turns.
    let dests: Vec<Dest> = sink_nodes
        .iter()
        .map(|n| Dest::Name {
            name: Atom::new("sink"),
            node: Atom::new(n),
        })
        .collect();
    let msg = Term::tuple(vec![Term::atom("msg"), Term::Int(1)]);
    let fanout_request = ask(
        "fanout",
        vec![node_list, Term::Int(messages as i64), msg.clone()],
    );
    let sink_pids: Vec<u32> = sinks.iter().map(ChildGuard::id).collect();
    let ours_pid = std::process::id();
    for run in 0..runs {
        let cpu0 = (cpu_of(ours_pid), cpu_of_all(&sink_pids));
        let rust = fan_out(&mut me, &dests, messages, &msg).await?;
        ours.fanned(
            rust,
            (cpu_of(ours_pid) - cpu0.0, cpu_of_all(&sink_pids) - cpu0.1),
        );
        let cpu0 = (cpu_of(a_os_pid), cpu_of_all(&sink_pids));
        me.send(("fanout", a_node.as_str()), fanout_request.clone())?;
        let fanned = reply(&mut me, "fanned").await?;
        let beam_time = Duration::from_micros(field(&fanned, 1)?);
        beam.fanned(
            beam_time,
            (cpu_of(a_os_pid) - cpu0.0, cpu_of_all(&sink_pids) - cpu0.1),
        );
        eprintln!(
            "run {}: ours {:.3} s, BEAM {:.3} s",
            run + 1,
            rust.as_secs_f64(),
            beam_time.as_secs_f64()
        );
    }
    ours.rss_after = rss_of(std::process::id()).saturating_sub(rust_rss0) / nodes;
    beam.rss_after = rss_of(a_os_pid).saturating_sub(beam_rss0) / nodes;

    print_table(&otp, sizes, &beam, &ours);
    let _ = std::fs::remove_dir_all(&dir);
    node.shutdown().await;
    Ok(())
}

/// Our fan-out: `{expect, M, Me}` to every sink, then M rounds of one
/// message to each; the time from the first of those until every sink has
/// reported.
async fn fan_out(
    me: &mut Process,
    dests: &[Dest],
    messages: usize,
    msg: &Term,
) -> Result<Duration, Error> {
    let expect = Term::tuple(vec![
        Term::atom("expect"),
        Term::Int(messages as i64),
        Term::Pid(me.pid().clone()),
    ]);
    for dest in dests {
        me.send(dest.clone(), expect.clone())?;
    }
    let t0 = Instant::now();
    for _ in 0..messages {
        for dest in dests {
            match me.send(dest.clone(), msg.clone()) {
                // Past the send buffer limit, wait for room as a BEAM
                // sender is suspended on a busy channel.
                Err(SendError::Busy { .. }) => me.send_wait(dest.clone(), msg.clone()).await?,
                sent => sent?,
            }
        }
    }
    for _ in dests {
        reply(me, "sunk").await?;
    }
    Ok(t0.elapsed())
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn print_table(otp: &Otp, sizes: Sizes, beam: &Side, ours: &Side) {
    let Sizes {
        nodes, messages, ..
    } = sizes;
    let sends = nodes * messages;
    let secs = |d: Duration| d.as_secs_f64().max(1e-9);
    let fan = |d: Duration| {
        format!(
            "{:.2} s ({:.0} k msgs/s)",
            d.as_secs_f64(),
            sends as f64 / secs(d) / 1e3
        )
    };
    let runs = |side: &Side| {
        side.fanouts
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ratio = |b: f64, r: f64| format!("{:.2}x", b / r.max(1e-9));
    println!();
    println!(
        "| {nodes} peers, OTP {} | BEAM | Rust | BEAM / Rust |",
        otp.release
    );
    println!("|---|---|---|---|");
    println!(
        "| connect to all {nodes} at once | {:.0} ms | {:.0} ms | {} |",
        beam.connect.as_secs_f64() * 1e3,
        ours.connect.as_secs_f64() * 1e3,
        ratio(secs(beam.connect), secs(ours.connect))
    );
    println!(
        "| RSS growth per connection, connected | {} | {} | {} |",
        kib(beam.rss_connected),
        kib(ours.rss_connected),
        ratio(beam.rss_connected as f64, ours.rss_connected as f64)
    );
    println!(
        "| RSS growth per connection, after the fan-outs | {} | {} | {} |",
        kib(beam.rss_after),
        kib(ours.rss_after),
        ratio(beam.rss_after as f64, ours.rss_after as f64)
    );
    println!(
        "| fan-out, {messages} `{{msg, 1}}` to each `sink` round-robin ({sends} sends), best | {} | {} | {} |",
        fan(beam.best()),
        fan(ours.best()),
        ratio(secs(beam.best()), secs(ours.best()))
    );
    let per_msg = |cpu: Duration| format!("{:.1}", cpu.as_secs_f64() * 1e6 / sends as f64);
    println!(
        "| CPU us per message in the best fan-out, sender / all sinks | {} / {} | {} / {} | |",
        per_msg(beam.cpu.0),
        per_msg(beam.cpu.1),
        per_msg(ours.cpu.0),
        per_msg(ours.cpu.1)
    );
    println!(
        "| fan-out, every run (s) | {} | {} | |",
        runs(beam),
        runs(ours)
    );
}
