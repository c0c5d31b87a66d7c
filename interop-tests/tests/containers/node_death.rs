//! A host killed outright, then started again under the same name.

use std::time::Duration;

use etf::Term;
use interop_tests::containers::Lab;
use interop_tests::Otp;

use crate::support::{
    assert_no_down, blocking, echo, echo_pid, expect_exit_and_down, in_rust_container,
    link_and_monitor, rpc, send_echo, start_erls, wait_for_down, wait_until_up,
};

/// With the Rust node on the host, names by address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_goes_down_and_rejoins_as_a_new_incarnation() {
    let lab = blocking(|| Lab::new("death")).expect("lab");
    kill_and_restart(&lab).await;
}

/// With the Rust node in a container of its own, names by host name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_named_by_host_name_rejoins_as_a_new_incarnation() {
    const TEST: &str = "node_death::a_killed_host_named_by_host_name_rejoins_as_a_new_incarnation";
    let lab = blocking(|| Lab::new("death-dns")).expect("lab");
    if let Some(lab) = in_rust_container(lab, TEST) {
        kill_and_restart(&lab).await;
    }
}

async fn kill_and_restart(lab: &Lab) {
    let node = lab.rust_node("rust").start().await.expect("rust node");
    let erls = start_erls(lab, &node, &[(Otp::v29(), "erl1"), (Otp::v27(), "erl2")]).await;
    let (survivor, victim) = (&erls[0], &erls[1]);
    let mut me = node.spawn_process().expect("process");
    echo(&mut me, victim.node(), Term::atom("first life")).await;
    let old_echo = echo_pid(&node, victim.node()).await;
    let mut watcher = node.spawn_process().expect("process");
    let monitor = link_and_monitor(&watcher, &old_echo);
    let mut events = node.events();

    blocking(|| victim.container().kill()).expect("kill");
    // The kernel closes the dead VM's sockets: no need to wait for ticks.
    let (after, reason) = wait_for_down(&mut events, victim.node(), lab.tick_time()).await;
    eprintln!("{} down after {after:?}: {reason}", victim.node());
    expect_exit_and_down(&mut watcher, &old_echo, &monitor, "noconnection").await;
    echo(&mut me, survivor.node(), Term::atom("still here")).await;

    // EPMD seeds creations with the clock in whole seconds, and the host's
    // EPMD restarts with it: a host back within the second its first EPMD
    // started would get the same creation. Real restarts take longer.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    blocking(|| victim.container().restart()).expect("restart");
    wait_until_up(&node, victim).await;
    let new_echo = echo_pid(&node, victim.node()).await;
    assert_eq!(new_echo.node, old_echo.node, "same node name");
    assert_ne!(
        new_echo.creation, old_echo.creation,
        "the restarted node is a new incarnation"
    );

    // The new incarnation knows the old pid is dead...
    let alive = rpc(
        &node,
        victim.node(),
        "erlang",
        "is_process_alive",
        vec![old_echo.clone().into()],
    )
    .await;
    assert!(
        alive.is_atom("false"),
        "is_process_alive(old pid) = {alive}"
    );
    // ...and drops what is sent to it, while its new echo process answers.
    me.send(
        &old_echo,
        Term::tuple(vec![me.pid().clone().into(), Term::atom("to the dead")]),
    )
    .expect("send to the old pid");
    send_echo(&me, victim.node(), Term::atom("second life"));
    let reply = me
        .recv_timeout(Duration::from_secs(10))
        .await
        .expect("echo");
    assert_eq!(
        reply.payload,
        Term::tuple(vec![
            Term::atom("echo"),
            Term::atom(victim.node()),
            Term::atom("second life")
        ])
    );
    assert!(
        me.recv_timeout(Duration::from_secs(1)).await.is_err(),
        "the old incarnation's pid answered"
    );
    // Linking to or monitoring the old pid: the new incarnation answers
    // `noproc`, as OTP does for a pid of an earlier creation.
    let monitor = link_and_monitor(&watcher, &old_echo);
    expect_exit_and_down(&mut watcher, &old_echo, &monitor, "noproc").await;
    assert_no_down(&mut events);
}
