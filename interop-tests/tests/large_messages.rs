//! A 256 MiB binary between our node and a real `erl` (OTP 25, 27, 28 and 29),
//! both ways, with `net_ticktime` at 2 s on both sides, while another
//! process keeps a ping loop going over the same connection.
//!
//! What it proves: the message arrives intact (fragmented both ways: a
//! single 256 MiB frame is over our frame limit, so it must come in
//! fragments), the connection survives, and small messages keep flowing
//! *during* the transfer: a sender that wrote the huge message in one go
//! would hold every ping behind it, and no ping would complete while it is
//! in flight. The latencies seen are printed (see BENCHMARKS.md).
//!
//! Each test has its own `epmd` on a free port and unique node names; every
//! OS process started is killed on drop.

use std::time::{Duration, Instant};

use bytes::Bytes;
use cnode::{Node, NodeEvent, NodeEvents, Process};
use etf::Term;
use interop_tests::local::{loopback_node, short_host, unique_name, Epmd, ErlNode, ErlProcess};
use interop_tests::Otp;
use tokio::sync::watch;

const COOKIE: &str = "large_messages_cookie";
/// `net_ticktime` on both sides: a peer silent for about 2 s is dropped.
const TICK_TIME: Duration = Duration::from_secs(2);
/// The size of the big binary.
const BIG: usize = 256 << 20;
/// The 8-byte pattern the binary repeats, so either side can check it.
const PATTERN: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
/// Pings that must complete while the big message is in flight.
const MIN_PINGS_DURING: usize = 3;
const WAIT: Duration = Duration::from_secs(60);

interop_tests::per_release!(
    async rust_sends_256_mib_to_erl_while_pings_flow,
    erl_sends_256_mib_to_rust_while_pings_flow,
);

/// The Erlang side: `echo` answers `{From, Msg}` with `{echo, Msg}`; `sink`
/// answers `{From, Bin}` with `{got, Size}` at once, then with
/// `{same, IsThePattern}` after checking it; `source`, told
/// `{From, send, Size}`, builds the binary, then sends `sending` and
/// `{big, Bin}` to From.
const ERL_SIDE: &str = "
    Pat = <<1,2,3,4,5,6,7,8>>,
    register(echo, spawn(fun Loop() -> receive {From, Msg} -> From ! {echo, Msg}, Loop() end end)),
    register(sink, spawn(fun Loop() ->
        receive {From, Bin} when is_binary(Bin) ->
            From ! {got, byte_size(Bin)},
            From ! {same, Bin =:= binary:copy(Pat, byte_size(Bin) div 8)},
            Loop()
        end end)),
    register(source, spawn(fun Loop() ->
        receive {From, send, Size} ->
            Big = binary:copy(Pat, Size div 8),
            From ! sending, From ! {big, Big}, Loop()
        end end)),
    io:format(\"ready~n\").";

/// A test's world: its epmd, the erl node, our node connected to it.
struct World {
    _epmd: Epmd,
    _erl: ErlProcess,
    erl_name: String,
    node: Node,
    events: NodeEvents,
}

async fn world(otp: &Otp) -> World {
    let epmd = Epmd::start(otp).await.expect("epmd starts");
    let name = unique_name("big", otp);
    let mut erl = ErlNode::builder(otp, &name)
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .tick_time(TICK_TIME)
        .eval(ERL_SIDE)
        .start()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").await.expect("erl is ready");
    let node = loopback_node(unique_name("rust", otp), COOKIE, epmd.port())
        .net_ticktime(TICK_TIME)
        .start()
        .await
        .expect("our node starts");
    let events = node.events();
    let erl_name = format!("{name}@{}", short_host().expect("host name"));
    node.ping(&erl_name).await.expect("pong");
    World {
        _epmd: epmd,
        _erl: erl,
        erl_name,
        node,
        events,
    }
}

/// One round trip of the ping loop: when it was sent and how long it took.
#[derive(Clone, Copy, Debug)]
struct Ping {
    sent: Instant,
    rtt: Duration,
}

/// Runs a ping loop against erl's `echo` from a process of its own until
/// `stop` turns true; returns every round trip.
fn ping_loop(
    mut me: Process,
    erl_name: String,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Vec<Ping>> {
    tokio::spawn(async move {
        let own = Term::Pid(me.pid().clone());
        let mut pings = Vec::new();
        let mut n: i64 = 0;
        while !*stop.borrow_and_update() {
            n += 1;
            let sent = Instant::now();
            me.send(
                ("echo", erl_name.as_str()),
                Term::tuple(vec![own.clone(), Term::Int(n)]),
            )
            .expect("ping");
            let reply = tokio::select! {
                reply = me.recv_timeout(WAIT) => reply.expect("a pong"),
                _ = stop.changed() => break,
            };
            assert_eq!(
                reply.payload,
                Term::tuple(vec![Term::atom("echo"), Term::Int(n)])
            );
            pings.push(Ping {
                sent,
                rtt: sent.elapsed(),
            });
        }
        pings
    })
}

/// The pings sent inside `[start, end]` and a summary line for them.
fn report(label: &str, pings: &[Ping], start: Instant, end: Instant) -> usize {
    let mut during: Vec<Duration> = pings
        .iter()
        .filter(|p| p.sent >= start && p.sent + p.rtt <= end)
        .map(|p| p.rtt)
        .collect();
    during.sort();
    let secs = (end - start).as_secs_f64();
    let pct = |q: f64| {
        let i = ((during.len() as f64 - 1.0) * q).round() as usize;
        during.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{label}: 256 MiB in {secs:.2} s ({:.0} MB/s); {} pings during it, rtt p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        BIG as f64 / secs / 1e6,
        during.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
    during.len()
}

/// `len / 8` copies of the pattern.
fn pattern(len: usize) -> Bytes {
    Bytes::from(PATTERN.repeat(len / PATTERN.len()))
}

/// No nodedown so far.
fn still_up(events: &mut NodeEvents) {
    while let Some(event) = events.try_recv() {
        assert!(
            !matches!(event, NodeEvent::NodeDown { .. }),
            "the connection dropped: {event:?}"
        );
    }
}

async fn rust_sends_256_mib_to_erl_while_pings_flow(otp: Otp) {
    let mut w = world(&otp).await;
    let (stop_tx, stop) = watch::channel(false);
    let pinger = ping_loop(
        w.node.spawn_process().expect("spawn"),
        w.erl_name.clone(),
        stop,
    );
    // Let the loop run a little before the transfer starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut me = w.node.spawn_process().expect("spawn");
    let big = Term::binary(pattern(BIG));
    let start = Instant::now();
    me.send(
        ("sink", w.erl_name.as_str()),
        Term::tuple(vec![Term::Pid(me.pid().clone()), big]),
    )
    .expect("send the big binary");
    let got = me.recv_timeout(WAIT).await.expect("erl's receipt");
    let end = Instant::now();
    let same = me.recv_timeout(WAIT).await.expect("erl's check");
    stop_tx.send(true).expect("pinger alive");
    let pings = pinger.await.expect("pinger");
    assert_eq!(
        got.payload,
        Term::tuple(vec![Term::atom("got"), Term::from(BIG as u64)]),
        "OTP {}",
        otp.release
    );
    assert_eq!(
        same.payload,
        Term::tuple(vec![Term::atom("same"), Term::atom("true")]),
        "OTP {}: the binary's content changed",
        otp.release
    );
    let label = format!("OTP {} Rust->Erlang", otp.release);
    let during = report(&label, &pings, start, end);
    assert!(
        during >= MIN_PINGS_DURING,
        "{label}: only {during} pings completed during the transfer"
    );
    // Several tick periods went by, the link is still there and usable.
    still_up(&mut w.events);
    w.node
        .ping(&w.erl_name)
        .await
        .expect("pong after the transfer");
    assert_eq!(w.node.nodes(), vec![w.erl_name.clone()]);
}

async fn erl_sends_256_mib_to_rust_while_pings_flow(otp: Otp) {
    let mut w = world(&otp).await;
    let (stop_tx, stop) = watch::channel(false);
    let pinger = ping_loop(
        w.node.spawn_process().expect("spawn"),
        w.erl_name.clone(),
        stop,
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut me = w.node.spawn_process().expect("spawn");
    me.send(
        ("source", w.erl_name.as_str()),
        Term::tuple(vec![
            Term::Pid(me.pid().clone()),
            Term::atom("send"),
            Term::from(BIG as u64),
        ]),
    )
    .expect("ask for the big binary");
    let sending = me.recv_timeout(WAIT).await.expect("sending");
    assert_eq!(sending.payload, Term::atom("sending"));
    let start = Instant::now();
    let big = me.recv_timeout(WAIT).await.expect("the big binary");
    let end = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop_tx.send(true).expect("pinger alive");
    let pings = pinger.await.expect("pinger");
    let fields = big.payload.as_tuple().expect("{big, Bin}");
    assert_eq!(fields.first(), Some(&Term::atom("big")));
    let Some(Term::Binary(bytes)) = fields.get(1) else {
        panic!("OTP {}: no binary in {:?}", otp.release, fields.first());
    };
    assert_eq!(bytes.len(), BIG, "OTP {}", otp.release);
    assert!(
        *bytes == pattern(BIG),
        "OTP {}: the binary's content changed",
        otp.release
    );
    let label = format!("OTP {} Erlang->Rust", otp.release);
    let during = report(&label, &pings, start, end);
    assert!(
        during >= MIN_PINGS_DURING,
        "{label}: only {during} pings completed during the transfer"
    );
    still_up(&mut w.events);
    w.node
        .ping(&w.erl_name)
        .await
        .expect("pong after the transfer");
}
