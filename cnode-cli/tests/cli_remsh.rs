//! `cnode remsh` as a person uses it: in a real terminal (tmux), against
//! an `erl` node of OTP 25, 27, 28 and 29. Keys are typed and the screen
//! is read, polling with a deadline:
//!
//! - the prompt names the node and counts, bindings last from line to
//!   line, a multi-line expression, `io:format`, `f(X)`, `v(1)`;
//! - Ctrl-C interrupts `timer:sleep(infinity)` and the shell answers on
//!   with its bindings; Tab completes `lists:keyfi` and lists `lists:ma`;
//! - Ctrl-D leaves with status 0 and the node still answers ping;
//! - a second run recalls the first run's last line with Up, shows a
//!   typed-ahead expression after its prompt, completes through an
//!   `expand_fun` set with `io:setopts/1`, and `q().` leaves it with the
//!   node running;
//! - without a terminal, lines come from stdin;
//! - `init:stop().` stops the node: a clear message and status 69
//!   (unreachable).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use interop_tests::local::{short_host, start_epmd_blocking, unique_label, unique_name, ErlNode};
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_remsh_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(a_shell_on_the_node_in_a_real_terminal);

/// A tmux server of our own (its own socket) running one command in a
/// 120x40 window; killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` (a shell command line) in a new detached session;
    /// when it ends the pane shows `EXIT=<status>` and stays. The shell
    /// around it outlives a Ctrl-C (its trap is reset for `command`, which
    /// gets the signal as from an interactive shell).
    fn start(command: &str) -> Tmux {
        let tmux = Tmux {
            socket: unique_label("cnode_remsh"),
        };
        let script = format!("trap : INT; {command}; echo EXIT=$?; sleep 600");
        let status = tmux
            .command()
            .args(["new-session", "-d", "-x", "120", "-y", "40", "sh", "-c"])
            .arg(script)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session: {status}");
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    /// Types `keys` (tmux key names, such as `Enter`, `C-c`, `Tab`).
    fn keys(&self, keys: &[&str]) {
        let status = self
            .command()
            .arg("send-keys")
            .args(keys)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux send-keys {keys:?}: {status}");
    }

    /// Types `text` literally, then Enter.
    fn line(&self, text: &str) {
        let status = self
            .command()
            .args(["send-keys", "-l", text])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux send-keys -l {text:?}: {status}");
        self.keys(&["Enter"]);
    }

    /// The visible screen, trailing spaces trimmed from each line.
    fn screen(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p"])
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polls the screen until `check` holds (within [`WAIT`]); the screen.
    fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        match self.poll(WAIT, &check) {
            Some(screen) => screen,
            None => panic!(
                "no {what} on the screen within {WAIT:?}:\n{}",
                self.screen()
            ),
        }
    }

    /// Polls the screen until `check` holds, for at most `within`.
    fn poll(&self, within: Duration, check: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return Some(screen);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for a line of the screen equal to `line`.
    fn wait_line(&self, line: &str) -> String {
        self.wait(&format!("line {line:?}"), |screen| {
            screen.lines().any(|l| l == line)
        })
    }

    /// Waits for `text` anywhere on the screen.
    fn wait_text(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), |screen| screen.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// `cnode ping` answers pong.
fn pings(target: &str, epmd_port: u16) -> bool {
    let out = Command::new(CNODE)
        .args(["ping", target, "--cookie", COOKIE])
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .output()
        .expect("cnode runs");
    out.status.success() && String::from_utf8_lossy(&out.stdout) == "pong\n"
}

fn a_shell_on_the_node_in_a_real_terminal(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let alive = unique_name("remsh", &otp);
    let target = format!("{alive}@{}", short_host().expect("host name"));
    let mut erl = ErlNode::builder(&otp, &alive)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(r#"io:format("ready~n")"#)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").expect("erl is up");
    let data: PathBuf = std::env::temp_dir().join(unique_label("cnode_remsh_data"));
    let command = format!(
        "XDG_DATA_HOME={} ERL_EPMD_PORT={epmd_port} {CNODE} remsh {alive} --cookie {COOKIE}",
        data.display()
    );
    // Trailing spaces are trimmed from the screen lines.
    let prompt = |n: u32| format!("({target}){n}>");

    // First run: evaluation, interruption, completion, Ctrl-D.
    let tmux = Tmux::start(&command);
    tmux.wait_text(&prompt(1));
    tmux.line("X = 1+2.");
    tmux.wait_text(&prompt(2));
    tmux.line("X*10.");
    tmux.wait_line("30");
    tmux.line("Y = [1,");
    tmux.wait_text("..");
    tmux.line("2].");
    tmux.wait_line("[1,2]");
    tmux.line(r#"io:format("said ~p~n", [Y])."#);
    tmux.wait_line("said [1,2]");
    tmux.line("f(X).");
    tmux.wait_text(&prompt(6));
    tmux.line("X.");
    tmux.wait_text("variable 'X' is unbound");
    tmux.line("v(1).");
    let screen = tmux.wait_text(&prompt(8));
    let after_v = screen.lines().skip_while(|l| !l.ends_with("v(1).")).nth(1);
    assert_eq!(after_v, Some("3"), "{screen}");
    tmux.line("timer:sleep(infinity).");
    // Ctrl-C until the evaluation, once started, is interrupted (one that
    // comes before is ignored; at a prompt it would only clear the line).
    let deadline = Instant::now() + WAIT;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        tmux.keys(&["C-c"]);
        if tmux
            .poll(Duration::from_secs(1), |screen| screen.contains(&prompt(9)))
            .is_some()
        {
            break;
        }
        assert!(Instant::now() < deadline, "Ctrl-C interrupts nothing");
    }
    tmux.wait_text("exception exit: killed");
    tmux.line("Y.");
    let screen = tmux.wait_text(&prompt(10));
    assert_eq!(
        screen.lines().filter(|l| *l == "[1,2]").count(),
        2,
        "Y survives the interruption:\n{screen}"
    );
    tmux.keys(&["-l", "lists:keyfi"]);
    tmux.keys(&["Tab"]);
    tmux.wait_text(&format!("{} lists:keyfind(", prompt(10)));
    tmux.keys(&["C-u"]);
    tmux.keys(&["-l", "lists:ma"]);
    tmux.keys(&["Tab"]);
    tmux.keys(&["Tab"]);
    let screen = tmux.wait_text("mapfoldl");
    assert!(screen.contains("mapfoldr"), "{screen}");
    tmux.keys(&["C-u"]);
    tmux.keys(&["C-d"]);
    tmux.wait_line("EXIT=0");
    assert!(pings(&target, epmd_port), "the node runs on after Ctrl-D");
    drop(tmux);

    // Second run: history from the first, `q().` leaves.
    let tmux = Tmux::start(&command);
    tmux.wait_text(&prompt(1));
    tmux.keys(&["Up"]);
    tmux.wait_text(&format!("{} Y.", prompt(1)));
    tmux.keys(&["C-u"]);
    // Typed ahead: the second expression is shown after its own prompt.
    tmux.line("7. 8.");
    tmux.wait_line(&format!("{} 8.", prompt(2)));
    tmux.wait_line("8");
    // An expand_fun set by the node's code completes instead.
    tmux.line(r#"io:setopts([{expand_fun, fun(_) -> {yes, "Zz", []} end}])."#);
    tmux.wait_text(&prompt(4));
    tmux.keys(&["-l", "abc"]);
    tmux.keys(&["Tab"]);
    tmux.wait_text(&format!("{} abcZz", prompt(4)));
    tmux.keys(&["C-u"]);
    tmux.line("q().");
    tmux.wait_line("EXIT=0");
    assert!(pings(&target, epmd_port), "the node runs on after q()");
    drop(tmux);

    // Without a terminal: lines from stdin, values on stdout.
    let mut piped = Command::new(CNODE)
        .args(["remsh", &alive, "--cookie", COOKIE])
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .env("XDG_DATA_HOME", &data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cnode runs");
    piped
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"Z = 6.\nZ * 7.\n")
        .expect("cnode reads");
    let out = piped.wait_with_output().expect("cnode ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.lines().any(|l| l == "42"), "{stdout}");

    // Third run: the node stops under us.
    let tmux = Tmux::start(&command);
    tmux.wait_text(&prompt(1));
    tmux.line("init:stop().");
    let screen = tmux.wait_line("EXIT=69");
    assert!(
        screen.contains(&format!("cnode: the connection to {target} was lost")),
        "{screen}"
    );
    drop(tmux);
    let _ = std::fs::remove_dir_all(&data);
}
