//! Inputs the fuzzers found, kept as tests. Each names its target, what
//! went wrong and what is right.

use epmd_client::{ConnId, Daemon, NamesReply, NodeInfo, NodeType, Outcome, Request};

/// `epmd_request`: a node registered as `fuzzsee\n_a_otp25`. EPMD, like
/// OTP's, accepts any UTF-8 name without NUL, but the NAMES reply has one
/// line per node and so cannot be read back; the harness now allows that
/// case only. The registration and lookups still work.
#[test]
fn a_name_with_a_newline_registers_but_breaks_names_lines() {
    let input = [
        0, 29, 120, 177, 229, 77, 0, 0, 6, 0, 5, 0, 16, 102, 117, 122, 122, 115, 101, 101, 10, 95,
        97, 95, 111, 116, 112, 50, 53, 0, 0, 0, 29, 120, 170, 39, 77, 0, 0, 6, 0, 5, 0, 16, 102,
        117, 122, 122, 115, 101, 101, 100, 95, 98, 95, 111, 116, 112, 50, 53, 0, 0, 0, 17, 122,
        102, 117, 122, 122, 119, 101, 101, 100, 95, 97, 95, 111, 116, 112, 48, 53, 0, 1, 110, 0, 1,
        100, 0, 7, 115, 110, 111, 115, 117, 99, 104, 0, 1, 107,
    ];
    epmd_client::fuzzing::server(&input);

    let mut daemon = Daemon::new(4369, false, 1);
    let node = NodeInfo::new("two\nlines", 5000, NodeType::NORMAL);
    let outcome = daemon.handle(ConnId(1), true, Request::Alive2(node.clone()));
    assert!(matches!(outcome, Outcome::Registered { .. }));
    assert_eq!(daemon.registry().lookup("two\nlines"), Some(&node));
    let Outcome::Reply(names) = daemon.handle(ConnId(2), true, Request::Names) else {
        panic!("NAMES is answered");
    };
    assert!(NamesReply::decode(&names).is_err());
}
