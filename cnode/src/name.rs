//! Node names: `alive@host`.

use crate::error::NodeError;

/// A node name split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeName {
    /// `alive@host`.
    pub(crate) full: String,
    /// The part before `@`, registered with EPMD.
    pub(crate) alive: String,
    /// The part after `@`: where EPMD and the node are found.
    pub(crate) host: String,
}

impl NodeName {
    /// Parses `alive@host`; `None` unless both parts are non-empty, the
    /// alive part is made of letters, digits, `_` and `-`, and the whole
    /// fits in an atom.
    pub(crate) fn parse(name: &str) -> Option<NodeName> {
        let (alive, host) = name.split_once('@')?;
        let alive_ok = !alive.is_empty()
            && alive
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let host_ok =
            !host.is_empty() && !host.contains('@') && !host.contains(char::is_whitespace);
        if !alive_ok || !host_ok || name.chars().count() > 255 {
            return None;
        }
        Some(NodeName {
            full: name.to_owned(),
            alive: alive.to_owned(),
            host: host.to_owned(),
        })
    }

    /// The builder's name: `alive@host`, or a bare `alive` completed with
    /// this machine's short host name as `erl -sname` does.
    pub(crate) fn for_local(name: &str) -> Result<NodeName, NodeError> {
        let full = if name.contains('@') {
            name.to_owned()
        } else {
            format!("{name}@{}", short_host_name())
        };
        NodeName::parse(&full).ok_or_else(|| NodeError::BadName {
            name: name.to_owned(),
            reason: "expected alive@host with a non-empty alive part of letters, digits, _ and -",
        })
    }
}

/// This machine's host name up to the first dot, as `erl -sname` uses.
pub(crate) fn short_host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    match name.trim().split('.').next() {
        Some(short) if !short.is_empty() => short.to_owned(),
        _ => "localhost".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::NodeName;

    #[test]
    fn short_long_and_ip_names_parse_and_bad_ones_do_not() {
        for (name, alive, host) in [
            ("rust@localhost", "rust", "localhost"),
            ("a_b-1@host.example.com", "a_b-1", "host.example.com"),
            ("n@127.0.0.1", "n", "127.0.0.1"),
        ] {
            let parsed = NodeName::parse(name).expect(name);
            assert_eq!((parsed.alive.as_str(), parsed.host.as_str()), (alive, host));
        }
        for bad in ["", "rust", "@host", "rust@", "a b@host", "a@b@c", "ä@host"] {
            assert_eq!(NodeName::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_bare_name_gets_the_short_host_name() {
        let name = NodeName::for_local("rust").expect("valid");
        assert!(name.full.starts_with("rust@"));
        assert!(!name.host.contains('.'));
    }
}
