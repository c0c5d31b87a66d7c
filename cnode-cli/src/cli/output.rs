//! How the node commands report their outcome: as text for people
//! (the default), not at all (`--quiet`: the exit code says it all), or as
//! one JSON document for scripts (`--json`, `call` and `eval`). Whatever
//! the mode, the exit code comes from [`Exit`].

use std::process::ExitCode;

use clap::Args;
use etf::Term;

use super::exit_code::Exit;
use super::node_error::NodeCliError;
use super::session::{self, Session};
use super::term::to_json;

/// The schema of `--json`, shown in the help of `call` and `eval`.
pub(crate) const JSON_HELP: &str = "\
JSON output (--json): one document on stdout, on one line, whatever the outcome.
  Success: {\"ok\": true, \"value\": VALUE, \"text\": \"the value in Erlang syntax\"}
  Failure: {\"ok\": false, \"error\": {\"kind\": KIND, \"category\": CATEGORY,
            \"exit_code\": N, \"message\": \"the line cnode prints on stderr\", ...}}
  VALUE (and \"reason\" below) follow the mapping of `cnode term decode --json`.
  KIND: badrpc, exception, timeout, syntax, not_registered, no_epmd,
  cookie_refused, connect, lost, bad_term, bad_node_name, ... (see README);
  CATEGORY is the name of the exit code (see below).
  badrpc adds \"reason\" and \"reason_text\"; exception adds \"class\" (error,
  exit or throw), \"reason\" and \"reason_text\"; syntax adds \"location\"
  (LINE:COLUMN); timeout adds \"node\" and \"seconds\".
  What the called code prints (io:format) goes to stderr with --json.";

/// `--quiet`, for the commands without a value to print (`ping`, `send`).
#[derive(Args, Debug)]
pub(crate) struct QuietArg {
    /// Print nothing, on success or failure: only the exit code tells.
    #[arg(short, long)]
    quiet: bool,
}

/// `--quiet` and `--json`, for the commands that print a value (`call`,
/// `eval`).
#[derive(Args, Debug)]
pub(crate) struct ValueOutputArgs {
    /// Print nothing, on success or failure (not even what the called code
    /// prints): only the exit code tells.
    #[arg(short, long, conflicts_with = "json")]
    quiet: bool,
    /// Print one JSON document on stdout, for success and failure alike
    /// (schema below).
    #[arg(long)]
    json: bool,
}

/// How a command reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Text on stdout, errors as `cnode: ...` on stderr.
    Text,
    /// Nothing at all.
    Quiet,
    /// One JSON document on stdout.
    Json,
}

impl QuietArg {
    /// The mode asked for.
    pub(crate) fn mode(&self) -> Mode {
        if self.quiet {
            Mode::Quiet
        } else {
            Mode::Text
        }
    }
}

impl ValueOutputArgs {
    /// The mode asked for.
    pub(crate) fn mode(&self) -> Mode {
        match (self.quiet, self.json) {
            (true, _) => Mode::Quiet,
            (false, true) => Mode::Json,
            (false, false) => Mode::Text,
        }
    }
}

/// The rpc client for `mode`: what called code prints goes to stdout as
/// text, to stderr beside JSON (stdout holds one document), and nowhere
/// when quiet.
pub(crate) fn rpc(session: &Session, mode: Mode) -> cnode::Rpc {
    match mode {
        Mode::Text => session.rpc(),
        Mode::Quiet => session.node.rpc().with_output(|_| {}),
        Mode::Json => session.node.rpc().with_output(|text| {
            use std::io::Write;
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
        }),
    }
}

/// Reports the value of `call` or `eval`, or why there is none, and
/// returns the exit code.
pub(crate) fn value(mode: Mode, result: Result<Term, NodeCliError>) -> ExitCode {
    let printed = match (&result, mode) {
        (_, Mode::Quiet) => Ok(()),
        (Ok(value), Mode::Text) => session::print_line(format_args!("{value:#}")),
        (Ok(value), Mode::Json) => session::print_line(success_json(value)),
        (Err(err), Mode::Json) => session::print_line(failure_json(err)),
        (Err(_), Mode::Text) => Ok(()),
    };
    match (result, printed) {
        (Err(err), _) | (Ok(_), Err(err)) => failure(mode, &err),
        (Ok(_), Ok(())) => Exit::Ok.into(),
    }
}

/// Reports a failure as `mode` asks (in JSON mode, the document is already
/// printed, or stdout cannot take it: stderr gets the line) and returns
/// its exit code.
pub(crate) fn failure(mode: Mode, err: &NodeCliError) -> ExitCode {
    if mode != Mode::Quiet {
        eprintln!("cnode: {err}");
    }
    Exit::from(err).into()
}

/// `{"ok": true, "value": ..., "text": ...}`.
fn success_json(value: &Term) -> String {
    let mut doc = JsonObject::new();
    doc.raw("ok", "true");
    doc.raw("value", &to_json(value, false));
    doc.string("text", &value.to_string());
    doc.finish()
}

/// `{"ok": false, "error": {...}}`, as [`JSON_HELP`] describes.
fn failure_json(err: &NodeCliError) -> String {
    let exit = Exit::from(err);
    let mut error = JsonObject::new();
    error.string("kind", err.kind());
    error.string("category", exit.name());
    error.raw("exit_code", &exit.code().to_string());
    error.string("message", &err.to_string());
    match err {
        NodeCliError::BadRpc { reason } => {
            error.raw("reason", &to_json(reason, false));
            error.string("reason_text", &reason.to_string());
        }
        NodeCliError::Exception { class, reason } => {
            error.string("class", class);
            error.raw("reason", &to_json(reason, false));
            error.string("reason_text", &reason.to_string());
        }
        NodeCliError::Syntax { location, .. } => error.string("location", location),
        NodeCliError::Timeout { node, after } => {
            error.string("node", node);
            error.raw("seconds", &after.as_secs().to_string());
        }
        _ => {}
    }
    let mut doc = JsonObject::new();
    doc.raw("ok", "false");
    doc.raw("error", &error.finish());
    doc.finish()
}

/// A JSON object written member by member in a fixed order. Values that
/// are already JSON (a term's rendering, which has no depth limit) go in
/// as they are, so nothing is parsed again.
struct JsonObject(String);

impl JsonObject {
    fn new() -> JsonObject {
        JsonObject(String::from("{"))
    }

    /// Adds `key` with a value that is already JSON text.
    fn raw(&mut self, key: &str, json: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&quote(key));
        self.0.push(':');
        self.0.push_str(json);
    }

    /// Adds `key` with a string value.
    fn string(&mut self, key: &str, text: &str) {
        self.raw(key, &quote(text));
    }

    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// `text` as a JSON string.
fn quote(text: &str) -> String {
    // Serializing a &str cannot fail.
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn success_holds_value_and_text() {
        let term = etf::parse_term("{ok, [1, <<\"two\">>], #{a => 3.5}}").expect("parses");
        let doc: Value = serde_json::from_str(&success_json(&term)).expect("JSON");
        assert_eq!(doc["ok"], true);
        assert_eq!(
            doc["value"],
            serde_json::json!(["ok", [1, "two"], {"a": 3.5}])
        );
        assert_eq!(doc["text"], "{ok,[1,<<\"two\">>],#{a => 3.5}}");
    }

    #[test]
    fn failure_names_kind_category_code_and_reason() {
        let reason = etf::parse_term("{'EXIT', {undef, []}}").expect("parses");
        let err = NodeCliError::BadRpc { reason };
        let doc: Value = serde_json::from_str(&failure_json(&err)).expect("JSON");
        assert_eq!(doc["ok"], false);
        let error = &doc["error"];
        assert_eq!(error["kind"], "badrpc");
        assert_eq!(error["category"], "call_failed");
        assert_eq!(error["exit_code"], 70);
        assert_eq!(error["reason"], serde_json::json!(["EXIT", ["undef", []]]));
        assert_eq!(error["reason_text"], "{'EXIT',{undef,[]}}");
        assert!(error["message"]
            .as_str()
            .expect("a string")
            .starts_with("badrpc: "));
    }
}
