//! The terminal side of `cnode remsh`: a line editor (rustyline) on its
//! own thread, since it blocks on the keyboard, with history kept in a
//! file and tab completion asked of the shell's side through a channel.
//!
//! The async side asks for one line at a time with a prompt and gets back
//! what was typed; while the editor waits, text for the screen goes
//! through its external printer so that the line being typed is redrawn
//! below it.

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, ExternalPrinter, Helper};
use tokio::sync::mpsc;

/// What the editor returns for one prompt.
#[derive(Debug)]
pub(crate) enum Typed {
    /// A line, without its newline.
    Line(String),
    /// Ctrl-C: the line was abandoned.
    Interrupted,
    /// Ctrl-D on an empty line, or the end of input.
    Eof,
    /// The terminal failed.
    Failed(String),
}

/// A request to complete `before` (the line up to the cursor), answered
/// on `answer`.
pub(crate) struct CompletionRequest {
    /// The text before the cursor.
    pub(crate) before: String,
    /// Where the answer goes.
    pub(crate) answer: std_mpsc::Sender<Completion>,
}

/// What the node offers for a completion.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Completion {
    /// Text to insert at the cursor, if the completion is unambiguous.
    pub(crate) insert: String,
    /// The names that could follow (functions, modules...), in full.
    pub(crate) matches: Vec<String>,
}

/// The line editor's thread, from the async side.
pub(crate) struct Terminal {
    prompts: std_mpsc::Sender<String>,
    /// Lines typed, one per prompt sent.
    pub(crate) typed: mpsc::UnboundedReceiver<Typed>,
    /// Completions the editor asks for.
    pub(crate) completions: mpsc::UnboundedReceiver<CompletionRequest>,
    printer: Option<Box<dyn ExternalPrinter + Send>>,
}

/// How long the editor waits for the node to complete a word.
const COMPLETION_TIMEOUT: Duration = Duration::from_secs(5);

/// Most lines kept in the history file.
const HISTORY_SIZE: usize = 1000;

impl Terminal {
    /// Starts the editor's thread; history is read from (and every line
    /// appended to) `history`, when given.
    pub(crate) fn start(history: Option<PathBuf>) -> std::io::Result<Terminal> {
        let (prompts, prompt_rx) = std_mpsc::channel::<String>();
        let (typed_tx, typed) = mpsc::unbounded_channel();
        let (completion_tx, completions) = mpsc::unbounded_channel();
        let (printer_tx, printer_rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("remsh-terminal".to_owned())
            .spawn(move || {
                editor_thread(history, prompt_rx, typed_tx, completion_tx, printer_tx);
            })?;
        let printer = printer_rx.recv().ok().flatten();
        Ok(Terminal {
            prompts,
            typed,
            completions,
            printer,
        })
    }

    /// Shows `prompt` and reads a line; the answer comes on
    /// [`Terminal::typed`].
    pub(crate) fn read_line(&self, prompt: String) {
        // The thread ends only with the process, or after a failure that
        // it reports on `typed`.
        let _ = self.prompts.send(prompt);
    }

    /// Writes `text` above the line being edited.
    pub(crate) fn print_while_reading(&mut self, text: String) {
        match &mut self.printer {
            Some(printer) => {
                if printer.print(text.clone()).is_err() {
                    print_now(&text);
                }
            }
            None => print_now(&text),
        }
    }
}

/// Writes `text` to stdout at once.
pub(crate) fn print_now(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn editor_thread(
    history: Option<PathBuf>,
    prompts: std_mpsc::Receiver<String>,
    typed: mpsc::UnboundedSender<Typed>,
    completions: mpsc::UnboundedSender<CompletionRequest>,
    printer: std_mpsc::Sender<Option<Box<dyn ExternalPrinter + Send>>>,
) {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(true)
        .history_ignore_space(true)
        .max_history_size(HISTORY_SIZE)
        .map(|config| config.build());
    let editor = config.and_then(Editor::<NodeCompleter, FileHistory>::with_config);
    let mut editor = match editor {
        Ok(editor) => editor,
        Err(err) => {
            let _ = printer.send(None);
            let _ = typed.send(Typed::Failed(err.to_string()));
            return;
        }
    };
    editor.set_helper(Some(NodeCompleter { completions }));
    if let Some(path) = &history {
        // A missing file is a first run.
        let _ = editor.load_history(path);
    }
    let external = editor
        .create_external_printer()
        .ok()
        .map(|p| Box::new(p) as Box<dyn ExternalPrinter + Send>);
    let _ = printer.send(external);
    while let Ok(prompt) = prompts.recv() {
        let answer = match editor.readline(&prompt) {
            Ok(line) => {
                if let Some(path) = &history {
                    save_history(&mut editor, path);
                }
                Typed::Line(line)
            }
            Err(ReadlineError::Interrupted) => Typed::Interrupted,
            Err(ReadlineError::Eof) => Typed::Eof,
            Err(err) => Typed::Failed(err.to_string()),
        };
        let failed = matches!(answer, Typed::Failed(_));
        if typed.send(answer).is_err() || failed {
            return;
        }
    }
}

/// Appends the new lines to the history file, creating its directory.
fn save_history(editor: &mut Editor<NodeCompleter, FileHistory>, path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(err) = editor.append_history(path) {
        tracing::debug!(%err, path = %path.display(), "cannot save the remsh history");
    }
}

/// Completes through the node: the text before the cursor goes to the
/// async side, which asks the node's `edlin_expand`.
struct NodeCompleter {
    completions: mpsc::UnboundedSender<CompletionRequest>,
}

impl Completer for NodeCompleter {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let (answer, answered) = std_mpsc::channel();
        let request = CompletionRequest {
            before: before.to_owned(),
            answer,
        };
        if self.completions.send(request).is_err() {
            return Ok((pos, Vec::new()));
        }
        let completion = answered
            .recv_timeout(COMPLETION_TIMEOUT)
            .unwrap_or_default();
        Ok((pos, candidates(before, &completion)))
    }
}

/// The candidates for rustyline, all inserted at the cursor: the node's
/// unambiguous insertion, or what each match adds to the word being typed
/// (rustyline inserts their common prefix, and lists them on a second Tab).
fn candidates(before: &str, completion: &Completion) -> Vec<Pair> {
    if !completion.insert.is_empty() {
        return vec![Pair {
            display: completion.insert.clone(),
            replacement: completion.insert.clone(),
        }];
    }
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '@')
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = &before[word_start..];
    completion
        .matches
        .iter()
        .filter_map(|name| {
            name.strip_prefix(word).map(|rest| Pair {
                display: name.clone(),
                replacement: rest.to_owned(),
            })
        })
        .collect()
}

impl Hinter for NodeCompleter {
    type Hint = String;
}

impl Highlighter for NodeCompleter {}

impl Validator for NodeCompleter {}

impl Helper for NodeCompleter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_complete_the_word_before_the_cursor() {
        let completion = Completion {
            insert: String::new(),
            matches: vec!["map".into(), "mapfoldl".into(), "max".into(), "x".into()],
        };
        let pairs = candidates("X = lists:ma", &completion);
        let added: Vec<&str> = pairs.iter().map(|p| p.replacement.as_str()).collect();
        assert_eq!(added, ["p", "pfoldl", "x"]);
        let unambiguous = Completion {
            insert: "nd(".into(),
            matches: Vec::new(),
        };
        let pairs = candidates("lists:keyfi", &unambiguous);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].replacement, "nd(");
    }
}
