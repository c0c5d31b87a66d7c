//! Probes that never collide: `cnode ping` without `--sname`/`--name` takes
//! a dynamic name from its target, so fifty of them run at once against
//! one `erl` node (OTP 25, 27, 28 and 29) and all answer `pong`, while
//! EPMD, sampled the whole time, lists none of them.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use epmd_client::EpmdClient;
use interop_tests::local::{short_host, start_epmd_blocking, unique_name, ErlNode};
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_probes_cookie";
const WAIT: Duration = Duration::from_secs(20);
const PROBES: usize = 50;

interop_tests::per_release!(fifty_pings_at_once_all_pong_and_none_registers);

/// What EPMD listed while the probes ran.
#[derive(Debug, Default)]
struct Samples {
    taken: usize,
    /// Names other than the erl node's, as seen in any sample.
    others: Vec<String>,
}

/// Asks the EPMD on `port` for its names until `stop`, from a thread of
/// its own.
fn sample(port: u16, erl: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Samples> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let client = EpmdClient::new("127.0.0.1", port);
        let mut samples = Samples::default();
        runtime.block_on(async {
            loop {
                let done = stop.load(Ordering::Acquire);
                let names = client.names().await.expect("EPMD answers NAMES");
                samples.taken += 1;
                samples.others.extend(
                    names
                        .nodes
                        .into_iter()
                        .map(|entry| entry.name)
                        .filter(|name| *name != erl),
                );
                // One last sample after the probes ended.
                if done {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        samples
    })
}

fn fifty_pings_at_once_all_pong_and_none_registers(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let alive = unique_name("erl", &otp);
    let target = format!("{alive}@{}", short_host().expect("host name"));
    let mut erl = ErlNode::builder(&otp, &alive)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(r#"io:format("ready~n")"#)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").expect("erl is up");

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample(epmd_port, alive.clone(), Arc::clone(&stop));
    let started = Instant::now();
    let probes: Vec<_> = (0..PROBES)
        .map(|_| {
            Command::new(CNODE)
                .args(["ping", &target, "--cookie", COOKIE])
                .env("ERL_EPMD_PORT", epmd_port.to_string())
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cnode starts")
        })
        .collect();
    let outputs: Vec<_> = probes
        .into_iter()
        .map(|probe| probe.wait_with_output().expect("cnode ends"))
        .collect();
    let took = started.elapsed();
    stop.store(true, Ordering::Release);
    let samples = sampler.join().expect("the sampler ends");

    for out in &outputs {
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "pong\n", "{out:?}");
    }
    eprintln!(
        "OTP {}: {PROBES} pings in {took:?}; {} EPMD samples, other names seen: {:?}",
        otp.release, samples.taken, samples.others
    );
    assert!(samples.taken >= 2, "{samples:?}");
    assert!(
        samples.others.is_empty(),
        "registered: {:?}",
        samples.others
    );
}
