//! Pure state, no I/O: the process table (links, monitors, aliases, node
//! watchers), the registry of pids, mailboxes and names, the peers table
//! and cookies.

pub(crate) mod channel;
pub(crate) mod cookie;
pub(crate) mod link;
pub(crate) mod mailbox;
pub(crate) mod monitor;
pub(crate) mod peers;
pub(crate) mod registry;
pub(crate) mod signals;
pub(crate) mod table;
