//! The runtime core: routing messages and signals, publishing events,
//! shutdown, the connection tasks' bookkeeping, and the hooks the builder
//! installs so that nothing here calls up.

pub(crate) mod core;
pub(crate) mod dispatch;
pub(crate) mod tasks;
