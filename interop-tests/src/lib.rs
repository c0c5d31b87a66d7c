//! Shared helpers for tests that drive real `erl` nodes.
//!
//! The OTP installs come from `scripts/setup.sh`; [`Otp`] finds them, so that
//! no test hard-codes a path. [`Oracle`] keeps one `erl` VM running and asks
//! it to encode, decode and compare terms; [`corpus`] lists the terms the
//! differential tests of the `etf` codec run on; [`Failures`] and [`hex`]
//! make their reports readable.
//!
//! ```
//! use interop_tests::{Oracle, Otp};
//!
//! let mut erl = Oracle::start(&Otp::v28())?;
//! let bytes = erl.term_to_binary("#{a => [1, 2.5]}", "[deterministic]")?;
//! let term = etf::from_slice(&bytes)?;
//! assert!(erl.exactly_equal(&etf::to_vec(&term)?, &bytes)?);
//! // Bad input is an error, not a dead VM.
//! assert!(erl.binary_to_term(&[131, 255]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod beam;
pub mod containers;
pub mod corpus;
mod failures;
mod hex;
pub mod local;
mod oracle;
mod otp;
pub mod tls;

pub use failures::Failures;
pub use hex::{describe_difference, first_difference, hex};
pub use oracle::{Oracle, OracleError};
pub use otp::Otp;
