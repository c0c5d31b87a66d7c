//! The live view's loop: the terminal in raw mode on the alternate screen
//! (restored on every way out: return, error, panic), keys read by a
//! thread of their own, and a refresh every interval.
//!
//! Keys come through a channel so that the loop, on the single-threaded
//! runtime that also runs our node, never blocks on the terminal: the
//! connection keeps being served while the user reads the screen.

use std::io::IsTerminal;

use crossterm::event::{Event, KeyEventKind};
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Duration, Instant};

use super::super::node_error::NodeCliError;
use super::sample::pid_text;
use super::screen::{Action, Pane, Screen};
use super::{Settings, Watch};

/// The first refresh comes sooner than the interval, so that the screen
/// fills quickly.
const FIRST_REFRESH: Duration = Duration::from_millis(500);

/// Runs the live view until the user quits.
pub(crate) async fn run(watch: &mut Watch, settings: Settings) -> Result<(), NodeCliError> {
    if !std::io::stdout().is_terminal() {
        return Err(NodeCliError::Terminal(
            "the live view needs a terminal on stdout; use --once or --json".to_owned(),
        ));
    }
    let mut terminal = RawTerminal::enter()?;
    let mut inputs = read_inputs();
    let mut screen = Screen::new(settings);
    let mut next = Instant::now() + settings.interval.min(FIRST_REFRESH);
    let mut last = Instant::now();
    loop {
        terminal.draw(&mut screen)?;
        tokio::select! {
            input = inputs.recv() => {
                let key = match input {
                    Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => key,
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => return Err(terminal_error(err)),
                    None => return Ok(()),
                };
                match screen.handle_key(key) {
                    Action::Quit => return Ok(()),
                    Action::Redraw => {}
                    Action::Rerank => {
                        if screen.report.is_some() {
                            let s = screen.settings;
                            screen.show(watch.report(s.sort, s.limit).await?);
                        }
                    }
                    Action::Reschedule => {
                        if screen.report.is_some() {
                            next = last + screen.settings.interval;
                        }
                    }
                    Action::Inspect(pid) => {
                        screen.pane = Some(match watch.details(&pid).await? {
                            Some(details) => Pane::Details(details),
                            None => Pane::Exited(pid_text(&pid)),
                        });
                    }
                }
            }
            () = sleep_until(next) => {
                watch.refresh().await?;
                let s = screen.settings;
                screen.show(watch.report(s.sort, s.limit).await?);
                refresh_pane(watch, &mut screen).await?;
                last = Instant::now();
                next = last + s.interval;
            }
        }
    }
}

/// Fetches the open details pane's process again.
async fn refresh_pane(watch: &Watch, screen: &mut Screen) -> Result<(), NodeCliError> {
    let Some(shown) = screen.inspected().map(str::to_owned) else {
        return Ok(());
    };
    let Some(Pane::Details(_)) = &screen.pane else {
        return Ok(());
    };
    let pid = screen
        .report
        .iter()
        .flat_map(|report| &report.rows)
        .map(|(ranked, _)| &ranked.pid)
        .find(|pid| pid_text(pid) == shown)
        .cloned();
    // A process that left the table keeps its last details.
    if let Some(pid) = pid {
        screen.pane = Some(match watch.details(&pid).await? {
            Some(details) => Pane::Details(details),
            None => Pane::Exited(shown),
        });
    }
    Ok(())
}

fn terminal_error(err: std::io::Error) -> NodeCliError {
    NodeCliError::Terminal(err.to_string())
}

/// Terminal events, read by a thread that blocks on the terminal. The
/// thread ends when the receiver is gone and the next event comes, or
/// with the process.
fn read_inputs() -> mpsc::UnboundedReceiver<std::io::Result<Event>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || loop {
        let event = crossterm::event::read();
        let failed = event.is_err();
        if sender.send(event).is_err() || failed {
            return;
        }
    });
    receiver
}

/// The terminal in raw mode on the alternate screen; dropping it restores
/// the terminal. A panic restores it too (ratatui's panic hook).
struct RawTerminal {
    terminal: DefaultTerminal,
}

impl RawTerminal {
    fn enter() -> Result<RawTerminal, NodeCliError> {
        let terminal = ratatui::try_init().map_err(terminal_error)?;
        Ok(RawTerminal { terminal })
    }

    fn draw(&mut self, screen: &mut Screen) -> Result<(), NodeCliError> {
        self.terminal
            .draw(|frame| screen.draw(frame))
            .map(drop)
            .map_err(terminal_error)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
