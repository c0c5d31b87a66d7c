//! A host cut off the network: nodedown within the tick time, the rest of
//! the cluster unaffected, reconnection after healing.

use std::time::{Duration, Instant};

use cnode::DownReason;
use etf::Term;
use interop_tests::containers::Lab;
use interop_tests::Otp;

use crate::support::{
    assert_no_down, atom_set, blocking, echo, echo_burst, expect_exit_and_down, link_and_monitor,
    mesh, rpc, spawn_sleeper, start_erls, wait_for_down, wait_until_up,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_host_is_dropped_within_the_tick_time_and_rejoins_after_healing() {
    let lab = blocking(|| Lab::new("netsplit")).expect("lab");
    let tick = lab.tick_time();
    let node = lab.rust_node("rust").start().await.expect("rust node");
    let erls = start_erls(
        &lab,
        &node,
        &[
            (Otp::v25(), "erl1"),
            (Otp::v28(), "erl2"),
            (Otp::v28(), "erl3"),
        ],
    )
    .await;
    mesh(&node, &erls).await;
    let (staying, cut) = (&erls[..2], &erls[2]);
    let staying_names: Vec<&str> = staying.iter().map(|erl| erl.node()).collect();
    let mut me = node.spawn_process().expect("process");
    echo(&mut me, cut.node(), Term::atom("before")).await;
    let sleeper = spawn_sleeper(&node, cut.node()).await;
    let mut watcher = node.spawn_process().expect("process");
    let monitor = link_and_monitor(&watcher, &sleeper);
    let mut events = node.events();

    blocking(|| cut.container().disconnect(lab.network())).expect("disconnect");
    let split_at = Instant::now();

    // Traffic to the rest of the cluster goes on, in bursts, while the
    // connection to the cut host waits for its tick timeout.
    let traffic = async {
        let mut round = 0;
        let mut round_trips = 0;
        while split_at.elapsed() < tick + tick / 2 {
            round += 1;
            round_trips += echo_burst(&mut me, &staying_names, round, 50).await;
        }
        round_trips
    };
    // OTP's rule: a peer is dropped after 4 tick intervals (ticktime / 4
    // each) without hearing from it, so between 3/4 and 5/4 of the tick time.
    let limit = tick + tick / 4 + Duration::from_secs(1);
    let (round_trips, (detected_after, reason)) =
        tokio::join!(traffic, wait_for_down(&mut events, cut.node(), limit));
    assert!(
        matches!(reason, DownReason::TickTimeout { .. }),
        "{} went down for another reason: {reason}",
        cut.node()
    );
    assert!(
        detected_after >= tick / 2,
        "nodedown after {detected_after:?}: too early for a tick timeout of {tick:?}"
    );
    assert!(round_trips > 0, "no traffic ran during the split");
    expect_exit_and_down(&mut watcher, &sleeper, &monitor, "noconnection").await;
    assert_no_down(&mut events);
    assert!(!node.nodes().iter().any(|name| name == cut.node()));

    // The BEAM hosts see the split too: each drops the cut host.
    for erl in staying {
        let deadline = Instant::now() + tick * 2;
        loop {
            let visible = atom_set(&rpc(&node, erl.node(), "erlang", "nodes", vec![]).await);
            if !visible.contains(cut.node()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} still lists {}",
                erl.node(),
                cut.node()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    blocking(|| cut.container().reconnect(lab.network())).expect("reconnect");
    wait_until_up(&node, cut).await;
    echo(&mut me, cut.node(), Term::atom("after")).await;
    // The link fired on the cut host's side too: `noconnection` killed the
    // process linked to our watcher.
    let alive = rpc(
        &node,
        cut.node(),
        "erlang",
        "is_process_alive",
        vec![sleeper.clone().into()],
    )
    .await;
    assert!(
        alive.is_atom("false"),
        "the linked process on {} survived the split",
        cut.node()
    );
    let all: Vec<&str> = erls.iter().map(|erl| erl.node()).collect();
    echo_burst(&mut me, &all, 1000, 100).await;
    let answer = rpc(
        &node,
        cut.node(),
        "net_adm",
        "ping",
        vec![Term::atom(staying[0].node())],
    )
    .await;
    assert!(
        answer.is_atom("pong"),
        "the healed host reaches the cluster again: {answer}"
    );
    assert_no_down(&mut events);
}
