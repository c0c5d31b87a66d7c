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
                Pane::Exited(pid) => (
                    format!(" process {pid} "),
                    vec![Line::from("exited")],
                ),
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
