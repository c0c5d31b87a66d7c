//! Links, monitors and exit signals between real `erl` nodes (OTP 25 and
//! OTP 28) and Rust processes, both ways: exit and `'DOWN'` reasons,
//! `kill`, `noproc`, trap_exit on either side, unlink, propagation through
//! Rust links, and `noconnection` for thousands of links and monitors when
//! a connection is lost.

mod signals_support;

use cnode::{Message, Node, Process, RecvError, SpawnOptions};
use etf::{Atom, Pid, Term};
use interop_tests::local::{short_host, unique_name, Epmd};
use interop_tests::Otp;
use signals_support::{erl, rust_node, WAIT};

interop_tests::per_release!(
    async
    erlang_links_to_and_monitors_rust_processes,
    rust_links_to_and_monitors_erlang_processes,
    a_lost_connection_fires_every_link_and_monitor_with_noconnection,
    rust_spawns_on_erlang_with_link_and_monitor,
);

fn atom(name: &str) -> Term {
    Term::atom(name)
}

fn tuple(items: Vec<Term>) -> Term {
    Term::tuple(items)
}

async fn recv(process: &mut Process) -> Message {
    process.recv_timeout(WAIT).await.expect("a message in time")
}

/// Waits for `{Tag, ...}` from a trusted erl script.
async fn expect_tagged(process: &mut Process, tag: &str) -> Vec<Term> {
    let message = process
        .recv_matching_timeout(WAIT, |m| {
            m.payload
                .as_tuple()
                .is_some_and(|t| t.first().is_some_and(|x| x.is_atom(tag)))
        })
        .await
        .unwrap_or_else(|e| panic!("no {tag} message: {e}"));
    message.payload.as_tuple().expect("a tuple").to_vec()
}

/// The pid registered as `name` on `node`, through rpc.
async fn whereis(node: &Node, on: &str, name: &str) -> Pid {
    let pid = node
        .rpc()
        .call(on, "erlang", "whereis", vec![atom(name)], WAIT)
        .await
        .expect("rpc whereis");
    pid.as_pid()
        .unwrap_or_else(|| panic!("{name} not registered: {pid}"))
        .clone()
}

async fn erlang_links_to_and_monitors_rust_processes(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let mut ctl = node.spawn_process().expect("spawn");
    ctl.register("ctl").expect("register");
    let a = node.spawn_process().expect("spawn");
    a.register("a").expect("register");
    let mut b = node.spawn_process().expect("spawn");
    let mut c = node.spawn_process().expect("spawn");
    assert!(!c.trap_exit(true));
    // d is linked to b (Rust to Rust): b's death takes d along.
    let mut d = node.spawn_process().expect("spawn");
    d.link(b.pid());
    let eval = format!(
        r#"R = '{r}', process_flag(trap_exit, true),
        {{ctl, R}} ! {{self(), pids}},
        receive {{pids, A, B, C}} -> ok end,
        link(A), MA = monitor(process, {{a, R}}),
        link(B), MB = monitor(process, B),
        MC = monitor(process, C),
        {{ctl, R}} ! {{self(), ready}},
        receive {{'EXIT', A, RA}} -> io:format("exit a ~w~n", [RA]) end,
        receive {{'DOWN', MA, process, {{a, R}}, DA}} -> io:format("down a ~w~n", [DA]) end,
        exit(B, kill),
        receive {{'EXIT', B, RB}} -> io:format("exit b ~w~n", [RB]) end,
        receive {{'DOWN', MB, process, B, DB}} -> io:format("down b ~w~n", [DB]) end,
        exit(C, please),
        receive {{c_got, X}} -> io:format("c got ~w~n", [X]) end,
        true = demonitor(MC, [flush]),
        MD = monitor(process, A),
        receive {{'DOWN', MD, process, A, DD}} -> io:format("dead ~w~n", [DD]) end,
        MN = monitor(process, {{nobody, R}}),
        receive {{'DOWN', MN, process, {{nobody, R}}, DN}} -> io:format("nobody ~w~n", [DN]) end,
        link(A),
        receive {{'EXIT', A, LA}} -> io:format("link dead ~w~n", [LA]) end,
        unlink(C), exit(C, normal), {{ctl, R}} ! {{self(), unlinked}},
        receive {{c_got, Y}} -> io:format("c got ~w~n", [Y]) end,
        io:format("done~n"),
        receive after 10000 -> halt() end"#,
        r = node.name()
    );
    let mut erl = erl(&otp, epmd_port, &unique_name("erl", &otp), &eval);
    let asked = recv(&mut ctl).await;
    let erl_pid = asked.from.clone().expect("REG_SEND has a sender");
    let pids = tuple(vec![
        atom("pids"),
        Term::Pid(a.pid().clone()),
        Term::Pid(b.pid().clone()),
        Term::Pid(c.pid().clone()),
    ]);
    ctl.send(&erl_pid, pids).expect("send");
    expect_tagged_from(&mut ctl, "ready").await;
    a.exit_with(tuple(vec![atom("shutdown"), atom("boom")]));
    erl.wait_for_line("exit a {shutdown,boom}")
        .await
        .expect("erl output");
    erl.wait_for_line("down a {shutdown,boom}")
        .await
        .expect("erl output");
    // Erlang kills b: b's mailbox says so, and its link takes d.
    erl.wait_for_line("exit b killed")
        .await
        .expect("erl output");
    erl.wait_for_line("down b killed")
        .await
        .expect("erl output");
    assert_eq!(
        b.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: atom("killed")
        })
    );
    assert_eq!(
        d.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: atom("killed")
        })
    );
    // c traps exits: the signal is a message.
    let got = recv(&mut c).await;
    assert_eq!(
        got.payload,
        tuple(vec![
            atom("EXIT"),
            Term::Pid(erl_pid.clone()),
            atom("please")
        ])
    );
    c.send(&erl_pid, tuple(vec![atom("c_got"), got.payload]))
        .expect("send");
    erl.wait_for_line(&format!("c got {{'EXIT',{},please}}", pid_text(&erl_pid)))
        .await
        .expect("erl output");
    erl.wait_for_line("dead noproc").await.expect("erl output");
    erl.wait_for_line("nobody noproc")
        .await
        .expect("erl output");
    erl.wait_for_line("link dead noproc")
        .await
        .expect("erl output");
    // After unlink, exit(C, normal) is still an exit signal to a trapping c.
    expect_tagged_from(&mut ctl, "unlinked").await;
    let got = recv(&mut c).await;
    assert_eq!(
        got.payload,
        tuple(vec![
            atom("EXIT"),
            Term::Pid(erl_pid.clone()),
            atom("normal")
        ])
    );
    c.send(&erl_pid, tuple(vec![atom("c_got"), atom("unlinked")]))
        .expect("send");
    erl.wait_for_line("c got unlinked")
        .await
        .expect("erl output");
    erl.wait_for_line("done").await.expect("erl output");
}

/// `{Pid, Tag}` from erl.
async fn expect_tagged_from(process: &mut Process, tag: &str) {
    process
        .recv_matching_timeout(WAIT, |m| {
            m.payload
                .as_tuple()
                .is_some_and(|t| t.len() == 2 && t[1].is_atom(tag))
        })
        .await
        .unwrap_or_else(|e| panic!("no {tag}: {e}"));
}

/// A pid as `~w` prints it (`<N.I.S>`, N being the node's index there):
/// only its shape is checked by the caller through the other fields, so
/// this matches any node index.
fn pid_text(pid: &Pid) -> String {
    // erl prints its own pids as <0.I.S>.
    format!("<0.{}.{}>", pid.id, pid.serial)
}

async fn rust_links_to_and_monitors_erlang_processes(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let eval = r#"
        Wait = fun() -> receive _ -> ok end end,
        register(t1, spawn(fun() -> receive stop -> exit(bye) end end)),
        register(t2, spawn(Wait)),
        register(t3, spawn(fun() -> process_flag(trap_exit, true),
            receive {'EXIT', F, Why} -> F ! {t3_got, Why} end, Wait() end)),
        register(t4, spawn(fun() -> receive go -> exit(crash) end end)),
        register(t5, spawn(fun() -> receive go -> exit(crash) end end)),
        io:format("ready~n"),
        receive after infinity -> ok end"#;
    let erl_name = unique_name("erl", &otp);
    let mut erl = erl(&otp, epmd_port, &erl_name, eval);
    erl.wait_for_line("ready").await.expect("erl output");
    let erl_node = format!("{erl_name}@{}", short_host().expect("host name"));
    let t: Vec<Pid> = {
        let mut t = Vec::new();
        for name in ["t1", "t2", "t3", "t4", "t5"] {
            t.push(whereis(&node, &erl_node, name).await);
        }
        t
    };
    let mut p = node.spawn_process().expect("spawn");
    p.trap_exit(true);
    // Link and monitor t1; stopping it gives both.
    p.link(&t[0]);
    let m1 = p.monitor(&t[0]).expect("monitor");
    let m2 = p.monitor(("t2", erl_node.as_str())).expect("monitor");
    p.send(&t[0], atom("stop")).expect("send");
    let exit = recv(&mut p).await;
    assert_eq!(
        exit.payload,
        tuple(vec![atom("EXIT"), Term::Pid(t[0].clone()), atom("bye")])
    );
    let down = recv(&mut p).await;
    assert_eq!(
        down.payload,
        tuple(vec![
            atom("DOWN"),
            Term::Reference(m1),
            atom("process"),
            Term::Pid(t[0].clone()),
            atom("bye")
        ])
    );
    // exit(T2, kill) from Rust; the monitor by name reports {t2, Node}.
    p.exit(&t[1], atom("kill")).expect("exit");
    let down = recv(&mut p).await;
    assert_eq!(
        down.payload,
        tuple(vec![
            atom("DOWN"),
            Term::Reference(m2),
            atom("process"),
            tuple(vec![atom("t2"), atom(&erl_node)]),
            atom("killed")
        ])
    );
    // t3 traps exits: our exit signal becomes its message.
    p.exit(&t[2], atom("hey")).expect("exit");
    let got = expect_tagged(&mut p, "t3_got").await;
    assert_eq!(got[1], atom("hey"));
    // q does not trap and is linked to t4 and to r (Rust), which a third
    // Rust process monitors: t4's crash kills q, then r.
    let mut q = node.spawn_process().expect("spawn");
    let mut r = node.spawn_process().expect("spawn");
    q.link(&t[3]);
    q.link(r.pid());
    let mr = p.monitor(r.pid()).expect("monitor");
    // The link reaches erl before our message does (same connection).
    p.send(&t[3], atom("go")).expect("send");
    let crash = atom("crash");
    assert_eq!(
        q.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: crash.clone()
        })
    );
    assert_eq!(
        r.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: crash.clone()
        })
    );
    let down = recv(&mut p).await;
    assert_eq!(
        down.payload,
        tuple(vec![
            atom("DOWN"),
            Term::Reference(mr),
            atom("process"),
            Term::Pid(r.pid().clone()),
            crash
        ])
    );
    // Unlinked before t5 crashes: no exit signal, only the monitor's DOWN.
    p.link(&t[4]);
    p.unlink(&t[4]);
    let m5 = p.monitor(&t[4]).expect("monitor");
    p.send(&t[4], atom("go")).expect("send");
    let down = recv(&mut p).await;
    assert_eq!(
        down.payload,
        tuple(vec![
            atom("DOWN"),
            Term::Reference(m5),
            atom("process"),
            Term::Pid(t[4].clone()),
            atom("crash")
        ])
    );
    // Monitors of a dead pid and of a name nobody has: noproc.
    let dead = p.monitor(&t[4]).expect("monitor");
    let down = recv(&mut p).await;
    assert_eq!(
        down.payload,
        tuple(vec![
            atom("DOWN"),
            Term::Reference(dead),
            atom("process"),
            Term::Pid(t[4].clone()),
            atom("noproc")
        ])
    );
    let nobody = p.monitor(("nobody", erl_node.as_str())).expect("monitor");
    let down = recv(&mut p).await;
    assert_eq!(
        down.payload,
        tuple(vec![
            atom("DOWN"),
            Term::Reference(nobody),
            atom("process"),
            tuple(vec![atom("nobody"), atom(&erl_node)]),
            atom("noproc")
        ])
    );
    // Linking to a dead Erlang process: an exit signal noproc.
    p.link(&t[0]);
    let exit = recv(&mut p).await;
    assert_eq!(
        exit.payload,
        tuple(vec![atom("EXIT"), Term::Pid(t[0].clone()), atom("noproc")])
    );
    assert!(p.try_recv().is_none(), "nothing else: t5 was unlinked");
}

/// Links and monitors across one connection, each way.
const MANY: usize = 2000;

async fn a_lost_connection_fires_every_link_and_monitor_with_noconnection(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let mut ctl = node.spawn_process().expect("spawn");
    ctl.register("ctl").expect("register");
    // erl links to and monitors MANY Rust processes and traps exits; a
    // second erl watches the first from outside to report what it saw
    // after our node is gone.
    let eval = format!(
        r#"process_flag(trap_exit, true),
        {{ctl, '{r}'}} ! {{self(), pids}},
        Pids = receive {{pids, Ps}} -> Ps end,
        [begin link(P), monitor(process, P) end || P <- Pids],
        register(holder, spawn_link(fun() -> receive after infinity -> ok end end)),
        {{ctl, '{r}'}} ! {{self(), ready}},
        Count = fun Loop(0, 0) -> ok;
                    Loop(E, D) -> receive
                        {{'EXIT', _, noconnection}} -> Loop(E - 1, D);
                        {{'DOWN', _, process, _, noconnection}} -> Loop(E, D - 1)
                    after 10000 -> io:format("missing ~w ~w~n", [E, D]) end
                end,
        Count({n}, {n}),
        io:format("all noconnection~n"),
        receive after infinity -> ok end"#,
        r = node.name(),
        n = MANY
    );
    let erl_name = unique_name("erl", &otp);
    let erl_node = format!("{erl_name}@{}", short_host().expect("host name"));
    let mut erl = erl(&otp, epmd_port, &erl_name, &eval);
    let asked = recv(&mut ctl).await;
    let erl_pid = asked.from.expect("REG_SEND has a sender");
    let mut ours = Vec::new();
    for _ in 0..MANY {
        ours.push(node.spawn_process().expect("spawn"));
    }
    let pids = Term::list(ours.iter().map(|p| Term::Pid(p.pid().clone())).collect());
    ctl.send(&erl_pid, tuple(vec![atom("pids"), pids]))
        .expect("send");
    expect_tagged_from(&mut ctl, "ready").await;
    // The other way: MANY Rust processes trap exits and link to and
    // monitor erl's holder process.
    let holder = whereis(&node, &erl_node, "holder").await;
    let mut watchers = Vec::new();
    for _ in 0..MANY {
        let w = node.spawn_process().expect("spawn");
        w.trap_exit(true);
        w.link(&holder);
        let m = w.monitor(&holder).expect("monitor");
        watchers.push((w, m));
    }
    // Our node goes abruptly: erl sees noconnection everywhere.
    node.disconnect(&erl_node);
    erl.wait_for_line("all noconnection")
        .await
        .expect("erl output");
    // And so does every Rust watcher, in one pass.
    for (w, m) in &mut watchers {
        let mut got = Vec::new();
        for _ in 0..2 {
            got.push(w.recv_timeout(WAIT).await.expect("signal").payload);
        }
        assert!(got.contains(&tuple(vec![
            atom("EXIT"),
            Term::Pid(holder.clone()),
            atom("noconnection")
        ])));
        assert!(got.contains(&tuple(vec![
            atom("DOWN"),
            Term::Reference(m.clone()),
            atom("process"),
            Term::Pid(holder.clone()),
            atom("noconnection")
        ])));
    }
    // The Rust processes erl linked to do not trap exits: they died.
    for p in &mut ours {
        assert_eq!(
            p.recv_timeout(WAIT).await,
            Err(RecvError::Killed {
                reason: atom("noconnection")
            })
        );
    }
}

async fn rust_spawns_on_erlang_with_link_and_monitor(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let erl_name = unique_name("erl", &otp);
    let mut erl = erl(&otp, epmd_port, &erl_name, "io:format(\"ready~n\").");
    erl.wait_for_line("ready").await.expect("erl output");
    let erl_node = format!("{erl_name}@{}", short_host().expect("host name"));
    let mut p = node.spawn_process().expect("spawn");
    p.trap_exit(true);
    let both = SpawnOptions {
        link: true,
        monitor: true,
    };
    let spawned = p
        .spawn_remote(
            &erl_node,
            "timer",
            "sleep",
            vec![atom("infinity")],
            both,
            WAIT,
        )
        .await
        .expect("spawned");
    assert_eq!(spawned.pid.node, Atom::new(&erl_node));
    p.exit(&spawned.pid, atom("kill")).expect("exit");
    let mut got = vec![recv(&mut p).await.payload, recv(&mut p).await.payload];
    got.sort_by(|a, b| a.compare_erl(b));
    let monitor = spawned.monitor.expect("a monitor");
    let mut expected = vec![
        tuple(vec![
            atom("EXIT"),
            Term::Pid(spawned.pid.clone()),
            atom("killed"),
        ]),
        tuple(vec![
            atom("DOWN"),
            Term::Reference(monitor),
            atom("process"),
            Term::Pid(spawned.pid.clone()),
            atom("killed"),
        ]),
    ];
    expected.sort_by(|a, b| a.compare_erl(b));
    assert_eq!(got, expected);
    // An undefined function spawns and crashes with undef, as spawn/4 does.
    let monitor_only = SpawnOptions {
        link: false,
        monitor: true,
    };
    let spawned = p
        .spawn_remote(
            &erl_node,
            "no_such_mod",
            "f",
            vec![Term::Int(1)],
            monitor_only,
            WAIT,
        )
        .await
        .expect("spawned");
    let down = recv(&mut p).await.payload;
    let fields = down.as_tuple().expect("DOWN").to_vec();
    assert_eq!(fields[0], atom("DOWN"));
    let reason = fields[4].as_tuple().expect("{undef, Stack}");
    assert_eq!(reason[0], atom("undef"));
    assert_eq!(fields[3], Term::Pid(spawned.pid));
    // Neither link nor monitor: just the pid.
    let plain = p
        .spawn_remote(
            &erl_node,
            "erlang",
            "self",
            vec![],
            SpawnOptions::default(),
            WAIT,
        )
        .await
        .expect("spawned");
    assert_eq!(plain.monitor, None);
}
