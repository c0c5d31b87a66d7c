//! `cnode term`: term_to_binary dumps to Erlang term syntax and back.
//!
//! `cnode term decode [FILE|-]` reads the bytes of `term_to_binary/1,2`
//! (plain or compressed) and prints the term in Erlang syntax (on one line,
//! or laid out as `~tp` does with `--pretty`), or as JSON with `--json`
//! (mapping documented in [`json`]). `cnode term encode
//! [FILE|-]` reads Erlang term syntax and writes the bytes, with the options
//! of `term_to_binary/2`. Every failure is one line on stderr and exit
//! status 1: decode errors name the byte offset and what was expected there,
//! parse errors the line and column.
//!
//! `decode` streams (see [`stream`]): a dump larger than memory prints in
//! memory bounded by its nesting depth and its largest leaf, except with
//! `--pretty` in Erlang syntax, whose `~tp` layout needs every container's
//! width before writing it and so reads the whole dump. `encode` streams
//! too (see [`encode_stream`]): a large list or tuple is encoded element by
//! element, its encoded elements spooled until its count is known, except
//! with `--compressed`, whose header needs the uncompressed size and whose
//! choice of form needs both sizes, and so encodes the whole term.

mod direct;
mod encode_stream;
mod json;
mod scan;
mod spool;
mod stream;

pub(super) use json::to_json;

use clap::{Args, Subcommand};
use etf::{DecodeOptions, EncodeOptions};
use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// `cnode term` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum TermCommand {
    /// Print a term_to_binary dump in Erlang term syntax (or JSON).
    Decode(DecodeArgs),
    /// Write the term_to_binary bytes of a term given in Erlang syntax.
    Encode(EncodeArgs),
}

/// Arguments of `cnode term decode`.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The dump to read; `-` or nothing reads stdin.
    input: Option<PathBuf>,
    /// Print JSON instead: integers and floats as numbers (integers beyond
    /// 64 bits as decimal strings), `true`/`false` as booleans, other atoms
    /// and UTF-8 binaries as strings, tuples, lists and other binaries as
    /// arrays, maps as objects when every key is an atom or a UTF-8 binary
    /// (else arrays of [key, value] pairs), and pids, ports, references,
    /// funs, bitstrings and improper lists as strings of their Erlang syntax.
    #[arg(long)]
    json: bool,
    /// Lay the output out over several lines: Erlang syntax as `~tp` does,
    /// breaking containers that do not fit in 80 columns; JSON indented (40
    /// levels deep at most; deeper containers stay on one line).
    #[arg(long)]
    pretty: bool,
}

/// Arguments of `cnode term encode`.
#[derive(Args, Debug)]
pub(crate) struct EncodeArgs {
    /// The Erlang term text to read; `-` or nothing reads stdin. A final `.`
    /// is optional.
    input: Option<PathBuf>,
    /// Write the bytes to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Compress as `{compressed, LEVEL}` (0..=9; 6 when no level is given).
    /// As in OTP, the compressed form is kept only when it is smaller.
    #[arg(
        long,
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "6",
        value_parser = clap::value_parser!(u32).range(0..=9)
    )]
    compressed: Option<u32>,
    /// `{minor_version, N}`: 2 (the default, UTF-8 atoms), 1 (Latin-1 atoms
    /// as ATOM_EXT, OTP 25's default) or 0 (also floats as text).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u8).range(0..=2))]
    minor_version: u8,
    /// Write map entries sorted by key, as `deterministic`.
    #[arg(long)]
    deterministic: bool,
}

/// Why a `cnode term` command failed; each variant renders as one line.
#[derive(Debug, thiserror::Error)]
enum TermCliError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: io::Error },
    #[error("{path}: not a valid term_to_binary dump: {source}")]
    Decode {
        path: String,
        source: etf::DecodeError,
    },
    #[error("{path}: not UTF-8 text: {source}")]
    NotText {
        path: String,
        source: std::string::FromUtf8Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        source: etf::ParseError,
    },
    #[error("{path}: line {line}, column {column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: not UTF-8 text at line {line}, column {column}")]
    NotTextAt {
        path: String,
        line: usize,
        column: usize,
    },
    #[error("cannot encode the term: {0}")]
    Encode(#[from] etf::EncodeError),
    #[error("cannot encode the term: a {what} of {len} elements is too large for ETF")]
    TooLarge { what: &'static str, len: u64 },
    #[error("{path}: {what} at byte {at}")]
    Unstreamable {
        path: String,
        what: &'static str,
        at: usize,
    },
    #[error("refusing to write binary output to a terminal; use -o FILE or a pipe")]
    BinaryToTerminal,
}

/// Runs a `cnode term` subcommand.
pub(crate) fn run(cmd: TermCommand) -> Result<(), String> {
    let result = match cmd {
        TermCommand::Decode(args) => decode(&args),
        TermCommand::Encode(args) => encode(&args),
    };
    result.map_err(|err| err.to_string())
}

fn decode(args: &DecodeArgs) -> Result<(), TermCliError> {
    if args.pretty && !args.json {
        return decode_whole(args);
    }
    match args.input.as_deref() {
        Some(path) if path != Path::new("-") => {
            let name = path.display().to_string();
            match fs::File::open(path) {
                Ok(file) => decode_stream(args, name, file),
                Err(source) => Err(TermCliError::Read { path: name, source }),
            }
        }
        _ => decode_stream(args, "stdin".into(), io::stdin().lock()),
    }
}

/// Prints the dump as it is read (see [`stream`]): one line of Erlang
/// syntax, or JSON.
fn decode_stream(args: &DecodeArgs, name: String, input: impl Read) -> Result<(), TermCliError> {
    // A file the user named, read as it streams: memory is the largest leaf,
    // so a compressed dump may declare any size (up to the 4 GiB the format
    // allows) rather than the 64 MiB an untrusted one may.
    let mut reader = etf::stream::Reader::new(input).max_decompressed_size(usize::MAX);
    let stdout = io::stdout().lock();
    let result = if args.json {
        stream::print_json(&mut reader, stdout, args.pretty)
    } else {
        stream::print_text(&mut reader, stdout)
    };
    result.map_err(|failure| match failure {
        stream::Failure::Input(etf::stream::Error::Decode(source)) => {
            TermCliError::Decode { path: name, source }
        }
        stream::Failure::Input(err) => TermCliError::Read {
            path: name,
            source: match err {
                etf::stream::Error::Io(source) => source,
                other => io::Error::other(other.to_string()),
            },
        },
        stream::Failure::ImproperJson(at) => TermCliError::Unstreamable {
            path: name,
            what: "an improper list too large to hold has no streaming JSON form",
            at,
        },
        stream::Failure::Output(source) => TermCliError::Write {
            path: "stdout".into(),
            source,
        },
    })
}

/// Reads the whole dump and prints it laid out as `~tp` does, which needs
/// the width of every container before writing it.
fn decode_whole(args: &DecodeArgs) -> Result<(), TermCliError> {
    let (name, bytes) = read_input(args.input.as_deref())?;
    let term = etf::Term::decode(&bytes, &DecodeOptions::default())
        .map_err(|source| TermCliError::Decode { path: name, source })?;
    let text = match (args.json, args.pretty) {
        (true, pretty) => json::to_json(&term, pretty),
        (false, false) => term.to_string(),
        (false, true) => term.pretty().to_string(),
    };
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|source| TermCliError::Write {
            path: "stdout".into(),
            source,
        })
}

fn encode(args: &EncodeArgs) -> Result<(), TermCliError> {
    let options = EncodeOptions::new()
        .minor_version(args.minor_version)
        .compression(args.compressed)
        .deterministic(args.deterministic);
    if args.compressed.is_some() {
        let (name, bytes) = read_input(args.input.as_deref())?;
        return encode_whole(args, name, bytes, &options);
    }
    let (name, input): (String, Box<dyn Read>) = match args.input.as_deref() {
        Some(path) if path != Path::new("-") => {
            let name = path.display().to_string();
            match fs::File::open(path) {
                Ok(file) => (name, Box::new(file)),
                Err(source) => return Err(TermCliError::Read { path: name, source }),
            }
        }
        _ => ("stdin".into(), Box::new(io::stdin().lock())),
    };
    let streamer = match encode_stream::start(input, options.clone()) {
        Ok(encode_stream::Start::Whole(bytes)) => return encode_whole(args, name, bytes, &options),
        Ok(encode_stream::Start::Stream(streamer)) => streamer,
        Err(failure) => return Err(encode_failure(&name, failure)),
    };
    match &args.output {
        Some(path) => {
            let shown = path.display().to_string();
            let file = fs::File::create(path).map_err(|source| TermCliError::Write {
                path: shown.clone(),
                source,
            })?;
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            let result = streamer.run(&mut out);
            if result.is_err() {
                // No partial output is left behind, as before streaming.
                drop(out);
                let _ = fs::remove_file(path);
            }
            result.map_err(|failure| match failure {
                encode_stream::Failure::Write(source) => TermCliError::Write {
                    path: shown,
                    source,
                },
                other => encode_failure(&name, other),
            })
        }
        None => {
            let stdout = io::stdout().lock();
            if stdout.is_terminal() {
                return Err(TermCliError::BinaryToTerminal);
            }
            let mut out = io::BufWriter::with_capacity(1 << 20, stdout);
            streamer.run(&mut out).map_err(|failure| match failure {
                encode_stream::Failure::Write(source) => TermCliError::Write {
                    path: "stdout".into(),
                    source,
                },
                other => encode_failure(&name, other),
            })
        }
    }
}

/// The error of a streaming encode of the input called `name`.
fn encode_failure(name: &str, failure: encode_stream::Failure) -> TermCliError {
    use encode_stream::Failure;
    let path = name.to_string();
    match failure {
        Failure::Read(source) => TermCliError::Read { path, source },
        Failure::Write(source) => TermCliError::Write {
            path: "a spool file".into(),
            source,
        },
        Failure::NotText { line, column } => TermCliError::NotTextAt { path, line, column },
        Failure::Syntax {
            line,
            column,
            message,
        } => TermCliError::Syntax {
            path,
            line,
            column,
            message,
        },
        Failure::Encode(err) => TermCliError::Encode(err),
        Failure::TooLarge { what, len } => TermCliError::TooLarge { what, len },
    }
}

/// Parses the whole text and encodes the term: small inputs, inputs that
/// are not a list or tuple at the top, and compressed output.
fn encode_whole(
    args: &EncodeArgs,
    name: String,
    bytes: Vec<u8>,
    options: &EncodeOptions,
) -> Result<(), TermCliError> {
    let text = String::from_utf8(bytes).map_err(|source| TermCliError::NotText {
        path: name.clone(),
        source,
    })?;
    let term =
        etf::parse_term(&text).map_err(|source| TermCliError::Parse { path: name, source })?;
    let etf = term.encode(options)?;
    match &args.output {
        Some(path) => fs::write(path, &etf).map_err(|source| TermCliError::Write {
            path: path.display().to_string(),
            source,
        }),
        None => {
            let mut stdout = io::stdout().lock();
            if stdout.is_terminal() {
                return Err(TermCliError::BinaryToTerminal);
            }
            stdout
                .write_all(&etf)
                .and_then(|()| stdout.flush())
                .map_err(|source| TermCliError::Write {
                    path: "stdout".into(),
                    source,
                })
        }
    }
}

/// Reads the whole input: the named file, or stdin for `None` and `-`.
/// Returns the name to use in messages with the bytes.
fn read_input(path: Option<&Path>) -> Result<(String, Vec<u8>), TermCliError> {
    match path {
        None => read_stdin(),
        Some(path) if path == Path::new("-") => read_stdin(),
        Some(path) => {
            let name = path.display().to_string();
            fs::read(path)
                .map(|bytes| (name.clone(), bytes))
                .map_err(|source| TermCliError::Read { path: name, source })
        }
    }
}

fn read_stdin() -> Result<(String, Vec<u8>), TermCliError> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|source| TermCliError::Read {
            path: "stdin".into(),
            source,
        })?;
    Ok(("stdin".into(), bytes))
}
