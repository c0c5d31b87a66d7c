//! Turning two samples into what is shown: reductions as the work done
//! between them (as etop does), the top processes by one key, and the
//! schedulers' utilisation over the interval. Pure functions of the
//! samples, so that they are tested without a node.

use std::collections::HashMap;

use clap::ValueEnum;
use etf::Pid;

use super::sample::{pid_key, ProcessSample, Sample, SchedulerTime};

/// What the processes are sorted by, largest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SortKey {
    /// Reductions done during the last interval.
    Reductions,
    /// Memory used now.
    Memory,
    /// Messages waiting now.
    Queue,
}

impl SortKey {
    /// The name used by `--sort` and in the output.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SortKey::Reductions => "reductions",
            SortKey::Memory => "memory",
            SortKey::Queue => "queue",
        }
    }

    /// The next key, for a key that cycles through them.
    pub(crate) fn next(self) -> SortKey {
        match self {
            SortKey::Reductions => SortKey::Memory,
            SortKey::Memory => SortKey::Queue,
            SortKey::Queue => SortKey::Reductions,
        }
    }
}

/// One process as ranked: its sample and the reductions it did since the
/// previous sample (all of them if it was not in that sample).
#[derive(Clone, Debug)]
pub(crate) struct Ranked {
    /// The process.
    pub(crate) pid: Pid,
    /// Reductions since it started.
    pub(crate) reductions: u64,
    /// Reductions during the interval.
    pub(crate) reductions_delta: u64,
    /// Bytes it uses.
    pub(crate) memory: u64,
    /// Messages waiting.
    pub(crate) queue: u64,
}

/// The `limit` processes of `current` with the largest `key`, ties broken
/// by the other keys then by pid, so that the order is stable.
pub(crate) fn top(
    previous: Option<&Sample>,
    current: &Sample,
    key: SortKey,
    limit: usize,
) -> Vec<Ranked> {
    let before: HashMap<(u32, u32, u32), u64> = previous
        .map(|sample| {
            sample
                .processes
                .iter()
                .map(|p| (pid_key(&p.pid), p.reductions))
                .collect()
        })
        .unwrap_or_default();
    let mut ranked: Vec<Ranked> = current
        .processes
        .iter()
        .map(|p: &ProcessSample| Ranked {
            pid: p.pid.clone(),
            reductions: p.reductions,
            reductions_delta: p
                .reductions
                .saturating_sub(before.get(&pid_key(&p.pid)).copied().unwrap_or(0)),
            memory: p.memory,
            queue: p.queue,
        })
        .collect();
    let order = |r: &Ranked| {
        let keys = match key {
            SortKey::Reductions => (r.reductions_delta, r.memory, r.queue),
            SortKey::Memory => (r.memory, r.reductions_delta, r.queue),
            SortKey::Queue => (r.queue, r.reductions_delta, r.memory),
        };
        (std::cmp::Reverse(keys), pid_key(&r.pid))
    };
    // Only the first `limit` need sorting: partition them out first, so a
    // node with 100k processes costs a linear pass, not a full sort.
    if limit < ranked.len() {
        ranked.select_nth_unstable_by_key(limit, order);
        ranked.truncate(limit);
    }
    ranked.sort_by_key(order);
    ranked
}

/// Scheduler utilisation over an interval: the share of wall time each
/// scheduler was busy, and over all of them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Utilisation {
    /// All schedulers together, 0.0 to 1.0.
    pub(crate) total: f64,
    /// `(scheduler id, share)` for each.
    pub(crate) schedulers: Vec<(u64, f64)>,
}

/// The utilisation of the normal schedulers online (ids 1 to `online`;
/// the dirty CPU schedulers that `scheduler_wall_time` also lists come
/// after them) between two `scheduler_wall_time` samples; `None` if
/// either is missing or no time passed.
pub(crate) fn utilisation(
    before: Option<&[SchedulerTime]>,
    after: Option<&[SchedulerTime]>,
    online: u64,
) -> Option<Utilisation> {
    let (before, after) = (before?, after?);
    let mut schedulers = Vec::new();
    let (mut active, mut total) = (0u64, 0u64);
    for now in after.iter().filter(|now| now.id <= online) {
        let Some(then) = before.iter().find(|then| then.id == now.id) else {
            continue;
        };
        let busy = now.active.saturating_sub(then.active);
        let elapsed = now.total.saturating_sub(then.total);
        active += busy;
        total += elapsed;
        if elapsed > 0 {
            schedulers.push((now.id, busy as f64 / elapsed as f64));
        }
    }
    (total > 0).then(|| Utilisation {
        total: active as f64 / total as f64,
        schedulers,
    })
}

#[cfg(test)]
mod tests {
    use super::super::sample::{Summary, Usage};
    use super::*;
    use etf::Atom;

    fn pid(id: u32) -> Pid {
        Pid {
            node: Atom::new("a@h"),
            id,
            serial: 0,
            creation: 1,
        }
    }

    fn sample(processes: &[(u32, u64, u64, u64)]) -> Sample {
        let usage = Usage { count: 0, limit: 0 };
        Sample {
            summary: Summary {
                otp_release: "27".into(),
                uptime_ms: 0,
                processes: usage,
                ports: usage,
                atoms: usage,
                memory: Vec::new(),
                run_queue: 0,
                wall_time: None,
                schedulers_online: 1,
            },
            processes: processes
                .iter()
                .map(|&(id, reductions, memory, queue)| ProcessSample {
                    pid: pid(id),
                    reductions,
                    memory,
                    queue,
                })
                .collect(),
        }
    }

    fn ids(ranked: &[Ranked]) -> Vec<u32> {
        ranked.iter().map(|r| r.pid.id).collect()
    }

    #[test]
    fn reductions_rank_by_the_work_of_the_interval() {
        // Process 1 did much work long ago, 2 works now, 3 is new.
        let before = sample(&[(1, 1_000_000, 10, 0), (2, 100, 10, 0)]);
        let after = sample(&[(1, 1_000_010, 10, 0), (2, 50_100, 10, 0), (3, 500, 10, 0)]);
        let ranked = top(Some(&before), &after, SortKey::Reductions, 10);
        assert_eq!(ids(&ranked), [2, 3, 1]);
        assert_eq!(ranked[0].reductions_delta, 50_000);
        // Without a previous sample, all reductions count.
        assert_eq!(ids(&top(None, &after, SortKey::Reductions, 10)), [1, 2, 3]);
    }

    #[test]
    fn memory_and_queue_rank_and_the_limit_cuts() {
        let now = sample(&[
            (1, 0, 300, 5),
            (2, 0, 900, 0),
            (3, 0, 100, 70),
            (4, 0, 100, 0),
        ]);
        assert_eq!(ids(&top(None, &now, SortKey::Memory, 2)), [2, 1]);
        assert_eq!(ids(&top(None, &now, SortKey::Queue, 2)), [3, 1]);
        assert_eq!(ids(&top(None, &now, SortKey::Queue, 0)), Vec::<u32>::new());
        assert_eq!(top(None, &now, SortKey::Queue, 100).len(), 4);
    }

    #[test]
    fn utilisation_is_busy_over_elapsed() {
        let t = |id, active, total| SchedulerTime { id, active, total };
        // Scheduler 3 is a dirty one, left out with two online.
        let before = [t(1, 0, 0), t(2, 0, 0), t(3, 0, 0)];
        let after = [t(1, 100, 100), t(2, 0, 100), t(3, 0, 100)];
        let util = utilisation(Some(&before), Some(&after), 2).unwrap();
        assert_eq!(util.total, 0.5);
        assert_eq!(util.schedulers, [(1, 1.0), (2, 0.0)]);
        assert_eq!(utilisation(None, Some(&after), 2), None);
        assert_eq!(utilisation(Some(&after), Some(&after), 2), None);
    }
}
