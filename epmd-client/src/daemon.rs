//! What an EPMD server does with each request, without sockets: the rules
//! of OTP's `epmd_srv.c` (loopback-only commands, the relaxed command
//! check, reply forms) on top of the [`Registry`].

use crate::registry::{ConnId, Registry};
use crate::reply::{Alive2Reply, KillReply, PortPlease2Reply, StopReply};
use crate::request::Request;

/// The creation OTP's `epmd` puts in a failed ALIVE2 reply.
const FAILED_CREATION: u16 = 99;

/// What the connection that sent a request must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Write `reply`, then close the connection.
    Reply(Vec<u8>),
    /// Write `reply` and keep the connection open: it now holds the
    /// registration of `name`, which ends when it closes or sends anything.
    Registered {
        /// The ALIVE2 reply.
        reply: Vec<u8>,
        /// The registered name.
        name: String,
    },
    /// Write `reply`, close this connection and the registration connection
    /// `registration` (STOP_REQ).
    Stopped {
        /// `STOPPED`.
        reply: Vec<u8>,
        /// The connection that held the stopped node's registration.
        registration: ConnId,
    },
    /// Write `reply` (`OK`), then stop the whole server (KILL_REQ).
    Kill(Vec<u8>),
    /// Close without replying, as OTP's `epmd` does with refused requests.
    Refuse {
        /// Why, for the log.
        reason: &'static str,
    },
}

/// The state of one EPMD server: its registry and its policy.
#[derive(Debug)]
pub struct Daemon {
    registry: Registry,
    epmd_port: u16,
    relaxed_command_check: bool,
}

impl Daemon {
    /// A daemon listening on `epmd_port` (reported in NAMES and DUMP).
    /// `relaxed_command_check` allows STOP_REQ and KILL_REQ with live nodes,
    /// like `epmd -relaxed_command_check`. `seed` starts creation counters.
    pub fn new(epmd_port: u16, relaxed_command_check: bool, seed: u32) -> Self {
        Daemon {
            registry: Registry::new(seed),
            epmd_port,
            relaxed_command_check,
        }
    }

    /// The node table.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Handles one request that arrived on connection `conn`;
    /// `from_loopback` says whether the peer is local (127.0.0.0/8, `::1` or
    /// the address it connected to).
    pub fn handle(&mut self, conn: ConnId, from_loopback: bool, request: Request) -> Outcome {
        let local_only = matches!(
            request,
            Request::Alive2(_) | Request::Dump | Request::Kill | Request::Stop { .. }
        );
        if local_only && !from_loopback {
            return Outcome::Refuse {
                reason: "command accepted from loopback only",
            };
        }
        let mut reply = Vec::new();
        match request {
            Request::Alive2(node) => {
                let name = node.name.clone();
                let extended = node.highest_version >= 6;
                let result = self.registry.register(conn, node);
                let (result, creation) = match result {
                    Ok(creation) => (0, creation),
                    Err(err) => {
                        tracing::debug!(%name, ?err, "epmd registration refused");
                        (1, u32::from(FAILED_CREATION))
                    }
                };
                let answer = if extended {
                    Alive2Reply::Extended { result, creation }
                } else {
                    // A legacy creation is 1..=3 (or 99 on failure).
                    let creation = u16::try_from(creation).unwrap_or(FAILED_CREATION);
                    Alive2Reply::Legacy { result, creation }
                };
                answer.encode(&mut reply);
                if result == 0 {
                    Outcome::Registered { reply, name }
                } else {
                    Outcome::Reply(reply)
                }
            }
            Request::PortPlease2 { name } => {
                match self.registry.lookup(&name) {
                    Some(node) => PortPlease2Reply::Found(node.clone()).encode(&mut reply),
                    None => PortPlease2Reply::NotFound { result: 1 }.encode(&mut reply),
                }
                Outcome::Reply(reply)
            }
            Request::Names => {
                self.registry.names(self.epmd_port).encode(&mut reply);
                Outcome::Reply(reply)
            }
            Request::Dump => {
                self.registry.dump(self.epmd_port).encode(&mut reply);
                Outcome::Reply(reply)
            }
            Request::Kill => {
                if !self.relaxed_command_check && !self.registry.is_empty() {
                    KillReply::Refused.encode(&mut reply);
                    return Outcome::Reply(reply);
                }
                KillReply::Killed.encode(&mut reply);
                Outcome::Kill(reply)
            }
            Request::Stop { name } => {
                if !self.relaxed_command_check {
                    return Outcome::Refuse {
                        reason: "STOP_REQ needs the relaxed command check",
                    };
                }
                match self.registry.unregister_name(&name) {
                    Some(registration) => {
                        StopReply::Stopped.encode(&mut reply);
                        Outcome::Stopped {
                            reply,
                            registration,
                        }
                    }
                    None => {
                        StopReply::NoExist.encode(&mut reply);
                        Outcome::Reply(reply)
                    }
                }
            }
        }
    }

    /// Connection `conn` closed (or broke the protocol): its registration,
    /// if any, ends. Returns the name that was unregistered.
    pub fn connection_closed(&mut self, conn: ConnId) -> Option<String> {
        self.registry.unregister_conn(conn).map(|node| node.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::NamesReply;
    use crate::node::{NodeInfo, NodeType};
    use crate::reply::PortPlease2Reply;

    fn alive(name: &str, high: u16) -> Request {
        let mut node = NodeInfo::new(name, 5555, NodeType::NORMAL);
        node.highest_version = high;
        node.lowest_version = 5;
        Request::Alive2(node)
    }

    fn reply_of(outcome: Outcome) -> Vec<u8> {
        match outcome {
            Outcome::Reply(r) | Outcome::Kill(r) => r,
            Outcome::Registered { reply, .. } | Outcome::Stopped { reply, .. } => reply,
            Outcome::Refuse { reason } => panic!("refused: {reason}"),
        }
    }

    #[test]
    fn alive2_reply_form_follows_highest_version() {
        let mut d = Daemon::new(4369, false, 100);
        let x = d.handle(ConnId(1), true, alive("x", 6));
        assert_eq!(
            x,
            Outcome::Registered {
                reply: vec![118, 0, 0, 0, 0, 102],
                name: "x".into()
            }
        );
        let legacy = reply_of(d.handle(ConnId(2), true, alive("y", 5)));
        assert_eq!(legacy.len(), 4);
        assert_eq!(legacy[..2], [121, 0]);
        assert!((1..=3).contains(&u16::from_be_bytes([legacy[2], legacy[3]])));
        // Name taken: result 1 with OTP's creation 99, connection not kept.
        assert_eq!(
            d.handle(ConnId(3), true, alive("x", 6)),
            Outcome::Reply(vec![118, 1, 0, 0, 0, 99])
        );
        assert_eq!(
            d.handle(ConnId(3), true, alive("y", 5)),
            Outcome::Reply(vec![121, 1, 0, 99])
        );
    }

    #[test]
    fn lookup_names_and_unregister_on_close() {
        let mut d = Daemon::new(4369, false, 0);
        d.handle(ConnId(1), true, alive("foo", 6));
        let found = reply_of(d.handle(
            ConnId(2),
            false,
            Request::PortPlease2 { name: "foo".into() },
        ));
        match PortPlease2Reply::decode(&found) {
            Ok(PortPlease2Reply::Found(node)) => {
                assert_eq!((node.name.as_str(), node.port), ("foo", 5555))
            }
            other => panic!("{other:?}"),
        }
        let names = reply_of(d.handle(ConnId(3), false, Request::Names));
        assert_eq!(
            NamesReply::decode(&names).map(|n| n.text()),
            Ok("name foo at port 5555\n".to_owned())
        );
        assert_eq!(d.connection_closed(ConnId(3)), None);
        assert_eq!(d.connection_closed(ConnId(1)), Some("foo".into()));
        let missing =
            reply_of(d.handle(ConnId(4), true, Request::PortPlease2 { name: "foo".into() }));
        assert_eq!(missing, [119, 1]);
    }

    #[test]
    fn remote_peers_may_only_look_up_and_list() {
        let mut d = Daemon::new(4369, true, 0);
        for request in [
            alive("r", 6),
            Request::Dump,
            Request::Kill,
            Request::Stop { name: "r".into() },
        ] {
            assert!(matches!(
                d.handle(ConnId(1), false, request),
                Outcome::Refuse { .. }
            ));
        }
        assert!(d.registry().is_empty());
    }

    #[test]
    fn kill_and_stop_follow_the_relaxed_command_check() {
        let mut strict = Daemon::new(4369, false, 0);
        assert_eq!(
            strict.handle(ConnId(1), true, Request::Kill),
            Outcome::Kill(b"OK".to_vec())
        );
        strict.handle(ConnId(2), true, alive("n", 6));
        assert_eq!(
            strict.handle(ConnId(3), true, Request::Kill),
            Outcome::Reply(b"NO".to_vec())
        );
        assert!(matches!(
            strict.handle(ConnId(4), true, Request::Stop { name: "n".into() }),
            Outcome::Refuse { .. }
        ));

        let mut relaxed = Daemon::new(4369, true, 0);
        relaxed.handle(ConnId(2), true, alive("n", 6));
        assert_eq!(
            relaxed.handle(ConnId(4), true, Request::Stop { name: "n".into() }),
            Outcome::Stopped {
                reply: b"STOPPED".to_vec(),
                registration: ConnId(2)
            }
        );
        assert_eq!(
            relaxed.handle(ConnId(5), true, Request::Stop { name: "n".into() }),
            Outcome::Reply(b"NOEXIST".to_vec())
        );
        relaxed.handle(ConnId(6), true, alive("m", 6));
        assert_eq!(
            relaxed.handle(ConnId(7), true, Request::Kill),
            Outcome::Kill(b"OK".to_vec())
        );
    }
}
