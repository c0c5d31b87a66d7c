//! `cnode eval NODE 'EXPRS.'`: evaluates Erlang expressions on a node and
//! prints the value of the last one, as `erl_call -e` does.
//!
//! The node does all the work, through four rpc calls whose arguments and
//! results are plain terms: `erl_scan:string/2` (with columns),
//! `erl_parse:parse_exprs/1`, `erl_eval:new_bindings/0` and
//! `erl_eval:exprs/2`. The expressions run in an rpc worker process on the
//! node, with our rpc process as group leader. A scan or parse error prints
//! its position and the node's own description (`Module:format_error/1`);
//! an exception prints its class and reason, without the stack, and exits
//! 70 (see [`exit_code`](super::exit_code)). `--json` prints the value or
//! the failure as one JSON document, `--quiet` nothing.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use cnode::Rpc;
use etf::Term;

use super::node_error::NodeCliError;
use super::output::{self, ValueOutputArgs};
use super::session::{self, NodeOptions};

/// Arguments of `cnode eval`.
#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    /// Erlang expressions separated by commas, such as `X = 1 + 2, X * 10.`
    /// (the final dot may be left out).
    exprs: String,
    #[command(flatten)]
    output: ValueOutputArgs,
    #[command(flatten)]
    options: NodeOptions,
}

/// Runs `cnode eval`.
pub(crate) fn run(args: EvalArgs) -> ExitCode {
    let mode = args.output.mode();
    let result = session::run(&args.options, &args.node, |session| async move {
        let remote = Remote {
            rpc: output::rpc(&session, mode),
            target: session.target.clone(),
            timeout: session.timeout,
        };
        eval(&remote, &args.exprs).await
    });
    output::value(mode, result)
}

/// Where the expressions run, and how to call there.
struct Remote {
    /// The rpc client, printing what called code prints as the output
    /// mode wants.
    rpc: Rpc,
    /// The node.
    target: String,
    /// `--timeout`, for each call.
    timeout: Duration,
}

async fn eval(session: &Remote, text: &str) -> Result<Term, NodeCliError> {
    let start = Term::tuple(vec![1.into(), 1.into()]);
    let scanned = call(
        session,
        "erl_scan",
        "string",
        vec![Term::charlist(text), start],
    )
    .await?;
    let tokens = match scanned.as_tuple() {
        Some([ok, tokens, end]) if ok.is_atom("ok") => with_final_dot(tokens, end),
        Some([error, info, _]) if error.is_atom("error") => {
            return Err(syntax_error(session, info).await)
        }
        _ => return Err(unexpected(session, "erl_scan:string/2", scanned)),
    };
    let parsed = call(session, "erl_parse", "parse_exprs", vec![tokens]).await?;
    let exprs = match parsed.as_tuple() {
        Some([ok, exprs]) if ok.is_atom("ok") => exprs.clone(),
        Some([error, info]) if error.is_atom("error") => {
            return Err(syntax_error(session, info).await)
        }
        _ => return Err(unexpected(session, "erl_parse:parse_exprs/1", parsed)),
    };
    let bindings = call(session, "erl_eval", "new_bindings", Vec::new()).await?;
    let evaluated = call(session, "erl_eval", "exprs", vec![exprs, bindings])
        .await
        .map_err(exception)?;
    match evaluated.as_tuple() {
        Some([value, result, _]) if value.is_atom("value") => Ok(result.clone()),
        // `rpc` returns a thrown term as the call's value.
        _ => Err(NodeCliError::Exception {
            class: "throw",
            reason: evaluated,
        }),
    }
}

async fn call(
    session: &Remote,
    module: &str,
    function: &str,
    args: Vec<Term>,
) -> Result<Term, NodeCliError> {
    session
        .rpc
        .call(&session.target, module, function, args, session.timeout)
        .await
        .map_err(NodeCliError::from_rpc)
}

/// `{badrpc, {'EXIT', {Reason, Stack}}}` is an error exception,
/// `{badrpc, {'EXIT', Reason}}` an exit.
fn exception(err: NodeCliError) -> NodeCliError {
    let NodeCliError::BadRpc { reason } = &err else {
        return err;
    };
    let Some([exit, inner]) = reason.as_tuple() else {
        return err;
    };
    if !exit.is_atom("EXIT") {
        return err;
    }
    match inner.as_tuple() {
        Some([reason, stack]) if stack.as_list().is_some() || stack.is_nil() => {
            NodeCliError::Exception {
                class: "error",
                reason: reason.clone(),
            }
        }
        _ => NodeCliError::Exception {
            class: "exit",
            reason: inner.clone(),
        },
    }
}

/// Describes `{Location, Module, Descriptor}` with the node's
/// `Module:format_error(Descriptor)`; the descriptor itself if that fails.
async fn syntax_error(session: &Remote, info: &Term) -> NodeCliError {
    let Some([location, module, descriptor]) = info.as_tuple() else {
        return unexpected(session, "erl_scan/erl_parse", info.clone());
    };
    let location = match location.as_tuple() {
        Some([line, column]) => format!("{line}:{column}"),
        _ => location.to_string(),
    };
    let message = match module.as_atom() {
        Some(module) => describe(session, module.as_str(), descriptor).await,
        None => None,
    };
    NodeCliError::Syntax {
        location,
        message: message.unwrap_or_else(|| descriptor.to_string()),
    }
}

/// `unicode:characters_to_binary(Module:format_error(Descriptor))`.
async fn describe(session: &Remote, module: &str, descriptor: &Term) -> Option<String> {
    let chars = call(session, module, "format_error", vec![descriptor.clone()])
        .await
        .ok()?;
    let text = call(session, "unicode", "characters_to_binary", vec![chars])
        .await
        .ok()?;
    text.as_utf8().map(str::to_owned)
}

fn unexpected(session: &Remote, function: &'static str, answer: Term) -> NodeCliError {
    NodeCliError::Unexpected {
        node: session.target.clone(),
        function,
        answer,
    }
}

/// The tokens ending in a dot token, which `erl_parse:parse_exprs/1`
/// requires (so `cnode eval NODE '1 + 2'` works too).
fn with_final_dot(tokens: &Term, end: &Term) -> Term {
    let Some(mut tokens) = tokens.to_list() else {
        return tokens.clone();
    };
    let ends_in_dot = tokens
        .last()
        .and_then(Term::as_tuple)
        .and_then(<[Term]>::first)
        .is_some_and(|category| category.is_atom("dot"));
    if !ends_in_dot {
        tokens.push(Term::tuple(vec![Term::atom("dot"), end.clone()]));
    }
    Term::list(tokens)
}
