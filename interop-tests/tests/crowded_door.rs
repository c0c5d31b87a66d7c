//! Strangers at the door (issue 15): 500 TCP connections to our node that
//! send one byte and stop must not keep a real `erl` from connecting: its
//! `net_adm:ping` answers `pong` well within the setup time, and our node
//! holds no more of those sockets than its limits on unauthenticated
//! connections allow.
//!
//! Two floods: from one address (127.0.0.1, which `erl` shares: the limit
//! per address closes the oldest strangers, and the newcomer gets in), and
//! from 100 addresses of 127.0.0.0/8 against a node whose overall limit is
//! lower than the flood (the oldest of all give way).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use epmd_client::EpmdClient;
use interop_tests::local::{loopback_node, unique_name, Epmd, ErlNode};
use interop_tests::tls::TlsFiles;
use interop_tests::Otp;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

interop_tests::per_release!(async from_one_address, from_many_addresses);
interop_tests::per_release_with_ssl!(stalled_tls_handshakes);

const COOKIE: &str = "crowded_door_cookie";
/// Half-open connections in each flood.
const FLOOD: usize = 500;
/// The overall limit of the node flooded from many addresses.
const TOTAL_LIMIT: usize = 300;
/// What `erl` may take to ping: half the setup time (7 s), with room for
/// a busy machine; a ping on loopback takes milliseconds. Before the fix,
/// 500 silent connections held it at the door for a whole setup time.
const PING_LIMIT: Duration = Duration::from_millis(3500);

/// What a stranger sends before it stops: the first byte of a handshake
/// frame's length over TCP.
const TCP_START: &[u8] = &[0];
/// The start of a TLS record carrying a ClientHello.
const TLS_START: &[u8] = &[0x16, 0x03, 0x01];

async fn from_one_address(otp: Otp) {
    let sources = [Ipv4Addr::LOCALHOST];
    let limit = cnode::DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE;
    run(otp, &sources, |b| b, limit, &Door::Tcp).await;
}

/// 500 TLS handshakes that stall after their first bytes, at a node
/// running TLS distribution, while a TLS `erl` connects.
async fn stalled_tls_handshakes(otp: Otp) {
    let dir = interop_tests::local::TempDir::new("crowded_tls");
    let files = TlsFiles::generate(dir.path(), "crowded").expect("certificates");
    let optfile = files
        .write_optfile(&dir.path().join("dist.conf"), &[])
        .expect("optfile");
    let tls = cnode::TlsConfig::from_optfile(&optfile).expect("optfile reads");
    let sources = [Ipv4Addr::LOCALHOST];
    let limit = cnode::DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE;
    run(otp, &sources, |b| b.tls(tls), limit, &Door::Tls(optfile)).await;
}

/// How the node is reached: plain TCP, or TLS with this optfile.
enum Door {
    Tcp,
    Tls(std::path::PathBuf),
}

impl Door {
    fn start_bytes(&self) -> &'static [u8] {
        match self {
            Door::Tcp => TCP_START,
            Door::Tls(_) => TLS_START,
        }
    }

    fn erl_args(&self) -> Vec<String> {
        match self {
            Door::Tcp => Vec::new(),
            Door::Tls(optfile) => vec![
                "-proto_dist".to_owned(),
                "inet_tls".to_owned(),
                "-ssl_dist_optfile".to_owned(),
                optfile.display().to_string(),
            ],
        }
    }
}

async fn from_many_addresses(otp: Otp) {
    let sources: Vec<Ipv4Addr> = (2..102).map(|n| Ipv4Addr::new(127, 0, 0, n)).collect();
    run(
        otp,
        &sources,
        |b| b.max_unauthenticated(TOTAL_LIMIT),
        TOTAL_LIMIT,
        &Door::Tcp,
    )
    .await;
}

/// Floods a node (set up by `adjust`) with [`FLOOD`] half-open connections
/// from `sources` in turn, then lets `erl` ping it; the node must hold at
/// most `held` of the strangers' sockets.
async fn run(
    otp: Otp,
    sources: &[Ipv4Addr],
    adjust: impl FnOnce(cnode::NodeBuilder) -> cnode::NodeBuilder,
    held: usize,
    door: &Door,
) {
    raise_open_files_limit();
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let alive = unique_name("crowded", &otp);
    let node = adjust(loopback_node(alive.clone(), COOKIE, epmd.port()))
        .start()
        .await
        .expect("our node starts");
    let port = EpmdClient::new("127.0.0.1", epmd.port())
        .lookup(&alive)
        .await
        .expect("our node is registered")
        .port;

    // The node's sockets, sampled until the end: an evicted
    // stranger's socket is closed when its task next runs, so the count may
    // pass the limit for a moment, never by much.
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(node_sockets(port).len(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut strangers = Vec::with_capacity(FLOOD);
    for n in 0..FLOOD {
        let source = sources[n % sources.len()];
        strangers.push(half_open(source, port, door.start_bytes()).await);
    }
    let flooded = settled(port, held).await;
    let process_fds = open_fds().len();

    // A real node connects through the crowd.
    let erl_short = unique_name("crowded_erl", &otp);
    let eval = format!(
        "T0 = erlang:monotonic_time(microsecond),
         R = net_adm:ping('{}'),
         T1 = erlang:monotonic_time(microsecond),
         io:format(\"ping ~p ~p~n\", [R, T1 - T0]).",
        node.name()
    );
    let erl_args = door.erl_args();
    let erl_args: Vec<&str> = erl_args.iter().map(String::as_str).collect();
    let mut erl = ErlNode::builder(&otp, &erl_short)
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .args(&erl_args)
        .eval(&eval)
        .start()
        .expect("erl starts");
    let line = loop {
        let line = erl.next_line().await.expect("erl output");
        if line.starts_with("ping ") {
            break line;
        }
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.get(1), Some(&"pong"), "{line}");
    let micros: u64 = fields[2].parse().expect("a time");
    let took = Duration::from_micros(micros);
    assert!(took < PING_LIMIT, "ping took {took:?}");

    // Our node reaches erl too, and still holds no more than its limit
    // (the strangers plus erl's connection).
    let erl_name = node
        .nodes()
        .into_iter()
        .find(|n| n.starts_with(&erl_short))
        .expect("erl is connected");
    let start = Instant::now();
    node.ping(&erl_name).await.expect("pong");
    let back = start.elapsed();
    let after = settled(port, held + 1).await;
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed);
    assert!(
        peak < 2 * held,
        "{peak} sockets held at the peak, limit {held}"
    );
    eprintln!(
        "{otp:?} from {} address(es): {FLOOD} half-open; node holds {flooded} \
         (limit {held}, peak {peak}), {after} with erl; the test process's fds {process_fds} \
         (all tests running at once, with our client ends); erl ping {took:?}, ours {back:?}",
        sources.len()
    );
    drop(strangers);
    node.shutdown().await;
}

/// Waits until the node holds at most `limit` sockets on `port`; how many
/// it holds then. Fails if it does not come down within 2 s.
async fn settled(port: u16, limit: usize) -> usize {
    let start = Instant::now();
    loop {
        let held = node_sockets(port).len();
        if held <= limit {
            return held;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{held} sockets held, limit {limit}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A connection from `source` to `port` on 127.0.0.1 that sends `start`
/// (the start of a handshake frame's length, or of a TLS record) and
/// stops.
async fn half_open(source: Ipv4Addr, port: u16, start: &[u8]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(source), 0))
        .expect("bind a loopback address");
    let mut stream = socket
        .connect(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
        .await
        .expect("connect");
    stream.write_all(start).await.expect("the first bytes");
    stream
}

/// Lifts this process's soft limit on open files to its hard limit: the
/// test holds both ends of every connection.
fn raise_open_files_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        setrlimit(Resource::Nofile, raised).expect("raise RLIMIT_NOFILE");
    }
}

/// The socket inodes of this process's open descriptors.
fn open_fds() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .collect()
}

/// The connected sockets this process holds open whose local address is
/// 127.0.0.1:`port`: the node's ends of accepted connections (the
/// listening socket is left out, and so are our client ends, bound to
/// other ports or to other addresses of 127.0.0.0/8, where the same port
/// number may come up again).
fn node_sockets(port: u16) -> Vec<u64> {
    let open: HashSet<u64> = open_fds()
        .iter()
        .filter_map(|target| {
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    // As /proc/net/tcp writes it: the address in the host's byte order.
    let local = format!(
        "{:08X}:{port:04X}",
        u32::from_ne_bytes(Ipv4Addr::LOCALHOST.octets())
    );
    let text = std::fs::read_to_string("/proc/self/net/tcp").expect("/proc/self/net/tcp");
    let mut found = Vec::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(address), Some(state), Some(inode)) =
            (fields.get(1), fields.get(3), fields.get(9))
        else {
            continue;
        };
        let inode: u64 = inode.parse().unwrap_or(0);
        // 0A: listening.
        if *address == local && *state != "0A" && open.contains(&inode) {
            found.push(inode);
        }
    }
    found
}
