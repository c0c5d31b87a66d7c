//! The `cnode` runtime against real `erl` nodes of OTP 25, 27, 28 and 29, on
//! loopback: connections both ways, ping both ways, messages of every kind
//! of term to pids and registered names, hidden-node visibility, wrong
//! cookies, nodedown on a killed peer and reconnection, rpc, ticks (an
//! idle link stays up, a frozen peer is dropped), and atom cache headers
//! both ways.
//!
//! Each test runs its own `epmd` on a free port (our node is given the port
//! through the builder, `erl` through `ERL_EPMD_PORT`) and unique node
//! names, so tests run in parallel; every `erl` is killed on drop.

use std::time::{Duration, Instant};

use cnode::{ConnectError, DownReason, Node, NodeEvent, NodeEvents, RpcError, SendError};
use etf::{Atom, Pid, Port, Term};
use interop_tests::local::{loopback_node, short_host, unique_name, Epmd, ErlNode, ErlProcess};
use interop_tests::Otp;
use tokio::time::timeout;

const COOKIE: &str = "node_interop_cookie";
/// `net_ticktime` on both sides of the tick tests.
const TICK_TIME: Duration = Duration::from_secs(4);
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(
    async
    rust_connects_to_erl_pings_and_echoes_every_kind_of_term,
    thousands_of_distinct_atoms_go_through_the_atom_cache_both_ways,
    erl_connects_to_rust_pings_and_talks_to_a_registered_process,
    wrong_cookies_are_refused_both_ways_and_the_node_keeps_serving,
    a_killed_erl_is_reported_down_and_its_successor_connects,
    rpc_calls_casts_and_multicalls,
    disconnect_closes_the_link_on_the_erlang_side_too,
    simultaneous_connects_with_erl_end_in_one_connection,
    long_names_with_ip_hosts_ping_both_ways,
    ticks_keep_an_idle_link_up_and_a_frozen_peer_is_dropped,
    a_peer_that_stops_reading_gets_messages_refused_until_it_reads_again,
    erl_messages_rust_processes_numbered_past_fifteen_bits_and_gets_answers,
);

/// `erl -sname name` with our EPMD, a cookie, the short tick time and `-eval`.
fn erl(otp: &Otp, epmd_port: u16, name: &str, cookie: &str, eval: &str) -> ErlProcess {
    ErlNode::builder(otp, name)
        .cookie(cookie)
        .epmd_port(epmd_port)
        .tick_time(TICK_TIME)
        .eval(eval)
        .start()
        .expect("erl starts")
}

/// Our node on the test's EPMD, listening on loopback.
async fn rust_node(otp: &Otp, epmd_port: u16, cookie: &str) -> Node {
    loopback_node(unique_name("rust", otp), cookie, epmd_port)
        .net_ticktime(TICK_TIME)
        .start()
        .await
        .expect("our node starts")
}

/// An erl whose `echo` process answers `{From, Msg}` with `{echo, Msg}`.
const ECHO: &str = "
    register(echo, spawn(fun Loop() -> receive {From, Msg} -> From ! {echo, Msg}, Loop() end end)),
    io:format(\"ready~n\").";

/// Starts an echo erl and returns it with its full node name.
async fn echo_erl(otp: &Otp, epmd_port: u16, name: &str) -> (ErlProcess, String) {
    let mut node = erl(otp, epmd_port, name, COOKIE, ECHO);
    node.wait_for_line("ready").await.expect("erl output");
    (node, format!("{name}@{}", short_host().expect("host name")))
}

async fn next_event(events: &mut NodeEvents, within: Duration) -> NodeEvent {
    timeout(within, events.recv())
        .await
        .unwrap_or_else(|_| panic!("no node event within {within:?}"))
        .expect("node alive")
}

async fn rust_connects_to_erl_pings_and_echoes_every_kind_of_term(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let (_erl, erl_name) = echo_erl(&otp, epmd_port, &unique_name("echo", &otp)).await;
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    let mut events = node.events();
    node.ping(&erl_name).await.expect("pong");
    assert_eq!(
        next_event(&mut events, WAIT).await,
        NodeEvent::NodeUp {
            node: Atom::new(&erl_name)
        }
    );
    assert_eq!(node.nodes(), vec![erl_name.clone()]);

    let mut me = node.spawn_process().expect("spawn");
    let own_pid = Term::Pid(me.pid().clone());
    let terms = vec![
        Term::Int(42),
        Term::Int(-1 << 40),
        Term::from(u64::MAX),
        Term::from(-(1i128 << 100)),
        Term::Float(3.5),
        Term::atom("hello"),
        Term::atom("héllo_ünïcode"),
        Term::Nil,
        Term::charlist("a string"),
        Term::list(vec![Term::Int(1000), Term::atom("x"), Term::Float(-0.5)]),
        Term::improper_list(vec![Term::Int(1), Term::Int(2)], Term::atom("tail")),
        Term::tuple(vec![]),
        Term::tuple(vec![Term::atom("a"), Term::tuple(vec![Term::Int(1)])]),
        Term::binary(vec![0u8, 1, 2, 255]),
        Term::binary(vec![9u8; 100_000]),
        Term::BitBinary(etf::BitBinary {
            bytes: vec![0xab, 0xc0].into(),
            bits: 3,
        }),
        Term::map(vec![
            (Term::atom("k"), Term::Int(1)),
            (Term::Int(1), Term::atom("int key")),
            (Term::Float(1.0), Term::atom("float key")),
        ])
        .expect("map"),
        own_pid.clone(),
        Term::Reference(node.make_ref()),
        Term::Port(Port {
            node: Atom::new(node.name()),
            id: 7,
            creation: node.creation(),
        }),
        Term::Export(etf::Export {
            module: Atom::new("lists"),
            function: Atom::new("sort"),
            arity: 1,
        }),
    ];
    for term in terms {
        me.send(
            ("echo", erl_name.as_str()),
            Term::tuple(vec![own_pid.clone(), term.clone()]),
        )
        .expect("send");
        let reply = me.recv_timeout(WAIT).await.expect("echo reply");
        assert_eq!(
            reply.payload,
            Term::tuple(vec![Term::atom("echo"), term]),
            "OTP {}",
            otp.release
        );
    }

    // We are hidden: erl lists us in nodes(hidden), not in nodes().
    let rpc = node.rpc();
    let us = Term::atom(node.name());
    let hidden = rpc
        .call(
            &erl_name,
            "erlang",
            "nodes",
            vec![Term::atom("hidden")],
            WAIT,
        )
        .await
        .expect("nodes(hidden)");
    assert_eq!(hidden.to_list(), Some(vec![us.clone()]));
    let visible = rpc
        .call(&erl_name, "erlang", "nodes", vec![], WAIT)
        .await
        .expect("nodes()");
    assert!(visible.is_nil(), "OTP {}: nodes() = {visible}", otp.release);
}

/// Far more distinct atoms than the atom cache has slots (2048), so that
/// slots are replaced again and again on both sides, in messages that
/// repeat atoms and mix in atoms too long to cache, some of them large
/// enough to go in fragments while another process's messages go between:
/// every echo must come back as sent.
async fn thousands_of_distinct_atoms_go_through_the_atom_cache_both_ways(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let (_erl, erl_name) = echo_erl(&otp, epmd.port(), &unique_name("echo", &otp)).await;
    let node = rust_node(&otp, epmd.port(), COOKIE).await;
    let mut me = node.spawn_process().expect("spawn");
    let own_pid = Term::Pid(me.pid().clone());
    let pool: Vec<Term> = (0..5000)
        .map(|i| match i % 500 {
            0 => Term::atom(&format!("{i:0>255}")),
            1 => Term::atom(&format!("ü{i}").repeat(40)),
            2 => Term::atom(&format!("héllo_{i}")),
            _ => Term::atom(&format!("atom_{i}")),
        })
        .collect();
    // A fixed pseudo-random walk through the pool (a 64-bit LCG).
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut pick = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        pool[(state >> 33) as usize % pool.len()].clone()
    };
    let messages: Vec<Term> = (0..3000)
        .map(|i| {
            let mut atoms: Vec<Term> = (0..8).map(|_| pick()).collect();
            atoms.push(atoms[i % 8].clone());
            if i % 50 == 7 {
                // Large enough to go out in fragments, with atoms on both
                // sides of the binary: its header is written when its first
                // fragment leaves, and its last atoms travel in a later one.
                atoms.push(Term::binary(vec![i as u8; 100_000]));
                atoms.extend((0..300).map(|_| pick()));
            }
            Term::tuple(atoms)
        })
        .collect();
    // Another process's small messages go out between those fragments
    // and keep replacing cache slots meanwhile.
    let mut other = node.spawn_process().expect("spawn");
    let other_pid = Term::Pid(other.pid().clone());
    let others: Vec<Term> = (0..3000)
        .map(|i| match messages[i].as_tuple() {
            // Atoms the large message just set in the cache, while its
            // later fragments are still on their way.
            Some(large) if large.len() > 300 => Term::tuple(large[large.len() - 4..].to_vec()),
            _ => Term::tuple((0..4).map(|_| pick()).collect()),
        })
        .collect();
    let echo = ("echo", erl_name.as_str());
    // Sent in bursts, so that headers are written while others are in flight.
    for (burst, other_burst) in messages.chunks(500).zip(others.chunks(500)) {
        for (msg, other_msg) in burst.iter().zip(other_burst) {
            me.send(echo, Term::tuple(vec![own_pid.clone(), msg.clone()]))
                .expect("send");
            other
                .send(
                    echo,
                    Term::tuple(vec![other_pid.clone(), other_msg.clone()]),
                )
                .expect("send");
        }
        for (process, sent) in [(&mut me, burst), (&mut other, other_burst)] {
            for msg in sent {
                let reply = process.recv_timeout(WAIT).await.expect("echo reply");
                assert_eq!(
                    reply.payload,
                    Term::tuple(vec![Term::atom("echo"), msg.clone()]),
                    "OTP {}",
                    otp.release
                );
            }
        }
    }
}

async fn erl_connects_to_rust_pings_and_talks_to_a_registered_process(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    let mut rusty = node.spawn_process().expect("spawn");
    rusty.register("rusty").expect("register");
    let mut events = node.events();
    // erl pings us, sends terms of every kind made by erl itself to our
    // registered name, and checks that our answer to its pid carries them
    // back exactly (`=:=`).
    let eval = format!(
        "pong = net_adm:ping('{us}'),
         Y = 7,
         Terms = {{self(), make_ref(), fun(X) -> X + Y end, fun lists:sort/1, hd(erlang:ports()),
                  <<\"hi\">>, <<1:3>>, [1, 2.5, {{x}}], \"text\", [a | b], #{{a => [b], 1 => 1.0}},
                  1 bsl 200, -(1 bsl 70), 'ünïcode', 1.0e300, {{}}, []}},
         {{rusty, '{us}'}} ! Terms,
         receive {{reply, R}} -> io:format(\"~w~n\", [R =:= Terms]) after 10000 -> io:format(\"none~n\") end,
         io:format(\"hidden ~w~n\", [lists:member('{us}', nodes(hidden))]),
         halt().",
        us = node.name()
    );
    let erl_name = unique_name("caller", &otp);
    let mut caller = erl(&otp, epmd_port, &erl_name, COOKIE, &eval);
    let up = next_event(&mut events, WAIT).await;
    assert_eq!(
        up,
        NodeEvent::NodeUp {
            node: Atom::new(&format!("{erl_name}@{}", short_host().expect("host name")))
        }
    );
    let message = rusty.recv_timeout(WAIT).await.expect("erl's message");
    let fields = message.payload.as_tuple().expect("a tuple").to_vec();
    assert_eq!(fields.len(), 17);
    let erl_pid = fields[0].as_pid().expect("its pid").clone();
    assert!(fields[1].as_reference().is_some());
    // An interpreted fun (made by erl_eval) with its environment.
    assert!(matches!(&fields[2], Term::Fun(fun) if !fun.free_vars.is_empty()));
    assert!(matches!(&fields[3], Term::Export(_)));
    assert!(fields[4].as_port().is_some());
    assert_eq!(fields[5], Term::binary(&b"hi"[..]));
    assert_eq!(
        fields[7],
        Term::list(vec![
            Term::Int(1),
            Term::Float(2.5),
            Term::tuple(vec![Term::atom("x")])
        ])
    );
    assert_eq!(fields[8], Term::charlist("text"));
    assert_eq!(fields[13], Term::atom("ünïcode"));
    assert_eq!(
        message.from.as_ref(),
        Some(&erl_pid),
        "REG_SEND carries the sender"
    );
    let reply = Term::tuple(vec![Term::atom("reply"), message.payload.clone()]);
    rusty.send(&erl_pid, reply).expect("reply");
    caller.wait_for_line("true").await.expect("erl output");
    caller
        .wait_for_line("hidden true")
        .await
        .expect("erl output");
    // erl halts: its connection goes down.
    assert!(matches!(
        next_event(&mut events, WAIT).await,
        NodeEvent::NodeDown {
            reason: DownReason::Closed,
            ..
        }
    ));
}

async fn disconnect_closes_the_link_on_the_erlang_side_too(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    let eval = "ok = net_kernel:monitor_nodes(true, [{node_type, hidden}]),
         io:format(\"ready~n\"),
         receive {nodeup, N, _} -> io:format(\"up ~s~n\", [N]) end,
         receive {nodedown, M, _} -> io:format(\"down ~s~n\", [M]) end,
         halt().";
    let name = unique_name("watcher", &otp);
    let mut watcher = erl(&otp, epmd_port, &name, COOKIE, eval);
    watcher.wait_for_line("ready").await.expect("erl output");
    let peer = format!("{name}@{}", short_host().expect("host name"));
    let mut events = node.events();
    node.ping(&peer).await.expect("pong");
    watcher
        .wait_for_line(&format!("up {}", node.name()))
        .await
        .expect("erl output");
    assert!(node.disconnect(&peer));
    watcher
        .wait_for_line(&format!("down {}", node.name()))
        .await
        .expect("erl output");
    assert_eq!(
        next_event(&mut events, WAIT).await,
        NodeEvent::NodeUp {
            node: Atom::new(&peer)
        }
    );
    assert_eq!(
        next_event(&mut events, WAIT).await,
        NodeEvent::NodeDown {
            node: Atom::new(&peer),
            reason: DownReason::Disconnected
        }
    );
    assert!(node.nodes().is_empty());
}

async fn wrong_cookies_are_refused_both_ways_and_the_node_keeps_serving(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let (_erl, erl_name) = echo_erl(&otp, epmd_port, &unique_name("echo", &otp)).await;
    let node = rust_node(&otp, epmd_port, "not_the_cookie").await;
    match node.connect(&erl_name).await {
        Err(ConnectError::CookieRejected { node: peer }) => assert_eq!(peer, erl_name),
        other => panic!(
            "OTP {}: expected CookieRejected, got {other:?}",
            otp.release
        ),
    }
    assert!(node.nodes().is_empty());

    // An erl with another cookie gets pang; then one with ours gets pong.
    let eval = |cookie_note: &str| {
        format!(
            "io:format(\"{cookie_note} ~p~n\", [net_adm:ping('{}')]), halt().",
            node.name()
        )
    };
    let mut stranger = erl(
        &otp,
        epmd_port,
        &unique_name("stranger", &otp),
        COOKIE,
        &eval("stranger"),
    );
    stranger
        .wait_for_line("stranger pang")
        .await
        .expect("erl output");
    let mut friend = erl(
        &otp,
        epmd_port,
        &unique_name("friend", &otp),
        "not_the_cookie",
        &eval("friend"),
    );
    friend
        .wait_for_line("friend pong")
        .await
        .expect("erl output");

    // The per-node cookie (erlang:set_cookie/2) reaches the echo node.
    node.set_cookie(&erl_name, COOKIE);
    node.ping(&erl_name)
        .await
        .expect("pong with the per-node cookie");
}

async fn a_killed_erl_is_reported_down_and_its_successor_connects(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let name = unique_name("mortal", &otp);
    let (mut first, erl_name) = echo_erl(&otp, epmd_port, &name).await;
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    node.ping(&erl_name).await.expect("pong");
    let mut events = node.events();
    first.kill().await.expect("kill");
    match next_event(&mut events, TICK_TIME).await {
        NodeEvent::NodeDown { node: down, .. } => assert_eq!(down.as_str(), erl_name),
        other => panic!("OTP {}: expected nodedown, got {other:?}", otp.release),
    }
    assert!(node.nodes().is_empty());

    // A new incarnation under the same name connects to us, and we to it.
    let successor = format!(
        "register(echo, spawn(fun Loop() -> receive {{From, Msg}} -> From ! {{echo, Msg}}, Loop() end end)),
         io:format(\"~p~n\", [net_adm:ping('{}')]).",
        node.name()
    );
    let mut second = erl(&otp, epmd_port, &name, COOKIE, &successor);
    second.wait_for_line("pong").await.expect("erl output");
    let again = format!("{name}@{}", short_host().expect("host name"));
    assert!(matches!(
        next_event(&mut events, WAIT).await,
        NodeEvent::NodeUp { node: up } if up.as_str() == again
    ));
    node.ping(&again).await.expect("pong from the successor");
    let mut me = node.spawn_process().expect("spawn");
    me.send(
        ("echo", again.as_str()),
        Term::tuple(vec![Term::Pid(me.pid().clone()), Term::atom("hi")]),
    )
    .expect("send");
    assert_eq!(
        me.recv_timeout(WAIT).await.expect("echo").payload,
        Term::tuple(vec![Term::atom("echo"), Term::atom("hi")])
    );
}

async fn rpc_calls_casts_and_multicalls(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let (_erl, erl_name) = echo_erl(&otp, epmd_port, &unique_name("rex", &otp)).await;
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    let rpc = node.rpc();
    let release = otp.release;

    let name = rpc
        .call(&erl_name, "erlang", "node", vec![], WAIT)
        .await
        .expect("node()");
    assert_eq!(name, Term::atom(&erl_name));
    let unsorted = Term::list(vec![
        Term::Int(3),
        Term::atom("a"),
        Term::Int(1),
        Term::Float(2.0),
    ]);
    let sorted = rpc
        .call(&erl_name, "lists", "sort", vec![unsorted], WAIT)
        .await
        .expect("sort");
    assert_eq!(
        sorted,
        Term::list(vec![
            Term::Int(1),
            Term::Float(2.0),
            Term::Int(3),
            Term::atom("a")
        ])
    );
    // Output of the called function reaches us as group leader and does
    // not block the call.
    let printed = rpc
        .call(
            &erl_name,
            "io",
            "format",
            vec![Term::charlist("hello from rpc~n")],
            WAIT,
        )
        .await
        .expect("io:format");
    assert_eq!(printed, Term::atom("ok"));

    match rpc
        .call(&erl_name, "no_such_module", "f", vec![], WAIT)
        .await
    {
        Err(RpcError::BadRpc { reason, .. }) => {
            let text = reason.to_string();
            assert!(
                text.contains("'EXIT'") && text.contains("undef"),
                "OTP {release}: {text}"
            );
        }
        other => panic!("OTP {release}: expected badrpc, got {other:?}"),
    }
    let short = Duration::from_millis(300);
    match rpc
        .call(&erl_name, "timer", "sleep", vec![Term::Int(3000)], short)
        .await
    {
        Err(RpcError::Timeout { after, .. }) => assert_eq!(after, short),
        other => panic!("OTP {release}: expected a timeout, got {other:?}"),
    }

    let mut pending = rpc.async_call(
        &erl_name,
        "erlang",
        "length",
        vec![Term::list(vec![Term::Nil; 4])],
    );
    assert_eq!(
        timeout(WAIT, &mut pending)
            .await
            .expect("in time")
            .expect("length"),
        Term::Int(4)
    );
    let mut later = rpc.async_call(&erl_name, "erlang", "abs", vec![Term::Int(-5)]);
    let start = Instant::now();
    let polled = loop {
        if let Some(result) = later.try_result() {
            break result;
        }
        assert!(start.elapsed() < WAIT, "async call did not finish");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(polled.expect("abs"), Term::Int(5));

    let nowhere = format!(
        "nobody_{}@{}",
        std::process::id(),
        short_host().expect("host name")
    );
    let multi = rpc
        .multicall(
            &[erl_name.as_str(), nowhere.as_str()],
            "erlang",
            "node",
            vec![],
            WAIT,
        )
        .await;
    assert_eq!(multi.replies.len(), 1, "OTP {release}: {multi:?}");
    assert_eq!(multi.replies[0].0, erl_name);
    assert_eq!(
        multi.replies[0].1.as_ref().expect("node()"),
        &Term::atom(&erl_name)
    );
    assert_eq!(multi.bad_nodes.len(), 1);
    assert_eq!(multi.bad_nodes[0].0, nowhere);

    // cast and eval_everywhere: erl sends to our registered process.
    let mut sink = node.spawn_process().expect("spawn");
    sink.register("sink").expect("register");
    let to_sink = Term::tuple(vec![Term::atom("sink"), Term::atom(node.name())]);
    rpc.cast(
        &erl_name,
        "erlang",
        "send",
        vec![to_sink.clone(), Term::atom("cast_done")],
    )
    .expect("cast");
    assert_eq!(
        sink.recv_timeout(WAIT).await.expect("cast").payload,
        Term::atom("cast_done")
    );
    let failed = rpc.eval_everywhere(
        &[erl_name.as_str()],
        "erlang",
        "send",
        vec![to_sink, Term::atom("everywhere")],
    );
    assert!(failed.is_empty());
    assert_eq!(
        sink.recv_timeout(WAIT).await.expect("eval").payload,
        Term::atom("everywhere")
    );
}

async fn ticks_keep_an_idle_link_up_and_a_frozen_peer_is_dropped(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let (erl_node, erl_name) = echo_erl(&otp, epmd_port, &unique_name("sleepy", &otp)).await;
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    node.ping(&erl_name).await.expect("pong");
    let mut events = node.events();

    // Two and a half tick times of silence: without ticks both sides would
    // have dropped the link.
    let idle = TICK_TIME * 5 / 2;
    if let Ok(event) = timeout(idle, events.recv()).await {
        panic!("OTP {}: idle link had an event: {event:?}", otp.release);
    }
    assert_eq!(node.nodes(), vec![erl_name.clone()]);
    let rpc = node.rpc();
    let same = rpc
        .call(
            &erl_name,
            "erlang",
            "nodes",
            vec![Term::atom("hidden")],
            WAIT,
        )
        .await;
    assert_eq!(
        same.expect("nodes").to_list(),
        Some(vec![Term::atom(node.name())])
    );

    // Frozen: the socket stays open but nothing comes, not even ticks.
    erl_node.signal("STOP").expect("signal");
    let frozen = Instant::now();
    let event = next_event(&mut events, TICK_TIME * 2).await;
    erl_node.signal("CONT").expect("signal");
    match event {
        NodeEvent::NodeDown {
            node: down,
            reason: DownReason::TickTimeout { .. },
        } => {
            assert_eq!(down.as_str(), erl_name)
        }
        other => panic!(
            "OTP {}: expected a tick timeout, got {other:?}",
            otp.release
        ),
    }
    let took = frozen.elapsed();
    assert!(
        took >= TICK_TIME / 2 && took <= TICK_TIME * 3 / 2,
        "OTP {}: dropped after {took:?} with net_ticktime {TICK_TIME:?}",
        otp.release
    );
}

/// An erl stopped (SIGSTOP) stops reading: once its socket buffers are
/// full, messages wait in ours, and past the send buffer limit `send`
/// refuses them (`Busy`) while `send_wait` waits; when erl reads again the
/// waiting send goes, and erl counts every message that was accepted.
async fn a_peer_that_stops_reading_gets_messages_refused_until_it_reads_again(otp: Otp) {
    const LIMIT: usize = 1 << 20;
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let counter = "register(counter, spawn(fun() -> (fun Loop(N) ->
            receive {count, From} -> From ! {count, N}, Loop(N); _ -> Loop(N + 1) end
        end)(0) end)),
        io:format(\"ready~n\").";
    let name = unique_name("stopped", &otp);
    let mut erl_node = erl(&otp, epmd.port(), &name, COOKIE, counter);
    erl_node.wait_for_line("ready").await.expect("erl output");
    let erl_name = format!("{name}@{}", short_host().expect("host name"));
    let node = loopback_node(unique_name("rust", &otp), COOKIE, epmd.port())
        .net_ticktime(TICK_TIME)
        .send_buffer_limit(LIMIT)
        .start()
        .await
        .expect("our node starts");
    node.ping(&erl_name).await.expect("pong");
    let me = node.spawn_process().expect("spawn");
    let counter = ("counter", erl_name.as_str());
    let chunk = Term::binary(vec![1u8; 64 * 1024]);

    erl_node.signal("STOP").expect("signal");
    let mut accepted = 0u64;
    let mut refused_once = false;
    let waiting = loop {
        match me.send(counter, chunk.clone()) {
            Ok(()) => {
                accepted += 1;
                refused_once = false;
            }
            Err(SendError::Busy { queued_bytes, .. }) if refused_once => break queued_bytes,
            Err(SendError::Busy { .. }) => {
                // A burst is left to the connection's task, which may
                // still be moving it into the kernel's buffers: busy
                // counts once that has settled.
                refused_once = true;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(err) => panic!("OTP {}: {err}", otp.release),
        }
        // Kernel buffers on both sides hold a few MiB at most.
        assert!(accepted < 4096, "OTP {}: never refused", otp.release);
    };
    assert!(
        waiting > LIMIT && waiting < LIMIT + (1 << 20),
        "OTP {}: refused with {waiting} bytes waiting",
        otp.release
    );
    // Still busy: a waiting send does not go.
    let blocked = timeout(
        Duration::from_millis(300),
        me.send_wait(counter, chunk.clone()),
    )
    .await;
    assert!(blocked.is_err(), "OTP {}: sent while busy", otp.release);

    erl_node.signal("CONT").expect("signal");
    timeout(WAIT, me.send_wait(counter, chunk.clone()))
        .await
        .expect("room within the wait")
        .expect("sent");
    let ask = Term::tuple(vec![Term::atom("count"), Term::Pid(me.pid().clone())]);
    me.send_wait(counter, ask).await.expect("sent");
    let mut me = me;
    let reply = me.recv_timeout(WAIT).await.expect("count");
    assert_eq!(
        reply.payload,
        Term::tuple(vec![Term::atom("count"), Term::from(accepted + 1)]),
        "OTP {}",
        otp.release
    );
}

/// Both sides connect at the same instants, round after round, once with
/// an erl whose name sorts before ours (erl's attempt loses: we answer its
/// request `nok`) and once after (ours loses and we take erl's, answering
/// `ok_simultaneous`). Every round must end with one working connection
/// that both sides see.
async fn simultaneous_connects_with_erl_end_in_one_connection(otp: Otp) {
    const ROUNDS: u64 = 8;
    const PERIOD_MS: u64 = 400;
    /// From erl printing the first instant to that instant.
    const LEAD_MS: u64 = 1000;
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    for prefix in ["aaa_simul", "zzz_simul"] {
        let name = unique_name(prefix, &otp);
        let peer = format!("{name}@{}", short_host().expect("host name"));
        // erl picks the first instant once it is up (and registered with
        // EPMD), however long its start took, and tells us. At each instant
        // erl connects, checks that we are listed in nodes(hidden), and
        // disconnects half a period later.
        let eval = format!(
            "Us = '{us}',
             Start = erlang:system_time(millisecond) + {LEAD_MS},
             io:format(\"start ~w~n\", [Start]),
             lists:foreach(fun(I) ->
                 At = Start + I * {PERIOD_MS},
                 Wait = At - erlang:system_time(millisecond),
                 timer:sleep(max(0, Wait)),
                 R = net_kernel:connect_node(Us),
                 timer:sleep({half}),
                 io:format(\"round ~w ~w ~w~n\", [I, R, lists:member(Us, nodes(hidden))]),
                 erlang:disconnect_node(Us),
                 timer:sleep(50)
             end, lists:seq(0, {last})),
             halt().",
            us = node.name(),
            half = PERIOD_MS / 2,
            last = ROUNDS - 1,
        );
        let mut other = erl(&otp, epmd_port, &name, COOKIE, &eval);
        let start_ms: u64 = loop {
            let line = other.next_line().await.expect("erl output");
            if let Some(start) = line.strip_prefix("start ") {
                break start.parse().expect("erl prints its start time");
            }
        };
        for round in 0..ROUNDS {
            let at = std::time::UNIX_EPOCH + Duration::from_millis(start_ms + round * PERIOD_MS);
            let wait = at
                .duration_since(std::time::SystemTime::now())
                .unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait).await;
            let connected = timeout(WAIT, node.connect(&peer)).await.expect("in time");
            connected.unwrap_or_else(|e| panic!("OTP {} {prefix} round {round}: {e}", otp.release));
            other
                .wait_for_line(&format!("round {round} true true"))
                .await
                .expect("erl output");
            // erl disconnects; wait until we saw it before the next round.
            let start = Instant::now();
            while node.nodes().contains(&peer) {
                assert!(start.elapsed() < WAIT, "erl's disconnect not seen");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

/// `erl -name n@127.0.0.1` and our `n@127.0.0.1`: long names whose host
/// is an address.
async fn long_names_with_ip_hosts_ping_both_ways(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = loopback_node(
        format!("{}@127.0.0.1", unique_name("rust", &otp)),
        COOKIE,
        epmd_port,
    )
    .hidden()
    .start()
    .await
    .expect("our node starts");
    let name = format!("{}@127.0.0.1", unique_name("long", &otp));
    // erl prints `down` once it has seen us disconnect, so that our ping
    // dials a node that is not still closing the old connection. It
    // monitors us before it prints `pong`: a monitor set after the
    // disconnect would connect again instead.
    let eval = format!(
        "Us = '{}', Pong = net_adm:ping(Us), monitor_node(Us, true),
         io:format(\"~p~n\", [Pong]),
         receive {{nodedown, Us}} -> io:format(\"down~n\") end,
         receive stop -> ok end.",
        node.name()
    );
    let mut long = ErlNode::builder(&otp, &name)
        .long_name()
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(&eval)
        .start()
        .expect("erl starts");
    long.wait_for_line("pong").await.expect("erl output");
    assert_eq!(node.nodes(), vec![name.clone()]);
    node.disconnect(&name);
    long.wait_for_line("down")
        .await
        .expect("erl sees the disconnect");
    node.ping(&name)
        .await
        .expect("pong from the long-named erl");
    let answer = node.rpc().call(&name, "erlang", "node", vec![], WAIT).await;
    assert_eq!(answer.expect("node()"), Term::atom(&name));
}

async fn erl_messages_rust_processes_numbered_past_fifteen_bits_and_gets_answers(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port, COOKIE).await;
    // 40,000 processes: numbers past 32,767 (the old 15-bit limit).
    let mut processes: Vec<cnode::Process> = (0..40_000)
        .map(|_| node.spawn_process().expect("spawn"))
        .collect();
    // End a few and spawn again: their numbers come back with serial 1.
    let ended: Vec<Pid> = processes.drain(..64).map(|p| p.pid().clone()).collect();
    processes.extend((0..64).map(|_| node.spawn_process().expect("spawn")));
    let high = processes
        .iter()
        .position(|p| p.pid().id > 0x7fff)
        .expect("a number past 15 bits");
    let reused = processes
        .iter()
        .position(|p| {
            ended
                .iter()
                .any(|e| e.id == p.pid().id && e.serial != p.pid().serial)
        })
        .expect("a reused number");
    let stale = ended
        .iter()
        .find(|e| e.id == processes[reused].pid().id)
        .expect("its old pid")
        .clone();
    assert_ne!(high, reused);
    // The two answer every `{ping, From}` with `{pong, Self}`.
    let mut answerers = Vec::new();
    for index in [high.max(reused), high.min(reused)] {
        let mut p = processes.swap_remove(index);
        answerers.push(p.pid().clone());
        tokio::spawn(async move {
            let mut pings = 0;
            while let Ok(message) = p.recv().await {
                let Some([ping, Term::Pid(from)]) = message.payload.as_tuple() else {
                    continue;
                };
                if ping.is_atom("ping") {
                    pings += 1;
                    let pong = Term::tuple(vec![Term::atom("pong"), Term::Pid(p.pid().clone())]);
                    let _ = p.send(from, pong);
                } else if ping.is_atom("count") {
                    let _ = p.send(
                        from,
                        Term::tuple(vec![Term::atom("count"), Term::Int(pings)]),
                    );
                }
            }
        });
    }
    let mut bridge = node.spawn_process().expect("spawn");
    // erl pings each pid (and the stale pid of the reused number first),
    // waits for both pongs, then asks each how many pings it got.
    let eval = "
        register(bridge, self()), io:format(\"ready~n\"),
        receive {pids, Stale, Pids, Rust} ->
            Stale ! {ping, self()},
            [P ! {ping, self()} || P <- Pids],
            Pongs = [receive {pong, P} -> P after 10000 -> none end || P <- Pids],
            [P ! {count, self()} || P <- Pids],
            Counts = [receive {count, N} -> N after 10000 -> none end || _ <- Pids],
            Rust ! {result, Pongs =:= Pids, Counts}
        end,
        receive stop -> halt() end.";
    let erl_name = unique_name("many", &otp);
    let mut erl_node = erl(&otp, epmd_port, &erl_name, COOKIE, eval);
    erl_node.wait_for_line("ready").await.expect("erl output");
    let erl_full = format!("{erl_name}@{}", short_host().expect("host name"));
    let pids = Term::list(answerers.iter().cloned().map(Term::Pid).collect());
    let request = Term::tuple(vec![
        Term::atom("pids"),
        Term::Pid(stale),
        pids,
        Term::Pid(bridge.pid().clone()),
    ]);
    bridge
        .send(("bridge", erl_full.as_str()), request)
        .expect("send");
    let result = bridge
        .recv_timeout(WAIT)
        .await
        .expect("erl's result")
        .payload;
    assert_eq!(
        result,
        Term::tuple(vec![
            Term::atom("result"),
            Term::atom("true"),
            Term::list(vec![Term::Int(1), Term::Int(1)]),
        ]),
        "each answered its one ping; the stale pid reached nobody"
    );
    assert!(answerers.iter().any(|p| p.id > 0x7fff));
    assert!(answerers.iter().any(|p| p.serial > 0));
    let _ = bridge.send(("bridge", erl_full.as_str()), Term::atom("stop"));
    drop(processes);
}
