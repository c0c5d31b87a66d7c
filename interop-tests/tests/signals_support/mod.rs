//! What the signal and serve interop tests share: their cookie and tick
//! time, `erl` nodes started with them (through `interop_tests::local`), and
//! our node on the same EPMD.

#![allow(dead_code)] // Each test binary uses its own part.

use std::time::Duration;

use cnode::Node;
use interop_tests::local::{loopback_node, unique_name, ErlNode, ErlProcess};
use interop_tests::Otp;

/// How long any one step may take.
pub(crate) const WAIT: Duration = Duration::from_secs(20);
/// `net_ticktime` on both sides.
pub(crate) const TICK_TIME: Duration = Duration::from_secs(4);
pub(crate) const COOKIE: &str = "signals_cookie";

/// `erl -sname name` with our EPMD, cookie and tick time, running `eval`.
pub(crate) fn erl(otp: &Otp, epmd_port: u16, name: &str, eval: &str) -> ErlProcess {
    ErlNode::builder(otp, name)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .tick_time(TICK_TIME)
        .eval(eval)
        .start()
        .expect("erl starts")
}

/// Our node on the test's EPMD, listening on loopback.
pub(crate) async fn rust_node(otp: &Otp, epmd_port: u16) -> Node {
    loopback_node(unique_name("rust", otp), COOKIE, epmd_port)
        .net_ticktime(TICK_TIME)
        .start()
        .await
        .expect("our node starts")
}
