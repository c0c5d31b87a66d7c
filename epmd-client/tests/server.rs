//! The client against the embedded server, and hostile clients against the
//! server, over loopback sockets.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use epmd_client::{
    ClientError, DumpState, EpmdClient, EpmdServer, KillReply, NodeInfo, NodeType, ServerHandle,
    StopReply,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(
    configure: impl FnOnce(epmd_client::EpmdServerBuilder) -> epmd_client::EpmdServerBuilder,
) -> (ServerHandle, EpmdClient) {
    let builder = EpmdServer::builder()
        .address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port(0);
    let server = configure(builder).bind().await.expect("binds");
    let client = EpmdClient::new("127.0.0.1", server.port()).with_timeout(Duration::from_secs(5));
    (server.spawn(), client)
}

fn node(name: &str, port: u16) -> NodeInfo {
    NodeInfo::new(name, port, NodeType::HIDDEN)
}

/// Polls until `names` lists exactly `expected` (registrations end
/// asynchronously when their connection closes).
async fn wait_for_names(client: &EpmdClient, expected: &[&str]) {
    for _ in 0..200 {
        let names = client.names().await.expect("names");
        let got: Vec<_> = names.nodes.iter().map(|n| n.name.as_str()).collect();
        if got == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "names never became {expected:?}: {:?}",
        client.names().await
    );
}

#[tokio::test]
async fn register_lookup_list_and_unregister_on_drop() {
    let (server, client) = start(|b| b).await;
    let reg = client
        .register(node("alpha", 4000))
        .await
        .expect("registers");
    assert!(reg.creation() >= 4);
    let mut extra = node("beta", 4001);
    extra.extra = b"xyz".to_vec();
    extra.lowest_version = 5;
    let reg_b = client.register(extra.clone()).await.expect("registers");

    assert_eq!(client.lookup("beta").await.expect("found"), extra);
    let names = client.names().await.expect("names");
    assert_eq!(names.epmd_port, u32::from(server.port()));
    assert_eq!(
        names.text(),
        "name beta at port 4001\nname alpha at port 4000\n"
    );
    let dump = client.dump().await.expect("dump");
    assert_eq!(dump.entries.len(), 2);
    assert!(dump.entries.iter().all(|e| e.state == DumpState::Active));

    match client.register(node("alpha", 4002)).await {
        Err(ClientError::NameTaken { name, .. }) => assert_eq!(name, "alpha"),
        other => panic!("expected NameTaken, got {other:?}"),
    }
    match client.lookup("gamma").await {
        Err(ClientError::UnknownNode { name, .. }) => assert_eq!(name, "gamma"),
        other => panic!("expected UnknownNode, got {other:?}"),
    }

    let first_creation = reg.creation();
    drop(reg);
    wait_for_names(&client, &["beta"]).await;
    let again = client
        .register(node("alpha", 4003))
        .await
        .expect("registers again");
    assert_ne!(again.creation(), first_creation);
    assert!(client
        .dump()
        .await
        .expect("dump")
        .entries
        .iter()
        .any(|e| e.state == DumpState::Active && e.name == "alpha"));
    reg_b.unregister();
    wait_for_names(&client, &["alpha"]).await;
    server.shutdown().await;
}

#[tokio::test]
async fn legacy_registration_gets_a_16_bit_creation() {
    let (_server, client) = start(|b| b).await;
    let mut old = node("old", 1);
    old.highest_version = 5;
    let reg = client.register(old).await.expect("registers");
    assert!(matches!(
        reg.reply(),
        epmd_client::Alive2Reply::Legacy { result: 0, .. }
    ));
    assert!((1..=3).contains(&reg.creation()));
}

#[tokio::test]
async fn kill_refused_with_nodes_then_accepted() {
    let (server, client) = start(|b| b).await;
    let mut reg = client.register(node("n", 1)).await.expect("registers");
    assert_eq!(client.kill().await.expect("replies"), KillReply::Refused);
    match client.stop("n").await {
        Err(ClientError::NoReply { .. }) => {}
        other => panic!("STOP without relaxed check must be refused, got {other:?}"),
    }
    drop(reg);
    wait_for_names(&client, &[]).await;
    reg = client.register(node("m", 1)).await.expect("registers");
    drop(reg);
    wait_for_names(&client, &[]).await;
    assert_eq!(client.kill().await.expect("replies"), KillReply::Killed);
    tokio::time::timeout(Duration::from_secs(5), server.stopped())
        .await
        .expect("server stops after KILL");
    assert!(matches!(
        client.names().await,
        Err(ClientError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn relaxed_stop_and_kill_end_registrations() {
    let (server, client) = start(|b| b.relaxed_command_check(true)).await;
    let mut a = client.register(node("a", 1)).await.expect("registers");
    let mut b = client.register(node("b", 2)).await.expect("registers");
    assert_eq!(client.stop("a").await.expect("replies"), StopReply::Stopped);
    tokio::time::timeout(Duration::from_secs(5), a.closed())
        .await
        .expect("stopped registration is closed by EPMD");
    assert_eq!(client.stop("a").await.expect("replies"), StopReply::NoExist);
    wait_for_names(&client, &["b"]).await;
    assert_eq!(client.kill().await.expect("replies"), KillReply::Killed);
    tokio::time::timeout(Duration::from_secs(5), b.closed())
        .await
        .expect("killed EPMD closes registrations");
    server.stopped().await;
}

#[tokio::test]
async fn epmd_down_and_timeout_errors() {
    // A port with nothing listening: bind, learn the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = EpmdClient::new("127.0.0.1", port);
    assert!(matches!(
        client.names().await,
        Err(ClientError::Unreachable { .. })
    ));
    assert!(matches!(
        client.register(node("x", 1)).await,
        Err(ClientError::Unreachable { .. })
    ));

    // A listener that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let client = EpmdClient::new("127.0.0.1", port).with_timeout(Duration::from_millis(200));
    assert!(matches!(
        client.lookup("x").await,
        Err(ClientError::Timeout { .. })
    ));
    assert!(matches!(
        client.register(node("x", 1)).await,
        Err(ClientError::Timeout { .. })
    ));
    hold.abort();
}

/// A fake EPMD that answers every connection with `reply` and closes.
async fn fake_epmd(reply: &'static [u8]) -> EpmdClient {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(reply).await;
        }
    });
    EpmdClient::new("127.0.0.1", port).with_timeout(Duration::from_secs(2))
}

#[tokio::test]
async fn malformed_and_truncated_replies_are_reported() {
    let truncated = fake_epmd(&[119, 0, 0x10]).await;
    match truncated.lookup("x").await {
        Err(ClientError::BadReply { source, .. }) => assert!(source.is_incomplete()),
        other => panic!("{other:?}"),
    }
    let garbage = fake_epmd(b"HTTP/1.1 400 Bad Request\r\n").await;
    assert!(matches!(
        garbage.lookup("x").await,
        Err(ClientError::BadReply { .. })
    ));
    assert!(matches!(
        garbage.register(node("x", 1)).await,
        Err(ClientError::BadReply { .. })
    ));
    let cut_alive = fake_epmd(&[118, 0, 0]).await;
    match cut_alive.register(node("x", 1)).await {
        Err(ClientError::BadReply { source, .. }) => assert!(source.is_incomplete()),
        other => panic!("{other:?}"),
    }
    let bad_names = fake_epmd(b"\0\0\x11\x11name x at port\n").await;
    assert!(matches!(
        bad_names.names().await,
        Err(ClientError::BadReply { .. })
    ));
    let big = fake_epmd(&[0; 4096]).await.with_max_reply_len(1024);
    assert!(matches!(
        big.names().await,
        Err(ClientError::ReplyTooLong { .. })
    ));
}

async fn connect(client: &EpmdClient) -> TcpStream {
    TcpStream::connect(("127.0.0.1", client.port()))
        .await
        .expect("connects")
}

/// Reads until the server closes the connection, returning what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out))
        .await
        .expect("server closes the connection")
        .map(|_| out)
        .unwrap_or_default()
}

#[tokio::test]
async fn hostile_requests_are_dropped_and_others_still_served() {
    let (_server, client) = start(|b| b.request_timeout(Duration::from_millis(300))).await;
    let _reg = client.register(node("victim", 7)).await.expect("registers");

    let hostile: &[&[u8]] = &[
        &[0, 1, 0xEE],            // unknown tag
        &[0, 0],                  // empty request
        &[0xFF, 0xFF, 120],       // oversized length
        &[0, 5, 120, 0, 1, 2, 3], // truncated ALIVE2 body
        &[0, 3, 122, 0xC3, 0x28], // invalid UTF-8 name
        &[0, 2, 110, 0],          // NAMES with a trailing byte
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    for bytes in hostile {
        let mut s = connect(&client).await;
        s.write_all(bytes).await.expect("writes");
        assert_eq!(read_until_closed(&mut s).await, b"", "request {bytes:?}");
    }

    // Slowloris: one byte, then nothing. Dropped after the request timeout,
    // while others are served meanwhile.
    let mut slow = connect(&client).await;
    slow.write_all(&[0]).await.expect("writes");
    assert_eq!(client.lookup("victim").await.expect("served").port, 7);
    let started = std::time::Instant::now();
    assert_eq!(read_until_closed(&mut slow).await, b"");
    assert!(started.elapsed() < Duration::from_secs(3));

    // Data on a registration connection ends the registration, as in OTP.
    let mut reg_conn = connect(&client).await;
    let mut frame = Vec::new();
    epmd_client::Request::Alive2(node("chatty", 9))
        .encode_frame(&mut frame)
        .expect("encodes");
    reg_conn.write_all(&frame).await.expect("writes");
    let mut reply = [0u8; 6];
    reg_conn.read_exact(&mut reply).await.expect("reply");
    assert_eq!(reply[..2], [118, 0]);
    wait_for_names(&client, &["chatty", "victim"]).await;
    reg_conn.write_all(&[0, 1, 110]).await.expect("writes");
    assert_eq!(read_until_closed(&mut reg_conn).await, b"");
    wait_for_names(&client, &["victim"]).await;
}

#[tokio::test]
async fn connection_flood_beyond_the_bound_does_not_starve_registrations() {
    let (_server, client) = start(|b| {
        b.max_connections(8)
            .request_timeout(Duration::from_secs(30))
    })
    .await;
    let reg = client
        .register(node("steady", 11))
        .await
        .expect("registers");
    // The registration holds one slot; 7 idle connections take the rest and
    // the 13 beyond the bound are closed at once.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(connect(&client).await);
    }
    let mut closed = 0;
    for s in &mut idle {
        let mut b = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(300), s.read(&mut b)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 13);
    // While the flood holds every slot, new clients are turned away...
    assert!(matches!(
        client.lookup("steady").await,
        Err(ClientError::NoReply { .. } | ClientError::Io { .. })
    ));
    // ...and served again as soon as it goes away; the registration survived.
    drop(idle);
    let mut served = None;
    for _ in 0..100 {
        if let Ok(node) = client.lookup("steady").await {
            served = Some(node);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(served.map(|n| n.port), Some(11));
    wait_for_names(&client, &["steady"]).await;
    drop(reg);
    wait_for_names(&client, &[]).await;
}

#[tokio::test]
async fn spawn_unless_running_starts_exactly_one_server() {
    let builder = |port| {
        EpmdServer::builder()
            .address(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .port(port)
    };
    // A port free a moment ago; if another socket takes it before the
    // server binds it (bind fails, or something else answers there), the
    // server starts on another one.
    let mut attempts = 0;
    let (port, first) = loop {
        attempts += 1;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        match builder(port).spawn_unless_running().await {
            Ok(Some(first)) => break (port, first),
            other => assert!(attempts < 5, "port {port}: {other:?}"),
        }
    };
    assert!(builder(port)
        .spawn_unless_running()
        .await
        .expect("no error")
        .is_none());
    let client = EpmdClient::new("127.0.0.1", port);
    let _reg = client
        .register(node("embedded", 3))
        .await
        .expect("registers");
    assert_eq!(client.lookup("embedded").await.expect("found").port, 3);
    first.shutdown().await;
    assert!(matches!(
        client.names().await,
        Err(ClientError::Unreachable { .. })
    ));
}
