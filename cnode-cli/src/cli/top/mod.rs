//! `cnode top NODE`: a live view of a node, as `etop` and `observer_cli`
//! give, or one report on stdout for scripts (`--once`, `--json`).
//!
//! Each refresh is two rpcs: one sample of the whole node (see
//! [`probe`]) and the names of the processes shown. Reductions are ranked
//! by the work done since the previous sample; a report therefore needs
//! two samples, `--interval` apart (for `--once` and `--json` too).

mod live;
mod probe;
mod ranking;
mod report;
mod sample;
mod screen;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use super::exit_code::Exit;
use super::node_error::NodeCliError;
use super::output;
use super::session::{self, NodeOptions, Session};
use probe::Probe;
use ranking::SortKey;
use report::Report;
use sample::Sample;

/// Arguments of `cnode top`.
#[derive(Args, Debug)]
pub(crate) struct TopArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    /// Print one report as a plain table on stdout and exit.
    #[arg(long, conflicts_with = "json")]
    once: bool,
    /// Print one report as a JSON document on stdout and exit.
    #[arg(long)]
    json: bool,
    /// What the processes are sorted by (largest first); reductions are
    /// those done during the interval.
    #[arg(long, value_enum, default_value_t = SortKey::Reductions)]
    sort: SortKey,
    /// Seconds between refreshes, and between the two samples of
    /// `--once`/`--json` (0.1 to 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = parse_interval)]
    interval: f64,
    /// How many processes to show (1 to 1000).
    #[arg(
        long,
        default_value_t = 20,
        value_parser = clap::value_parser!(u16).range(1..=1000)
    )]
    limit: u16,
    #[command(flatten)]
    options: NodeOptions,
}

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if (0.1..=3600.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 0.1 to 3600"
        )),
    }
}

/// Runs `cnode top`; a failure prints one line on stderr and exits with
/// its code (see [`exit_code`](super::exit_code)).
pub(crate) fn run(args: TopArgs) -> ExitCode {
    match top(args) {
        Ok(()) => Exit::Ok.into(),
        Err(err) => output::failure(output::Mode::Text, &err),
    }
}

fn top(args: TopArgs) -> Result<(), NodeCliError> {
    let settings = Settings {
        sort: args.sort,
        interval: Duration::from_secs_f64(args.interval),
        limit: usize::from(args.limit),
    };
    let (once, json) = (args.once, args.json);
    let text = session::run_interactive(&args.options, &args.node, |session| async move {
        let mut watch = Watch::start(&session).await?;
        let result = if once || json {
            once_report(&mut watch, &settings, json).await.map(Some)
        } else {
            live::run(&mut watch, settings).await.map(|()| None)
        };
        watch.probe.release().await;
        result
    })?;
    match text {
        Some(text) => session::print_line(text.trim_end()),
        None => Ok(()),
    }
}

/// What the user chose to see; the live view changes it with keys.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// The sort key.
    pub(crate) sort: SortKey,
    /// Time between refreshes.
    pub(crate) interval: Duration,
    /// How many processes to show.
    pub(crate) limit: usize,
}

async fn once_report(
    watch: &mut Watch,
    settings: &Settings,
    json: bool,
) -> Result<String, NodeCliError> {
    tokio::time::sleep(settings.interval).await;
    watch.refresh().await?;
    let report = watch.report(settings.sort, settings.limit).await?;
    Ok(if json {
        report.json().to_string()
    } else {
        report.plain()
    })
}

/// The node being watched: its queries and the last two samples.
pub(crate) struct Watch {
    probe: Probe,
    node: String,
    previous: Option<(Sample, Instant)>,
    current: (Sample, Instant),
}

impl Watch {
    /// Parses the queries, turns scheduler measurement on and takes the
    /// first sample.
    async fn start(session: &Session) -> Result<Watch, NodeCliError> {
        let mut probe = Probe::new(session).await?;
        probe.measure_schedulers(session.node.name()).await?;
        let first = match probe.sample().await {
            Ok(first) => first,
            Err(err) => {
                probe.release().await;
                return Err(err);
            }
        };
        Ok(Watch {
            probe,
            node: session.target.clone(),
            previous: None,
            current: (first, Instant::now()),
        })
    }

    /// Takes a new sample; the current one becomes the previous.
    pub(crate) async fn refresh(&mut self) -> Result<(), NodeCliError> {
        let sample = self.probe.sample().await?;
        let previous = std::mem::replace(&mut self.current, (sample, Instant::now()));
        self.previous = Some(previous);
        Ok(())
    }

    /// The report of the last two samples, with the names of the top
    /// `limit` by `sort`.
    pub(crate) async fn report(&self, sort: SortKey, limit: usize) -> Result<Report, NodeCliError> {
        let previous = self.previous.as_ref();
        let (current, taken) = &self.current;
        let ranked = ranking::top(previous.map(|(s, _)| s), current, sort, limit);
        let pids: Vec<_> = ranked.iter().map(|r| r.pid.clone()).collect();
        let names = self.probe.names(&pids).await?;
        Ok(Report {
            node: self.node.clone(),
            summary: current.summary.clone(),
            utilisation: ranking::utilisation(
                previous.and_then(|(s, _)| s.summary.wall_time.as_deref()),
                current.summary.wall_time.as_deref(),
                current.summary.schedulers_online,
            ),
            interval: previous
                .map(|(_, then)| taken.duration_since(*then))
                .unwrap_or_default(),
            sort,
            rows: ranked.into_iter().zip(names).collect(),
        })
    }

    /// The details of a process, `None` once it has exited.
    pub(crate) async fn details(
        &self,
        pid: &etf::Pid,
    ) -> Result<Option<sample::Details>, NodeCliError> {
        self.probe.details(pid).await
    }
}
