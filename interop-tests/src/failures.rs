//! Collecting the failures of a differential run, so that one report shows
//! every failing case instead of only the first.

/// How many failures a report shows in full; the rest are listed by their
/// first line only.
const SHOWN: usize = 25;

/// The failures found so far in a run against one OTP release.
#[derive(Debug)]
pub struct Failures {
    release: u32,
    found: Vec<String>,
}

impl Failures {
    /// An empty log for a run against the given OTP release.
    pub fn new(release: u32) -> Failures {
        Failures {
            release,
            found: Vec::new(),
        }
    }

    /// Records a failure: `case` names what was checked (it becomes the
    /// first line, after the release), `what` says what went wrong.
    pub fn add(&mut self, case: &str, what: &str) {
        self.found
            .push(format!("OTP {} | {case} | {what}", self.release));
    }

    /// How many failures were recorded.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Whether no failure was recorded.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Panics with a report of every failure if there is any; `checked` is
    /// the number of checks made, for the summary line.
    pub fn assert_none(self, checked: usize) {
        if self.found.is_empty() {
            return;
        }
        let mut report = self.found[..self.found.len().min(SHOWN)].join("\n\n");
        if self.found.len() > SHOWN {
            report.push_str("\n\nand also:\n");
            for failure in &self.found[SHOWN..] {
                report.push_str(failure.lines().next().unwrap_or_default());
                report.push('\n');
            }
        }
        panic!(
            "{} of {checked} checks failed on OTP {}:\n\n{report}",
            self.found.len(),
            self.release
        );
    }
}
