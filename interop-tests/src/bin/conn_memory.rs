//! What an idle connection costs our node: one node (this process) connects
//! to N of our nodes, each a child process of this binary, over loopback
//! with our EPMD (another child). It reports, per connection, the growth of this
//! process's resident memory right after the connections come up, and
//! again after an idle tick check (when the driver lets an empty read
//! buffer go). It exits with every connection still up, so that under
//! `valgrind --tool=dhat` the blocks live at the end are what the node
//! holds for its connections (DHAT's "At t-end"), by allocation site.
//!
//!   cargo run --release -p interop-tests --bin conn_memory -- [--nodes N] [--ticktime S] [--one-by-one]
//!
//! The connects run all at once (as in `scripts/bench-peers.sh`), or one
//! after the other with `--one-by-one`: at once, each resolves its host
//! name on a blocking thread of the runtime, and the threads' stacks and
//! malloc arenas stay resident after they end.
//!
//! No `erl` is needed.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use interop_tests::local::{in_process_epmd, loopback_node, unique_label};

type Error = Box<dyn std::error::Error + Send + Sync>;

const COOKIE: &str = "conn_memory";

/// This process's resident memory and threads.
#[derive(Clone, Copy)]
struct Usage {
    rss: usize,
    threads: usize,
}

fn usage() -> Usage {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .unwrap_or(0)
    };
    Usage {
        rss: field("VmRSS:") * 1024,
        threads: field("Threads:"),
    }
}

fn report(what: &str, before: Usage, after: Usage, nodes: usize) {
    println!(
        "{what}: RSS growth per connection {:.1} KiB, threads {:+}",
        (after.rss as f64 - before.rss as f64) / nodes as f64 / 1024.0,
        after.threads as isize - before.threads as isize
    );
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("peer") => return peer(&args[2], args[3].parse()?, args[4].parse()?),
        Some("epmd") => return epmd(),
        _ => {}
    }
    let mut nodes = 30;
    let mut ticktime = 60;
    let mut one_by_one = false;
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--nodes" => nodes = it.next().ok_or("--nodes N")?.parse()?,
            "--ticktime" => ticktime = it.next().ok_or("--ticktime S")?.parse()?,
            "--one-by-one" => one_by_one = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(hub(nodes, ticktime, one_by_one))
}

/// A child: one node that waits until its stdin closes.
fn peer(name: &str, epmd_port: u16, ticktime: u64) -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let _node = loopback_node(name, COOKIE, epmd_port)
                .net_ticktime(Duration::from_secs(ticktime))
                .start()
                .await?;
            println!("ready");
            wait_for_stdin_end().await
        })
}

/// A child: our EPMD, in a process of its own so that what it keeps per
/// registered node is not counted; prints its port, then waits until its
/// stdin closes.
fn epmd() -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let epmd = in_process_epmd().await?;
            println!("{}", epmd.port());
            wait_for_stdin_end().await
        })
}

async fn wait_for_stdin_end() -> Result<(), Error> {
    tokio::task::spawn_blocking(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    })
    .await?;
    Ok(())
}

/// Starts this binary with `args`, and returns it with its first line.
fn child(args: &[&str]) -> Result<(Child, String), Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    Ok((child, line.trim().to_owned()))
}

/// Kills the children when dropped.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn hub(nodes: usize, ticktime: u64, one_by_one: bool) -> Result<(), Error> {
    let mut children = Children(Vec::new());
    let (epmd, port) = child(&["epmd"])?;
    children.0.push(epmd);
    let names: Vec<String> = (0..nodes)
        .map(|i| format!("{}@localhost", unique_label(&format!("mem_peer{i}"))))
        .collect();
    for name in &names {
        let (peer, line) = child(&["peer", name, &port, &ticktime.to_string()])?;
        children.0.push(peer);
        if line != "ready" {
            return Err(format!("peer said {line:?}").into());
        }
    }
    let port: u16 = port.parse()?;
    let tick = Duration::from_secs(ticktime);
    let node = loopback_node(
        format!("{}@localhost", unique_label("mem_hub")),
        COOKIE,
        port,
    )
    .net_ticktime(tick)
    .start()
    .await?;
    // One connection first, so that what every later one shares (code
    // paths' lazily made statics, the runtime's first tasks) is not counted.
    node.connect(&names[0]).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = usage();
    let mut connects = tokio::task::JoinSet::new();
    for name in &names[1..] {
        let (node, name) = (node.clone(), name.clone());
        if one_by_one {
            node.connect(&name).await?;
        } else {
            connects.spawn(async move { node.connect(&name).await });
        }
    }
    while let Some(connected) = connects.join_next().await {
        connected??;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let connected = usage();
    let measured = nodes - 1;
    println!("{measured} connections measured (ticktime {ticktime} s)");
    report("connected", before, connected, measured);
    // The driver checks ticks every quarter of the tick time.
    tokio::time::sleep(tick / 4 + Duration::from_secs(1)).await;
    report("after an idle tick check", before, usage(), measured);
    // The runtime's blocking threads (name look-ups of the connects) end
    // after 10 s without work.
    tokio::time::sleep(Duration::from_secs(11)).await;
    report("11 s later", before, usage(), measured);
    // Out without freeing anything, so that a heap profiler run on this
    // process (`valgrind --tool=dhat`) sees the connections' blocks as
    // live at the end; the children see their stdin close and end.
    std::process::exit(0)
}
