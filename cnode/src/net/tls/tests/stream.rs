//! The TLS stream over real loopback sockets: what one side writes, the
//! other reads back in order, whatever the room the reader offers.

use std::io::{self, IoSlice};
use std::time::Duration;

use bytes::BytesMut;
use std::future::poll_fn;
use tokio::net::{TcpListener, TcpStream};

use super::Pki;
use crate::net::tls::stream::TlsStream;
use crate::net::transport::Transport;

const LIMIT: Duration = Duration::from_secs(10);

/// A client and a server stream, connected over 127.0.0.1.
async fn pair(pki: &Pki) -> (TlsStream, TlsStream) {
    let (server, client) = (pki.mutual("node"), pki.mutual("peer"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let name = client.server_name("localhost").unwrap();
    let (accepted, dialed) = tokio::join!(
        async {
            let (tcp, _) = listener.accept().await.unwrap();
            TlsStream::accept(tcp, server.server_config().clone(), LIMIT).await
        },
        async {
            let tcp = TcpStream::connect(addr).await.unwrap();
            TlsStream::connect(tcp, client.client_config().clone(), name, LIMIT).await
        }
    );
    (dialed.unwrap(), accepted.unwrap())
}

/// Writes all of `bytes`, waiting for room.
async fn write_all(stream: &TlsStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match stream.try_write_vectored(&[IoSlice::new(bytes)]) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                poll_fn(|cx| stream.poll_write_ready(cx)).await.unwrap();
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    while stream.has_buffered_output() {
        poll_fn(|cx| stream.poll_write_ready(cx)).await.unwrap();
        stream.try_flush().or_else(would_block).unwrap();
    }
}

fn would_block(e: io::Error) -> io::Result<()> {
    match e.kind() {
        io::ErrorKind::WouldBlock => Ok(()),
        _ => Err(e),
    }
}

/// Reads until the end of the stream, offering `room` bytes a read.
async fn read_to_end(stream: &TlsStream, room: usize) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        poll_fn(|cx| stream.poll_read_ready(cx)).await.unwrap();
        let mut buf = BytesMut::with_capacity(room);
        match stream.try_read_buf(&mut buf) {
            Ok(0) => return all,
            Ok(n) => {
                assert_eq!(n, buf.len());
                assert!(n <= room, "read {n} into room for {room}");
                all.extend_from_slice(&buf);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// 1 MiB (many socket reads' worth), read with small and large rooms: a
/// room smaller than what one socket read decrypts keeps the rest of the
/// ciphertext for the next read, and nothing is lost or reordered.
#[tokio::test]
async fn what_is_written_is_read_in_order_whatever_the_room() {
    let pki = Pki::new();
    let sent: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    for room in [100, 16 * 1024 + 3, 256 * 1024] {
        let (client, server) = pair(&pki).await;
        let (_, received) = tokio::join!(
            async {
                write_all(&client, &sent).await;
                client.shutdown();
            },
            read_to_end(&server, room)
        );
        assert!(
            received == sent,
            "room {room}: {} bytes back",
            received.len()
        );
    }
}
