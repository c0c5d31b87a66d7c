//! The requests of the Erlang I/O protocol that a group leader receives,
//! as `{io_request, From, ReplyAs, Request}`, read into one type, and the
//! replies it sends back.

use etf::{Pid, Term};

/// One `{io_request, From, ReplyAs, Request}` message.
#[derive(Debug, Clone)]
pub(crate) struct IoMessage {
    /// The process waiting for the reply.
    pub(crate) from: Pid,
    /// Echoed in the reply so that the sender recognises it.
    pub(crate) reply_as: Term,
    /// What it asks.
    pub(crate) request: Term,
}

impl IoMessage {
    /// Reads an io request message; `None` for any other message.
    pub(crate) fn parse(payload: &Term) -> Option<IoMessage> {
        match payload.as_tuple()? {
            [label, from, reply_as, request] if label.is_atom("io_request") => Some(IoMessage {
                from: from.as_pid()?.clone(),
                reply_as: reply_as.clone(),
                request: request.clone(),
            }),
            _ => None,
        }
    }

    /// `{io_reply, ReplyAs, Result}`.
    pub(crate) fn reply(&self, result: Term) -> Term {
        Term::tuple(vec![Term::atom("io_reply"), self.reply_as.clone(), result])
    }
}

/// What to write: chardata, or the call on the sender's node that
/// produces it (`io:format` sends `io_lib:format/2`).
#[derive(Debug, Clone)]
pub(crate) enum Chars {
    /// The characters themselves.
    Data(Term),
    /// `Module:Function(Args...)` returns them.
    Apply {
        /// The module.
        module: String,
        /// The function.
        function: String,
        /// Its arguments.
        args: Vec<Term>,
    },
}

/// An input request: what ends it and how it is answered.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// `get_until`: `Module:Function(Continuation, Data, Args...)` decides
    /// when enough has been read (`io:scan_erl_exprs` asks `erl_scan:tokens`).
    Until {
        /// The module.
        module: String,
        /// The function.
        function: String,
        /// The extra arguments.
        args: Vec<Term>,
    },
    /// `get_line`: one line, newline included.
    Line,
    /// `get_chars`: this many characters.
    Chars(usize),
}

/// A request of the I/O protocol.
#[derive(Debug, Clone)]
pub(crate) enum IoRequest {
    /// `put_chars` in any of its forms.
    PutChars {
        /// Binaries in it are Latin-1 (`latin1`, or the old form without
        /// an encoding).
        latin1: bool,
        /// What to write.
        chars: Chars,
    },
    /// `get_until`, `get_line` or `get_chars`, with a prompt.
    Read {
        /// The answer is Latin-1.
        latin1: bool,
        /// The prompt: chardata, an atom, or `{format, Format, Args}`.
        prompt: Term,
        /// What to read.
        input: Input,
    },
    /// `{setopts, Options}`.
    SetOpts(Vec<Term>),
    /// `getopts`.
    GetOpts,
    /// `{get_geometry, columns | rows}`.
    Geometry {
        /// Columns rather than rows.
        columns: bool,
    },
    /// `{requests, [Request]}`: carried out in order, up to the first error.
    Requests(Vec<Term>),
    /// Anything else: answered `{error, request}`.
    Unknown,
}

impl IoRequest {
    /// Reads a request term.
    pub(crate) fn parse(request: &Term) -> IoRequest {
        if request.is_atom("getopts") {
            return IoRequest::GetOpts;
        }
        let Some(parts) = request.as_tuple() else {
            return IoRequest::Unknown;
        };
        let Some((op, rest)) = parts.split_first() else {
            return IoRequest::Unknown;
        };
        let Some(op) = op.as_atom() else {
            return IoRequest::Unknown;
        };
        // The encoding comes first in the current forms, is absent (Latin-1)
        // in the old ones.
        let (latin1, rest) = match rest.split_first() {
            Some((enc, rest)) if enc.is_atom("unicode") => (false, rest),
            Some((enc, rest)) if enc.is_atom("latin1") => (true, rest),
            _ => (true, rest),
        };
        match (op.as_str(), rest) {
            ("put_chars", [chars]) => IoRequest::PutChars {
                latin1,
                chars: Chars::Data(chars.clone()),
            },
            ("put_chars", [module, function, args]) => match apply(module, function, args) {
                Some((module, function, args)) => IoRequest::PutChars {
                    latin1,
                    chars: Chars::Apply {
                        module,
                        function,
                        args,
                    },
                },
                None => IoRequest::Unknown,
            },
            ("get_until", [prompt, module, function, args]) => {
                match apply(module, function, args) {
                    Some((module, function, args)) => IoRequest::Read {
                        latin1,
                        prompt: prompt.clone(),
                        input: Input::Until {
                            module,
                            function,
                            args,
                        },
                    },
                    None => IoRequest::Unknown,
                }
            }
            ("get_line", [prompt]) => IoRequest::Read {
                latin1,
                prompt: prompt.clone(),
                input: Input::Line,
            },
            ("get_chars", [prompt, count]) => match count.as_i64().map(usize::try_from) {
                Some(Ok(count)) => IoRequest::Read {
                    latin1,
                    prompt: prompt.clone(),
                    input: Input::Chars(count),
                },
                _ => IoRequest::Unknown,
            },
            ("setopts", [options]) => match options.to_list() {
                Some(options) => IoRequest::SetOpts(options),
                None => IoRequest::Unknown,
            },
            ("get_geometry", [which]) if which.is_atom("columns") || which.is_atom("rows") => {
                IoRequest::Geometry {
                    columns: which.is_atom("columns"),
                }
            }
            ("requests", [requests]) => match requests.to_list() {
                Some(requests) => IoRequest::Requests(requests),
                None => IoRequest::Unknown,
            },
            _ => IoRequest::Unknown,
        }
    }
}

/// `Module, Function, Args` as names and a proper list.
fn apply(module: &Term, function: &Term, args: &Term) -> Option<(String, String, Vec<Term>)> {
    Some((
        module.as_atom()?.as_str().to_owned(),
        function.as_atom()?.as_str().to_owned(),
        args.to_list()?,
    ))
}

/// `{error, Reason}`.
pub(crate) fn error(reason: &str) -> Term {
    Term::tuple(vec![Term::atom("error"), Term::atom(reason)])
}

/// The options a shell may ask for and set: `binary`, `encoding`, `echo`,
/// `expand_fun`, `line_history`, and any other given, kept as set.
#[derive(Debug, Clone)]
pub(crate) struct IoOptions {
    options: Vec<(String, Term)>,
}

impl Default for IoOptions {
    fn default() -> IoOptions {
        IoOptions {
            options: vec![
                ("binary".to_owned(), Term::atom("false")),
                ("encoding".to_owned(), Term::atom("unicode")),
                ("echo".to_owned(), Term::atom("true")),
                ("line_history".to_owned(), Term::atom("true")),
            ],
        }
    }
}

impl IoOptions {
    /// Applies `setopts`: `{Key, Value}`, or the atoms `binary` and `list`.
    /// False if an option is neither.
    pub(crate) fn set(&mut self, options: &[Term]) -> bool {
        for option in options {
            let (key, value) = if option.is_atom("binary") {
                ("binary".to_owned(), Term::atom("true"))
            } else if option.is_atom("list") {
                ("binary".to_owned(), Term::atom("false"))
            } else {
                match option.as_tuple() {
                    Some([key, value]) => match key.as_atom() {
                        Some(key) => (key.as_str().to_owned(), value.clone()),
                        None => return false,
                    },
                    _ => return false,
                }
            };
            match self.options.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => self.options.push((key, value)),
            }
        }
        true
    }

    /// The `getopts` answer.
    pub(crate) fn to_term(&self) -> Term {
        Term::list(
            self.options
                .iter()
                .map(|(key, value)| Term::tuple(vec![Term::atom(key), value.clone()]))
                .collect(),
        )
    }

    /// Whether input is answered as binaries.
    pub(crate) fn binary(&self) -> bool {
        self.options
            .iter()
            .any(|(key, value)| key == "binary" && value.is_atom("true"))
    }

    /// The `expand_fun` set by `setopts`, if it is a fun (of arity 1).
    pub(crate) fn expand_fun(&self) -> Option<&Term> {
        self.options
            .iter()
            .find(|(key, _)| key == "expand_fun")
            .map(|(_, value)| value)
            .filter(|value| matches!(value, Term::Fun(_) | Term::Export(_)))
    }

    /// Whether typed input is echoed (the shell turns it off to skip the
    /// rest of a line after a scan error).
    pub(crate) fn echo(&self) -> bool {
        !self
            .options
            .iter()
            .any(|(key, value)| key == "echo" && value.is_atom("false"))
    }
}

/// Read text as the answer to `get_line`/`get_chars`: a binary (UTF-8, or
/// Latin-1 when `latin1`) in binary mode, else a list of code points.
/// `None` if a character does not fit Latin-1.
pub(crate) fn text_term(text: &str, binary: bool, latin1: bool) -> Option<Term> {
    if latin1 && text.chars().any(|c| u32::from(c) > 0xff) {
        return None;
    }
    Some(match (binary, latin1) {
        (true, true) => Term::binary(text.chars().map(|c| c as u8).collect::<Vec<u8>>()),
        (true, false) => Term::binary(text.as_bytes().to_vec()),
        (false, _) => Term::charlist(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_of_every_form_are_read() {
        let prompt = Term::charlist("1> ");
        let until = Term::tuple(vec![
            Term::atom("get_until"),
            Term::atom("unicode"),
            prompt.clone(),
            Term::atom("erl_scan"),
            Term::atom("tokens"),
            Term::list(vec![Term::Int(1)]),
        ]);
        match IoRequest::parse(&until) {
            IoRequest::Read {
                latin1: false,
                input: Input::Until { module, args, .. },
                ..
            } => assert_eq!((module.as_str(), args.len()), ("erl_scan", 1)),
            other => panic!("{other:?}"),
        }
        let old_put = Term::tuple(vec![Term::atom("put_chars"), Term::charlist("x")]);
        assert!(matches!(
            IoRequest::parse(&old_put),
            IoRequest::PutChars { latin1: true, .. }
        ));
        let format = Term::tuple(vec![
            Term::atom("put_chars"),
            Term::atom("unicode"),
            Term::atom("io_lib"),
            Term::atom("format"),
            Term::list(vec![Term::charlist("~p"), Term::list(vec![Term::Int(1)])]),
        ]);
        assert!(matches!(
            IoRequest::parse(&format),
            IoRequest::PutChars {
                chars: Chars::Apply { .. },
                ..
            }
        ));
        let chars = Term::tuple(vec![
            Term::atom("get_chars"),
            Term::atom("unicode"),
            prompt,
            Term::Int(3),
        ]);
        assert!(matches!(
            IoRequest::parse(&chars),
            IoRequest::Read {
                input: Input::Chars(3),
                ..
            }
        ));
        assert!(matches!(
            IoRequest::parse(&Term::atom("getopts")),
            IoRequest::GetOpts
        ));
        let bad_count = Term::tuple(vec![
            Term::atom("get_chars"),
            Term::atom("unicode"),
            Term::charlist(""),
            Term::Int(-1),
        ]);
        assert!(matches!(IoRequest::parse(&bad_count), IoRequest::Unknown));
        assert!(matches!(
            IoRequest::parse(&Term::Int(7)),
            IoRequest::Unknown
        ));
    }

    #[test]
    fn options_are_kept_as_set() {
        let mut options = IoOptions::default();
        assert!(!options.binary() && options.echo());
        assert!(options.set(&[
            Term::atom("binary"),
            Term::tuple(vec![Term::atom("echo"), Term::atom("false")]),
            Term::tuple(vec![Term::atom("expand_fun"), Term::atom("none")]),
        ]));
        assert!(options.binary() && !options.echo());
        assert!(options.to_term().to_string().contains("{expand_fun,none}"));
        assert!(!options.set(&[Term::Int(1)]));
    }

    #[test]
    fn read_text_follows_binary_mode_and_encoding() {
        assert_eq!(
            text_term("é\n", true, false),
            Some(Term::binary("é\n".as_bytes().to_vec()))
        );
        assert_eq!(text_term("é", true, true), Some(Term::binary(vec![0xe9])));
        assert_eq!(text_term("€", false, true), None);
        assert_eq!(text_term("ab", false, false), Some(Term::charlist("ab")));
    }
}
