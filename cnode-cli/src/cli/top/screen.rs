//! The live view's state and drawing: the last report, the selected row,
//! the details of a process, and what each key does. Drawing and keys are
//! free of I/O; [`super::live`] runs them against the terminal and node.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use etf::Pid;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::ranking::SortKey;
use super::report::{Report, HEADERS};
use super::sample::Details;
use super::Settings;

/// The shortest and longest refresh interval the keys reach.
const INTERVALS: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(3600));

/// What a key asks of the loop that drives the screen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing beyond redrawing.
    Redraw,
    /// Leave `cnode top`.
    Quit,
    /// The sort key changed: rank the current samples again.
    Rerank,
    /// The interval changed: schedule the next refresh anew.
    Reschedule,
    /// Show the details of this process.
    Inspect(Pid),
}

/// The details pane: a process's details, or why there are none.
#[derive(Clone, Debug)]
pub(crate) enum Pane {
    /// Its `process_info`.
    Details(Details),
    /// It exited since the table was drawn.
    Exited(String),
}

/// The live view's state.
pub(crate) struct Screen {
    /// The user's settings.
    pub(crate) settings: Settings,
    /// The last report, once there is one.
    pub(crate) report: Option<Report>,
    /// The details pane, when open.
    pub(crate) pane: Option<Pane>,
    table: TableState,
}

impl Screen {
    /// A screen waiting for its first report.
    pub(crate) fn new(settings: Settings) -> Screen {
        Screen {
            settings,
            report: None,
            pane: None,
            table: TableState::default().with_selected(Some(0)),
        }
    }

    /// Shows a new report, keeping the selection within its rows.
    pub(crate) fn show(&mut self, report: Report) {
        let last = report.rows.len().saturating_sub(1);
        let selected = self.table.selected().unwrap_or(0).min(last);
        self.table.select(Some(selected));
        self.report = Some(report);
    }

    /// The process whose details are open.
    pub(crate) fn inspected(&self) -> Option<&str> {
        match self.pane.as_ref()? {
            Pane::Details(details) => Some(&details.pid),
            Pane::Exited(pid) => Some(pid),
        }
    }

    /// Applies a key.
    pub(crate) fn handle_key(&mut self, key: KeyEvent) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => Action::Quit,
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Esc if self.pane.is_some() => {
                self.pane = None;
                Action::Redraw
            }
            KeyCode::Esc => Action::Quit,
            KeyCode::Char('r') => self.sort_by(SortKey::Reductions),
            KeyCode::Char('m') => self.sort_by(SortKey::Memory),
            KeyCode::Char('l') => self.sort_by(SortKey::Queue),
            KeyCode::Tab => self.sort_by(self.settings.sort.next()),
            KeyCode::Char('+') => self.set_interval(self.settings.interval * 2),
            KeyCode::Char('-') => self.set_interval(self.settings.interval / 2),
            KeyCode::Up => self.select(-1),
            KeyCode::Down => self.select(1),
            KeyCode::PageUp => self.select(-10),
            KeyCode::PageDown => self.select(10),
            KeyCode::Home => self.select(-(u16::MAX as isize)),
            KeyCode::Enter => match self.selected_pid() {
                Some(pid) => Action::Inspect(pid),
                None => Action::Redraw,
            },
            _ => Action::Redraw,
        }
    }

    fn sort_by(&mut self, key: SortKey) -> Action {
        self.settings.sort = key;
        self.table.select(Some(0));
        Action::Rerank
    }

    fn set_interval(&mut self, interval: Duration) -> Action {
        self.settings.interval = interval.clamp(INTERVALS.0, INTERVALS.1);
        Action::Reschedule
    }

    fn select(&mut self, by: isize) -> Action {
        let rows = self.report.as_ref().map_or(0, |r| r.rows.len());
        let at = self.table.selected().unwrap_or(0) as isize + by;
        self.table
            .select(Some(at.clamp(0, rows.saturating_sub(1) as isize) as usize));
        Action::Redraw
    }

    fn selected_pid(&self) -> Option<Pid> {
        let report = self.report.as_ref()?;
        let (ranked, _) = report.rows.get(self.table.selected()?)?;
        Some(ranked.pid.clone())
    }

    /// Draws the whole screen.
    pub(crate) fn draw(&mut self, frame: &mut Frame<'_>) {
        let Some(report) = &self.report else {
            frame.render_widget(Paragraph::new("sampling... (q quits)"), frame.area());
            return;
        };
        let summary = report.summary_lines();
        let pane_height = match &self.pane {
            Some(Pane::Details(details)) => details.items.len() as u16 + 2,
            Some(Pane::Exited(_)) => 3,
            None => 0,
        };
        let [top, table, pane, help] = Layout::vertical([
            Constraint::Length(summary.len() as u16),
            Constraint::Min(3),
            Constraint::Length(pane_height),
            Constraint::Length(1),
        ])
        .areas(frame.area());

        let lines: Vec<Line<'_>> = summary.into_iter().map(Line::from).collect();
        frame.render_widget(Paragraph::new(lines), top);

        let bold = Style::default().add_modifier(Modifier::BOLD);
        let rows = report.cells().into_iter().map(Row::new);
        let widths = [
            Constraint::Length(12),
            Constraint::Length(24),
            Constraint::Min(24),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(8),
        ];
        let widget = Table::new(rows, widths)
            .header(Row::new(HEADERS).style(bold))
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
        frame.render_stateful_widget(widget, table, &mut self.table);

        if let Some(pane_state) = &self.pane {
            let (title, lines) = match pane_state {
                Pane::Details(details) => (
                    format!(" process {} ", details.pid),
                    details
                        .items
                        .iter()
                        .map(|(key, value)| Line::from(format!("{key:<17} {value}")))
                        .collect(),
                ),
                Pane::Exited(pid) => (format!(" process {pid} "), vec![Line::from("exited")]),
            };
            let block = Block::default().borders(Borders::ALL).title(title);
            frame.render_widget(Paragraph::new(lines).block(block), pane);
        }

        let keys = format!(
            "q quit  r/m/l/tab sort ({})  +/- interval ({:.1} s)  up/down select  enter details  esc close",
            self.settings.sort.name(),
            self.settings.interval.as_secs_f64(),
        );
        frame.render_widget(Paragraph::new(keys), help);
    }
}

#[cfg(test)]
mod tests {
    use super::super::ranking::Ranked;
    use super::super::sample::{Naming, Summary, Usage};
    use super::*;
    use crossterm::event::KeyEvent;
    use etf::Atom;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn report(ids: &[u32]) -> Report {
        let usage = Usage { count: 1, limit: 9 };
        Report {
            node: "a@h".into(),
            summary: Summary {
                otp_release: "27".into(),
                uptime_ms: 61_000,
                processes: usage,
                ports: usage,
                atoms: usage,
                memory: vec![("total".into(), 2048)],
                run_queue: 0,
                wall_time: None,
                schedulers_online: 1,
            },
            utilisation: None,
            interval: Duration::from_secs(1),
            sort: SortKey::Reductions,
            rows: ids
                .iter()
                .map(|&id| {
                    let pid = Pid {
                        node: Atom::new("a@h"),
                        id,
                        serial: 0,
                        creation: 1,
                    };
                    let ranked = Ranked {
                        pid,
                        reductions: 10,
                        reductions_delta: 5,
                        memory: 100,
                        queue: 0,
                    };
                    let naming = Naming {
                        name: Some(format!("proc{id}")),
                        current: "m:f/0".into(),
                    };
                    (ranked, naming)
                })
                .collect(),
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn screen() -> Screen {
        Screen::new(Settings {
            sort: SortKey::Reductions,
            interval: Duration::from_secs(2),
            limit: 20,
        })
    }

    #[test]
    fn keys_sort_select_inspect_and_quit() {
        let mut screen = screen();
        screen.show(report(&[7, 8, 9]));
        assert_eq!(screen.handle_key(key(KeyCode::Char('l'))), Action::Rerank);
        assert_eq!(screen.settings.sort, SortKey::Queue);
        assert_eq!(screen.handle_key(key(KeyCode::Tab)), Action::Rerank);
        assert_eq!(screen.settings.sort, SortKey::Reductions);
        screen.handle_key(key(KeyCode::Down));
        screen.handle_key(key(KeyCode::Down));
        screen.handle_key(key(KeyCode::Down));
        match screen.handle_key(key(KeyCode::Enter)) {
            Action::Inspect(pid) => assert_eq!(pid.id, 9, "the selection stops at the last row"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            screen.handle_key(key(KeyCode::Char('+'))),
            Action::Reschedule
        );
        assert_eq!(screen.settings.interval, Duration::from_secs(4));
        for _ in 0..20 {
            screen.handle_key(key(KeyCode::Char('-')));
        }
        assert_eq!(screen.settings.interval, INTERVALS.0);
        // Esc closes the details first, then quits.
        screen.pane = Some(Pane::Exited("<0.9.0>".into()));
        assert_eq!(screen.handle_key(key(KeyCode::Esc)), Action::Redraw);
        assert!(screen.pane.is_none());
        assert_eq!(screen.handle_key(key(KeyCode::Esc)), Action::Quit);
        assert_eq!(screen.handle_key(key(KeyCode::Char('q'))), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(screen.handle_key(ctrl_c), Action::Quit);
    }

    #[test]
    fn a_smaller_report_keeps_the_selection_on_a_row() {
        let mut screen = screen();
        screen.show(report(&[1, 2, 3]));
        screen.handle_key(key(KeyCode::PageDown));
        screen.show(report(&[1]));
        match screen.handle_key(key(KeyCode::Enter)) {
            Action::Inspect(pid) => assert_eq!(pid.id, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_screen_draws_summary_table_and_details() {
        let mut screen = screen();
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|frame| screen.draw(frame)).unwrap();
        assert!(format!("{:?}", terminal.backend().buffer()).contains("sampling"));

        screen.show(report(&[7]));
        screen.pane = Some(Pane::Details(Details {
            pid: "<0.7.0>".into(),
            items: vec![("status".into(), "waiting".into())],
        }));
        terminal.draw(|frame| screen.draw(frame)).unwrap();
        let text = format!("{:?}", terminal.backend().buffer());
        for expected in [
            "node a@h  OTP 27  uptime 00:01:01",
            "<0.7.0>",
            "proc7",
            "process <0.7.0>",
            "waiting",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }
}
