//! Priority messages (OTP 28, EEP 76, `DFLAG_ALTACT_SIG`) between real
//! `erl` nodes and Rust processes, both ways: a priority message sent to a
//! priority alias overtakes the ordinary messages waiting in the receiver's
//! mailbox; to a plain alias, a pid or a name it is an ordinary message.
//! Against OTP 25 and 27, which lack the flag, sending one is a typed error
//! and the connection stays up.

mod signals_support;

use cnode::{Dest, Message, Node, Process, SendError};
use etf::{Pid, Term};
use interop_tests::local::{unique_name, Epmd};
use interop_tests::Otp;
use signals_support::{erl, rust_node, WAIT};

mod otp28 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn erlang_priority_messages_overtake_ordinary_ones_in_a_rust_mailbox() {
        super::erlang_priority_messages_overtake_ordinary_ones_in_a_rust_mailbox(
            interop_tests::Otp::v28(),
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rust_priority_messages_overtake_ordinary_ones_in_an_erlang_mailbox() {
        super::rust_priority_messages_overtake_ordinary_ones_in_an_erlang_mailbox(
            interop_tests::Otp::v28(),
        )
        .await
    }
}

mod otp29 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn erlang_priority_messages_overtake_ordinary_ones_in_a_rust_mailbox() {
        super::erlang_priority_messages_overtake_ordinary_ones_in_a_rust_mailbox(
            interop_tests::Otp::v29(),
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rust_priority_messages_overtake_ordinary_ones_in_an_erlang_mailbox() {
        super::rust_priority_messages_overtake_ordinary_ones_in_an_erlang_mailbox(
            interop_tests::Otp::v29(),
        )
        .await
    }
}

mod otp25 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_priority_message_to_a_node_without_the_flag_is_refused_and_the_connection_stays() {
        super::a_priority_message_to_a_node_without_the_flag_is_refused(interop_tests::Otp::v25())
            .await
    }
}

mod otp27 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_priority_message_to_a_node_without_the_flag_is_refused_and_the_connection_stays() {
        super::a_priority_message_to_a_node_without_the_flag_is_refused(interop_tests::Otp::v27())
            .await
    }
}

fn atom(name: &str) -> Term {
    Term::atom(name)
}

fn tuple(items: Vec<Term>) -> Term {
    Term::tuple(items)
}

fn tagged(tag: &str, value: Term) -> Term {
    tuple(vec![atom(tag), value])
}

/// Waits for `{From, Tag}` from the erl script; returns `From`.
async fn expect_from(process: &mut Process, tag: &str) -> Pid {
    let message = process
        .recv_matching_timeout(WAIT, |m| {
            m.payload
                .as_tuple()
                .is_some_and(|t| t.len() == 2 && t[1].is_atom(tag))
        })
        .await
        .unwrap_or_else(|e| panic!("no {tag}: {e}"));
    message.payload.as_tuple().expect("a tuple")[0]
        .as_pid()
        .expect("a pid")
        .clone()
}

/// Every message waiting in `process`, in the order its receive gives them.
fn drain(process: &mut Process) -> Vec<Term> {
    std::iter::from_fn(|| process.try_recv().map(|m: Message| m.payload)).collect()
}

async fn erlang_priority_messages_overtake_ordinary_ones_in_a_rust_mailbox(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node = rust_node(&otp, epmd.port()).await;
    let mut ctl = node.spawn_process().expect("spawn");
    ctl.register("ctl").expect("register");
    let mut inbox = node.spawn_process().expect("spawn");
    inbox.register("inbox").expect("register");
    inbox.trap_exit(true);
    let priority = inbox.priority_alias();
    let plain = inbox.alias();
    // Ordinary messages first, then priority ones mixed with messages that
    // are not priority messages (no priority option, or a destination that
    // is not a priority alias), and exit signals through both aliases.
    let eval = format!(
        r#"R = '{r}', {{ctl, R}} ! {{self(), hello}},
        receive {{go, Pid, PA, A}} -> ok end,
        [Pid ! {{ordinary, I}} || I <- [1, 2, 3]],
        erlang:send(PA, {{priority, 1}}, [priority]),
        PA ! {{ordinary, no_priority_option}},
        erlang:send(A, {{ordinary, plain_alias}}, [priority]),
        erlang:send(Pid, {{ordinary, pid}}, [priority]),
        erlang:send({{inbox, R}}, {{ordinary, name}}, [priority]),
        exit(PA, priority_exit, [priority]),
        exit(Pid, pid_exit, [priority]),
        exit(A, plain_exit),
        erlang:send(PA, {{priority, 2}}, [priority]),
        {{ctl, R}} ! {{self(), sent}},
        receive stop -> halt() end"#,
        r = node.name()
    );
    let _erl = erl(&otp, epmd.port(), &unique_name("erl", &otp), &eval);
    let erl_pid = expect_from(&mut ctl, "hello").await;
    let go = tuple(vec![
        atom("go"),
        Term::Pid(inbox.pid().clone()),
        Term::Reference(priority),
        Term::Reference(plain),
    ]);
    ctl.send(&erl_pid, go).expect("send");
    // Messages of one sender arrive in order, over one connection: once
    // `sent` is here, everything before it is in the inbox.
    expect_from(&mut ctl, "sent").await;
    let exit = |reason: &str| tuple(vec![atom("EXIT"), Term::Pid(erl_pid.clone()), atom(reason)]);
    let expected = vec![
        tagged("priority", Term::Int(1)),
        exit("priority_exit"),
        tagged("priority", Term::Int(2)),
        tagged("ordinary", Term::Int(1)),
        tagged("ordinary", Term::Int(2)),
        tagged("ordinary", Term::Int(3)),
        tagged("ordinary", atom("no_priority_option")),
        tagged("ordinary", atom("plain_alias")),
        tagged("ordinary", atom("pid")),
        tagged("ordinary", atom("name")),
        exit("pid_exit"),
        exit("plain_exit"),
    ];
    assert_eq!(drain(&mut inbox), expected, "OTP {}", otp.release);
    inbox.send(&erl_pid, atom("stop")).expect("send");
}

async fn rust_priority_messages_overtake_ordinary_ones_in_an_erlang_mailbox(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node = rust_node(&otp, epmd.port()).await;
    let mut ctl = node.spawn_process().expect("spawn");
    ctl.register("ctl").expect("register");
    // The erl process waits for `go` with a selective receive, which leaves
    // the other messages in its queue in order, then sends them all back.
    let eval = format!(
        r#"R = '{r}', register(inbox, self()),
        PA = alias([priority]), A = alias(),
        {{ctl, R}} ! {{self(), PA, A}},
        receive go -> ok end,
        Drain = fun F(Acc) -> receive M -> F([M | Acc]) after 0 -> lists:reverse(Acc) end end,
        {{ctl, R}} ! {{got, Drain([])}},
        receive stop -> halt() end"#,
        r = node.name()
    );
    let _erl = erl(&otp, epmd.port(), &unique_name("erl", &otp), &eval);
    let hello = ctl.recv_timeout(WAIT).await.expect("hello");
    let [erl_pid, priority, plain] = hello.payload.as_tuple().expect("a tuple") else {
        panic!("not {{Pid, PA, A}}: {}", hello.payload);
    };
    let erl_pid = erl_pid.as_pid().expect("a pid").clone();
    let priority = Dest::Alias(priority.as_reference().expect("an alias").clone());
    let plain = Dest::Alias(plain.as_reference().expect("an alias").clone());
    let erl_node = erl_pid.node.as_str().to_owned();
    for i in 1..=3 {
        ctl.send(&erl_pid, tagged("ordinary", Term::Int(i)))
            .expect("send");
    }
    ctl.send_priority(priority.clone(), tagged("priority", Term::Int(1)))
        .await
        .expect("priority send");
    ctl.send(priority.clone(), tagged("ordinary", atom("no_priority")))
        .expect("send");
    let not_priority_aliases = [
        (plain, "plain_alias"),
        (Dest::Pid(erl_pid.clone()), "pid"),
        (("inbox", erl_node.as_str()).into(), "name"),
    ];
    for (to, what) in not_priority_aliases {
        ctl.send_priority(to, tagged("ordinary", atom(what)))
            .await
            .expect("priority send");
    }
    ctl.send_priority(priority, tagged("priority", Term::Int(2)))
        .await
        .expect("priority send");
    ctl.send(&erl_pid, atom("go")).expect("send");
    let got = ctl.recv_timeout(WAIT).await.expect("the erl queue");
    let expected = tagged(
        "got",
        Term::list(vec![
            tagged("priority", Term::Int(1)),
            tagged("priority", Term::Int(2)),
            tagged("ordinary", Term::Int(1)),
            tagged("ordinary", Term::Int(2)),
            tagged("ordinary", Term::Int(3)),
            tagged("ordinary", atom("no_priority")),
            tagged("ordinary", atom("plain_alias")),
            tagged("ordinary", atom("pid")),
            tagged("ordinary", atom("name")),
        ]),
    );
    assert_eq!(got.payload, expected, "OTP {}", otp.release);
    ctl.send(&erl_pid, atom("stop")).expect("send");
}

async fn a_priority_message_to_a_node_without_the_flag_is_refused(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node: Node = rust_node(&otp, epmd.port()).await;
    let mut ctl = node.spawn_process().expect("spawn");
    ctl.register("ctl").expect("register");
    let eval = format!(
        r#"R = '{r}', A = alias(), {{ctl, R}} ! {{self(), A}},
        receive M -> {{ctl, R}} ! {{got, M}} end,
        receive stop -> halt() end"#,
        r = node.name()
    );
    let _erl = erl(&otp, epmd.port(), &unique_name("erl", &otp), &eval);
    let hello = ctl.recv_timeout(WAIT).await.expect("hello");
    let [erl_pid, alias] = hello.payload.as_tuple().expect("a tuple") else {
        panic!("not {{Pid, A}}: {}", hello.payload);
    };
    let erl_pid = erl_pid.as_pid().expect("a pid").clone();
    let alias = Dest::Alias(alias.as_reference().expect("an alias").clone());
    let erl_node = erl_pid.node.as_str().to_owned();
    for to in [alias, Dest::Pid(erl_pid.clone())] {
        let refused = ctl.send_priority(to, atom("priority")).await;
        assert!(
            matches!(&refused, Err(SendError::PriorityNotSupported { node }) if *node == erl_node),
            "OTP {}: {refused:?}",
            otp.release
        );
    }
    // Nothing was sent and the connection is still up: an ordinary message
    // is the first the erl process gets.
    assert_eq!(node.nodes(), vec![erl_node.clone()]);
    ctl.send(&erl_pid, atom("ordinary")).expect("send");
    let got = ctl.recv_timeout(WAIT).await.expect("the echo");
    assert_eq!(got.payload, tagged("got", atom("ordinary")));
    assert_eq!(node.nodes(), vec![erl_node]);
    ctl.send(&erl_pid, atom("stop")).expect("send");
}
