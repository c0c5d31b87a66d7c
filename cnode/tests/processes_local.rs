//! Many processes on one node: past 15-bit pid numbers, the process limit,
//! and pid numbers reused without a message for a dead process reaching
//! the new one. (An Erlang node messaging a process numbered above 32,767
//! is in `interop-tests/tests/node_interop.rs`.)

use std::collections::HashSet;
use std::time::Duration;

use cnode::{Node, Process, RecvError, SpawnError, DEFAULT_MAX_PROCESSES};
use epmd_client::ServerHandle;
use etf::{Pid, Term};
use interop_tests::local::{in_process_epmd, loopback_node, unique_label};

const WAIT: Duration = Duration::from_secs(10);

async fn epmd() -> ServerHandle {
    in_process_epmd().await.expect("epmd")
}

async fn node(epmd: &ServerHandle, max: Option<usize>) -> Node {
    let name = format!("{}@localhost", unique_label("procs"));
    let mut builder = loopback_node(name, "procs", epmd.port());
    if let Some(max) = max {
        builder = builder.max_processes(max);
    }
    builder.start().await.expect("node starts")
}

#[tokio::test]
async fn a_hundred_thousand_processes_live_at_once_and_each_gets_its_message() {
    let epmd = epmd().await;
    let node = node(&epmd, None).await;
    assert_eq!(node.process_limit(), DEFAULT_MAX_PROCESSES);
    let mut processes: Vec<Process> = (0..100_000)
        .map(|_| node.spawn_process().expect("spawn"))
        .collect();
    assert_eq!(node.process_count(), 100_000);
    let numbers: HashSet<u32> = processes.iter().map(|p| p.pid().id).collect();
    assert_eq!(numbers.len(), processes.len(), "every pid is unique");
    assert!(numbers.iter().any(|&n| n > 0x7fff), "past 15 bits");
    let sender = node.spawn_process().expect("spawn");
    for (i, p) in processes.iter().enumerate() {
        sender.send(p.pid(), Term::Int(i as i64)).expect("send");
    }
    for (i, p) in processes.iter_mut().enumerate() {
        let message = p.try_recv().expect("its message");
        assert_eq!(message.payload, Term::Int(i as i64));
        assert_eq!(message.from.as_ref(), Some(sender.pid()));
    }
    drop(processes);
    assert_eq!(node.process_count(), 1);
}

#[tokio::test]
async fn the_process_limit_is_honoured_with_an_error_naming_it() {
    let epmd = epmd().await;
    let node = node(&epmd, Some(40_000)).await;
    assert_eq!(node.process_limit(), 40_000);
    let mut live: Vec<Process> = (0..40_000)
        .map(|_| node.spawn_process().expect("under the limit"))
        .collect();
    let err = node.spawn_process().expect_err("over the limit");
    assert_eq!(err, SpawnError::TooManyProcesses { limit: 40_000 });
    assert!(err.to_string().contains("40000"), "{err}");
    // A process that ends makes room for one more.
    live.pop();
    live.push(node.spawn_process().expect("room again"));
    assert_eq!(node.process_count(), 40_000);
}

#[tokio::test]
async fn a_second_process_is_refused_at_a_limit_of_one_and_a_stale_pid_is_noproc() {
    let epmd = epmd().await;
    let node = node(&epmd, Some(1)).await;
    let mut only = node.spawn_process().expect("the one process");
    only.trap_exit(true);
    assert_eq!(
        node.spawn_process().map(|p| p.pid().clone()),
        Err(SpawnError::TooManyProcesses { limit: 1 })
    );
    // A link to a pid whose process ended answers noproc, even when its
    // number lives again under another serial.
    let dead = only.pid().clone();
    let ghost = Pid {
        serial: dead.serial.wrapping_add(1),
        ..dead.clone()
    };
    only.link(&ghost);
    let exit = only.recv_timeout(WAIT).await.expect("noproc").payload;
    let expected = Term::tuple(vec![
        Term::atom("EXIT"),
        Term::Pid(ghost),
        Term::atom("noproc"),
    ]);
    assert_eq!(exit, expected);
}

#[tokio::test]
async fn a_reused_pid_number_never_gets_a_message_meant_for_the_dead_process() {
    let epmd = epmd().await;
    // With one process at a time, numbers come back soon.
    let node = node(&epmd, Some(2)).await;
    let sender = node.spawn_process().expect("spawn");
    let mut dead: Vec<Pid> = Vec::new();
    let mut reused = 0;
    for round in 0..500 {
        let mut p = node.spawn_process().expect("spawn");
        if dead.iter().any(|d| d.id == p.pid().id) {
            reused += 1;
        }
        // Messages to every earlier incarnation, then one to this one.
        for old in &dead {
            sender.send(old, Term::atom("stale")).expect("send");
        }
        sender.send(p.pid(), Term::Int(round)).expect("send");
        let message = p.recv_timeout(WAIT).await.expect("its own message");
        assert_eq!(message.payload, Term::Int(round));
        assert_eq!(p.try_recv(), None, "nothing meant for a dead process");
        dead.push(p.pid().clone());
    }
    assert!(reused > 400, "numbers were reused ({reused} times)");
}

#[tokio::test]
async fn a_killed_process_frees_its_number_and_its_name() {
    let epmd = epmd().await;
    let node = node(&epmd, Some(3)).await;
    let killer = node.spawn_process().expect("spawn");
    let mut victim = node.spawn_process().expect("spawn");
    victim.register("victim").expect("register");
    killer
        .exit(victim.pid(), Term::atom("kill"))
        .expect("exit signal");
    assert_eq!(
        victim.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: Term::atom("killed")
        })
    );
    assert_eq!(node.whereis("victim"), None);
    assert_eq!(
        node.process_count(),
        1,
        "the killed process's place is free"
    );
    let fresh = node.spawn_process().expect("spawn");
    fresh.register("victim").expect("the name is free");
}

#[test]
fn processes_spawned_and_ended_on_many_threads_at_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let epmd = epmd().await;
        let node = node(&epmd, None).await;
        let mut tasks = Vec::new();
        for t in 0..4 {
            let node = node.clone();
            tasks.push(std::thread::spawn(move || {
                let mut pids = HashSet::new();
                for i in 0..5_000 {
                    let mut p = node.spawn_process().expect("spawn");
                    let me = p.pid().clone();
                    node.send(&me, Term::tuple(vec![Term::Int(t), Term::Int(i)]))
                        .expect("send");
                    let got = p.try_recv().expect("its message").payload;
                    assert_eq!(got, Term::tuple(vec![Term::Int(t), Term::Int(i)]));
                    pids.insert((me.id, me.serial));
                }
                pids
            }));
        }
        let mut all = HashSet::new();
        for task in tasks {
            let pids = task.join().expect("thread");
            assert_eq!(pids.len(), 5_000);
            all.extend(pids);
        }
        assert_eq!(all.len(), 20_000, "no pid was handed out twice");
        assert_eq!(node.process_count(), 0);
    });
}
