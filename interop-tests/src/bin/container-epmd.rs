//! The embedded EPMD server of `epmd-client` as a container's only EPMD.
//!
//! The container tests mount this program into a container that runs no
//! system `epmd`, and start `erl -start_epmd false` in the same network
//! namespace: the BEAM node then registers with, and is found through, our
//! server. It listens on `ERL_EPMD_PORT` (or 4369) on every address and
//! prints `listening on PORT` once ready.

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("container-epmd: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let port = epmd_client::port_from_env();
        match epmd_client::EpmdServer::builder().port(port).bind().await {
            Ok(server) => {
                println!("listening on {}", server.port());
                server.run().await;
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("container-epmd: {err}");
                ExitCode::FAILURE
            }
        }
    })
}
