//! Handshake, traffic and ticks over a slow, lossy link.

use std::time::{Duration, Instant};

use etf::Term;
use interop_tests::containers::{dropped_packets, Impairment, ImpairmentMethod, Lab};
use interop_tests::Otp;

use crate::support::{assert_no_down, blocking, echo, echo_burst, start_erls};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_lossy_link_keeps_the_handshake_and_the_ticks_working() {
    let lab = blocking(|| Lab::new("slow")).expect("lab");
    let tick = lab.tick_time();
    // A first node only checks that the hosts are up; the node under test
    // connects for the first time over the impaired links.
    let probe = lab.rust_node("probe").start().await.expect("probe node");
    let erls = start_erls(&lab, &probe, &[(Otp::v27(), "erl1"), (Otp::v29(), "erl2")]).await;
    probe.shutdown().await;
    let impairment = Impairment {
        delay: Duration::from_millis(120),
        jitter: Duration::from_millis(40),
        loss_percent: 5,
        rate_kbit: 256,
    };
    let mut methods = Vec::new();
    for erl in &erls {
        let method = blocking(|| impairment.apply(erl.container())).expect("impair the link");
        eprintln!("{}: {impairment:?} applied with {method:?}", erl.node());
        methods.push(method);
    }

    let node = lab.rust_node("rust").start().await.expect("rust node");
    let mut events = node.events();
    for erl in &erls {
        node.ping(erl.node())
            .await
            .unwrap_or_else(|err| panic!("handshake with {}: {err}", erl.node()));
    }
    let all: Vec<&str> = erls.iter().map(|erl| erl.node()).collect();
    let mut me = node.spawn_process().expect("process");
    // Bursts larger than the bandwidth limit, so that they queue.
    let payload = Term::binary(vec![7u8; 2048]);
    for erl in &all {
        echo(&mut me, erl, payload.clone()).await;
    }
    echo_burst(&mut me, &all, 1, 100).await;

    // Idle for three tick times: ticks alone must keep both links up.
    tokio::time::sleep(tick * 3).await;
    assert_no_down(&mut events);
    echo_burst(&mut me, &all, 2, 50).await;
    assert_no_down(&mut events);

    // The links really were slow and lossy.
    for (erl, method) in erls.iter().zip(methods) {
        let started = Instant::now();
        echo(&mut me, erl.node(), Term::binary(vec![1u8; 32 * 1024])).await;
        let took = started.elapsed();
        let floor = match method {
            // 32 KiB back at 256 kbit/s take a second.
            ImpairmentMethod::TbfAndIptables => Duration::from_millis(700),
            ImpairmentMethod::Netem => impairment.delay * 2,
        };
        assert!(
            took >= floor,
            "a 32 KiB echo from {} took only {took:?}",
            erl.node()
        );
        if method == ImpairmentMethod::TbfAndIptables {
            let dropped = blocking(|| dropped_packets(erl.container())).expect("iptables counters");
            eprintln!(
                "{}: 32 KiB echo in {took:?}, {dropped} packets dropped",
                erl.node()
            );
            assert!(
                dropped > 0,
                "no packet to or from {} was dropped",
                erl.node()
            );
        }
    }
    assert_no_down(&mut events);
}
