//! The Erlang oracle: one long-running `erl` that answers questions about
//! the External Term Format.
//!
//! The VM runs `erl/etf_oracle.erl` (compiled once by OTP 25's `erlc`, see
//! [`crate::beam`]) and talks over its stdin and stdout with 4-byte length
//! framing, one request at a time. A request is a sequence of Erlang
//! expressions, with variables bound to binaries from the test, whose value is
//! a binary; see [`Oracle::eval`]. Everything else ([`Oracle::term_to_binary`],
//! [`Oracle::reencode`], [`Oracle::exactly_equal`], ...) is built on it.
//!
//! Each request runs in its own Erlang process with a heap limit and a
//! timeout, so a request that crashes or loops is answered with an
//! [`OracleError::Erlang`] and the VM goes on serving. The VM halts when its
//! stdin closes and is killed when the [`Oracle`] is dropped, so no `erl` is
//! left behind, even when a test panics.

use crate::beam;
use crate::Otp;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// How long the test side waits for one reply. The Erlang side gives up on a
/// request after 60 s, so only a wedged VM makes this expire.
const REPLY_TIMEOUT: Duration = Duration::from_secs(90);

/// The largest reply accepted from the VM.
const MAX_REPLY: usize = 256 << 20;

/// Why the oracle could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OracleError {
    /// `erlc` failed on the oracle module.
    #[error("cannot compile the oracle module with {erlc}: {detail}")]
    Compile {
        /// The compiler that was run.
        erlc: PathBuf,
        /// Its exit status and output, or the I/O error.
        detail: String,
    },
    /// `erl` could not be started.
    #[error("OTP {release}: cannot start {erl}: {source}")]
    Spawn {
        /// The OTP release.
        release: u32,
        /// The launcher that failed.
        erl: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing a request to the VM failed (it has probably exited).
    #[error("OTP {release}: cannot send a request to the oracle: {source}")]
    Send {
        /// The OTP release.
        release: u32,
        /// The underlying error.
        source: io::Error,
    },
    /// The VM closed its stdout or sent a broken frame.
    #[error("OTP {release}: the oracle stopped answering: {detail}")]
    Gone {
        /// The OTP release.
        release: u32,
        /// What the reader saw.
        detail: String,
    },
    /// No reply came within the timeout; the VM has been killed.
    #[error("OTP {release}: no reply within {timeout:?}; the oracle was killed")]
    Timeout {
        /// The OTP release.
        release: u32,
        /// The time waited.
        timeout: Duration,
    },
    /// A request is too large for the framing (names of at most 65535 bytes,
    /// values of at most 4 GiB, at most 65535 bindings).
    #[error("OTP {release}: request too large: {what}")]
    TooLarge {
        /// The OTP release.
        release: u32,
        /// Which part is too large.
        what: String,
    },
    /// The Erlang side failed: a scan or parse error, an exception, a
    /// timeout, or a value that is not a binary. `message` is its text.
    #[error("OTP {release}: erl says: {message}")]
    Erlang {
        /// The OTP release.
        release: u32,
        /// The formatted reason.
        message: String,
    },
    /// The reply did not have the shape the helper expected.
    #[error("OTP {release}: unexpected reply {reply:?} to {request}")]
    Unexpected {
        /// The OTP release.
        release: u32,
        /// What was asked.
        request: String,
        /// What came back, in hex.
        reply: String,
    },
}

/// A running `erl` VM serving oracle requests. Not `Sync`: one request at a
/// time; start one per test (start-up takes a fraction of a second).
#[derive(Debug)]
pub struct Oracle {
    release: u32,
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Result<Vec<u8>, String>>,
}

impl Oracle {
    /// Compiles the oracle module (once per machine and source version) and
    /// starts it on the given OTP release.
    pub fn start(otp: &Otp) -> Result<Oracle, OracleError> {
        let beam_dir = beam::oracle_dir(otp)?;
        let mut child = otp
            .erl_command(["-noinput", "-pa"])
            .arg(&beam_dir)
            .args(["-s", "etf_oracle", "start"])
            .env_remove("ERL_FLAGS")
            .env_remove("ERL_AFLAGS")
            .env_remove("ERL_ZFLAGS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| OracleError::Spawn {
                release: otp.release,
                erl: otp.erl(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(OracleError::Spawn {
                release: otp.release,
                erl: otp.erl(),
                source: io::Error::other("stdin or stdout was not piped"),
            });
        };
        let (sender, replies) = mpsc::channel();
        thread::Builder::new()
            .name(format!("erl-{}-oracle-reader", otp.release))
            .spawn(move || read_replies(stdout, &sender))
            .map_err(|source| OracleError::Spawn {
                release: otp.release,
                erl: otp.erl(),
                source,
            })?;
        Ok(Oracle {
            release: otp.release,
            child,
            stdin,
            replies,
        })
    }

    /// The OTP release this VM runs.
    pub fn release(&self) -> u32 {
        self.release
    }

    /// Evaluates `exprs` (Erlang expressions separated by commas, without the
    /// final dot) with each `(Name, bytes)` in `bindings` bound as the
    /// variable `Name` to a binary, and returns the value, which must be a
    /// binary.
    pub fn eval(
        &mut self,
        exprs: &str,
        bindings: &[(&str, &[u8])],
    ) -> Result<Vec<u8>, OracleError> {
        let request = self.request_frame(exprs, bindings)?;
        self.stdin
            .write_all(&request)
            .and_then(|()| self.stdin.flush())
            .map_err(|source| OracleError::Send {
                release: self.release,
                source,
            })?;
        let reply = match self.replies.recv_timeout(REPLY_TIMEOUT) {
            Ok(Ok(reply)) => reply,
            Ok(Err(detail)) => {
                return Err(OracleError::Gone {
                    release: self.release,
                    detail,
                })
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                return Err(OracleError::Timeout {
                    release: self.release,
                    timeout: REPLY_TIMEOUT,
                });
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(OracleError::Gone {
                    release: self.release,
                    detail: "reader thread ended".into(),
                })
            }
        };
        match reply.split_first() {
            Some((0, value)) => Ok(value.to_vec()),
            Some((1, message)) => Err(OracleError::Erlang {
                release: self.release,
                message: String::from_utf8_lossy(message).into_owned(),
            }),
            _ => Err(OracleError::Gone {
                release: self.release,
                detail: format!("reply with unknown status: {}", crate::hex(&reply)),
            }),
        }
    }

    /// `term_to_binary(Term, Options)` where `Term` is the value of the
    /// Erlang expressions `term` and `options` is an Erlang list such as
    /// `"[deterministic, {minor_version, 1}]"`.
    pub fn term_to_binary(&mut self, term: &str, options: &str) -> Result<Vec<u8>, OracleError> {
        self.eval(
            &format!("term_to_binary(begin\n{term}\nend, {options})"),
            &[],
        )
    }

    /// `term_to_binary(Term, Options)` for each of `terms` (each evaluated in
    /// its own fun, so their variables do not clash), in one request. Fails
    /// as a whole if any expression fails.
    pub fn term_to_binary_each(
        &mut self,
        terms: &[&str],
        options: &str,
    ) -> Result<Vec<Vec<u8>>, OracleError> {
        let calls: Vec<String> = terms
            .iter()
            .map(|term| format!("term_to_binary((fun() ->\n{term}\nend)(), Opts)"))
            .collect();
        let reply = self.eval(
            &format!("Opts = {options}, etf_oracle:pack([{}])", calls.join(",\n")),
            &[],
        )?;
        let mut rest = reply.as_slice();
        let mut out = Vec::with_capacity(terms.len());
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
            let Some((item, tail)) = tail.split_at_checked(len) else {
                break;
            };
            out.push(item.to_vec());
            rest = tail;
        }
        if out.len() != terms.len() || !rest.is_empty() {
            return Err(self.unexpected("pack", &reply));
        }
        Ok(out)
    }

    /// Decodes `etf` with `binary_to_term/1` and encodes the term again with
    /// `term_to_binary(Term, Options)`.
    pub fn reencode(&mut self, etf: &[u8], options: &str) -> Result<Vec<u8>, OracleError> {
        self.eval(
            &format!("term_to_binary(binary_to_term(Etf), {options})"),
            &[("Etf", etf)],
        )
    }

    /// Whether `binary_to_term(A) =:= binary_to_term(B)`. An `Err` if either
    /// does not decode.
    pub fn exactly_equal(&mut self, a: &[u8], b: &[u8]) -> Result<bool, OracleError> {
        self.ask_bool(
            "atom_to_binary(binary_to_term(A) =:= binary_to_term(B))",
            &[("A", a), ("B", b)],
        )
    }

    /// Whether `binary_to_term(Etf) =:= begin Term end`.
    pub fn decodes_to(&mut self, etf: &[u8], term: &str) -> Result<bool, OracleError> {
        self.ask_bool(
            &format!("atom_to_binary(binary_to_term(Etf) =:= begin\n{term}\nend)"),
            &[("Etf", etf)],
        )
    }

    /// Whether `binary_to_term/1` accepts `etf`; the `Err` carries erl's reason
    /// when it does not.
    pub fn binary_to_term(&mut self, etf: &[u8]) -> Result<(), OracleError> {
        self.eval("_ = binary_to_term(Etf), <<>>", &[("Etf", etf)])
            .map(drop)
    }

    /// For each byte string, whether `binary_to_term/2` decodes all of it
    /// (a term followed by unused bytes counts as rejected, although
    /// `binary_to_term/1` ignores such bytes); one request for the whole batch.
    pub fn accepts_each(&mut self, candidates: &[Vec<u8>]) -> Result<Vec<bool>, OracleError> {
        let batch = self.batch(candidates.iter().map(Vec::as_slice))?;
        let reply = self.eval("etf_oracle:accepts(Batch)", &[("Batch", &batch)])?;
        self.verdicts(&reply, candidates.len(), "accepts")?
            .into_iter()
            .map(|verdict| match verdict {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(self.unexpected("accepts", &[other])),
            })
            .collect()
    }

    /// For each pair, whether both decode and `binary_to_term(A) =:=
    /// binary_to_term(B)`: `Some(true)` or `Some(false)`, and `None` when
    /// either does not decode. One request for the whole batch.
    pub fn exactly_equal_each(
        &mut self,
        pairs: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<Vec<Option<bool>>, OracleError> {
        let batch = self.batch(pairs.iter().flat_map(|(a, b)| [a.as_slice(), b.as_slice()]))?;
        let reply = self.eval("etf_oracle:same_terms(Batch)", &[("Batch", &batch)])?;
        self.verdicts(&reply, pairs.len(), "same_terms")?
            .into_iter()
            .map(|verdict| match verdict {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                2 => Ok(None),
                other => Err(self.unexpected("same_terms", &[other])),
            })
            .collect()
    }

    /// How erl prints `binary_to_term(etf)` (`~0tP`, depth-limited), for
    /// failure messages. Never fails: an error becomes its description.
    pub fn show(&mut self, etf: &[u8]) -> String {
        let printed = self.eval(
            "unicode:characters_to_binary(io_lib:format(\"~0tP\", [binary_to_term(Etf), 12]))",
            &[("Etf", etf)],
        );
        match printed {
            Ok(text) => String::from_utf8_lossy(&text).into_owned(),
            Err(err) => format!("<{err}>"),
        }
    }

    fn ask_bool(&mut self, exprs: &str, bindings: &[(&str, &[u8])]) -> Result<bool, OracleError> {
        let reply = self.eval(exprs, bindings)?;
        match reply.as_slice() {
            b"true" => Ok(true),
            b"false" => Ok(false),
            _ => Err(self.unexpected(exprs, &reply)),
        }
    }

    /// Concatenates `items`, each behind a 4-byte big-endian length.
    fn batch<'a>(&self, items: impl Iterator<Item = &'a [u8]>) -> Result<Vec<u8>, OracleError> {
        let mut batch = Vec::new();
        for item in items {
            let len = u32::try_from(item.len()).map_err(|_| OracleError::TooLarge {
                release: self.release,
                what: format!("batch item of {} bytes", item.len()),
            })?;
            batch.extend_from_slice(&len.to_be_bytes());
            batch.extend_from_slice(item);
        }
        Ok(batch)
    }

    /// Checks that a batch reply has one verdict byte per item.
    fn verdicts(
        &self,
        reply: &[u8],
        expected: usize,
        request: &str,
    ) -> Result<Vec<u8>, OracleError> {
        if reply.len() == expected {
            Ok(reply.to_vec())
        } else {
            Err(self.unexpected(request, reply))
        }
    }

    fn unexpected(&self, request: &str, reply: &[u8]) -> OracleError {
        OracleError::Unexpected {
            release: self.release,
            request: request.to_owned(),
            reply: crate::hex(reply),
        }
    }

    fn request_frame(
        &self,
        exprs: &str,
        bindings: &[(&str, &[u8])],
    ) -> Result<Vec<u8>, OracleError> {
        let too_large = |what: String| OracleError::TooLarge {
            release: self.release,
            what,
        };
        let count = u16::try_from(bindings.len())
            .map_err(|_| too_large(format!("{} bindings", bindings.len())))?;
        let mut body = Vec::new();
        body.extend_from_slice(&count.to_be_bytes());
        for (name, value) in bindings {
            let name_len = u16::try_from(name.len())
                .map_err(|_| too_large(format!("variable name of {} bytes", name.len())))?;
            let value_len = u32::try_from(value.len())
                .map_err(|_| too_large(format!("binary {name} of {} bytes", value.len())))?;
            body.extend_from_slice(&name_len.to_be_bytes());
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(&value_len.to_be_bytes());
            body.extend_from_slice(value);
        }
        body.extend_from_slice(exprs.as_bytes());
        let body_len = u32::try_from(body.len())
            .map_err(|_| too_large(format!("request of {} bytes", body.len())))?;
        let mut frame = Vec::with_capacity(body.len() + 4);
        frame.extend_from_slice(&body_len.to_be_bytes());
        frame.extend_from_slice(&body);
        Ok(frame)
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `{packet, 4}` frames until EOF or an error, forwarding each.
fn read_replies(mut stdout: ChildStdout, sender: &mpsc::Sender<Result<Vec<u8>, String>>) {
    loop {
        let frame = read_frame(&mut stdout);
        let stop = frame.is_err();
        if sender.send(frame).is_err() || stop {
            return;
        }
    }
}

fn read_frame(stdout: &mut ChildStdout) -> Result<Vec<u8>, String> {
    let mut header = [0u8; 4];
    stdout
        .read_exact(&mut header)
        .map_err(|err| format!("reading a reply header: {err}"))?;
    let len = usize::try_from(u32::from_be_bytes(header)).unwrap_or(usize::MAX);
    if len > MAX_REPLY {
        return Err(format!(
            "reply of {len} bytes exceeds the {MAX_REPLY}-byte limit"
        ));
    }
    let mut frame = vec![0u8; len];
    stdout
        .read_exact(&mut frame)
        .map_err(|err| format!("reading a {len}-byte reply: {err}"))?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_request_is_reported_and_the_vm_keeps_serving() {
        for otp in Otp::all() {
            let mut oracle = Oracle::start(&otp).expect("oracle starts");
            let garbage = oracle.binary_to_term(&[131, 255, 1, 2]);
            assert!(
                matches!(&garbage, Err(OracleError::Erlang { message, .. }) if message.contains("badarg")),
                "OTP {}: {garbage:?}",
                otp.release
            );
            let crash = oracle.eval("exit(self(), kill), <<>>", &[]);
            assert!(
                matches!(crash, Err(OracleError::Erlang { .. })),
                "{crash:?}"
            );
            let syntax = oracle.eval("1 +", &[]);
            assert!(
                matches!(syntax, Err(OracleError::Erlang { .. })),
                "{syntax:?}"
            );
            let runaway = oracle.eval("length(lists:seq(1, 1 bsl 40)), <<>>", &[]);
            assert!(
                matches!(&runaway, Err(OracleError::Erlang { message, .. }) if message.contains("killed")),
                "the heap limit stops a runaway request: {runaway:?}"
            );
            let not_binary = oracle.eval("42", &[]);
            assert!(
                matches!(not_binary, Err(OracleError::Erlang { .. })),
                "{not_binary:?}"
            );
            // Output written by a request goes to stderr, not into the framing.
            let printed = oracle.eval("io:format(\"noise~n\"), <<\"after\">>", &[]);
            assert_eq!(printed.expect("request after noise"), b"after");
            let release = oracle.eval("list_to_binary(erlang:system_info(otp_release))", &[]);
            assert_eq!(
                release.expect("release"),
                otp.release.to_string().as_bytes()
            );
        }
    }

    #[test]
    fn dropping_the_oracle_ends_the_vm() {
        let mut oracle = Oracle::start(&Otp::v28()).expect("oracle starts");
        let os_pid = oracle
            .eval("list_to_binary(os:getpid())", &[])
            .expect("os pid");
        let proc_dir =
            std::path::PathBuf::from("/proc").join(String::from_utf8_lossy(&os_pid).as_ref());
        assert!(proc_dir.exists(), "{} is running", proc_dir.display());
        drop(oracle);
        assert!(
            !proc_dir.exists(),
            "{} survived the drop",
            proc_dir.display()
        );
    }

    #[test]
    fn batches_get_one_verdict_per_item() {
        let mut oracle = Oracle::start(&Otp::v25()).expect("oracle starts");
        let nil = vec![131, 106];
        let empty_list_as_string = vec![131, 107, 0, 0];
        let one = vec![131, 97, 1];
        let accepted = oracle
            .accepts_each(&[
                nil.clone(),
                vec![131],
                vec![],
                one.clone(),
                vec![131, 106, 0],
            ])
            .expect("accepts");
        assert_eq!(accepted, [true, false, false, true, false]);
        let same = oracle
            .exactly_equal_each(&[
                (nil.clone(), empty_list_as_string),
                (nil.clone(), one),
                (nil, vec![131, 255]),
            ])
            .expect("same_terms");
        assert_eq!(same, [Some(true), Some(false), None]);
        assert_eq!(
            oracle.accepts_each(&[]).expect("empty batch"),
            Vec::<bool>::new()
        );
    }

    #[test]
    fn bindings_reach_the_expression_unchanged() {
        let mut oracle = Oracle::start(&Otp::v28()).expect("oracle starts");
        let big: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        let echoed = oracle
            .eval("<<A/binary, B/binary>>", &[("A", &big), ("B", b"tail")])
            .expect("echo");
        assert_eq!(&echoed[..big.len()], big.as_slice());
        assert_eq!(&echoed[big.len()..], b"tail");
        let etf = oracle
            .term_to_binary("{a, [1, 2.5], <<\"x\">>}", "[]")
            .expect("t2b");
        assert_eq!(
            etf[..4],
            [131, 104, 3, 119],
            "OTP 28 writes a UTF-8 small atom"
        );
        assert_eq!(oracle.reencode(&etf, "[]").expect("reencode"), etf);
        assert!(oracle
            .decodes_to(&etf, "{a, [1, 2.5], <<\"x\">>}")
            .expect("compare"));
        assert!(!oracle
            .decodes_to(&etf, "{a, [1, 2.5], <<\"y\">>}")
            .expect("compare"));
    }
}
