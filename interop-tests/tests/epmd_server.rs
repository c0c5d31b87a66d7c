//! Our embedded EPMD server against real nodes and the real `epmd` client:
//! OTP 25, 27, 28 and 29 nodes register with it, find each other, ping; the real
//! `epmd -names` lists them; a node killed with SIGKILL disappears.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::Duration;

use epmd_client::{EpmdClient, EpmdServer};
use interop_tests::local::{unique_name, wait_until, ChildGuard};
use interop_tests::Otp;

/// Starts `erl -sname name` of `otp` with `ERL_EPMD_PORT` pointing at our
/// server, running `eval`.
fn erl_node(otp: &Otp, epmd_port: u16, name: &str, eval: &str) -> ChildGuard {
    let mut cmd = otp.erl_command([
        "-sname",
        name,
        "-setcookie",
        "epmd_interop_cookie",
        "-noshell",
        "-eval",
        eval,
    ]);
    cmd.env("ERL_EPMD_PORT", epmd_port.to_string())
        .env("ERL_CRASH_DUMP_SECONDS", "0");
    ChildGuard::spawn(cmd, format!("OTP {} node {name}", otp.release)).expect("spawn")
}

fn names(rt: &tokio::runtime::Runtime, client: &EpmdClient) -> Vec<String> {
    rt.block_on(client.names())
        .map(|n| n.nodes.into_iter().map(|e| e.name).collect())
        .unwrap_or_default()
}

fn real_epmd_names(otp: &Otp, port: u16) -> String {
    let out = Command::new(otp.epmd())
        .args(["-port", &port.to_string(), "-names"])
        .output()
        .expect("epmd -names runs");
    assert!(out.status.success(), "epmd -names failed: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn real_nodes_register_find_each_other_and_vanish_when_killed() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt
        .block_on(
            EpmdServer::builder()
                .address(IpAddr::V4(Ipv4Addr::LOCALHOST))
                .port(0)
                .bind(),
        )
        .expect("binds");
    let port = server.port();
    let _server = rt.block_on(async { server.spawn() });
    let client = EpmdClient::new("127.0.0.1", port);

    // Each release registers beside the next one, and the last beside the first.
    let releases = Otp::all();
    let pairs = releases.iter().zip(releases.iter().cycle().skip(1));
    for (first, second) in pairs.map(|(a, b)| (a.clone(), b.clone())) {
        let a = unique_name("a", &first);
        let b = unique_name("b", &second);
        let mut node_a = erl_node(&first, port, &a, "io:format(\"up~n\").");
        assert_eq!(
            node_a
                .next_line_within(Duration::from_secs(30))
                .expect("a line of output"),
            "up"
        );
        wait_until(Duration::from_secs(10), "node A to register", || {
            names(&rt, &client).contains(&a)
        })
        .expect("the condition in time");

        let ping = format!(
            "[_, Host] = string:split(atom_to_list(node()), \"@\"), \
             Peer = list_to_atom(\"{a}@\" ++ Host), \
             io:format(\"~p~n\", [net_adm:ping(Peer)]), \
             io:format(\"~p~n\", [lists:member(Peer, nodes())])."
        );
        let mut node_b = erl_node(&second, port, &b, &ping);
        assert_eq!(
            node_b
                .next_line_within(Duration::from_secs(30))
                .expect("a line of output"),
            "pong"
        );
        assert_eq!(
            node_b
                .next_line_within(Duration::from_secs(5))
                .expect("a line of output"),
            "true"
        );

        let mut listed = names(&rt, &client);
        listed.sort();
        let mut expected = vec![a.clone(), b.clone()];
        expected.sort();
        assert_eq!(listed, expected);

        // The real `epmd -names` client of both releases reads our server.
        for otp in Otp::all() {
            let text = real_epmd_names(&otp, port);
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some(format!("epmd: up and running on port {port} with data:").as_str())
            );
            let mut listed: Vec<_> = lines
                .map(|l| {
                    let rest = l.strip_prefix("name ").expect("name line");
                    rest.split(" at port ").next().expect("name").to_owned()
                })
                .collect();
            listed.sort();
            assert_eq!(listed, expected, "epmd -names of OTP {}", otp.release);
        }

        // SIGKILL gives the node no chance to unregister: the closed
        // connection alone must remove it.
        node_a.kill();
        wait_until(Duration::from_secs(10), "the killed node to vanish", || {
            names(&rt, &client) == [b.clone()]
        })
        .expect("the condition in time");
        assert!(matches!(
            rt.block_on(client.lookup(&a)),
            Err(epmd_client::ClientError::UnknownNode { .. })
        ));
        node_b.kill();
        wait_until(Duration::from_secs(10), "the second node to vanish", || {
            names(&rt, &client).is_empty()
        })
        .expect("the condition in time");
    }

    // The real `epmd -kill` client stops our server.
    let out = Command::new(Otp::v28().epmd())
        .args(["-port", &port.to_string(), "-kill"])
        .output()
        .expect("epmd -kill runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Killed\n");
    wait_until(Duration::from_secs(5), "our server to stop", || {
        matches!(
            rt.block_on(client.names()),
            Err(epmd_client::ClientError::Unreachable { .. })
        )
    })
    .expect("the condition in time");
}
