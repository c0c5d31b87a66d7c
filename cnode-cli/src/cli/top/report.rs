//! One refresh as it is shown ([`Report`]), and its two printed forms: the
//! plain table of `--once` and the JSON document of `--json`. The live
//! screen draws the same report with the same cell texts.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use super::ranking::{Ranked, SortKey, Utilisation};
use super::sample::{pid_text, Naming, Summary};

/// What one refresh shows.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    /// The node.
    pub(crate) node: String,
    /// Node-wide figures of the latest sample.
    pub(crate) summary: Summary,
    /// Scheduler utilisation over the interval, if measured.
    pub(crate) utilisation: Option<Utilisation>,
    /// Time between the two samples compared.
    pub(crate) interval: Duration,
    /// The key of `rows`.
    pub(crate) sort: SortKey,
    /// The top processes with their names.
    pub(crate) rows: Vec<(Ranked, Naming)>,
}

/// The column headers of the process table.
pub(crate) const HEADERS: [&str; 6] = ["PID", "NAME", "CURRENT FUNCTION", "REDS", "MEMORY", "MSGQ"];

impl Report {
    /// The summary as lines of text.
    pub(crate) fn summary_lines(&self) -> Vec<String> {
        let s = &self.summary;
        let usage = |what: &str, u: super::sample::Usage| format!("{what} {}/{}", u.count, u.limit);
        let memory: Vec<String> = s
            .memory
            .iter()
            .filter(|(kind, _)| {
                matches!(
                    kind.as_str(),
                    "total" | "processes" | "atom" | "binary" | "code" | "ets"
                )
            })
            .map(|(kind, bytes)| format!("{kind} {}", bytes_text(*bytes)))
            .collect();
        let schedulers = match &self.utilisation {
            Some(util) => {
                let each: Vec<String> = util
                    .schedulers
                    .iter()
                    .map(|(_, share)| format!("{:.0}%", share * 100.0))
                    .collect();
                format!(
                    "scheduler utilisation {:.1}% ({})",
                    util.total * 100.0,
                    each.join(" ")
                )
            }
            None => "scheduler utilisation n/a".to_owned(),
        };
        vec![
            format!(
                "node {}  OTP {}  uptime {}  schedulers {}",
                self.node,
                s.otp_release,
                uptime_text(s.uptime_ms),
                s.schedulers_online
            ),
            format!(
                "{}  {}  {}",
                usage("processes", s.processes),
                usage("ports", s.ports),
                usage("atoms", s.atoms)
            ),
            format!("memory {}", memory.join("  ")),
            format!("run queue {}  {schedulers}", s.run_queue),
            format!(
                "top {} by {} over {:.1} s",
                self.rows.len(),
                self.sort.name(),
                self.interval.as_secs_f64()
            ),
        ]
    }

    /// The cells of each process row, in [`HEADERS`] order.
    pub(crate) fn cells(&self) -> Vec<[String; 6]> {
        self.rows
            .iter()
            .map(|(ranked, naming)| {
                [
                    pid_text(&ranked.pid),
                    naming.name.clone().unwrap_or_default(),
                    naming.current.clone(),
                    ranked.reductions_delta.to_string(),
                    ranked.memory.to_string(),
                    ranked.queue.to_string(),
                ]
            })
            .collect()
    }

    /// The plain text of `--once`: the summary, a blank line, the table.
    pub(crate) fn plain(&self) -> String {
        let mut out = String::new();
        for line in self.summary_lines() {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
        let cells = self.cells();
        let mut widths = HEADERS.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut line = |row: [&str; 6]| {
            let mut text = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                // Text columns to the left, numbers to the right.
                let _ = if i < 3 {
                    write!(text, "{cell:<width$}  ")
                } else {
                    write!(text, "{cell:>width$}  ")
                };
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(HEADERS);
        for row in &cells {
            line(row.each_ref().map(String::as_str));
        }
        out
    }

    /// The JSON document of `--json`.
    pub(crate) fn json(&self) -> Value {
        let s = &self.summary;
        let usage = |u: super::sample::Usage| json!({"count": u.count, "limit": u.limit});
        let memory: serde_json::Map<String, Value> = s
            .memory
            .iter()
            .map(|(kind, bytes)| (kind.clone(), json!(bytes)))
            .collect();
        let utilisation = self.utilisation.as_ref().map(|util| {
            json!({
                "total": util.total,
                "schedulers": util.schedulers.iter()
                    .map(|(id, share)| json!({"id": id, "utilisation": share}))
                    .collect::<Vec<_>>(),
            })
        });
        let processes: Vec<Value> = self
            .rows
            .iter()
            .map(|(ranked, naming)| {
                json!({
                    "pid": pid_text(&ranked.pid),
                    "registered_name": naming.name,
                    "current_function": naming.current,
                    "reductions": ranked.reductions,
                    "reductions_delta": ranked.reductions_delta,
                    "memory": ranked.memory,
                    "message_queue_len": ranked.queue,
                })
            })
            .collect();
        json!({
            "node": self.node,
            "otp_release": s.otp_release,
            "uptime_ms": s.uptime_ms,
            "interval_ms": self.interval.as_millis() as u64,
            "processes": usage(s.processes),
            "ports": usage(s.ports),
            "atoms": usage(s.atoms),
            "memory": memory,
            "run_queue": s.run_queue,
            "schedulers_online": s.schedulers_online,
            "scheduler_utilisation": utilisation,
            "sort": self.sort.name(),
            "top": processes,
        })
    }
}

/// Bytes in the largest unit that keeps a number of at least 1.
pub(crate) fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Milliseconds as `[Dd ]HH:MM:SS`.
pub(crate) fn uptime_text(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}d {clock}")
    } else {
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_as_a_person_reads_them() {
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(3 * 1024 * 1024 / 2), "1.5 MiB");
        assert_eq!(uptime_text(3_723_000), "01:02:03");
        assert_eq!(uptime_text(90_061_000), "1d 01:01:01");
    }
}
