//! What one look at a node gives: the node-wide figures ([`Summary`]) and,
//! for every process, the numbers it is ranked by ([`ProcessSample`]);
//! then, for the few processes shown, their names ([`Naming`]) and, for
//! the one selected, its details ([`Details`]). Each is decoded here from
//! the term the node answers, and a term of another shape is an error
//! naming what was expected.

use etf::{Pid, Term};

/// A term that is not what a query returns; `what` names the part.
#[derive(Debug)]
pub(crate) struct Malformed {
    /// The part that did not decode.
    pub(crate) what: &'static str,
}

fn malformed<T>(what: &'static str) -> Result<T, Malformed> {
    Err(Malformed { what })
}

/// The node-wide figures of one sample.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Summary {
    /// `erlang:system_info(otp_release)`, such as `"27"`.
    pub(crate) otp_release: String,
    /// Milliseconds since the node started (`statistics(wall_clock)`).
    pub(crate) uptime_ms: u64,
    /// Processes alive and their limit.
    pub(crate) processes: Usage,
    /// Ports open and their limit.
    pub(crate) ports: Usage,
    /// Atoms in the table and its limit.
    pub(crate) atoms: Usage,
    /// `erlang:memory()`: bytes by category, in the node's order.
    pub(crate) memory: Vec<(String, u64)>,
    /// Processes and ports ready to run (`statistics(run_queue)`).
    pub(crate) run_queue: u64,
    /// `statistics(scheduler_wall_time)` sorted by scheduler id, `None`
    /// while the measurement is off.
    pub(crate) wall_time: Option<Vec<SchedulerTime>>,
    /// `system_info(schedulers_online)`.
    pub(crate) schedulers_online: u64,
}

/// A count against its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    /// How many there are.
    pub(crate) count: u64,
    /// How many there may be.
    pub(crate) limit: u64,
}

/// One scheduler's busy and total time since measuring began, in the
/// node's own units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SchedulerTime {
    /// The scheduler's id (1 and up).
    pub(crate) id: u64,
    /// Time spent working.
    pub(crate) active: u64,
    /// Time elapsed.
    pub(crate) total: u64,
}

/// What every process is ranked by.
#[derive(Clone, Debug)]
pub(crate) struct ProcessSample {
    /// The process.
    pub(crate) pid: Pid,
    /// Reductions since it started.
    pub(crate) reductions: u64,
    /// Bytes it uses (`process_info(P, memory)`).
    pub(crate) memory: u64,
    /// Messages waiting in its queue.
    pub(crate) queue: u64,
}

/// One sample: the summary and every process alive when it was taken.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    /// Node-wide figures.
    pub(crate) summary: Summary,
    /// Every process, in the node's order.
    pub(crate) processes: Vec<ProcessSample>,
}

/// What identifies a process to a person: its registered name and the
/// function it runs now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Naming {
    /// Its registered name, if any.
    pub(crate) name: Option<String>,
    /// `Module:Function/Arity` it runs now (`?` if the node does not say).
    pub(crate) current: String,
}

/// `process_info/2` of the selected process, as label and text pairs in
/// the order the query asks for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Details {
    /// The process.
    pub(crate) pid: String,
    /// `(item, value)`, for instance `("status", "running")`.
    pub(crate) items: Vec<(String, String)>,
}

/// `<0.ID.SERIAL>`, as the node itself prints its own processes.
pub(crate) fn pid_text(pid: &Pid) -> String {
    format!("<0.{}.{}>", pid.id, pid.serial)
}

/// A key telling processes apart within one node's incarnation.
pub(crate) fn pid_key(pid: &Pid) -> (u32, u32, u32) {
    (pid.id, pid.serial, pid.creation)
}

impl Sample {
    /// Decodes `{SummaryTuple, Pids, Infos}`, where `Infos` holds, for
    /// each pid in turn, `[{reductions, R}, {memory, M},
    /// {message_queue_len, Q}]`, or `undefined` for a process that exited
    /// meanwhile (left out).
    pub(crate) fn decode(term: &Term) -> Result<Sample, Malformed> {
        let Some([summary, pids, infos]) = term.as_tuple() else {
            return malformed("{Summary, Pids, Infos}");
        };
        let summary = Summary::decode(summary)?;
        let (Some(pids), Some(infos)) = (list_of(pids), list_of(infos)) else {
            return malformed("the pid and info lists");
        };
        if pids.len() != infos.len() {
            return malformed("as many infos as pids");
        }
        let mut processes = Vec::with_capacity(pids.len());
        for (pid, info) in pids.iter().zip(&infos) {
            let Some(pid) = pid.as_pid() else {
                return malformed("a pid");
            };
            if info.is_atom("undefined") {
                continue;
            }
            processes.push(ProcessSample::decode(pid, info)?);
        }
        Ok(Sample { summary, processes })
    }
}

impl ProcessSample {
    fn decode(pid: &Pid, info: &Term) -> Result<ProcessSample, Malformed> {
        let value = |item: Option<&Term>, what: &'static str| match item.and_then(Term::as_tuple) {
            Some([_, value]) => count(value, what),
            _ => malformed(what),
        };
        let items = info.as_list().ok_or(Malformed {
            what: "a process_info list",
        })?;
        Ok(ProcessSample {
            pid: pid.clone(),
            reductions: value(items.first(), "reductions")?,
            memory: value(items.get(1), "memory")?,
            queue: value(items.get(2), "message_queue_len")?,
        })
    }
}

impl Summary {
    fn decode(term: &Term) -> Result<Summary, Malformed> {
        let Some(
            [release, uptime, processes, process_limit, ports, port_limit, atoms, atom_limit, memory, run_queue, wall_time, online],
        ) = term.as_tuple()
        else {
            return malformed("the summary tuple");
        };
        Ok(Summary {
            otp_release: text(release).ok_or(Malformed {
                what: "otp_release",
            })?,
            uptime_ms: count(uptime, "wall_clock")?,
            processes: Usage {
                count: count(processes, "process_count")?,
                limit: count(process_limit, "process_limit")?,
            },
            ports: Usage {
                count: count(ports, "port_count")?,
                limit: count(port_limit, "port_limit")?,
            },
            atoms: Usage {
                count: count(atoms, "atom_count")?,
                limit: count(atom_limit, "atom_limit")?,
            },
            memory: decode_memory(memory)?,
            run_queue: count(run_queue, "run_queue")?,
            wall_time: decode_wall_time(wall_time)?,
            schedulers_online: count(online, "schedulers_online")?,
        })
    }
}

fn decode_memory(term: &Term) -> Result<Vec<(String, u64)>, Malformed> {
    let Some(items) = list_of(term) else {
        return malformed("erlang:memory()");
    };
    items
        .iter()
        .map(|item| match item.as_tuple() {
            Some([kind, bytes]) => match (kind.as_atom(), bytes.as_u64()) {
                (Some(kind), Some(bytes)) => Ok((kind.as_str().to_owned(), bytes)),
                _ => malformed("{Kind, Bytes} of erlang:memory()"),
            },
            _ => malformed("{Kind, Bytes} of erlang:memory()"),
        })
        .collect()
}

fn decode_wall_time(term: &Term) -> Result<Option<Vec<SchedulerTime>>, Malformed> {
    if term.is_atom("undefined") {
        return Ok(None);
    }
    let Some(items) = list_of(term) else {
        return malformed("statistics(scheduler_wall_time)");
    };
    let mut times = items
        .iter()
        .map(|item| match item.as_tuple() {
            Some([id, active, total]) => Ok(SchedulerTime {
                id: count(id, "scheduler id")?,
                active: count(active, "active time")?,
                total: count(total, "total time")?,
            }),
            _ => malformed("{Id, Active, Total} of scheduler_wall_time"),
        })
        .collect::<Result<Vec<_>, _>>()?;
    times.sort_by_key(|time| time.id);
    Ok(Some(times))
}

impl Naming {
    /// Decodes one answer of `process_info(P, [registered_name,
    /// current_function])`: `undefined` for a process gone since.
    pub(crate) fn decode(term: &Term) -> Naming {
        let mut naming = Naming {
            name: None,
            current: "?".to_owned(),
        };
        for item in list_of(term).unwrap_or_default() {
            match item.as_tuple() {
                Some([key, value]) if key.is_atom("registered_name") => {
                    naming.name = value.as_atom().map(|name| name.as_str().to_owned());
                }
                Some([key, value]) if key.is_atom("current_function") => {
                    naming.current = mfa_text(value);
                }
                _ => {}
            }
        }
        if term.is_atom("undefined") {
            naming.current = "(exited)".to_owned();
        }
        naming
    }
}

impl Details {
    /// Decodes the details query's answer: a list of `{Item, Value}`, or
    /// `undefined` once the process is gone (`None`).
    pub(crate) fn decode(pid: &Pid, term: &Term) -> Result<Option<Details>, Malformed> {
        if term.is_atom("undefined") {
            return Ok(None);
        }
        let Some(list) = list_of(term) else {
            return malformed("the process_info list");
        };
        let mut items = Vec::with_capacity(list.len());
        for item in list {
            let Some([key, value]) = item.as_tuple() else {
                return malformed("{Item, Value} of process_info");
            };
            let Some(key) = key.as_atom() else {
                return malformed("an item name of process_info");
            };
            items.push((key.as_str().to_owned(), value_text(key.as_str(), value)));
        }
        Ok(Some(Details {
            pid: pid_text(pid),
            items,
        }))
    }
}

/// A value of the details as a person reads it.
fn value_text(key: &str, value: &Term) -> String {
    match (key, value.as_tuple()) {
        ("initial_call" | "current_function" | "translated_call", Some(_)) => mfa_text(value),
        // `{Count, FirstFew}` for links, monitors and monitored_by.
        (_, Some([total, first])) if first.as_list().is_some() || first.is_nil() => {
            let shown: Vec<String> = list_of(first)
                .unwrap_or_default()
                .iter()
                .map(short_term)
                .collect();
            let total = total.as_u64().unwrap_or(0);
            let more = total.saturating_sub(shown.len() as u64);
            match (shown.is_empty(), more) {
                (true, _) => "0".to_owned(),
                (false, 0) => format!("{total}: {}", shown.join(" ")),
                (false, more) => format!("{total}: {} (+{more} more)", shown.join(" ")),
            }
        }
        _ => short_term(value),
    }
}

/// A term printed compactly: local pids as `<0.ID.SERIAL>`.
fn short_term(term: &Term) -> String {
    match term {
        Term::Pid(pid) => pid_text(pid),
        Term::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(short_term).collect();
            format!("{{{}}}", inner.join(","))
        }
        other => other.to_string(),
    }
}

/// `{M, F, A}` as `M:F/A`; anything else as the term.
fn mfa_text(term: &Term) -> String {
    match term.as_tuple() {
        Some([module, function, arity]) => match (module.as_atom(), function.as_atom()) {
            (Some(module), Some(function)) => {
                format!("{}:{}/{}", module.as_str(), function.as_str(), arity)
            }
            _ => term.to_string(),
        },
        _ => term.to_string(),
    }
}

/// A proper list's elements (`[]` included).
fn list_of(term: &Term) -> Option<Vec<Term>> {
    if term.is_nil() {
        return Some(Vec::new());
    }
    term.to_list()
}

/// A charlist or binary as text.
fn text(term: &Term) -> Option<String> {
    if let Some(text) = term.as_utf8() {
        return Some(text.to_owned());
    }
    let chars = list_of(term)?;
    chars
        .iter()
        .map(|c| c.as_u64().and_then(|c| char::from_u32(c.try_into().ok()?)))
        .collect()
}

fn count(term: &Term, what: &'static str) -> Result<u64, Malformed> {
    term.as_u64().ok_or(Malformed { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Term {
        text.parse().expect("valid term syntax")
    }

    #[test]
    fn a_sample_decodes_with_and_without_wall_time() {
        let term = parse(
            r#"{{"27", 5000, 40, 262144, 3, 65536, 9000, 1048576,
                [{total, 100}, {processes, 40}],
                1, [{2, 10, 100}, {1, 50, 100}], 2},
               [#Pid<'a@h'.85.0.1>, #Pid<'a@h'.86.0.1>],
               [[{reductions, 1200}, {memory, 2688}, {message_queue_len, 0}],
                undefined]}"#,
        );
        let sample = Sample::decode(&term).expect("decodes");
        assert_eq!(sample.summary.otp_release, "27");
        assert_eq!(sample.summary.processes.limit, 262_144);
        let ids: Vec<u64> = sample
            .summary
            .wall_time
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, [1, 2]);
        // The process that exited meanwhile is left out.
        assert_eq!(sample.processes.len(), 1);
        assert_eq!(pid_text(&sample.processes[0].pid), "<0.85.0>");
        assert_eq!(sample.processes[0].reductions, 1200);

        let off = parse(r#"{{"25", 1, 1, 1, 1, 1, 1, 1, [], 0, undefined, 1}, [], []}"#);
        assert_eq!(Sample::decode(&off).unwrap().summary.wall_time, None);
    }

    #[test]
    fn a_malformed_sample_names_the_part() {
        let summary = r#"{"25", 1, 1, 1, 1, 1, 1, 1, [], 0, undefined, 1}"#;
        for (rest, part) in [
            ("[#Pid<'a@h'.1.0.1>], []", "as many infos as pids"),
            ("[x], [undefined]", "a pid"),
            ("[#Pid<'a@h'.1.0.1>], [[{reductions, 1}]]", "memory"),
            (
                "[#Pid<'a@h'.1.0.1>], [[{reductions, -1}, {memory, 1}, {message_queue_len, 1}]]",
                "reductions",
            ),
        ] {
            let term = parse(&format!("{{{summary}, {rest}}}"));
            assert_eq!(Sample::decode(&term).unwrap_err().what, part, "{rest}");
        }
    }

    #[test]
    fn naming_and_details_read_as_text() {
        let naming = Naming::decode(&parse(
            "[{registered_name, spinner}, {current_function, {m, spin, 1}}]",
        ));
        assert_eq!(naming.name.as_deref(), Some("spinner"));
        assert_eq!(naming.current, "m:spin/1");
        assert_eq!(Naming::decode(&parse("[{registered_name, []}]")).name, None);

        let pid = parse("#Pid<'a@h'.90.0.1>");
        let details = Details::decode(
            pid.as_pid().unwrap(),
            &parse("[{status, waiting}, {links, {3, [#Pid<'a@h'.1.0.1>]}}, {monitors, {0, []}}]"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            details.items,
            [
                ("status".into(), "waiting".into()),
                ("links".into(), "3: <0.1.0> (+2 more)".into()),
                ("monitors".into(), "0".into()),
            ]
        );
    }
}
