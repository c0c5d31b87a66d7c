//! Our EPMD client against the real `epmd` of OTP 25, 27, 28 and 29: register,
//! look up, list, dump, name clash, refused commands, EPMD down, and the
//! check for a running EPMD that leaves nothing in its log.

use std::io::{Read, Write};
use std::time::Duration;

use epmd_client::{
    ClientError, DumpState, EpmdClient, EpmdServer, KillReply, NodeInfo, NodeType, StopReply,
};
use interop_tests::local::{
    start_epmd_blocking_logged, start_epmd_blocking_with, unique_name, wait_until, ChildGuard,
    DEFAULT_WAIT,
};
use interop_tests::Otp;

/// Starts the real `epmd` of `otp` in the foreground on a fresh port (a
/// new one if another process takes the first between its choice and
/// epmd's bind), once it accepts connections.
fn real_epmd(otp: &Otp, relaxed: bool) -> (ChildGuard, u16) {
    let args: &[&str] = if relaxed {
        &["-relaxed_command_check"]
    } else {
        &[]
    };
    start_epmd_blocking_with(otp, args).expect("epmd starts")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn wait_ready(rt: &tokio::runtime::Runtime, client: &EpmdClient) {
    wait_until(DEFAULT_WAIT, "epmd to accept connections", || {
        rt.block_on(client.names()).is_ok()
    })
    .expect("the condition in time");
}

#[test]
fn register_lookup_names_dump_and_clash_against_real_epmd() {
    let rt = runtime();
    for otp in Otp::all() {
        let (_epmd, port) = real_epmd(&otp, false);
        let client = EpmdClient::new("127.0.0.1", port);
        wait_ready(&rt, &client);
        let name = unique_name("rust", &otp);
        let mut node = NodeInfo::new(name.clone(), 40123, NodeType::HIDDEN);
        node.extra = b"hello".to_vec();
        let reg = rt
            .block_on(client.register(node.clone()))
            .expect("registers");
        assert!(
            matches!(
                reg.reply(),
                epmd_client::Alive2Reply::Extended { result: 0, .. }
            ),
            "OTP {}: {:?}",
            otp.release,
            reg.reply()
        );
        assert!(
            reg.creation() >= 4,
            "OTP {}: creation {}",
            otp.release,
            reg.creation()
        );

        assert_eq!(rt.block_on(client.lookup(&name)).expect("found"), node);
        let names = rt.block_on(client.names()).expect("names");
        assert_eq!(names.epmd_port, u32::from(port));
        assert_eq!(names.text(), format!("name {name} at port 40123\n"));
        let dump = rt.block_on(client.dump()).expect("dump");
        assert_eq!(dump.entries.len(), 1);
        assert_eq!(
            (dump.entries[0].state, dump.entries[0].name.as_str()),
            (DumpState::Active, name.as_str())
        );

        match rt.block_on(client.register(NodeInfo::new(name.clone(), 1, NodeType::NORMAL))) {
            Err(ClientError::NameTaken { name: taken, .. }) => assert_eq!(taken, name),
            other => panic!("OTP {}: expected NameTaken, got {other:?}", otp.release),
        }
        assert!(matches!(
            rt.block_on(client.lookup("nobody_here")),
            Err(ClientError::UnknownNode { .. })
        ));
        // Without -relaxed_command_check: KILL refused while nodes live, STOP ignored.
        assert_eq!(
            rt.block_on(client.kill()).expect("reply"),
            KillReply::Refused
        );
        assert!(matches!(
            rt.block_on(client.stop(&name)),
            Err(ClientError::NoReply { .. })
        ));

        // A legacy registration gets the 16-bit reply and a creation in 1..=3.
        let mut old = NodeInfo::new(unique_name("old", &otp), 40124, NodeType::NORMAL);
        old.highest_version = 5;
        old.lowest_version = 5;
        let old_reg = rt.block_on(client.register(old)).expect("registers");
        assert!(matches!(
            old_reg.reply(),
            epmd_client::Alive2Reply::Legacy { result: 0, .. }
        ));
        assert!((1..=3).contains(&old_reg.creation()));
        drop(old_reg);

        // Dropping the registration unregisters; registering again changes the creation.
        let first = reg.creation();
        drop(reg);
        wait_until(DEFAULT_WAIT, "the name to be released", || {
            rt.block_on(client.names())
                .map(|n| n.nodes.is_empty())
                .unwrap_or(false)
        })
        .expect("the condition in time");
        let again = rt
            .block_on(client.register(NodeInfo::new(name.clone(), 40125, NodeType::HIDDEN)))
            .expect("registers again");
        assert_ne!(again.creation(), first, "OTP {}", otp.release);
        let dump = rt.block_on(client.dump()).expect("dump");
        assert!(dump.entries.iter().any(|e| e.state == DumpState::Unused));
        drop(again);
        wait_until(DEFAULT_WAIT, "the name to be released", || {
            rt.block_on(client.names())
                .map(|n| n.nodes.is_empty())
                .unwrap_or(false)
        })
        .expect("the condition in time");
        assert_eq!(
            rt.block_on(client.kill()).expect("reply"),
            KillReply::Killed
        );
    }
}

#[test]
fn relaxed_real_epmd_stops_registrations() {
    let rt = runtime();
    for otp in Otp::all() {
        let (_epmd, port) = real_epmd(&otp, true);
        let client = EpmdClient::new("127.0.0.1", port);
        wait_ready(&rt, &client);
        let name = unique_name("stopme", &otp);
        let mut reg = rt
            .block_on(client.register(NodeInfo::new(name.clone(), 40200, NodeType::HIDDEN)))
            .expect("registers");
        assert_eq!(
            rt.block_on(client.stop(&name)).expect("reply"),
            StopReply::Stopped
        );
        rt.block_on(async {
            tokio::time::timeout(DEFAULT_WAIT, reg.closed())
                .await
                .expect("epmd closes the stopped registration")
        });
        assert_eq!(
            rt.block_on(client.stop(&name)).expect("reply"),
            StopReply::NoExist
        );
        let _live = rt
            .block_on(client.register(NodeInfo::new(
                unique_name("live", &otp),
                40201,
                NodeType::HIDDEN,
            )))
            .expect("registers");
        assert_eq!(
            rt.block_on(client.kill()).expect("reply"),
            KillReply::Killed
        );
    }
}

#[test]
fn real_nodes_are_found_through_real_epmd() {
    let rt = runtime();
    for otp in Otp::all() {
        let (_epmd, port) = real_epmd(&otp, false);
        let client = EpmdClient::new("127.0.0.1", port);
        wait_ready(&rt, &client);
        let name = unique_name("erl", &otp);
        // The node prints the port it registered, as EPMD reports it to peers.
        let eval = format!(
            "{{port, P, _}} = erl_epmd:port_please(\"{name}\", \"127.0.0.1\"), io:format(\"~p~n\", [P])."
        );
        let mut cmd = otp.erl_command(["-sname", &name, "-noshell", "-eval", &eval]);
        cmd.env("ERL_EPMD_PORT", port.to_string())
            .env("ERL_CRASH_DUMP_SECONDS", "0");
        let mut node = ChildGuard::spawn(cmd, format!("OTP {} node", otp.release)).expect("spawn");
        let printed: u16 = node
            .next_line_within(Duration::from_secs(30))
            .expect("a line of output")
            .parse()
            .expect("the node prints its port");
        let info = rt.block_on(client.lookup(&name)).expect("found");
        assert_eq!(info.name, name);
        assert_eq!(info.port, printed);
        assert_eq!(info.node_type, NodeType::NORMAL, "OTP {}", otp.release);
        assert_eq!(info.highest_version, 6, "OTP {}", otp.release);
        assert!(info.lowest_version <= 6);
        let names = rt.block_on(client.names()).expect("names");
        assert!(names
            .nodes
            .iter()
            .any(|n| n.name == name && n.port == printed));
        node.kill();
        wait_until(DEFAULT_WAIT, "the killed node to vanish", || {
            matches!(
                rt.block_on(client.lookup(&name)),
                Err(ClientError::UnknownNode { .. })
            )
        })
        .expect("the condition in time");
    }
}

/// A node that starts an EPMD unless one runs asks the running one for its
/// names: a bare connection, closed without a request, makes OTP's epmd
/// log "got partial packet only", a line per node started.
#[test]
fn checking_for_a_running_epmd_leaves_no_line_in_its_log() {
    let rt = runtime();
    for otp in Otp::all() {
        let (mut epmd, port) = start_epmd_blocking_logged(&otp).expect("epmd starts");
        let started = rt
            .block_on(EpmdServer::builder().port(port).spawn_unless_running())
            .expect("the check runs");
        assert!(started.is_none(), "OTP {}: epmd was found", otp.release);
        // An unknown request makes epmd log "got garbage": it must be the
        // first line epmd logs.
        let mut marker = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
        marker.write_all(&[0, 1, b'X']).expect("sends");
        let _ = marker.read_to_end(&mut Vec::new());
        let line = epmd.next_line_within(DEFAULT_WAIT).expect("a line");
        assert!(
            line.contains("got garbage"),
            "OTP {}: epmd logged {line:?} first",
            otp.release
        );
    }
}

#[test]
fn epmd_down_is_reported_as_unreachable() {
    let rt = runtime();
    for otp in Otp::all() {
        epmd_down_case(&rt, &otp);
    }
}

fn epmd_down_case(rt: &tokio::runtime::Runtime, otp: &Otp) {
    let (mut epmd, port) = real_epmd(otp, false);
    let client = EpmdClient::new("127.0.0.1", port).with_timeout(Duration::from_secs(2));
    wait_ready(rt, &client);
    let mut reg = rt
        .block_on(client.register(NodeInfo::new(
            unique_name("orphan", otp),
            1,
            NodeType::HIDDEN,
        )))
        .expect("registers");
    epmd.kill();
    rt.block_on(async {
        tokio::time::timeout(DEFAULT_WAIT, reg.closed())
            .await
            .expect("a registration notices EPMD dying")
    });
    for result in [
        rt.block_on(client.names()).map(|_| ()),
        rt.block_on(client.lookup("x")).map(|_| ()),
        rt.block_on(client.register(NodeInfo::new("x", 1, NodeType::HIDDEN)))
            .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(ClientError::Unreachable { .. })),
            "{result:?}"
        );
    }
}
