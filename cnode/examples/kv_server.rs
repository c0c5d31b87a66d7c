//! A Rust key-value store that Erlang uses as a gen_server and through
//! erpc, and that Erlang can link to and monitor.
//!
//! ```text
//! cargo run -p cnode --example kv_server -- kv secret
//! erl -sname erl -setcookie secret
//! 1> gen_server:call({kv, 'kv@HOST'}, {put, a, 1}).
//! ok
//! 2> gen_server:call({kv, 'kv@HOST'}, {get, a}).
//! {ok,1}
//! 3> erpc:call('kv@HOST', kv, size, []).
//! 1
//! 4> gen_server:cast({kv, 'kv@HOST'}, clear).
//! ok
//! 5> gen_server:call({kv, 'kv@HOST'}, stop).
//! ** exception exit: {stopped,{gen_server,call,[{kv,'kv@HOST'},stop]}}
//! 6> gen_server:call({kv, 'kv@HOST'}, stop).
//! ** exception exit: {noproc,{gen_server,call,[{kv,'kv@HOST'},stop]}}
//! ```

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use cnode::etf::Term;
use cnode::{Exception, Node, Request};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

/// Keys and values as Erlang terms. `Term` is `Hash` and `Eq` with
/// Erlang's exact equality, so `1` and `1.0` are two keys, as in an Erlang
/// map.
type Store = Arc<Mutex<HashMap<Term, Term>>>;

async fn run() -> Result<(), cnode::Error> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "kv".to_owned());
    let mut builder = Node::builder(name);
    if let Some(cookie) = args.next() {
        builder = builder.cookie(&cookie);
    }
    let node = builder.start().await?;
    let store: Store = Arc::default();
    let for_size = Arc::clone(&store);
    node.register_function("kv", "size", move |args| {
        if !args.is_empty() {
            return Err(Exception::badarg());
        }
        let size = for_size.lock().map_err(|_| Exception::badarg())?.len();
        Ok(Term::from(size as i64))
    });
    let mut server = node.spawn_process()?;
    server.register("kv")?;
    println!("kv serving on {}", node.name());
    loop {
        match server.next_request().await? {
            Request::Call(call) => {
                let request = call.request.clone();
                let reply = match request.as_tuple() {
                    Some([op, key, value]) if op.is_atom("put") => {
                        lock(&store).insert(key.clone(), value.clone());
                        Term::atom("ok")
                    }
                    Some([op, key]) if op.is_atom("get") => match lock(&store).get(key) {
                        Some(value) => Term::ok(value.clone()),
                        None => Term::atom("error"),
                    },
                    _ if request.is_atom("stop") => {
                        // The caller's monitor reports the reason; the node
                        // stays up (until Ctrl-C) for later calls to get
                        // noproc.
                        server.exit_with(Term::atom("stopped"));
                        tokio::signal::ctrl_c().await?;
                        return Ok(());
                    }
                    _ => Term::tuple(vec![Term::atom("error"), Term::atom("badrequest")]),
                };
                call.reply(&server, reply)?;
            }
            Request::Cast(request) if request.is_atom("clear") => lock(&store).clear(),
            Request::Cast(_) | Request::Info(_) => {}
        }
    }
}

fn lock(store: &Store) -> std::sync::MutexGuard<'_, HashMap<Term, Term>> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}
