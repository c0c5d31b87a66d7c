//! The `erl_dist` crate (0.8, over `smol`) as a peer of BEAM node `b`, for
//! the "erl_dist (Rust) -> BEAM" row: the same one-way (a) and ping-pong (c)
//! runs as `bench_ei.c`, on one connection of its own.
//!
//! `erl_dist` is a protocol library, not a node: it gives a handshake and a
//! framed message channel over any futures `AsyncRead + AsyncWrite` stream
//! (its `channel` needs a `Clone` stream, which `smol`'s `TcpStream` is and
//! tokio's is not), so the row runs `smol::block_on` on a blocking thread of
//! its own and the pid is one we make up.
//!
//! It answers no ticks: BEAM's `net_ticktime` is 60 s, and a run of this row
//! (one connection, `small` sends and `pings` round trips) takes a few
//! seconds, and it keeps sending all the while, so `b` never times it out.

use std::time::Instant;

use eetf::{Atom, FixInteger, Pid, Term, Tuple};
use erl_dist::epmd::EpmdClient;
use erl_dist::handshake::ClientSideHandshake;
use erl_dist::message::{channel, Message, Receiver};
use erl_dist::node::{Creation, LocalNode, NodeName};
use smol::net::TcpStream;

use crate::{percentiles, Error, Row, Sizes, COOKIE, WAIT};

/// The row against `b` (`name@host`, registered with the EPMD on `epmd`):
/// the best (a) and the (c) with the lowest p50 of `sizes.runs` runs, as for
/// the `ei` row.
pub(crate) async fn erl_dist_row(epmd: u16, b: &str, sizes: Sizes) -> Result<Row, Error> {
    let b = b.to_owned();
    tokio::task::spawn_blocking(move || {
        smol::block_on(async {
            let mut row = run(epmd, &b, sizes).await?;
            for _ in 1..sizes.runs {
                let next = run(epmd, &b, sizes).await?;
                if next.small_per_s > row.small_per_s {
                    row.small_per_s = next.small_per_s;
                }
                if next.rtt.map(|r| r.0) < row.rtt.map(|r| r.0) {
                    row.rtt = next.rtt;
                }
            }
            Ok(row)
        })
    })
    .await?
}

/// One run: connect, (a) `sizes.small` times `{msg, 1}` to `sink` then
/// `{done, Self}` until `{sunk, N}`, (c) `sizes.pings` round trips to `echo`.
async fn run(epmd: u16, b: &str, sizes: Sizes) -> Result<Row, Error> {
    let peer: NodeName = b.parse()?;
    let entry = EpmdClient::new(TcpStream::connect(("127.0.0.1", epmd)).await?)
        .get_node(peer.name())
        .await?
        .ok_or_else(|| format!("{b} is not registered with EPMD"))?;
    let stream = TcpStream::connect(("127.0.0.1", entry.port)).await?;
    stream.set_nodelay(true)?;
    let name: NodeName = format!("bench_erldist_{}@{}", std::process::id(), peer.host()).parse()?;
    let creation = Creation::random();
    let local = LocalNode::new(name.clone(), creation);
    let mut handshake = ClientSideHandshake::new(stream, local.clone(), COOKIE);
    handshake
        .execute_send_name(erl_dist::LOWEST_DISTRIBUTION_PROTOCOL_VERSION)
        .await?;
    let (stream, peer_node) = handshake.execute_rest(true).await?;
    let (mut tx, mut rx) = channel(stream, local.flags & peer_node.flags);
    let me = Pid::new(name.to_string(), 1, 0, creation.get());
    let atom = |name: &str| Term::from(Atom::from(name));
    let int = |value: i32| Term::from(FixInteger::from(value));
    let tuple = |elements: Vec<Term>| Term::from(Tuple::from(elements));

    // (a) One-way.
    let small = tuple(vec![atom("msg"), int(1)]);
    let start = Instant::now();
    for _ in 0..sizes.small {
        tx.send(Message::reg_send(me.clone(), "sink".into(), small.clone()))
            .await?;
    }
    let done = tuple(vec![atom("done"), Term::from(me.clone())]);
    tx.send(Message::reg_send(me.clone(), "sink".into(), done))
        .await?;
    let reply = next_payload(&mut rx).await?;
    let elapsed = start.elapsed();
    let expected = tuple(vec![atom("sunk"), int(i32::try_from(sizes.small)?)]);
    if reply != expected {
        return Err(format!("the sink answered {reply}").into());
    }
    let small_per_s = sizes.small as f64 / elapsed.as_secs_f64();

    // (c) Ping-pong.
    let mut rtts = Vec::new();
    for i in 0..sizes.pings {
        let tag = tuple(vec![atom("pong"), int(i32::try_from(i)?)]);
        let ping = tuple(vec![Term::from(me.clone()), tag.clone()]);
        let start = Instant::now();
        tx.send(Message::reg_send(me.clone(), "echo".into(), ping))
            .await?;
        let reply = next_payload(&mut rx).await?;
        rtts.push(start.elapsed().as_secs_f64() * 1e6);
        if reply != tag {
            return Err(format!("echo answered {reply}").into());
        }
    }
    Ok(Row {
        path: "erl_dist (Rust) -> BEAM",
        small_per_s: Some(small_per_s),
        small_cpu_us: None,
        big_mb_s: None,
        big_rust_cpu: None,
        rtt: Some(percentiles(&mut rtts)),
        connects_per_s: None,
    })
}

/// The payload of the next message sent to a pid (ours: nothing else is
/// addressed here), skipping ticks and any other control message; gives up
/// after `WAIT`.
async fn next_payload(rx: &mut Receiver<TcpStream>) -> Result<Term, Error> {
    smol::future::or(receive(rx), async {
        smol::Timer::after(WAIT).await;
        Err(format!("nothing came back within {WAIT:?}").into())
    })
    .await
}

async fn receive(rx: &mut Receiver<TcpStream>) -> Result<Term, Error> {
    loop {
        match rx.recv().await? {
            Message::Send(m) => return Ok(m.message),
            Message::SendSender(m) => return Ok(m.message),
            Message::SendTt(m) => return Ok(m.message),
            Message::SendSenderTt(m) => return Ok(m.message),
            _ => {}
        }
    }
}
