//! An IPv6-only network: `cnode serve` (the `cnode` binary) and an
//! `inet6_tcp` erl node, each in a container whose only addresses are
//! loopback and one IPv6 address.

use std::time::{Duration, Instant};

use interop_tests::containers::Lab;
use interop_tests::Otp;

use crate::support::{cnode_binary, wait_for_log, BOOT_TIME};

/// `cnode serve --proto-dist inet6_tcp --listen ::` runs in one container
/// (with its embedded EPMD, as none runs there), an OTP 28 `erl
/// -proto_dist inet6_tcp` in another; both are named by their IPv6
/// addresses. The `cnode` tool, run in the first container, pings erl and
/// has erl ping, call and report the connection back to the served node:
/// both directions and EPMD (ours and erl's) over IPv6, and neither
/// container has an IPv4 address on its network interface.
#[test]
fn cnode_and_erl_talk_over_an_ipv6_only_network() {
    let lab = Lab::new_ipv6("ipv6").expect("an IPv6 lab");
    let cnode = cnode_binary();
    let otp = Otp::v28();

    let erl = lab.start_erl_ipv6_only(&otp, "erl6").expect("erl starts");
    let erl_name = erl.node().to_owned();
    let cookie = lab.cookie().to_owned();
    let (served, address) = lab
        .start_program_ipv6_only(&otp, "rust6", &cnode, |address| {
            let name = format!("rust@{address}");
            ["serve", "--name", &name, "--cookie", &cookie]
                .into_iter()
                .chain(["--proto-dist", "inet6_tcp", "--listen", "::"])
                .map(String::from)
                .collect()
        })
        .expect("cnode serve starts");
    let rust_name = format!("rust@{address}");
    wait_for_log(&served, &format!("serving {rust_name}"));

    for container in [&served, erl.container()] {
        let ipv4 = container
            .exec(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
            .expect("ip runs");
        assert_eq!(ipv4.trim(), "", "{} has an IPv4 address", container.name());
    }

    // The cnode tool beside the served node (it registers with the EPMD
    // embedded in `cnode serve`).
    let tool = |args: &[&str]| -> String {
        let inside = format!("{}/cnode", interop_tests::containers::PROGRAM_DIR);
        let mut command = vec![inside.as_str()];
        command.extend_from_slice(args);
        let cli_name = format!("cli@{address}");
        command.extend(["--name", &cli_name, "--cookie", lab.cookie()]);
        served
            .exec(&command)
            .unwrap_or_else(|err| panic!("cnode {args:?}: {err}\n{}", served.logs()))
    };
    let deadline = Instant::now() + BOOT_TIME;
    loop {
        // erl answers pings once it runs; retry until then.
        match served.exec(&[
            &format!("{}/cnode", interop_tests::containers::PROGRAM_DIR),
            "ping",
            &erl_name,
            "--name",
            &format!("boot@{address}"),
            "--cookie",
            lab.cookie(),
            "--proto-dist",
            "inet6_tcp",
        ]) {
            Ok(out) if out.trim() == "pong" => break,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "erl does not answer: {other:?}\n{}",
                    erl.container().logs()
                );
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
    // Without --proto-dist too: the host has an IPv6 address only.
    assert_eq!(tool(&["ping", &erl_name]).trim(), "pong");

    // erl dials the served node: EPMD lookup in the served container and
    // the connection, over IPv6.
    let quoted = format!("['{rust_name}']");
    assert_eq!(
        tool(&["call", &erl_name, "net_adm", "ping", &quoted]).trim(),
        "pong"
    );
    let echo = format!("['{rust_name}', cnode, echo, [[over, ipv6]]]");
    assert_eq!(
        tool(&["call", &erl_name, "erpc", "call", &echo]).trim(),
        "[over,ipv6]"
    );
    let info = format!("['{rust_name}', address]");
    let address_info = tool(&["call", &erl_name, "net_kernel", "node_info", &info]);
    assert!(
        address_info.contains("inet6") && !address_info.contains("inet,"),
        "{address_info}"
    );
}
