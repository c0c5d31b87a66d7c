//! The many-processes benchmark: our node and a BEAM node (`erl +P
//! 2000000`) side by side in one run, on the same workloads.
//!
//! ```text
//! bench_processes [--otp 25|27|28|29] [--quick] [--n N] [--workers W] [--lookups L]
//! ```
//!
//! A process here is what an Erlang `spawn(fun() -> receive _ -> ok end
//! end)` is: on our node a [`Process`] owned by a tokio task waiting in
//! [`Process::recv`], on the BEAM an Erlang process waiting in `receive`.
//! Each counts itself started when it first runs, and done when its one
//! message comes; then it ends. Workloads, each on both nodes:
//!
//! - spawn N processes and wait until all of them wait in receive; the
//!   resident memory (RSS of the OS process) this adds, per process, with
//!   the list of their pids that the spawner keeps;
//! - one local process sends one message to each (and each ends on it):
//!   time until all N are done;
//! - the same N spawned again, then an Erlang node (`a`) sends one message
//!   to each, over distribution: time from `a`'s go until all are done;
//! - L registered-name lookups (`whereis`) over 1,000 names, from one
//!   thread (process) and from W at once;
//! - W threads (Erlang processes) at once each spawn N/W processes and send
//!   one message to each: time until all N are done.
//!
//! It starts its own `epmd` on a free port and two `erl` nodes running
//! `bench_procs.erl`: `b`, the BEAM measured, and `a`, the sender. Our node
//! runs on a tokio runtime of two workers; the BEAM has its default
//! schedulers (one per core).
//!
//! `scripts/bench-processes.sh` runs it; results go to BENCHMARKS.md.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cnode::{Message, Node, Process};
use etf::{Pid, Term};
use interop_tests::local::{
    loopback_node, short_host, start_epmd_blocking, unique_label, ChildGuard,
};
use interop_tests::Otp;

const COOKIE: &str = "bench_processes_cookie";
const SOURCE: &str = include_str!("bench_procs.erl");
const WAIT: Duration = Duration::from_secs(300);
/// Registered names for the lookups.
const NAMES: usize = 1_000;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone, Copy, Debug)]
struct Sizes {
    n: usize,
    workers: usize,
    lookups: usize,
}

fn main() -> Result<(), Error> {
    let mut otp = Otp::v28();
    let mut sizes = Sizes {
        n: 1_000_000,
        workers: 4,
        lookups: 1_000_000,
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
            "--quick" => {
                sizes.n = 100_000;
                sizes.lookups = 200_000;
            }
            "--n" => sizes.n = count(args.next(), "--n")?,
            "--workers" => sizes.workers = count(args.next(), "--workers")?,
            "--lookups" => sizes.lookups = count(args.next(), "--lookups")?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async { tokio::spawn(run(otp, sizes)).await? })
}

/// Compiles `bench_procs.erl` with a compiler whose `.beam` files `otp`
/// loads.
fn build(otp: &Otp, dir: &Path) -> Result<(), Error> {
    Ok(otp.compile_module(dir, "bench_procs.erl", SOURCE)?)
}

/// Starts `erl` running `bench_procs:{function}()` and waits for its `ready`.
fn start_erl(
    otp: &Otp,
    epmd: u16,
    dir: &Path,
    name: &str,
    function: &str,
) -> Result<ChildGuard, Error> {
    let mut cmd = otp.erl_command([
        "+P",
        "2000000",
        "-sname",
        name,
        "-setcookie",
        COOKIE,
        "-noshell",
        "-pa",
    ]);
    cmd.arg(dir)
        .arg("-eval")
        .arg(format!("bench_procs:{function}()."))
        .env("ERL_EPMD_PORT", epmd.to_string());
    let mut child = ChildGuard::spawn(cmd, name)?.with_wait(Duration::from_secs(30));
    child.wait_for_line("ready")?;
    Ok(child)
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

/// Waits until `counter` reaches `n`.
async fn wait_count(counter: &AtomicUsize, n: usize) {
    while counter.load(Ordering::Acquire) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A process that waits in receive (see the module documentation).
fn idle(mut p: Process, started: Arc<AtomicUsize>, done: Arc<AtomicUsize>) {
    tokio::spawn(async move {
        started.fetch_add(1, Ordering::Relaxed);
        if p.recv().await.is_ok() {
            done.fetch_add(1, Ordering::Release);
        }
    });
}

/// N idle processes, their pids, and their done counter.
struct Idle {
    pids: Vec<Pid>,
    done: Arc<AtomicUsize>,
}

/// Spawns `n` idle processes and waits until all have started.
async fn spawn_idle(node: &Node, n: usize) -> Result<(Idle, Duration), Error> {
    let started = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut pids = Vec::with_capacity(n);
    for _ in 0..n {
        let p = node.spawn_process()?;
        pids.push(p.pid().clone());
        idle(p, Arc::clone(&started), Arc::clone(&done));
    }
    wait_count(&started, n).await;
    Ok((Idle { pids, done }, t0.elapsed()))
}

/// The driver's view of the BEAM nodes.
struct Beam {
    driver: Process,
    /// `b`'s and `a`'s full node names.
    b: String,
    a: String,
}

impl Beam {
    /// Sends `request` to `b`'s `bench` and waits for the reply tagged `tag`.
    async fn ask(&mut self, request: Term, tag: &str) -> Result<Term, Error> {
        self.driver.send(("bench", self.b.as_str()), request)?;
        self.reply(tag).await
    }

    async fn reply(&mut self, tag: &str) -> Result<Term, Error> {
        let tagged = |m: &Message| match &m.payload {
            Term::Atom(a) => a.as_str() == tag,
            t => t
                .as_tuple()
                .and_then(|t| t.first())
                .is_some_and(|a| a.is_atom(tag)),
        };
        Ok(self
            .driver
            .recv_matching_timeout(WAIT, tagged)
            .await?
            .payload)
    }

    /// Asks `b` and returns the microseconds its reply carries.
    async fn time(&mut self, request: Term, tag: &str) -> Result<Duration, Error> {
        micros(&self.ask(request, tag).await?)
    }

    fn me(&self) -> Term {
        Term::Pid(self.driver.pid().clone())
    }
}

/// The time in `{Tag, Micros}`.
fn micros(reply: &Term) -> Result<Duration, Error> {
    match reply.as_tuple() {
        Some([_, t]) => Ok(Duration::from_micros(
            t.as_i64()
                .and_then(|t| u64::try_from(t).ok())
                .ok_or("not a time")?,
        )),
        _ => Err(format!("unexpected reply {reply}").into()),
    }
}

/// One result row: the BEAM's and our figure.
struct Row {
    workload: String,
    beam: Duration,
    rust: Duration,
    /// Operations done in each time (for the rates).
    ops: usize,
}

fn rate(ops: usize, time: Duration) -> String {
    let per_s = ops as f64 / time.as_secs_f64().max(1e-9);
    if per_s >= 1e6 {
        format!("{:.2} M/s", per_s / 1e6)
    } else {
        format!("{:.0} k/s", per_s / 1e3)
    }
}

fn ms(time: Duration) -> String {
    format!("{:.0} ms", time.as_secs_f64() * 1e3)
}

async fn run(otp: Otp, sizes: Sizes) -> Result<(), Error> {
    let Sizes {
        n,
        workers,
        lookups,
    } = sizes;
    let dir = std::env::temp_dir().join(unique_label("bench_processes"));
    build(&otp, &dir)?;
    let (_epmd, epmd_port) = start_epmd_blocking(&otp)?;
    let host = short_host()?;
    let (b_name, a_name) = (unique_label("procs_b"), unique_label("procs_a"));
    let _b = start_erl(&otp, epmd_port, &dir, &b_name, "serve")?;
    let _a = start_erl(&otp, epmd_port, &dir, &a_name, "sender")?;
    let node = loopback_node(
        format!("{}@{host}", unique_label("procs_rust")),
        COOKIE,
        epmd_port,
    )
    .max_processes(2_000_000)
    .start()
    .await?;
    let mut beam = Beam {
        driver: node.spawn_process()?,
        b: format!("{b_name}@{host}"),
        a: format!("{a_name}@{host}"),
    };
    let b_os_pid = {
        let me = beam.me();
        let reply = beam
            .ask(Term::tuple(vec![Term::atom("os_pid"), me]), "os_pid")
            .await?;
        let pid = match reply.as_tuple() {
            Some([_, pid]) => pid.as_i64().and_then(|p| u32::try_from(p).ok()),
            _ => None,
        };
        pid.ok_or("no OS pid from b")?
    };
    node.connect(&beam.a).await?;
    println!(
        "OTP {}, N = {n}, {workers} workers, {lookups} lookups; our node: tokio, 2 workers",
        otp.release
    );
    let mut rows = Vec::new();

    // Spawn, memory, local messages: ours first (a fresh heap), then b.
    let rss0 = rss_of(std::process::id());
    let (idle, rust_spawn) = spawn_idle(&node, n).await?;
    let rust_bytes = rss_of(std::process::id()).saturating_sub(rss0) / n;
    let sender = node.spawn_process()?;
    let t0 = Instant::now();
    for pid in &idle.pids {
        sender.send(pid, Term::atom("go"))?;
    }
    wait_count(&idle.done, n).await;
    let rust_local = t0.elapsed();
    drop(idle);

    let rss0 = rss_of(b_os_pid);
    let me = beam.me();
    let spawn_request = Term::tuple(vec![Term::atom("spawn"), Term::Int(n as i64), me.clone()]);
    let beam_spawn = beam.time(spawn_request.clone(), "spawned").await?;
    let beam_bytes = rss_of(b_os_pid).saturating_sub(rss0) / n;
    let beam_local = beam
        .time(
            Term::tuple(vec![Term::atom("send_local"), me.clone()]),
            "sent",
        )
        .await?;
    rows.push(Row {
        workload: format!("spawn {n} processes that wait in receive"),
        beam: beam_spawn,
        rust: rust_spawn,
        ops: n,
    });
    rows.push(Row {
        workload: format!("one message to each of {n} from a local process (each then ends)"),
        beam: beam_local,
        rust: rust_local,
        ops: n,
    });

    // From an Erlang node: `a` sends to each of b's and of our processes.
    let (idle, rust_respawn) = spawn_idle(&node, n).await?;
    let pids = Term::list(idle.pids.iter().cloned().map(Term::Pid).collect());
    beam.driver.send(
        ("sender", beam.a.as_str()),
        Term::tuple(vec![Term::atom("pids"), pids, me.clone()]),
    )?;
    beam.reply("ready").await?;
    let go = Term::tuple(vec![Term::atom("go"), me.clone()]);
    let t0 = Instant::now();
    beam.driver.send(("sender", beam.a.as_str()), go.clone())?;
    wait_count(&idle.done, n).await;
    let rust_remote = t0.elapsed();
    beam.reply("sent").await?;
    drop(idle);

    let beam_respawn = beam.time(spawn_request, "spawned").await?;
    let give = Term::tuple(vec![
        Term::atom("give_pids"),
        Term::tuple(vec![Term::atom("sender"), Term::atom(&beam.a)]),
        me.clone(),
    ]);
    beam.ask(give, "ready").await?;
    beam.driver.send(
        ("bench", beam.b.as_str()),
        Term::tuple(vec![Term::atom("wait_done"), me.clone()]),
    )?;
    let t0 = Instant::now();
    beam.driver.send(("sender", beam.a.as_str()), go)?;
    beam.reply("done").await?;
    let beam_remote = t0.elapsed();
    beam.reply("sent").await?;
    rows.push(Row {
        workload: format!("spawn {n} again (numbers reused)"),
        beam: beam_respawn,
        rust: rust_respawn,
        ops: n,
    });
    rows.push(Row {
        workload: format!("one message to each of {n} from an Erlang node (each then ends)"),
        beam: beam_remote,
        rust: rust_remote,
        ops: n,
    });

    // Registered-name lookups.
    let names: Vec<String> = (0..NAMES).map(|i| format!("bench_name_{i}")).collect();
    let holders: Vec<Process> = names
        .iter()
        .map(|name| {
            let p = node.spawn_process()?;
            p.register(name)?;
            Ok(p)
        })
        .collect::<Result<_, Error>>()?;
    for threads in [1, workers] {
        let rust = lookups_on_threads(&node, &names, lookups, threads).await?;
        let request = Term::tuple(vec![
            Term::atom("lookups"),
            Term::list(names.iter().map(|n| Term::charlist(n)).collect()),
            Term::Int(lookups as i64),
            Term::Int(threads as i64),
            me.clone(),
        ]);
        let beam_time = beam.time(request, "looked_up").await?;
        rows.push(Row {
            workload: format!("{lookups} `whereis` over {NAMES} names, {threads} thread(s)"),
            beam: beam_time,
            rust,
            ops: lookups,
        });
    }
    drop(holders);

    // Several threads spawning and sending at once.
    let rust = concurrent(&node, workers, n).await?;
    let request = Term::tuple(vec![
        Term::atom("concurrent"),
        Term::Int(workers as i64),
        Term::Int(n as i64),
        me.clone(),
    ]);
    let beam_time = beam.time(request, "concurrent").await?;
    rows.push(Row {
        workload: format!(
            "{workers} threads at once each spawn {} and message each",
            n / workers
        ),
        beam: beam_time,
        rust,
        ops: n,
    });

    println!();
    println!("| workload | BEAM | Rust | BEAM time / Rust time |");
    println!("|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} ({}) | {} ({}) | {:.2}x |",
            row.workload,
            ms(row.beam),
            rate(row.ops, row.beam),
            ms(row.rust),
            rate(row.ops, row.rust),
            row.beam.as_secs_f64() / row.rust.as_secs_f64().max(1e-9),
        );
    }
    println!(
        "| resident memory per idle process (with the spawner's list of pids) | {} B | {} B | {:.2}x |",
        beam_bytes,
        rust_bytes,
        beam_bytes as f64 / rust_bytes.max(1) as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
    node.shutdown().await;
    Ok(())
}

/// `lookups` `whereis` calls over `names`, split over `threads` OS threads.
async fn lookups_on_threads(
    node: &Node,
    names: &[String],
    lookups: usize,
    threads: usize,
) -> Result<Duration, Error> {
    let names: Arc<[String]> = names.into();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (node, names) = (node.clone(), Arc::clone(&names));
            std::thread::spawn(move || {
                (0..lookups / threads).all(|i| node.whereis(&names[i % names.len()]).is_some())
            })
        })
        .collect();
    for handle in handles {
        let found = tokio::task::spawn_blocking(move || handle.join())
            .await?
            .map_err(|_| "a lookup thread panicked")?;
        if !found {
            return Err("a registered name was not found".into());
        }
    }
    Ok(t0.elapsed())
}

/// `threads` OS threads at once each spawn `n / threads` idle processes
/// and send one message to each; the time until all are done.
async fn concurrent(node: &Node, threads: usize, n: usize) -> Result<Duration, Error> {
    let per_thread = n / threads;
    let runtime = tokio::runtime::Handle::current();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (node, runtime) = (node.clone(), runtime.clone());
            std::thread::spawn(move || -> Result<(), cnode::SendError> {
                let _guard = runtime.enter();
                let started = Arc::new(AtomicUsize::new(0));
                let done = Arc::new(AtomicUsize::new(0));
                let sender = node
                    .spawn_process()
                    .map_err(|_| cnode::SendError::Shutdown)?;
                let mut pids = Vec::with_capacity(per_thread);
                for _ in 0..per_thread {
                    let p = node
                        .spawn_process()
                        .map_err(|_| cnode::SendError::Shutdown)?;
                    pids.push(p.pid().clone());
                    idle(p, Arc::clone(&started), Arc::clone(&done));
                }
                for pid in &pids {
                    sender.send(pid, Term::atom("go"))?;
                }
                while done.load(Ordering::Acquire) < per_thread {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(())
            })
        })
        .collect();
    for handle in handles {
        tokio::task::spawn_blocking(move || handle.join())
            .await?
            .map_err(|_| "a spawning thread panicked")??;
    }
    Ok(t0.elapsed())
}
