//! Inputs the fuzzers found, kept as tests. Each names its target, what
//! went wrong and what is right.

use epmd_client::{Alive2Reply, ConnId, Daemon, NamesReply, NodeInfo, NodeType, Outcome, Request};

/// `epmd_request`: a node registered as `fuzzsee\n_a_otp25`, and the NAMES
/// reply (a line per node) could not be read back. OTP's `epmd` takes any
/// UTF-8 name without NUL; ours refuses names with control characters
/// (result 1, as for a taken name), so that no name can split its line or
/// forge one for another node.
#[test]
fn a_name_with_a_newline_is_refused_and_names_stay_readable() {
    let input = [
        0, 29, 120, 177, 229, 77, 0, 0, 6, 0, 5, 0, 16, 102, 117, 122, 122, 115, 101, 101, 10, 95,
        97, 95, 111, 116, 112, 50, 53, 0, 0, 0, 29, 120, 170, 39, 77, 0, 0, 6, 0, 5, 0, 16, 102,
        117, 122, 122, 115, 101, 101, 100, 95, 98, 95, 111, 116, 112, 50, 53, 0, 0, 0, 17, 122,
        102, 117, 122, 122, 119, 101, 101, 100, 95, 97, 95, 111, 116, 112, 48, 53, 0, 1, 110, 0, 1,
        100, 0, 7, 115, 110, 111, 115, 117, 99, 104, 0, 1, 107,
    ];
    epmd_client::fuzzing::server(&input);

    let mut daemon = Daemon::new(4369, false, 1);
    let forged = NodeInfo::new("a\nname b at port 9", 5000, NodeType::NORMAL);
    let Outcome::Reply(reply) = daemon.handle(ConnId(1), true, Request::Alive2(forged)) else {
        panic!("the registration is refused");
    };
    assert_eq!(Alive2Reply::decode(&reply).map(|r| r.result()), Ok(1));
    assert_eq!(daemon.registry().len(), 0);

    let node = NodeInfo::new("a", 5000, NodeType::NORMAL);
    let outcome = daemon.handle(ConnId(2), true, Request::Alive2(node));
    assert!(matches!(outcome, Outcome::Registered { .. }));
    let Outcome::Reply(names) = daemon.handle(ConnId(3), true, Request::Names) else {
        panic!("NAMES is answered");
    };
    let names = NamesReply::decode(&names).expect("NAMES reads back");
    assert_eq!(names.nodes.len(), 1);
    assert_eq!(names.nodes[0].name, "a");
}
