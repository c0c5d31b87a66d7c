//! A driver for measuring what receiving large messages costs the connected
//! phase, set apart from the socket and the runtime: `N` messages of
//! `{msg, <<1 MiB>>}`, framed and cut into fragments as OTP sends them
//! (64 KiB), are fed to a connection the way `cnode`'s connection task feeds
//! it: each "read" copies up to 256 KiB of the stream into the buffer the
//! connection hands back, behind the unfinished frame. Each message is
//! dropped once decoded, as a process that is done with it would. Prints
//! the time and the minor page faults per message; run under callgrind
//! with `N` and with 0, the difference divided by `N` is the instructions
//! per message.
//!
//!   cargo run --release -p dist-proto --example recv_large -- N

use std::time::Instant;

use bytes::BytesMut;
use dist_proto::{Connection, ConnectionConfig, ConnectionEvent, ControlMessage, DistFlags};
use etf::{Atom, Pid, Term};

/// What one socket read brings at most (`cnode`'s `READ_SIZE`).
const READ_SIZE: usize = 256 * 1024;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("usage: recv_large N");
    let now = Instant::now();
    let flags = DistFlags::default_hidden();
    let config = ConnectionConfig {
        fragment_size: 64 * 1024,
        ..ConnectionConfig::default()
    };
    let mut sender = Connection::new(flags, config.clone(), now);
    let mut receiver = Connection::new(flags, ConnectionConfig::default(), now);
    let control = ControlMessage::RegSend {
        from: Pid {
            node: Atom::new("a@localhost"),
            id: 90,
            serial: 0,
            creation: 1_700_000_000,
        },
        to: Atom::new("sink"),
        token: None,
    };
    let payload = Term::tuple(vec![Term::atom("msg"), Term::binary(vec![7u8; 1 << 20])]);
    // The stream of one message, as it arrives: the same bytes each time.
    let mut stream = Vec::new();
    sender.send(&control, Some(&payload)).expect("send");
    while sender.wants_transmit() {
        sender.poll_transmit(&mut stream);
    }
    let faults = minor_faults();
    let start = Instant::now();
    let mut buf = BytesMut::new();
    let mut messages = 0;
    for _ in 0..n {
        for chunk in stream.chunks(READ_SIZE) {
            if buf.capacity() - buf.len() < READ_SIZE / 4 {
                buf.reserve(READ_SIZE);
            }
            buf.extend_from_slice(chunk);
            receiver
                .handle_input_buf(std::mem::take(&mut buf), now)
                .expect("receive");
            buf = receiver.take_input_buffer();
            while let Some(event) = receiver.poll_event() {
                if let ConnectionEvent::Message { .. } = event {
                    messages += 1;
                }
            }
        }
    }
    assert_eq!(messages, n);
    if n > 0 {
        let per = |x: f64| x / n as f64;
        println!(
            "{n} x 1 MiB: {:.1} us and {:.1} minor page faults per message",
            per(start.elapsed().as_secs_f64() * 1e6),
            per((minor_faults() - faults) as f64),
        );
    }
}

/// The process's minor page faults so far (Linux; 0 elsewhere).
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // After the command name's closing parenthesis: field 10 is
            // the 8th field.
            let rest = &stat[stat.rfind(')')? + 2..];
            rest.split(' ').nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}
