//! A hostile peer loses its own connection and nothing else: while clients
//! send garbage, stall in the handshake, announce a 4 GiB frame, send an
//! unknown frame type and flood ticks at our node, a real `erl` connected to
//! it keeps being served, and only the hostile connections are dropped.
//!
//! One OTP release is enough here (the attacks come from this test, not
//! from `erl`); the test has its own `epmd` on a free port and unique node
//! names, and kills every process it starts on drop.

use std::time::{Duration, Instant};

use dist_proto::handshake::{Cookie, HandshakeConfig};
use dist_proto::{Initiator, InitiatorEvent};
use epmd_client::EpmdClient;
use etf::Term;
use interop_tests::local::{loopback_node, unique_name, Epmd, ErlNode};
use interop_tests::Otp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const COOKIE: &str = "hostile_peer_cookie";
const WAIT: Duration = Duration::from_secs(20);
/// Our node's limit for each handshake step, short so stalls end soon.
const SETUP_TIME: Duration = Duration::from_secs(2);

/// The connecting side of a complete handshake with our node, as a peer
/// named `me` that knows the cookie.
async fn handshake(port: u16, node: &str, me: &str) -> TcpStream {
    let mut sock = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut a = Initiator::new(
        HandshakeConfig::new(me, 1),
        node,
        Cookie::new(COOKIE),
        0x1234_5678,
        Instant::now(),
    );
    let mut buf = vec![0u8; 4096];
    loop {
        let mut out = Vec::new();
        a.poll_transmit(&mut out);
        sock.write_all(&out).await.expect("write");
        while let Some(event) = a.poll_event() {
            match event {
                InitiatorEvent::Established(_) => return sock,
                InitiatorEvent::AliveQuery => a.answer_alive(true, Instant::now()).expect("alive"),
            }
        }
        let n = timeout(WAIT, sock.read(&mut buf))
            .await
            .expect("handshake step in time")
            .expect("read");
        assert!(n > 0, "{me}: our node closed the handshake");
        a.handle_input(&buf[..n], Instant::now())
            .expect("handshake");
    }
}

/// Whether the peer closes `sock` within `within` (what it writes before,
/// such as ticks or a status, is skipped).
async fn closed_within(sock: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = vec![0u8; 65536];
    loop {
        match tokio::time::timeout_at(deadline, sock.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn attack_with_bytes(port: u16, bytes: &'static [u8], within: Duration, what: &str) {
    let mut sock = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    sock.write_all(bytes).await.expect("write");
    assert!(closed_within(&mut sock, within).await, "{what}: not closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_lose_their_own_connections_and_erl_is_still_served() {
    let otp = Otp::v28();
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();

    // Our node listens on a port of the system's choosing (a port picked
    // beforehand could be taken before the node binds it); EPMD tells the
    // attackers where, as it tells any peer.
    let alive = unique_name("hostile_target", &otp);
    let node = loopback_node(alive.clone(), COOKIE, epmd_port)
        .setup_time(SETUP_TIME)
        .start()
        .await
        .expect("our node starts");
    let listen_port = EpmdClient::new("127.0.0.1", epmd_port)
        .lookup(&alive)
        .await
        .expect("our node is registered")
        .port;

    // A real erl connects to us and runs an echo process.
    let erl_short = unique_name("hostile_erl", &otp);
    let eval = format!(
        "register(echo, spawn(fun Loop() -> receive {{From, Msg}} -> From ! {{echo, Msg}}, Loop() end end)),
         pong = net_adm:ping('{}'),
         io:format(\"ready~n\").",
        node.name()
    );
    let mut erl = ErlNode::builder(&otp, &erl_short)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(&eval)
        .start()
        .expect("erl starts");
    erl.wait_for_line("ready").await.expect("erl output");
    let erl_name = node
        .nodes()
        .into_iter()
        .find(|n| n.starts_with(&erl_short))
        .expect("erl is connected");

    // The attacks, all at once.
    let name = node.name().to_owned();
    let attacks = tokio::spawn(async move {
        let port = listen_port;
        let garbage = attack_with_bytes(port, b"\x00\x03X\x01\x02", WAIT, "unknown handshake tag");
        let http = attack_with_bytes(
            port,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            SETUP_TIME * 3,
            "HTTP request",
        );
        let silent = attack_with_bytes(port, b"", SETUP_TIME * 3, "silent peer");
        let oversized = async {
            let mut sock = handshake(
                port,
                &name,
                &format!("{}@127.0.0.1", unique_name("hostile_big", &otp)),
            )
            .await;
            sock.write_all(&[0xff, 0xff, 0xff, 0xff, 0])
                .await
                .expect("write");
            assert!(
                closed_within(&mut sock, WAIT).await,
                "4 GiB frame: not closed"
            );
        };
        let unknown = async {
            let mut sock = handshake(
                port,
                &name,
                &format!("{}@127.0.0.1", unique_name("hostile_unknown", &otp)),
            )
            .await;
            sock.write_all(&[0, 0, 0, 3, 1, 2, 3]).await.expect("write");
            assert!(
                closed_within(&mut sock, WAIT).await,
                "unknown frame: not closed"
            );
        };
        let flood = async {
            let mut sock = handshake(
                port,
                &name,
                &format!("{}@127.0.0.1", unique_name("hostile_ticks", &otp)),
            )
            .await;
            let ticks = vec![0u8; 4 << 20];
            // The node may keep or drop a peer that only ticks; either way
            // the flood must not disturb anyone else.
            let _ = sock.write_all(&ticks).await;
            sock
        };
        let ((), (), (), (), (), flooded) =
            tokio::join!(garbage, http, silent, oversized, unknown, flood);
        flooded
    });

    // Meanwhile erl is served: pings and echo round trips over its link.
    let mut me = node.spawn_process().expect("spawn");
    let own_pid = Term::Pid(me.pid().clone());
    let mut round = 0;
    while !attacks.is_finished() || round < 20 {
        node.ping(&erl_name).await.expect("pong during the attacks");
        let msg = Term::Int(round);
        me.send(
            ("echo", erl_name.as_str()),
            Term::tuple(vec![own_pid.clone(), msg.clone()]),
        )
        .expect("send");
        let reply = me
            .recv_timeout(WAIT)
            .await
            .expect("echo during the attacks");
        assert_eq!(reply.payload, Term::tuple(vec![Term::atom("echo"), msg]));
        round += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let flooded = attacks.await.expect("every attack ended as expected");
    drop(flooded);

    // Only the hostile connections are gone; erl's link is the one it made.
    let start = Instant::now();
    while node.nodes() != vec![erl_name.clone()] {
        assert!(
            start.elapsed() < WAIT,
            "connections left: {:?}",
            node.nodes()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node.ping(&erl_name).await.expect("pong after the attacks");
    node.shutdown().await;
}
