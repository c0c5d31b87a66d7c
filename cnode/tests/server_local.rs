//! The `Server` trait on one node, without Erlang: typed calls and casts,
//! infos, deferred replies, stops, panics, exit signals, timeouts, the
//! `sys` protocol, and restarts. (Erlang callers are in
//! `interop-tests/tests/server_interop.rs`.)

use std::time::Duration;

use cnode::{
    CallError, Context, Message, Next, Node, Process, RegisterError, Reply, ReplyTo, Restart,
    RestartPolicy, Server, ServerError,
};
use epmd_client::ServerHandle;
use etf::{Pid, Reference, Term};
use interop_tests::local::{in_process_epmd, loopback_node, unique_label};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(10);

async fn node() -> (ServerHandle, Node) {
    let epmd = in_process_epmd().await.expect("epmd");
    let name = format!("{}@localhost", unique_label("server"));
    let node = loopback_node(name, "server", epmd.port())
        .start()
        .await
        .expect("node starts");
    (epmd, node)
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Ask {
    Get,
    Put(i64),
    Infos,
    Defer,
    Stop,
    Panic,
    SetTimeout(u64),
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Tell {
    Add(i64),
    Stop,
}

/// A counter that tells `watcher` what happens to it.
struct Counter {
    count: i64,
    infos: Vec<Term>,
    watcher: Pid,
    trap_exit: bool,
}

impl Counter {
    fn new(watcher: &Process) -> Counter {
        Counter::watched_by(watcher.pid().clone())
    }

    fn watched_by(watcher: Pid) -> Counter {
        Counter {
            count: 0,
            infos: Vec::new(),
            watcher,
            trap_exit: false,
        }
    }
}

impl Server for Counter {
    type Call = Ask;
    type Cast = Tell;
    type Reply = Term;

    async fn init(&mut self, ctx: &mut Context) -> Result<(), Term> {
        ctx.process().trap_exit(self.trap_exit);
        if self.count < 0 {
            return Err(Term::atom("negative"));
        }
        Ok(())
    }

    async fn handle_call(&mut self, ask: Ask, from: ReplyTo, ctx: &mut Context) -> Reply<Term> {
        match ask {
            Ask::Get => Reply::Reply(Term::Int(self.count)),
            Ask::Put(n) => {
                self.count = n;
                Reply::Reply(Term::atom("ok"))
            }
            Ask::Infos => Reply::Reply(Term::list(self.infos.clone())),
            Ask::Defer => {
                let count = self.count;
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    from.reply(&("later", count)).expect("the deferred reply");
                });
                Reply::NoReply
            }
            Ask::Stop => Reply::Stop {
                reason: Term::atom("asked"),
                reply: Some(Term::atom("stopping")),
            },
            Ask::Panic => panic!("boom at {}", self.count),
            Ask::SetTimeout(ms) => {
                ctx.set_timeout(Duration::from_millis(ms));
                Reply::Reply(Term::atom("ok"))
            }
        }
    }

    async fn handle_cast(&mut self, tell: Tell, _: &mut Context) -> Next {
        match tell {
            Tell::Add(n) => {
                self.count += n;
                Next::Continue
            }
            Tell::Stop => Next::Stop(Term::atom("cast_stop")),
        }
    }

    async fn handle_info(&mut self, message: Message, _: &mut Context) -> Next {
        self.infos.push(message.payload);
        Next::Continue
    }

    async fn terminate(&mut self, reason: &Term, ctx: &mut Context) {
        let said = Term::tuple(vec![Term::atom("terminated"), reason.clone()]);
        // The process may be gone already (killed): the node's pid sends.
        let _ = ctx.process().send(&self.watcher, said);
    }

    fn state_term(&self) -> Term {
        assert_ne!(self.count, 666, "no state to show");
        Term::tuple(vec![Term::atom("count"), Term::Int(self.count)])
    }
}

/// The next `{terminated, Reason}` the watcher gets.
async fn terminated(watcher: &mut Process) -> Term {
    let message = watcher
        .recv_matching_timeout(
            WAIT,
            |m| matches!(m.payload.as_tuple(), Some([t, _]) if t.is_atom("terminated")),
        )
        .await
        .expect("terminate ran");
    message.payload.as_tuple().expect("a tuple")[1].clone()
}

/// The reason in the `'DOWN'` of `monitor`.
async fn down(watcher: &mut Process, monitor: &Reference) -> Term {
    let message = watcher
        .recv_matching_timeout(WAIT, |m| {
            matches!(m.payload.as_tuple(), Some([d, r, ..]) if d.is_atom("DOWN") && r.as_reference() == Some(monitor))
        })
        .await
        .expect("the 'DOWN'");
    message.payload.as_tuple().expect("a tuple")[4].clone()
}

/// Sends `{system, {Self, Ref}, Request}` as `sys` does, and waits for
/// `{Ref, Answer}` within `timeout`.
async fn sys(caller: &mut Process, server: &Pid, request: Term, timeout: Duration) -> Option<Term> {
    let tag = Term::Reference(caller.alias());
    let message = Term::tuple(vec![
        Term::atom("system"),
        Term::tuple(vec![
            Term::Pid(caller.pid().clone()),
            Term::improper_list(vec![Term::atom("alias")], tag.clone()),
        ]),
        request,
    ]);
    caller.send(server, message).expect("send");
    let answer = caller
        .recv_matching_timeout(timeout, |m| {
            matches!(m.payload.as_tuple(), Some([t, _]) if *t == Term::improper_list(vec![Term::atom("alias")], tag.clone()))
        })
        .await
        .ok()?;
    Some(answer.payload.as_tuple().expect("a tuple")[1].clone())
}

#[tokio::test]
async fn calls_casts_and_infos_reach_the_callbacks_typed() {
    let (_epmd, node) = node().await;
    let watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(Some("counter"), Counter::new(&watcher))
        .await
        .expect("starts");
    assert_eq!(server.name(), Some("counter"));
    assert_eq!(node.whereis("counter").as_ref(), Some(server.pid()));
    let ok: Term = server.call(&Ask::Put(5), WAIT).await.expect("put");
    assert_eq!(ok, Term::atom("ok"));
    server.cast(&Tell::Add(2)).expect("cast");
    let count: i64 = server.call(&Ask::Get, WAIT).await.expect("get");
    assert_eq!(count, 7);

    // A plain message, and a call in the raw gen_server protocol from a
    // process, by name.
    let mut caller = node.spawn_process().expect("spawn");
    caller
        .send(server.pid(), Term::atom("hello"))
        .expect("send");
    let infos = caller
        .gen_call(("counter", node.name()), Term::atom("infos"), WAIT)
        .await
        .expect("infos");
    assert_eq!(infos, Term::list(vec![Term::atom("hello")]));
    // A cast that does not convert is dropped; the server goes on.
    caller
        .gen_cast(server.pid(), Term::atom("nonsense"))
        .expect("cast");
    let count: i64 = server.call(&Ask::Get, WAIT).await.expect("get");
    assert_eq!(count, 7);
}

#[tokio::test]
async fn a_request_that_does_not_convert_is_answered_with_an_error() {
    let (_epmd, node) = node().await;
    let watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    let answer = server
        .call_term(Term::tuple(vec![Term::atom("put"), Term::atom("x")]), WAIT)
        .await
        .expect("an answer");
    let [error, bad] = answer.as_tuple().expect("a tuple") else {
        panic!("{answer}")
    };
    assert!(error.is_atom("error"), "{answer}");
    assert!(
        bad.as_tuple().expect("a tuple")[0].is_atom("bad_request"),
        "{answer}"
    );
    // A reply of the wrong type is the caller's error, naming the term.
    match server.call::<_, String>(&Ask::Get, WAIT).await {
        Err(ServerError::Decode { term, .. }) => assert_eq!(term, Term::Int(0)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_deferred_reply_comes_from_another_task() {
    let (_epmd, node) = node().await;
    let watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    server.cast(&Tell::Add(3)).expect("cast");
    let later: (String, i64) = server.call(&Ask::Defer, WAIT).await.expect("deferred");
    assert_eq!(later, ("later".to_owned(), 3));
}

#[tokio::test]
async fn a_stop_answers_runs_terminate_and_exits_with_the_reason() {
    let (_epmd, node) = node().await;
    let mut watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(Some("stopper"), Counter::new(&watcher))
        .await
        .expect("starts");
    let monitor = watcher.monitor(server.pid()).expect("monitor");
    let answer: Term = server.call(&Ask::Stop, WAIT).await.expect("answered");
    assert_eq!(answer, Term::atom("stopping"));
    assert_eq!(terminated(&mut watcher).await, Term::atom("asked"));
    assert_eq!(down(&mut watcher, &monitor).await, Term::atom("asked"));
    assert_eq!(node.whereis("stopper"), None, "the name is freed");
    match server.call::<_, Term>(&Ask::Get, WAIT).await {
        Err(ServerError::Call(CallError::Exit { reason })) => {
            assert_eq!(reason, Term::atom("noproc"))
        }
        other => panic!("{other:?}"),
    }

    // A cast stops it too; and ServerRef::stop (sys:terminate).
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    server.cast(&Tell::Stop).expect("cast");
    assert_eq!(terminated(&mut watcher).await, Term::atom("cast_stop"));
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    server
        .stop(Term::atom("shutdown"), WAIT)
        .await
        .expect("stopped");
    assert_eq!(terminated(&mut watcher).await, Term::atom("shutdown"));
}

#[tokio::test]
async fn a_panic_becomes_an_exit_and_the_node_goes_on() {
    let (_epmd, node) = node().await;
    let mut watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    let reason = match server.call::<_, Term>(&Ask::Panic, WAIT).await {
        Err(ServerError::Call(CallError::Exit { reason })) => reason,
        other => panic!("{other:?}"),
    };
    let expected = Term::tuple(vec![Term::atom("panic"), Term::binary(&b"boom at 0"[..])]);
    assert_eq!(reason, expected);
    assert_eq!(terminated(&mut watcher).await, expected);
    let other = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("the node still starts servers");
    let count: i64 = other.call(&Ask::Get, WAIT).await.expect("get");
    assert_eq!(count, 0);

    // A panic in state_term (sys:get_state) ends it the same way.
    let _: Term = other.call(&Ask::Put(666), WAIT).await.expect("put");
    let mut caller = node.spawn_process().expect("spawn");
    let none = sys(
        &mut caller,
        other.pid(),
        Term::atom("get_state"),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(none, None);
    let reason = terminated(&mut watcher).await;
    assert!(reason.to_string().contains("no state to show"), "{reason}");
}

#[tokio::test]
async fn a_linked_exit_stops_it_unless_it_traps_exits() {
    let (_epmd, node) = node().await;
    let mut watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    let linked = node.spawn_process().expect("spawn");
    linked.link(server.pid());
    linked.exit_with(Term::atom("crashed"));
    assert_eq!(terminated(&mut watcher).await, Term::atom("crashed"));

    let mut trapping = Counter::new(&watcher);
    trapping.trap_exit = true;
    let server = node.start_server(None, trapping).await.expect("starts");
    let linked = node.spawn_process().expect("spawn");
    let linked_pid = linked.pid().clone();
    linked.link(server.pid());
    linked.exit_with(Term::atom("crashed"));
    let infos: Term = server.call(&Ask::Infos, WAIT).await.expect("alive");
    let expected = Term::tuple(vec![
        Term::atom("EXIT"),
        Term::Pid(linked_pid),
        Term::atom("crashed"),
    ]);
    assert_eq!(infos, Term::list(vec![expected]));
}

#[tokio::test]
async fn init_failures_and_taken_names_are_errors() {
    let (_epmd, node) = node().await;
    let watcher = node.spawn_process().expect("spawn");
    let mut bad = Counter::new(&watcher);
    bad.count = -1;
    match node.start_server(Some("bad"), bad).await {
        Err(ServerError::Init { reason }) => assert_eq!(reason, Term::atom("negative")),
        other => panic!("{other:?}"),
    }
    assert_eq!(node.whereis("bad"), None);
    // As the one error type of the library, readable.
    let mut bad = Counter::new(&watcher);
    bad.count = -1;
    let err: cnode::Error = node.start_server(None, bad).await.unwrap_err().into();
    assert_eq!(err.to_string(), "the server's init failed: negative");
    assert!(matches!(err, cnode::Error::Other(_)));
    let _first = node
        .start_server(Some("taken"), Counter::new(&watcher))
        .await
        .expect("starts");
    match node
        .start_server(Some("taken"), Counter::new(&watcher))
        .await
    {
        Err(err @ ServerError::Register(RegisterError::NameTaken { .. })) => {
            let err = cnode::Error::from(err);
            assert!(matches!(err, cnode::Error::Register(_)), "{err}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_timeout_without_messages_reaches_handle_info() {
    let (_epmd, node) = node().await;
    let watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(None, Counter::new(&watcher))
        .await
        .expect("starts");
    let _: Term = server.call(&Ask::SetTimeout(30), WAIT).await.expect("set");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let infos: Term = server.call(&Ask::Infos, WAIT).await.expect("infos");
    assert_eq!(infos, Term::list(vec![Term::atom("timeout")]), "once");
}

#[tokio::test]
async fn sys_requests_get_the_state_the_status_and_suspend_it() {
    let (_epmd, node) = node().await;
    let watcher = node.spawn_process().expect("spawn");
    let server = node
        .start_server(Some("inspected"), Counter::new(&watcher))
        .await
        .expect("starts");
    server.cast(&Tell::Add(4)).expect("cast");
    let mut caller = node.spawn_process().expect("spawn");
    let pid = server.pid().clone();
    let state = sys(&mut caller, &pid, Term::atom("get_state"), WAIT).await;
    // As OTP 26 and later answer: `{ok, State}`.
    let expected_state = Term::tuple(vec![Term::atom("count"), Term::Int(4)]);
    let expected = Term::tuple(vec![Term::atom("ok"), expected_state]);
    assert_eq!(state.as_ref(), Some(&expected));

    let status = sys(&mut caller, &pid, Term::atom("get_status"), WAIT)
        .await
        .expect("status");
    let [tag, status_pid, module, items] = status.as_tuple().expect("a tuple") else {
        panic!("{status}")
    };
    assert!(tag.is_atom("status"));
    assert_eq!(status_pid, &Term::Pid(pid.clone()));
    assert_eq!(module.to_string(), "{module,gen_server}");
    let items = items.as_list().expect("a list");
    assert!(items[1].is_atom("running"), "{status}");
    let text = items[4].to_string();
    assert!(
        text.contains("\"Status for generic server inspected\""),
        "{text}"
    );
    assert!(text.contains("{\"State\",{count,4}}"), "{text}");

    let ok = sys(&mut caller, &pid, Term::atom("suspend"), WAIT).await;
    assert_eq!(ok, Some(Term::atom("ok")));
    // Suspended: a call waits, system messages are still answered.
    server.cast(&Tell::Add(1)).expect("cast");
    let status = sys(&mut caller, &pid, Term::atom("get_status"), WAIT)
        .await
        .expect("status");
    assert!(status.as_tuple().expect("a tuple")[3]
        .as_list()
        .expect("a list")[1]
        .is_atom("suspended"));
    let waiting = server.clone();
    let call = tokio::spawn(async move { waiting.call::<_, i64>(&Ask::Get, WAIT).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !call.is_finished(),
        "a suspended server does not answer calls"
    );
    let ok = sys(&mut caller, &pid, Term::atom("resume"), WAIT).await;
    assert_eq!(ok, Some(Term::atom("ok")));
    assert_eq!(call.await.expect("joined").expect("answered"), 5);

    // What it does not do gets clean answers.
    let replace = Term::tuple(vec![Term::atom("replace_state"), Term::atom("f")]);
    let answer = sys(&mut caller, &pid, replace, WAIT).await;
    assert_eq!(
        answer.map(|a| a.to_string()),
        Some("{error,not_supported}".to_owned())
    );
    let trace = Term::tuple(vec![
        Term::atom("debug"),
        Term::tuple(vec![Term::atom("trace"), Term::atom("true")]),
    ]);
    assert_eq!(
        sys(&mut caller, &pid, trace, WAIT).await,
        Some(Term::atom("ok"))
    );
}

fn policy(restart: Restart, intensity: u32) -> RestartPolicy {
    RestartPolicy {
        restart,
        intensity,
        period: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn a_permanent_server_restarts_until_the_intensity_is_passed() {
    let (_epmd, node) = node().await;
    let mut watcher = node.spawn_process().expect("spawn");
    let pid = watcher.pid().clone();
    let supervisor = node
        .start_supervised(Some("phoenix"), policy(Restart::Permanent, 2), move || {
            Counter::watched_by(pid.clone())
        })
        .await
        .expect("starts");
    let mut caller = node.spawn_process().expect("spawn");
    let mut pids = Vec::new();
    for round in 0..3 {
        let server = supervisor.server().expect("a server runs");
        pids.push(server.pid().clone());
        assert_eq!(node.whereis("phoenix").as_ref(), Some(server.pid()));
        server.cast(&Tell::Add(5)).expect("cast");
        let count: i64 = server.call(&Ask::Get, WAIT).await.expect("get");
        assert_eq!(count, 5, "round {round}: a fresh server");
        let crash = caller
            .gen_call(("phoenix", node.name()), Term::atom("panic"), WAIT)
            .await;
        assert!(matches!(crash, Err(CallError::Exit { .. })), "{crash:?}");
        let reason = terminated(&mut watcher).await;
        assert!(reason.as_tuple().expect("a tuple")[0].is_atom("panic"));
        if round < 2 {
            // Restarted under the same name, with a new pid.
            let deadline = tokio::time::Instant::now() + WAIT;
            while supervisor.server().map(|s| s.pid().clone()).as_ref() == Some(server.pid()) {
                assert!(tokio::time::Instant::now() < deadline, "no restart");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    // The third crash within the period passes intensity 2.
    tokio::time::timeout(WAIT, supervisor.ended())
        .await
        .expect("the supervisor gives up");
    assert!(supervisor.server().is_none());
    assert_eq!(node.whereis("phoenix"), None);
    pids.dedup();
    assert_eq!(pids.len(), 3);
}

#[tokio::test]
async fn transient_and_temporary_servers_restart_as_otp_says() {
    let (_epmd, node) = node().await;
    let mut watcher = node.spawn_process().expect("spawn");
    let pid = watcher.pid().clone();
    let make = move || Counter::watched_by(pid.clone());

    // Transient: a crash restarts it, a clean stop does not.
    let supervisor = node
        .start_supervised(None, policy(Restart::Transient, 5), make.clone())
        .await
        .expect("starts");
    let first = supervisor.server().expect("runs");
    first.cast(&Tell::Stop).expect("cast");
    assert_eq!(terminated(&mut watcher).await, Term::atom("cast_stop"));
    let deadline = tokio::time::Instant::now() + WAIT;
    let second = loop {
        match supervisor.server() {
            Some(server) if server.pid() != first.pid() => break server,
            _ => {
                assert!(tokio::time::Instant::now() < deadline, "no restart");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    second
        .stop(Term::atom("shutdown"), WAIT)
        .await
        .expect("stops");
    assert_eq!(terminated(&mut watcher).await, Term::atom("shutdown"));
    tokio::time::timeout(WAIT, supervisor.ended())
        .await
        .expect("not restarted after shutdown");

    // Temporary: never restarted.
    let supervisor = node
        .start_supervised(None, policy(Restart::Temporary, 5), make.clone())
        .await
        .expect("starts");
    let server = supervisor.server().expect("runs");
    server.cast(&Tell::Stop).expect("cast");
    assert_eq!(terminated(&mut watcher).await, Term::atom("cast_stop"));
    tokio::time::timeout(WAIT, supervisor.ended())
        .await
        .expect("not restarted");

    // Stopping the supervisor stops the server with `shutdown`.
    let supervisor = node
        .start_supervised(None, policy(Restart::Permanent, 5), make)
        .await
        .expect("starts");
    supervisor.stop().await;
    assert_eq!(terminated(&mut watcher).await, Term::atom("shutdown"));
    assert!(supervisor.server().is_none());
}
