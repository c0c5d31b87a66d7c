//! A driver for counting what a message costs the connected phase: two
//! connections with our default flags (atom cache references and header
//! frames), one sending `N` messages to the other, in memory. Run under
//! callgrind with `N` and with 0 iterations, the difference divided by `N`
//! is the instructions per message, set-up left out.
//!
//!   cargo run --release -p dist-proto --example message_loop -- WORKLOAD MODE N
//!
//! WORKLOAD: `small` (`{msg, 1}` to a registered name, as the many-peers
//! benchmark sends) or `atoms` (a tuple of 40 distinct atoms). MODE:
//! `send` (encode and frame only) or `both` (then also the peer's decode).

use std::time::Instant;

use dist_proto::{Connection, ConnectionConfig, ControlMessage, DistFlags};
use etf::{Atom, Pid, Term};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (workload, mode, n) = match &args[1..] {
        [w, m, n] => (w.as_str(), m.as_str(), n.parse::<usize>().expect("N")),
        _ => panic!("usage: message_loop small|atoms send|both N"),
    };
    let payload = match workload {
        "small" => Term::tuple(vec![Term::atom("msg"), Term::Int(1)]),
        "atoms" => Term::tuple((0..40).map(|i| Term::atom(&format!("atom_{i}"))).collect()),
        other => panic!("unknown workload {other}"),
    };
    let receive = match mode {
        "send" => false,
        "both" => true,
        other => panic!("unknown mode {other}"),
    };
    let now = Instant::now();
    let flags = DistFlags::default_hidden();
    let mut sender = Connection::new(flags, ConnectionConfig::default(), now);
    let mut receiver = Connection::new(flags, ConnectionConfig::default(), now);
    let control = ControlMessage::RegSend {
        from: Pid {
            node: Atom::new("rust_peers@localhost"),
            id: 90,
            serial: 0,
            creation: 1_700_000_000,
        },
        to: Atom::new("sink"),
        token: None,
    };
    let mut out = Vec::new();
    let mut events = 0;
    for _ in 0..n {
        sender.send(&control, Some(&payload)).expect("send");
        out.clear();
        sender.poll_transmit(&mut out);
        if receive {
            receiver.handle_input(&out, now).expect("receive");
            while receiver.poll_event().is_some() {
                events += 1;
            }
        }
    }
    assert_eq!(events, if receive { n } else { 0 });
    std::hint::black_box(out);
}
