//! Plain data: messages, destinations, signals, names, errors, events.

pub(crate) mod chardata;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod message;
pub(crate) mod name;
pub(crate) mod size;
pub(crate) mod spawn;
pub(crate) mod system;
