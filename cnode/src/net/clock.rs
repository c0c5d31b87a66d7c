//! The time the state machines are given: tokio's clock, so that tests
//! running under its paused clock see ticks, timeouts and setup limits
//! fire as time is advanced, and the same `std` instant outside them.

use std::time::Instant;

/// Now, on tokio's clock.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
