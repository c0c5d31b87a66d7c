//! Node names: `alive@host`.

use std::fmt;
use std::str::FromStr;

/// The longest node name: it must fit in an atom (255 characters).
const MAX_NAME_CHARS: usize = 255;

/// A node name, `alive@host`: the alive part (registered with EPMD) and
/// the host where EPMD and the node are found.
///
/// [`NodeName::parse`] takes a full name only; [`NodeName::short`] and
/// [`NodeName::long`] complete a bare `alive` with this machine's host
/// name as `erl -sname` and `erl -name` do (the short one up to the first
/// dot, the long one whole). [`Node::builder`](crate::Node::builder) and
/// the `cnode` tool both name nodes through it.
///
/// ```
/// use cnode::NodeName;
///
/// let name: NodeName = "rust@host.example.com".parse()?;
/// assert_eq!((name.alive(), name.host()), ("rust", "host.example.com"));
/// assert!(NodeName::parse("rust@").is_err());
/// # Ok::<(), cnode::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName {
    /// `alive@host`.
    full: String,
    /// Where the `@` is in `full`.
    at: usize,
}

/// Why a string is not a node name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// There is no `@` between the alive part and the host.
    #[error("no @ between the alive part and the host")]
    NoHost,
    /// The part before `@` is empty.
    #[error("the alive part (before @) is empty")]
    EmptyAlive,
    /// The alive part holds a character other than a letter, digit, `_`
    /// or `-`.
    #[error("the alive part holds {found:?}: only ASCII letters, digits, _ and - may appear")]
    BadAlive {
        /// The first character not allowed.
        found: char,
    },
    /// The part after `@` is empty.
    #[error("the host (after @) is empty")]
    EmptyHost,
    /// The host holds a second `@` or white space.
    #[error("the host holds {found:?}")]
    BadHost {
        /// The first character not allowed.
        found: char,
    },
    /// The whole name is longer than an atom may be.
    #[error("{chars} characters long: a node name fits in an atom (at most 255)")]
    TooLong {
        /// The name's length in characters.
        chars: usize,
    },
}

impl NodeName {
    /// Parses a full name, `alive@host`: the alive part non-empty and made
    /// of ASCII letters, digits, `_` and `-`; the host non-empty, without
    /// `@` or white space (a short or long host name, or an address); the
    /// whole at most 255 characters.
    pub fn parse(name: &str) -> Result<NodeName, NameError> {
        let Some((alive, host)) = name.split_once('@') else {
            return Err(NameError::NoHost);
        };
        if alive.is_empty() {
            return Err(NameError::EmptyAlive);
        }
        if let Some(found) = alive
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(NameError::BadAlive { found });
        }
        if host.is_empty() {
            return Err(NameError::EmptyHost);
        }
        if let Some(found) = host.chars().find(|&c| c == '@' || c.is_whitespace()) {
            return Err(NameError::BadHost { found });
        }
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NameError::TooLong { chars });
        }
        Ok(NodeName {
            full: name.to_owned(),
            at: alive.len(),
        })
    }

    /// A short name as `erl -sname` takes it: `alive@host` as given, or a
    /// bare `alive` completed with this machine's host name up to its
    /// first dot.
    pub fn short(name: &str) -> Result<NodeName, NameError> {
        NodeName::complete(name, HostKind::Short, &local_host_name())
    }

    /// A long name as `erl -name` takes it: `alive@host` as given, or a
    /// bare `alive` completed with this machine's whole host name.
    pub fn long(name: &str) -> Result<NodeName, NameError> {
        NodeName::complete(name, HostKind::Long, &local_host_name())
    }

    /// `name` completed, if bare, with `host_name` cut as `kind` says.
    fn complete(name: &str, kind: HostKind, host_name: &str) -> Result<NodeName, NameError> {
        if name.contains('@') {
            return NodeName::parse(name);
        }
        let host = host_name.trim();
        let host = match kind {
            HostKind::Short => host.split('.').next().unwrap_or_default(),
            HostKind::Long => host,
        };
        let host = if host.is_empty() { "localhost" } else { host };
        NodeName::parse(&format!("{name}@{host}"))
    }

    /// The name given to a node on `host` that asked for a dynamic one, as
    /// OTP's `net_kernel` makes it: `random` in base 36 (digits and
    /// upper-case letters) as the alive part, at the host as the node sent it.
    pub(crate) fn dynamic(host: &str, random: u64) -> Result<NodeName, NameError> {
        const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut alive = Vec::with_capacity(13);
        let mut rest = random;
        loop {
            alive.push(DIGITS[(rest % 36) as usize]);
            rest /= 36;
            if rest == 0 {
                break;
            }
        }
        alive.reverse();
        let alive = String::from_utf8(alive).unwrap_or_default();
        NodeName::parse(&format!("{alive}@{host}"))
    }

    /// The whole name, `alive@host`.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part before `@`, registered with EPMD.
    pub fn alive(&self) -> &str {
        &self.full[..self.at]
    }

    /// The part after `@`: where EPMD and the node are found.
    pub fn host(&self) -> &str {
        &self.full[self.at + 1..]
    }
}

/// How a bare name's host is completed.
#[derive(Clone, Copy, Debug)]
enum HostKind {
    /// Up to the first dot (`erl -sname`).
    Short,
    /// Whole (`erl -name`).
    Long,
}

/// This machine's host name as the kernel has it; empty if unknown.
fn local_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl FromStr for NodeName {
    type Err = NameError;

    /// [`NodeName::parse`].
    fn from_str(name: &str) -> Result<NodeName, NameError> {
        NodeName::parse(name)
    }
}

impl AsRef<str> for NodeName {
    fn as_ref(&self) -> &str {
        &self.full
    }
}

impl From<NodeName> for String {
    fn from(name: NodeName) -> String {
        name.full
    }
}

#[cfg(test)]
mod tests {
    use super::{HostKind, NameError, NodeName};

    #[test]
    fn short_long_and_ip_names_parse() {
        for (name, alive, host) in [
            ("rust@localhost", "rust", "localhost"),
            ("a_b-1@host.example.com", "a_b-1", "host.example.com"),
            ("n@127.0.0.1", "n", "127.0.0.1"),
        ] {
            let parsed = NodeName::parse(name).expect(name);
            assert_eq!((parsed.alive(), parsed.host()), (alive, host));
            assert_eq!(parsed.as_str(), name);
        }
    }

    #[test]
    fn bad_names_say_what_is_wrong() {
        let long = format!("a@{}", "h".repeat(254));
        for (bad, why) in [
            ("", NameError::NoHost),
            ("rust", NameError::NoHost),
            ("@host", NameError::EmptyAlive),
            ("rust@", NameError::EmptyHost),
            ("a b@host", NameError::BadAlive { found: ' ' }),
            ("ä@host", NameError::BadAlive { found: 'ä' }),
            ("a@b@c", NameError::BadHost { found: '@' }),
            ("a@b c", NameError::BadHost { found: ' ' }),
            (&long, NameError::TooLong { chars: 256 }),
        ] {
            assert_eq!(NodeName::parse(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn bare_names_get_the_short_or_the_long_host() {
        let host = "box.example.com\n";
        let short = NodeName::complete("rust", HostKind::Short, host).expect("valid");
        let long = NodeName::complete("rust", HostKind::Long, host).expect("valid");
        assert_eq!(short.as_str(), "rust@box");
        assert_eq!(long.as_str(), "rust@box.example.com");
        let given = NodeName::complete("rust@elsewhere", HostKind::Short, host).expect("valid");
        assert_eq!(given.as_str(), "rust@elsewhere");
        let unknown = NodeName::complete("rust", HostKind::Long, "").expect("valid");
        assert_eq!(unknown.as_str(), "rust@localhost");
        assert_eq!(
            NodeName::complete("a b", HostKind::Short, host),
            Err(NameError::BadAlive { found: ' ' })
        );
    }

    #[test]
    fn dynamic_names_are_base_36_at_the_host_given() {
        let max = NodeName::dynamic("vm", u64::MAX).expect("valid");
        assert_eq!(max.as_str(), "3W5E11264SGSF@vm");
        assert_eq!(
            NodeName::dynamic("h.example.com", 0)
                .expect("valid")
                .as_str(),
            "0@h.example.com"
        );
        assert_eq!(
            NodeName::dynamic("h", 36 * 36 + 35).expect("valid").alive(),
            "10Z"
        );
        assert_eq!(
            NodeName::dynamic("a@b", 1),
            Err(NameError::BadHost { found: '@' })
        );
        assert_eq!(NodeName::dynamic("", 1), Err(NameError::EmptyHost));
    }

    #[test]
    fn this_machine_completes_bare_names() {
        let short = NodeName::short("rust").expect("valid");
        let long = NodeName::long("rust").expect("valid");
        assert!(!short.host().contains('.'));
        assert!(long.host().starts_with(short.host()));
    }
}
