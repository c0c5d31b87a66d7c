//! The group leader of the remote shell: a process of our node that
//! serves the Erlang I/O protocol to the shell started on the target (and
//! to every process there whose group leader it is), with the terminal
//! for input and output.
//!
//! Input requests are served one at a time, in order; output is written
//! as it comes, above the line being typed when the editor is waiting.
//! `get_until` continuations (`erl_scan:tokens/4` for the shell) run on
//! the node by rpc; rather than carry the node's continuation term back
//! and forth, the text read so far is scanned again from the start with
//! each new line, which keeps line and column numbers right.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use cnode::{Message, Node, NodeEvent, Process, Rpc};
use etf::{Pid, Term};

use super::io_request::{self, Chars, Input, IoMessage, IoOptions, IoRequest};
use super::terminal::{print_now, Completion, Terminal, Typed};
use crate::cli::node_error::NodeCliError;

/// How a remote shell session ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The user left (Ctrl-D, or `q().`); the node runs on.
    Left,
    /// The connection to the node was lost.
    Lost,
    /// The shell process on the node ended, with this reason.
    ShellEnded(Term),
}

/// How long one rpc made on the user's behalf may take (formatting output,
/// scanning input, completing a word).
const RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// Most input requests kept waiting for the one being served (one
/// process reads at a time; more is a node flooding us).
const MAX_WAITING_INPUT: usize = 1024;

/// An input request being served.
struct Pending {
    message: IoMessage,
    latin1: bool,
    input: Input,
    prompt: String,
    /// What has been read for it so far.
    text: String,
}

/// The group leader's state.
pub(crate) struct Group {
    rpc: Rpc,
    target: String,
    terminal: Terminal,
    options: IoOptions,
    /// Input read but not yet consumed by a request.
    buffer: String,
    /// Input requests waiting for the one being served.
    queue: VecDeque<IoMessage>,
    /// The input request being served, while the editor waits for a line.
    reading: Option<Pending>,
    /// The shell has been handed an expression and not asked for more.
    evaluating: bool,
    shell: Option<Pid>,
}

impl Group {
    /// A group leader for a shell on `target`, reading from `terminal`.
    pub(crate) fn new(node: &Node, target: &str, terminal: Terminal) -> Group {
        Group {
            rpc: node.rpc(),
            target: target.to_owned(),
            terminal,
            options: IoOptions::default(),
            buffer: String::new(),
            queue: VecDeque::new(),
            reading: None,
            evaluating: false,
            shell: None,
        }
    }

    /// Whether the editor may be in raw mode (waiting for a line).
    pub(crate) fn is_reading(&self) -> bool {
        self.reading.is_some()
    }

    /// Starts the shell on the target with `process` as its group leader
    /// and serves it until the session ends.
    pub(crate) async fn run(
        &mut self,
        node: &Node,
        process: &mut Process,
    ) -> Result<Ending, NodeCliError> {
        let mut events = node.events();
        // `shell:start(true)` by rex, with us as the group leader of the
        // rpc, whose spawned shell inherits it (as `erl -remsh` does); the
        // `true` leaves out the Ctrl-G hint, which has no meaning here.
        let me = Term::Pid(process.pid().clone());
        let tag = Term::Reference(node.make_ref());
        let start = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![me.clone(), tag.clone()]),
            Term::tuple(vec![
                Term::atom("call"),
                Term::atom("shell"),
                Term::atom("start"),
                Term::list(vec![Term::atom("true")]),
                me,
            ]),
        ]);
        process.send(("rex", self.target.as_str()), start)?;
        loop {
            tokio::select! {
                message = process.recv() => {
                    let Ok(message) = message else { return Ok(Ending::Lost) };
                    if let Some(ending) = self.handle(process, &tag, message).await? {
                        return Ok(ending);
                    }
                }
                typed = self.terminal.typed.recv(), if self.reading.is_some() => {
                    let typed = typed.unwrap_or(Typed::Eof);
                    if let Some(ending) = self.typed(process, typed).await? {
                        return Ok(ending);
                    }
                }
                Some(request) = self.terminal.completions.recv() => {
                    let completion = self.complete(&request.before).await;
                    let _ = request.answer.send(completion);
                }
                _ = tokio::signal::ctrl_c() => self.interrupt(process),
                event = events.recv() => match event {
                    Some(NodeEvent::NodeDown { node, .. }) if node.as_str() == self.target => {
                        return Ok(Ending::Lost);
                    }
                    Some(_) => {}
                    None => return Ok(Ending::Lost),
                },
            }
        }
    }

    /// Kills the shell (and with it its evaluator) on the node, leaving
    /// the node itself alone; waits until the node has seen the signal.
    pub(crate) async fn stop_shell(&self, process: &Process) {
        let Some(shell) = &self.shell else { return };
        let _ = process.exit(shell, Term::atom("kill"));
        // A round trip on the same connection: the signal is delivered.
        let _ = self
            .rpc
            .call(
                &self.target,
                "erlang",
                "is_process_alive",
                vec![Term::Pid(shell.clone())],
                RPC_TIMEOUT,
            )
            .await;
    }

    /// One message to our process.
    async fn handle(
        &mut self,
        process: &Process,
        tag: &Term,
        message: Message,
    ) -> Result<Option<Ending>, NodeCliError> {
        if let Some(io) = IoMessage::parse(&message.payload) {
            return self.io(process, io).await;
        }
        match message.payload.as_tuple() {
            // The answer to `shell:start/1`.
            Some([t, reply]) if t == tag => match reply.as_pid() {
                Some(shell) => {
                    process.monitor(shell.clone())?;
                    self.shell = Some(shell.clone());
                }
                None => {
                    return Err(NodeCliError::BadRpc {
                        reason: reply.clone(),
                    })
                }
            },
            Some([down, _, kind, pid, reason])
                if down.is_atom("DOWN")
                    && kind.is_atom("process")
                    && pid.as_pid() == self.shell.as_ref() =>
            {
                return Ok(Some(if reason.is_atom("noconnection") {
                    Ending::Lost
                } else {
                    Ending::ShellEnded(reason.clone())
                }));
            }
            _ => {}
        }
        Ok(None)
    }

    /// An io request: input is queued and served in turn, the rest is
    /// answered at once.
    async fn io(
        &mut self,
        process: &Process,
        io: IoMessage,
    ) -> Result<Option<Ending>, NodeCliError> {
        let request = IoRequest::parse(&io.request);
        if let IoRequest::Read { .. } = request {
            if self.queue.len() >= MAX_WAITING_INPUT {
                let _ = process.send(io.from.clone(), io.reply(io_request::error("busy")));
                return Ok(None);
            }
            self.queue.push_back(io);
            return self.next_input(process).await;
        }
        let node = io.from.node.as_str().to_owned();
        let result = self.answer(&node, &request).await;
        let _ = process.send(io.from.clone(), io.reply(result));
        Ok(None)
    }

    /// The result of a request other than input.
    fn answer<'a>(
        &'a mut self,
        node: &'a str,
        request: &'a IoRequest,
    ) -> Pin<Box<dyn Future<Output = Term> + 'a>> {
        Box::pin(async move {
            match request {
                IoRequest::PutChars { latin1, chars } => {
                    let chars = match chars {
                        Chars::Data(chars) => chars.clone(),
                        Chars::Apply {
                            module,
                            function,
                            args,
                        } => match self.call(node, module, function, args.clone()).await {
                            Some(chars) => chars,
                            None => return io_request::error("format"),
                        },
                    };
                    match cnode::chardata_to_string(&chars, *latin1) {
                        Some(text) => {
                            self.output(text);
                            Term::atom("ok")
                        }
                        None => io_request::error("badarg"),
                    }
                }
                IoRequest::SetOpts(options) => {
                    if self.options.set(options) {
                        Term::atom("ok")
                    } else {
                        io_request::error("badarg")
                    }
                }
                IoRequest::GetOpts => self.options.to_term(),
                IoRequest::Geometry { columns } => match window_size() {
                    Some((cols, rows)) => Term::Int(i64::from(if *columns { cols } else { rows })),
                    None => io_request::error("enotsup"),
                },
                IoRequest::Requests(requests) => {
                    let mut result = Term::atom("ok");
                    for request in requests {
                        let request = IoRequest::parse(request);
                        // Input is served in turn, not within a batch; a
                        // batch in a batch is refused so that the node
                        // cannot make us recurse as deep as it likes.
                        if let IoRequest::Read { .. } | IoRequest::Requests(_) = request {
                            return io_request::error("request");
                        }
                        result = self.answer(node, &request).await;
                        if result.as_tuple().is_some_and(|t| t[0].is_atom("error")) {
                            break;
                        }
                    }
                    result
                }
                IoRequest::Read { .. } | IoRequest::Unknown => io_request::error("request"),
            }
        })
    }

    /// Starts serving the next queued input request, unless one is served.
    async fn next_input(&mut self, process: &Process) -> Result<Option<Ending>, NodeCliError> {
        while self.reading.is_none() {
            let Some(message) = self.queue.pop_front() else {
                return Ok(None);
            };
            let IoRequest::Read {
                latin1,
                prompt,
                input,
            } = IoRequest::parse(&message.request)
            else {
                continue;
            };
            self.evaluating = false;
            let node = message.from.node.as_str().to_owned();
            let prompt = self.prompt_text(&node, &prompt).await;
            if !self.buffer.trim().is_empty() {
                // Typed ahead on an earlier line (`1. 2.`): shown after
                // its prompt, as `erl` shows it.
                let echo = format!("{prompt}{}\n", self.buffer.trim());
                self.output(echo);
            }
            let pending = Pending {
                message,
                latin1,
                input,
                prompt,
                text: std::mem::take(&mut self.buffer),
            };
            if let Some(ending) = self.advance(process, pending).await? {
                return Ok(Some(ending));
            }
        }
        Ok(None)
    }

    /// What the editor returned for the request being served.
    async fn typed(
        &mut self,
        process: &Process,
        typed: Typed,
    ) -> Result<Option<Ending>, NodeCliError> {
        let Some(mut pending) = self.reading.take() else {
            return Ok(None);
        };
        match typed {
            Typed::Line(line) => {
                pending.text.push_str(&line);
                pending.text.push('\n');
            }
            // Ctrl-C at the prompt abandons what was typed, as in a shell.
            Typed::Interrupted => pending.text.clear(),
            // Never `eof` to the shell: it would halt the node.
            Typed::Eof => return Ok(Some(Ending::Left)),
            Typed::Failed(reason) => return Err(NodeCliError::Terminal(reason)),
        }
        if let Some(ending) = self.advance(process, pending).await? {
            return Ok(Some(ending));
        }
        self.next_input(process).await
    }

    /// Answers `pending` if what was read is enough, else asks the editor
    /// for one more line.
    async fn advance(
        &mut self,
        process: &Process,
        mut pending: Pending,
    ) -> Result<Option<Ending>, NodeCliError> {
        let node = pending.message.from.node.as_str().to_owned();
        let result = match &pending.input {
            Input::Until {
                module,
                function,
                args,
            } => {
                if pending.text.trim().is_empty() {
                    pending.text.clear();
                    None
                } else {
                    let mut call_args = vec![Term::Nil, Term::charlist(&pending.text)];
                    call_args.extend(args.iter().cloned());
                    match self.call(&node, module, function, call_args).await {
                        Some(answer) => self.until_answer(&mut pending, answer),
                        None => Some(io_request::error("node")),
                    }
                }
            }
            Input::Line => match pending.text.find('\n') {
                Some(end) => {
                    self.buffer = pending.text.split_off(end + 1);
                    Some(self.text_answer(&pending))
                }
                // After a scan error the shell reads the rest of the line
                // with echo off: what is left of it is all there is.
                None if !self.options.echo() => {
                    pending.text.push('\n');
                    Some(self.text_answer(&pending))
                }
                None => None,
            },
            Input::Chars(count) => match pending.text.char_indices().nth(*count) {
                Some((end, _)) => {
                    self.buffer = pending.text.split_off(end);
                    Some(self.text_answer(&pending))
                }
                None if pending.text.chars().count() == *count => Some(self.text_answer(&pending)),
                None => None,
            },
        };
        let Some(result) = result else {
            let prompt = if pending.text.is_empty() {
                pending.prompt.clone()
            } else {
                continuation_prompt(&pending.prompt)
            };
            self.terminal.read_line(prompt);
            self.reading = Some(pending);
            return Ok(None);
        };
        if is_quit(&result) {
            return Ok(Some(Ending::Left));
        }
        if let Input::Until { .. } = pending.input {
            self.evaluating = true;
        }
        let _ = process.send(pending.message.from.clone(), pending.message.reply(result));
        Ok(None)
    }

    /// The reply to `get_until` from `M:F`'s answer, or `None` for more.
    fn until_answer(&mut self, pending: &mut Pending, answer: Term) -> Option<Term> {
        match answer.as_tuple() {
            Some([done, result, rest]) if done.is_atom("done") => {
                self.buffer = cnode::chardata_to_string(rest, pending.latin1).unwrap_or_default();
                if self.buffer.trim().is_empty() {
                    self.buffer.clear();
                }
                Some(result.clone())
            }
            Some([more, _]) if more.is_atom("more") => None,
            _ => Some(io_request::error("get_until")),
        }
    }

    /// The reply to `get_line`/`get_chars`: the text, as the options say.
    fn text_answer(&self, pending: &Pending) -> Term {
        io_request::text_term(&pending.text, self.options.binary(), pending.latin1)
            .unwrap_or_else(|| io_request::error("no_translation"))
    }

    /// Ctrl-C while the shell evaluates: the shell kills its evaluator
    /// (keeping its bindings) when sent the exit signal `interrupt`, as
    /// Ctrl-G `i` does in `erl`.
    fn interrupt(&mut self, process: &Process) {
        if let (true, Some(shell)) = (self.evaluating, &self.shell) {
            let _ = process.exit(shell, Term::atom("interrupt"));
            self.evaluating = false;
        }
    }

    /// Text for the screen.
    fn output(&mut self, text: String) {
        if self.reading.is_some() {
            self.terminal.print_while_reading(text);
        } else {
            print_now(&text);
        }
    }

    /// A prompt as text: chardata, an atom, or `{format, Format, Args}`
    /// formatted on `node`.
    async fn prompt_text(&mut self, node: &str, prompt: &Term) -> String {
        if let Some(atom) = prompt.as_atom() {
            return atom.as_str().to_owned();
        }
        if let Some([format, fmt, args]) = prompt.as_tuple() {
            if format.is_atom("format") {
                let chars = self
                    .call(node, "io_lib", "format", vec![fmt.clone(), args.clone()])
                    .await;
                return chars
                    .and_then(|chars| cnode::chardata_to_string(&chars, false))
                    .unwrap_or_default();
            }
        }
        cnode::chardata_to_string(prompt, false).unwrap_or_else(|| prompt.to_string())
    }

    /// Completes `before` through the `expand_fun` set with `setopts`, or
    /// else the node's `edlin_expand`.
    async fn complete(&mut self, before: &str) -> Completion {
        let reversed: String = before.chars().rev().collect();
        let target = self.target.clone();
        let rev = Term::charlist(&reversed);
        let mut answer = None;
        if let Some(fun) = self.options.expand_fun().cloned() {
            let args = Term::list(vec![rev.clone()]);
            answer = self.call(&target, "erlang", "apply", vec![fun, args]).await;
        }
        // `expand/2` (OTP 26+) lists matches in sections; `expand/1` of
        // OTP 28+ only names the sections.
        if answer.is_none() {
            answer = self
                .call(
                    &target,
                    "edlin_expand",
                    "expand",
                    vec![rev.clone(), Term::Nil],
                )
                .await;
        }
        if answer.is_none() {
            answer = self
                .call(&target, "edlin_expand", "expand", vec![rev])
                .await;
        }
        match answer.as_ref().and_then(Term::as_tuple) {
            Some([_, insert, matches]) => Completion {
                insert: cnode::chardata_to_string(insert, false).unwrap_or_default(),
                matches: match_names(matches),
            },
            _ => Completion::default(),
        }
    }

    /// An rpc on the user's behalf; `None` (logged) if it fails.
    async fn call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Vec<Term>,
    ) -> Option<Term> {
        match self
            .rpc
            .call(node, module, function, args, RPC_TIMEOUT)
            .await
        {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::debug!(%err, module, function, "remsh rpc failed");
                None
            }
        }
    }
}

/// `{ok, [{atom, _, q}, {'(', _}, {')', _}, {dot, _}], _}`: `q().` alone,
/// which leaves our shell instead of stopping the node.
fn is_quit(result: &Term) -> bool {
    let Some([ok, tokens, _]) = result.as_tuple() else {
        return false;
    };
    if !ok.is_atom("ok") {
        return false;
    }
    let Some(tokens) = tokens.to_list() else {
        return false;
    };
    let category = |token: &Term| token.as_tuple().and_then(|t| t.first().cloned());
    let expected = ["atom", "(", ")", "dot"];
    tokens.len() == expected.len()
        && tokens
            .iter()
            .zip(expected)
            .all(|(token, want)| category(token).is_some_and(|c| c.is_atom(want)))
        && tokens[0]
            .as_tuple()
            .and_then(|t| t.get(2))
            .is_some_and(|name| name.is_atom("q"))
}

/// The prompt of an expression's following lines: `.. ` aligned to the
/// end of the first prompt.
fn continuation_prompt(prompt: &str) -> String {
    let width = prompt.chars().count().max(3);
    format!("{:>width$}", ".. ")
}

/// The names in `edlin_expand`'s matches: `{Name, Arity}` tuples, in
/// plain lists (OTP 25, 27) or in the `elems` of section maps (OTP 28+).
fn match_names(matches: &Term) -> Vec<String> {
    const LIMIT: usize = 10_000;
    let mut names = Vec::new();
    let mut stack = vec![matches];
    let mut seen = 0;
    while let Some(term) = stack.pop() {
        seen += 1;
        if seen > LIMIT {
            break;
        }
        if let Some(items) = term.as_list() {
            stack.extend(items.iter().rev());
        } else if let Some([name, _]) = term.as_tuple() {
            if let Some(name) = cnode::chardata_to_string(name, false) {
                names.push(name);
            }
        } else if let Some(map) = term.as_map() {
            if let Some(elems) = map.get(&Term::atom("elems")) {
                stack.push(elems);
            }
        }
    }
    names
}

/// The terminal's columns and rows.
fn window_size() -> Option<(u16, u16)> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_col > 0).then_some((size.ws_col, size.ws_row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(category: &str, value: Option<&str>) -> Term {
        let mut parts = vec![Term::atom(category), Term::Int(1)];
        if let Some(value) = value {
            parts.push(Term::atom(value));
        }
        Term::tuple(parts)
    }

    #[test]
    fn only_q_alone_leaves() {
        let quit = |name: &str| {
            Term::tuple(vec![
                Term::atom("ok"),
                Term::list(vec![
                    token("atom", Some(name)),
                    token("(", None),
                    token(")", None),
                    token("dot", None),
                ]),
                Term::Int(1),
            ])
        };
        assert!(is_quit(&quit("q")));
        assert!(!is_quit(&quit("f")));
    }

    #[test]
    fn continuation_lines_align_with_the_prompt() {
        assert_eq!(continuation_prompt("(a@h)1> "), "     .. ");
        assert_eq!(continuation_prompt(""), ".. ");
    }

    #[test]
    fn match_names_of_each_release_are_found() {
        let pair = |name: &str, extra: Term| Term::tuple(vec![Term::charlist(name), extra]);
        let otp25 = Term::list(vec![pair("map", Term::Int(2)), pair("max", Term::Int(1))]);
        assert_eq!(match_names(&otp25), ["map", "max"]);
        let section = Term::map(vec![
            (Term::atom("title"), Term::charlist("Functions")),
            (
                Term::atom("elems"),
                Term::list(vec![pair("map", Term::Nil), pair("max", Term::Nil)]),
            ),
        ])
        .expect("distinct keys");
        assert_eq!(match_names(&Term::list(vec![section])), ["map", "max"]);
    }
}
