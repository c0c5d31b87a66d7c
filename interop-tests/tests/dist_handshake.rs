//! The `dist-proto` state machines against real `erl` nodes of OTP 25 and
//! OTP 28, over loopback TCP: we connect to erl (handshake, ticks, a message
//! to a registered process and its reply, with pass-through and with
//! atom-cache header and fragmented frames), a wrong cookie either way, and
//! erl connecting to us for `net_adm:ping`.
//!
//! Each test starts its own `epmd` on a free port and gives every node a
//! unique name, so tests run in parallel; every process is killed on drop.

use std::time::{Duration, Instant};

use dist_proto::handshake::{Answer, ConnectRequest};
use dist_proto::{
    Acceptor, AcceptorEvent, Connection, ConnectionConfig, ConnectionEvent, ControlMessage, Cookie,
    DistFlags, Established, HandshakeConfig, HandshakeError, Initiator, InitiatorEvent, PidOrName,
};
use epmd_client::{EpmdClient, NodeInfo, NodeType};
use etf::{Atom, Pid, Term};
use interop_tests::local::{short_host, unique_name, Epmd, ErlNode, ErlProcess};
use interop_tests::Otp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const COOKIE: &str = "dist_handshake_cookie";
/// A short `net_ticktime` on both sides, so that ticks flow within the test.
const TICK_TIME: Duration = Duration::from_secs(4);
const WAIT: Duration = Duration::from_secs(20);

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

/// The two handshake roles, driven the same way.
trait Handshake {
    type Event;
    fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), HandshakeError>;
    fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError>;
    fn handle_peer_closed(&mut self) -> HandshakeError;
    fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize;
    fn poll_event(&mut self) -> Option<Self::Event>;
    fn poll_timeout(&self) -> Option<Instant>;
    /// Answers a question from the state machine; the outcome once
    /// established.
    fn react(
        &mut self,
        event: Self::Event,
        now: Instant,
    ) -> Result<Option<Established>, HandshakeError>;
}

macro_rules! forward {
    () => {
        fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), HandshakeError> {
            self.0.handle_input(bytes, now)
        }
        fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
            self.0.handle_timeout(now)
        }
        fn handle_peer_closed(&mut self) -> HandshakeError {
            self.0.handle_peer_closed()
        }
        fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
            self.0.poll_transmit(out)
        }
        fn poll_event(&mut self) -> Option<Self::Event> {
            self.0.poll_event()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.0.poll_timeout()
        }
    };
}

struct Connecting(Initiator);

impl Handshake for Connecting {
    type Event = InitiatorEvent;
    forward!();
    fn react(
        &mut self,
        event: InitiatorEvent,
        now: Instant,
    ) -> Result<Option<Established>, HandshakeError> {
        match event {
            InitiatorEvent::AliveQuery => self.0.answer_alive(true, now).map(|()| None),
            InitiatorEvent::Established(done) => Ok(Some(done)),
        }
    }
}

/// The accepting side answers `ok` with the cookie, and records the request.
struct Accepting(Acceptor, Cookie, Option<ConnectRequest>);

impl Handshake for Accepting {
    type Event = AcceptorEvent;
    forward!();
    fn react(
        &mut self,
        event: AcceptorEvent,
        now: Instant,
    ) -> Result<Option<Established>, HandshakeError> {
        match event {
            AcceptorEvent::ConnectRequest(request) => {
                self.2 = Some(request);
                let cookie = self.1.clone();
                self.0.answer(Answer::Ok { cookie }, now).map(|()| None)
            }
            AcceptorEvent::Established(done) => Ok(Some(done)),
        }
    }
}

/// The one driver: moves bytes between the socket and a handshake until it
/// is established or fails.
async fn handshake(
    stream: &mut TcpStream,
    hs: &mut impl Handshake,
) -> Result<Established, HandshakeError> {
    let mut buf = vec![0u8; 8192];
    loop {
        let mut out = Vec::new();
        hs.poll_transmit(&mut out);
        if !out.is_empty() {
            stream.write_all(&out).await.expect("write");
        }
        if let Some(event) = hs.poll_event() {
            if let Some(done) = hs.react(event, Instant::now())? {
                return Ok(done);
            }
            continue;
        }
        let deadline = hs.poll_timeout().expect("a running handshake has a timer");
        let read = tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await;
        let result = match read {
            Err(_elapsed) => hs.handle_timeout(Instant::now()),
            Ok(Ok(0)) | Ok(Err(_)) => Err(hs.handle_peer_closed()),
            Ok(Ok(n)) => hs.handle_input(&buf[..n], Instant::now()),
        };
        if let Err(err) = result {
            // Send what the failure queued (e.g. a refusing status).
            let mut out = Vec::new();
            hs.poll_transmit(&mut out);
            let _ = stream.write_all(&out).await;
            return Err(err);
        }
    }
}

/// A connected link: the socket and the connection state machine.
struct Link {
    stream: TcpStream,
    conn: Connection,
    ticks: usize,
}

impl Link {
    fn new(stream: TcpStream, done: &Established) -> Link {
        let config = ConnectionConfig {
            tick_time: TICK_TIME,
            ..ConnectionConfig::default()
        };
        let now = Instant::now();
        let mut conn = Connection::new(done.flags, config, now);
        conn.handle_input(&done.leftover, now).expect("leftover");
        Link {
            stream,
            conn,
            ticks: 0,
        }
    }

    async fn send(&mut self, control: ControlMessage, payload: Option<Term>) {
        self.conn.send(&control, payload.as_ref()).expect("send");
        self.flush().await;
    }

    async fn flush(&mut self) {
        let mut out = Vec::new();
        self.conn.poll_transmit(&mut out);
        if !out.is_empty() {
            self.stream.write_all(&out).await.expect("write");
        }
    }

    /// The next event, or `None` once `until` passes; runs the ticker and
    /// sends what it queues.
    async fn next_event(&mut self, until: Instant) -> Option<ConnectionEvent> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            self.flush().await;
            if let Some(event) = self.conn.poll_event() {
                if event == ConnectionEvent::Tick {
                    self.ticks += 1;
                }
                return Some(event);
            }
            let now = Instant::now();
            if now >= until {
                return None;
            }
            let deadline = self
                .conn
                .poll_timeout()
                .expect("live connection")
                .min(until);
            let read = tokio::time::timeout_at(deadline.into(), self.stream.read(&mut buf)).await;
            match read {
                Err(_elapsed) => self.conn.handle_timeout(Instant::now()).expect("ticker"),
                Ok(Ok(0)) => panic!("peer closed the connection"),
                Ok(Ok(n)) => self
                    .conn
                    .handle_input(&buf[..n], Instant::now())
                    .expect("valid input"),
                Ok(Err(err)) => panic!("read: {err}"),
            }
        }
    }

    /// The next message, skipping ticks.
    async fn next_message(&mut self) -> (ControlMessage, Option<Term>) {
        let until = Instant::now() + WAIT;
        loop {
            match self.next_event(until).await {
                Some(ConnectionEvent::Message { control, payload }) => return (control, payload),
                Some(ConnectionEvent::Tick) => {}
                None => panic!("no message within {WAIT:?}"),
            }
        }
    }

    /// Waits for erl's next tick, expecting nothing else meanwhile; whether
    /// one came within `within`.
    async fn next_tick(&mut self, within: Duration) -> bool {
        let until = Instant::now() + within;
        match self.next_event(until).await {
            Some(event) => {
                assert_eq!(event, ConnectionEvent::Tick);
                true
            }
            None => false,
        }
    }

    /// Stays connected for `duration`, expecting nothing but ticks; returns
    /// how many ticks came.
    async fn idle(&mut self, duration: Duration) -> usize {
        let until = Instant::now() + duration;
        let before = self.ticks;
        while let Some(event) = self.next_event(until).await {
            assert_eq!(event, ConnectionEvent::Tick);
        }
        self.ticks - before
    }
}

fn our_pid(node: &str) -> Pid {
    Pid {
        node: Atom::new(node),
        id: 1,
        serial: 0,
        creation: 1,
    }
}

/// An erl with two registered processes: `echo` answers `{From, Msg}` with
/// `{echo, Msg}`; `ctl` sends `From` the signal each command names.
const ECHO: &str = "
    register(echo, spawn(fun Loop() -> receive {From, Msg} -> From ! {echo, Msg}, Loop() end end)),
    register(ctl, spawn(fun Loop() ->
        receive
            {From, link} -> link(From), Loop();
            {From, unlink} -> unlink(From), Loop();
            {From, monitor} -> erlang:demonitor(erlang:monitor(process, From)), Loop();
            {From, exit2} -> exit(From, bye), Loop();
            {From, spawn} ->
                R = spawn_request(node(From), m, f, [1, 2], [monitor]),
                receive {spawn_reply, R, error, E} -> From ! {spawn_failed, E} end,
                Loop();
            {From, alias} ->
                A = alias(),
                From ! {alias, A},
                receive {aliased, M} -> From ! {got, M} end,
                Loop();
            {_From, die} -> exit(boom)
        end end)),
    io:format(\"ready~n\").";

/// Starts epmd and the echo node; connects to it and runs our initiator.
async fn connect_to_erl(
    otp: &Otp,
    flags: DistFlags,
    cookie: &str,
) -> (
    Epmd,
    ErlProcess,
    String,
    TcpStream,
    Result<Established, HandshakeError>,
) {
    let epmd = Epmd::start(otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let name = unique_name("echo", otp);
    let mut node = erl(otp, epmd_port, &name, COOKIE, ECHO);
    node.wait_for_line("ready").await.expect("erl output");
    let peer = format!("{name}@{}", short_host().expect("host name"));
    let port = EpmdClient::new("127.0.0.1", epmd_port)
        .lookup(&name)
        .await
        .expect("erl registered")
        .port;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let us = format!(
        "{}@{}",
        unique_name("rust", otp),
        short_host().expect("host name")
    );
    let config = HandshakeConfig {
        flags,
        ..HandshakeConfig::new(us.clone(), 1)
    };
    let initiator = Initiator::new(
        config,
        peer,
        Cookie::new(cookie),
        rand_challenge(),
        Instant::now(),
    );
    let result = handshake(&mut stream, &mut Connecting(initiator)).await;
    (epmd, node, us, stream, result)
}

fn rand_challenge() -> u32 {
    // Not a secret here; the caller of the state machine picks it.
    std::process::id().wrapping_mul(2_654_435_761)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_connect_to_erl_tick_and_exchange_messages() {
    for otp in Otp::all() {
        for flags in [
            DistFlags::default_hidden(),
            DistFlags::default_hidden() | DistFlags::HEADER_FRAMES,
        ] {
            let (_epmd, _node, us, stream, result) = connect_to_erl(&otp, flags, COOKIE).await;
            let done = result.unwrap_or_else(|e| panic!("OTP {}: handshake: {e}", otp.release));
            assert!(done.peer.starts_with("echo_"));
            assert_ne!(done.peer_creation, 0);
            assert!(done.peer_flags.contains(DistFlags::MANDATORY_OTP25));
            assert_eq!(done.flags, flags & done.peer_flags);
            let mut link = Link::new(stream, &done);
            // erl ticks an idle link: its ticker runs every quarter of the
            // tick time, but a loaded machine may delay it, and the link
            // itself would fail on a silence of a whole tick time.
            assert!(link.next_tick(WAIT).await, "OTP {}: no tick", otp.release);

            // A small message, then one big enough for OTP to fragment when
            // FRAGMENTS is negotiated (OTP cuts at 64 KiB).
            let me = our_pid(&us);
            let big = Term::binary(vec![7u8; 200_000]);
            echo(&mut link, &me, Term::atom("hello")).await;
            echo(&mut link, &me, Term::tuple(vec![Term::atom("big"), big])).await;
        }
    }
}

/// The atom cache header of a fragmented message is in its first fragment,
/// and OTP applies it there: another process's message that refers to the
/// atoms it set, sent before the last fragment, must resolve them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atoms_set_by_a_first_fragment_serve_messages_sent_before_its_last() {
    for otp in Otp::all() {
        let flags = DistFlags::default_hidden();
        let (_epmd, _node, us, stream, result) = connect_to_erl(&otp, flags, COOKIE).await;
        let done = result.unwrap_or_else(|e| panic!("OTP {}: handshake: {e}", otp.release));
        assert!(done
            .flags
            .contains(DistFlags::DIST_HDR_ATOM_CACHE | DistFlags::FRAGMENTS));
        let mut link = Link::new(stream, &done);
        let (large_sender, small_sender) = (
            our_pid(&us),
            Pid {
                id: 2,
                ..our_pid(&us)
            },
        );
        let atoms: Vec<Term> = (0..50)
            .map(|i| Term::atom(&format!("set_by_first_fragment_{i}")))
            .collect();
        let large = Term::tuple(vec![
            Term::binary(vec![3u8; 200_000]),
            Term::list(atoms.clone()),
        ]);
        let small = Term::list(atoms);
        let echo_from = |from: &Pid, msg: &Term| {
            (
                ControlMessage::RegSend {
                    from: from.clone(),
                    to: Atom::new("echo"),
                    token: None,
                },
                Term::tuple(vec![Term::Pid(from.clone()), msg.clone()]),
            )
        };
        let (control, payload) = echo_from(&large_sender, &large);
        link.conn.send(&control, Some(&payload)).expect("send");
        let mut first = Vec::new();
        link.conn.poll_transmit(&mut first);
        assert!(link.conn.wants_transmit(), "more fragments to come");
        link.stream.write_all(&first).await.expect("write");
        // The atoms go as references only: the first fragment set them.
        let (control, payload) = echo_from(&small_sender, &small);
        link.conn.send(&control, Some(&payload)).expect("send");
        let mut rest = Vec::new();
        link.conn.poll_transmit(&mut rest);
        let small_frame_len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes"));
        assert!(
            small_frame_len < 400,
            "OTP {}: atoms sent as text",
            otp.release
        );
        while link.conn.wants_transmit() {
            link.conn.poll_transmit(&mut rest);
        }
        link.stream.write_all(&rest).await.expect("write");

        for _ in 0..2 {
            let (control, payload) = link.next_message().await;
            let to = match control {
                ControlMessage::Send { to, .. } | ControlMessage::SendSender { to, .. } => to,
                other => panic!("OTP {}: unexpected {other:?}", otp.release),
            };
            let sent = if to == small_sender { &small } else { &large };
            assert_eq!(
                payload,
                Some(Term::tuple(vec![Term::atom("echo"), sent.clone()])),
                "OTP {}",
                otp.release
            );
        }
    }
}

/// Sends `msg` to the echo process and checks the reply.
async fn echo(link: &mut Link, me: &Pid, msg: Term) {
    link.send(
        ControlMessage::RegSend {
            from: me.clone(),
            to: Atom::new("echo"),
            token: None,
        },
        Some(Term::tuple(vec![Term::Pid(me.clone()), msg.clone()])),
    )
    .await;
    let (control, payload) = link.next_message().await;
    match control {
        ControlMessage::Send { to, .. } | ControlMessage::SendSender { to, .. } => {
            assert_eq!(&to, me)
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(payload, Some(Term::tuple(vec![Term::atom("echo"), msg])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_sends_every_kind_of_signal_and_we_answer() {
    use ControlMessage as C;
    for otp in Otp::all() {
        let (_epmd, _node, us, stream, result) =
            connect_to_erl(&otp, DistFlags::default_hidden(), COOKIE).await;
        let done = result.unwrap_or_else(|e| panic!("OTP {}: handshake: {e}", otp.release));
        let mut link = Link::new(stream, &done);
        let me = our_pid(&us);
        let ctl = |command: &str| {
            (
                C::RegSend {
                    from: me.clone(),
                    to: Atom::new("ctl"),
                    token: None,
                },
                Some(Term::tuple(vec![
                    Term::Pid(me.clone()),
                    Term::atom(command),
                ])),
            )
        };
        let release = otp.release;
        macro_rules! command {
            ($name:expr) => {{
                let (control, payload) = ctl($name);
                link.send(control, payload).await;
                link.next_message().await
            }};
        }

        let (C::Link { from: ctl_pid, to }, None) = command!("link") else {
            panic!("OTP {release}: no LINK")
        };
        assert_eq!(to, me);

        let (C::UnlinkId { id, from, to }, None) = command!("unlink") else {
            panic!("OTP {release}: no UNLINK_ID")
        };
        assert_eq!((&from, &to), (&ctl_pid, &me));
        let ack = C::UnlinkIdAck {
            id,
            from: me.clone(),
            to: ctl_pid.clone(),
        };
        link.send(ack, None).await;

        let (
            C::MonitorP {
                from,
                to: PidOrName::Pid(to),
                reference,
            },
            None,
        ) = command!("monitor")
        else {
            panic!("OTP {release}: no MONITOR_P")
        };
        assert_eq!((&from, &to), (&ctl_pid, &me));
        let (C::DemonitorP { reference: r2, .. }, None) = link.next_message().await else {
            panic!("OTP {release}: no DEMONITOR_P")
        };
        assert_eq!(r2, reference);

        let (
            C::PayloadExit2 {
                from,
                to,
                token: None,
            },
            Some(reason),
        ) = command!("exit2")
        else {
            panic!("OTP {release}: no PAYLOAD_EXIT2")
        };
        assert_eq!((&from, &to, reason), (&ctl_pid, &me, Term::atom("bye")));

        let (request, Some(args)) = command!("spawn") else {
            panic!("OTP {release}: no spawn arguments")
        };
        let C::SpawnRequest {
            req_id,
            from,
            module,
            function,
            arity,
            opts,
            ..
        } = request
        else {
            panic!("OTP {release}: no SPAWN_REQUEST: {request:?}")
        };
        assert_eq!(
            (&from, module.as_str(), function.as_str(), arity),
            (&ctl_pid, "m", "f", 2)
        );
        assert_eq!(args, Term::list(vec![Term::Int(1), Term::Int(2)]));
        assert!(opts
            .as_list()
            .is_some_and(|o| o.iter().any(|t| t.is_atom("monitor"))));
        let reply = C::SpawnReply {
            req_id,
            to: ctl_pid.clone(),
            flags: 0,
            result: Term::atom("system_limit"),
            token: None,
        };
        link.send(reply, None).await;
        let (_, failed) = link.next_message().await;
        assert_eq!(
            failed,
            Some(Term::tuple(vec![
                Term::atom("spawn_failed"),
                Term::atom("system_limit")
            ]))
        );

        let (_, Some(alias_msg)) = command!("alias") else {
            panic!("OTP {release}: no alias")
        };
        let alias = alias_msg
            .as_tuple()
            .and_then(|t| t[1].as_reference())
            .expect("{alias, A}")
            .clone();
        let aliased = Term::tuple(vec![Term::atom("aliased"), Term::atom("hi")]);
        link.send(
            C::AliasSend {
                from: me.clone(),
                alias,
                token: None,
            },
            Some(aliased),
        )
        .await;
        let (_, got) = link.next_message().await;
        assert_eq!(
            got,
            Some(Term::tuple(vec![Term::atom("got"), Term::atom("hi")]))
        );

        // Linked again, `ctl` dies: the exit reason comes as payload.
        let (C::Link { .. }, None) = command!("link") else {
            panic!("OTP {release}: no second LINK")
        };
        let (
            C::PayloadExit {
                from,
                to,
                token: None,
            },
            Some(reason),
        ) = command!("die")
        else {
            panic!("OTP {release}: no PAYLOAD_EXIT")
        };
        assert_eq!((&from, &to, reason), (&ctl_pid, &me, Term::atom("boom")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_lives_on_ticks_both_ways() {
    for otp in Otp::all() {
        let (_epmd, _node, us, stream, result) =
            connect_to_erl(&otp, DistFlags::default_hidden(), COOKIE).await;
        let done = result.unwrap_or_else(|e| panic!("OTP {}: handshake: {e}", otp.release));
        let mut link = Link::new(stream, &done);
        // Three tick times of silence: erl would drop us after one without
        // our ticks, and we would drop erl without its ticks.
        let ticks = link.idle(TICK_TIME * 3).await;
        assert!(ticks >= 6, "OTP {}: only {ticks} ticks", otp.release);
        echo(&mut link, &our_pid(&us), Term::atom("still_here")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_26_and_later_refuse_a_peer_without_their_mandatory_flags() {
    let flags = DistFlags::default_hidden() & !(DistFlags::UNLINK_ID | DistFlags::V4_NC);
    for otp in Otp::all() {
        let (_epmd, _node, _us, _stream, result) = connect_to_erl(&otp, flags, COOKIE).await;
        match (otp.release, result) {
            (25, Ok(done)) => assert_eq!(done.flags, flags & done.peer_flags),
            (26.., Err(HandshakeError::NotAllowed { peer })) => assert!(peer.starts_with("echo_")),
            (release, other) => panic!("OTP {release}: unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_refuses_our_wrong_cookie() {
    for otp in Otp::all() {
        let (_epmd, _node, _us, _stream, result) =
            connect_to_erl(&otp, DistFlags::default_hidden(), "not_the_cookie").await;
        match result {
            Err(HandshakeError::CookieMismatch { peer }) => assert!(peer.starts_with("echo_")),
            other => panic!(
                "OTP {}: expected CookieMismatch, got {other:?}",
                otp.release
            ),
        }
    }
}

/// Registers us in epmd, starts an erl that pings us, and serves one
/// incoming connection; returns what the handshake and erl said.
async fn erl_pings_us(otp: &Otp, erl_cookie: &str) -> (Result<(), HandshakeError>, String) {
    let epmd = Epmd::start(otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let name = unique_name("rust", otp);
    let us = format!("{name}@{}", short_host().expect("host name"));
    let registration = EpmdClient::new("127.0.0.1", epmd_port)
        .register(NodeInfo::new(name, port, NodeType::HIDDEN))
        .await
        .expect("register in epmd");
    let pinger = unique_name("pinger", otp);
    let eval = format!("io:format(\"~p~n\", [net_adm:ping('{us}')]), halt().");
    let mut node = erl(otp, epmd_port, &pinger, erl_cookie, &eval);

    let (mut stream, _) = timeout(WAIT, listener.accept())
        .await
        .expect("erl connects within the wait")
        .expect("accept");
    let config = HandshakeConfig::new(us.clone(), registration.creation());
    let acceptor = Acceptor::new(config, rand_challenge(), Instant::now());
    let mut accepting = Accepting(acceptor, Cookie::new(COOKIE), None);
    let result = handshake(&mut stream, &mut accepting).await;
    let request = accepting.2.expect("erl sent its name");
    assert_eq!(
        request.peer,
        format!("{pinger}@{}", short_host().expect("host name"))
    );
    assert!(request.flags.contains(DistFlags::PUBLISHED));
    let outcome = match result {
        Err(err) => {
            drop(stream);
            Err(err)
        }
        Ok(done) => {
            let mut link = Link::new(stream, &done);
            // gen:call monitors net_kernel by name, then sends
            // {'$gen_call', {From, Tag}, {is_auth, Node}} to it.
            let payload = loop {
                match link.next_message().await {
                    (
                        ControlMessage::MonitorP {
                            to: PidOrName::Name(name),
                            ..
                        },
                        None,
                    ) => {
                        assert_eq!(name.as_str(), "net_kernel")
                    }
                    (ControlMessage::RegSend { to, .. }, payload) => {
                        assert_eq!(to.as_str(), "net_kernel");
                        break payload;
                    }
                    other => panic!("OTP {}: unexpected {other:?}", otp.release),
                }
            };
            let payload = payload.expect("gen_call");
            let call = payload.as_tuple().expect("tuple");
            assert!(call[0].is_atom("$gen_call"));
            let from_tag = call[1].as_tuple().expect("{From, Tag}");
            let from = from_tag[0].as_pid().expect("From").clone();
            let tag = from_tag[1].clone();
            assert_eq!(
                call[2],
                Term::tuple(vec![Term::atom("is_auth"), Term::atom(&request.peer)])
            );
            link.send(
                ControlMessage::Send {
                    to: from,
                    token: None,
                },
                Some(Term::tuple(vec![tag, Term::atom("yes")])),
            )
            .await;
            Ok(())
        }
    };
    let expected = if outcome.is_ok() { "pong" } else { "pang" };
    node.wait_for_line(expected).await.expect("erl output");
    drop(registration);
    (outcome, expected.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_pings_us_and_gets_pong() {
    for otp in Otp::all() {
        let (outcome, printed) = erl_pings_us(&otp, COOKIE).await;
        assert_eq!(outcome, Ok(()), "OTP {}", otp.release);
        assert_eq!(printed, "pong");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_refuse_erl_with_a_wrong_cookie_and_it_gets_pang() {
    for otp in Otp::all() {
        let (outcome, printed) = erl_pings_us(&otp, "wrong_cookie").await;
        match outcome {
            Err(HandshakeError::CookieMismatch { peer }) => assert!(peer.starts_with("pinger_")),
            other => panic!(
                "OTP {}: expected CookieMismatch, got {other:?}",
                otp.release
            ),
        }
        assert_eq!(printed, "pang");
    }
}
