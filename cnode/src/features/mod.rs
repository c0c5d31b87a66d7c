//! What a user does with a node: the process API, rpc, functions served
//! to Erlang, remote spawn, gen_server-style calls, servers implemented as a trait
//! (with their `sys` protocol), `global` names.

pub(crate) mod error;
pub(crate) mod gen_server;
pub(crate) mod global;
pub(crate) mod handle;
pub(crate) mod net_kernel;
pub(crate) mod node_watch;
pub(crate) mod process;
pub(crate) mod remote_spawn;
pub(crate) mod rpc;
pub(crate) mod serve;
pub(crate) mod server;
pub(crate) mod supervise;
pub(crate) mod sys;
pub(crate) mod typed;
