//! The structural scanner of streaming `encode`: finds where one element of
//! a list or tuple ends, without lexing it.
//!
//! The elements themselves are parsed by `etf::parse_term`; the scanner only
//! has to agree with it on where an element stops: at a `,`, `|`, `]` or `}`
//! outside any bracket, string, quoted atom, `$` character or comment. It
//! tracks `[ ]`, `{ }`, `<< >>` and the single angle brackets of pids, ports,
//! references and `#Fun<…>`, whose fields are separated by commas. It is
//! resumable: when the text read so far ends inside an element, scanning
//! continues from where it stopped once more text has arrived.

/// A bracket still open inside the element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    /// `[` or `{`: closed by `]` or `}` (which one is the parser's concern).
    Bracket,
    /// `<<`, closed by `>>`.
    Bits,
    /// `<` of a pid, port, reference or `#Fun<`, closed by `>`.
    Angle,
}

/// What the previous bytes left the scanner inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Code,
    /// Inside a string (`"`) or a quoted atom (`'`).
    Quoted(u8),
    /// Just after a `\` inside a string or quoted atom.
    Escaped(u8),
    /// A `%` comment, up to the end of the line.
    Comment,
    /// Just after `$`: the next character is the value, whatever it is.
    Char,
    /// After `$\`: one more character is part of the value.
    CharEscape,
    /// After `$\^`: one more character is part of the value.
    CharCaret,
}

/// Where the scan of one element stands.
#[derive(Debug)]
pub(super) struct Scan {
    /// The next byte to look at, from the start of the element.
    at: usize,
    opens: Vec<Open>,
    mode: Mode,
    /// Whether the last byte that was not blank or comment was a `.` of
    /// code (`[1., 2]` must fail, though `parse_term("1.")` accepts the dot
    /// that ends a document).
    ends_in_dot: Option<usize>,
}

/// The outcome of [`Scan::run`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// The element is the first `n` bytes; the delimiter (or the end of the
    /// input) follows.
    End(usize),
    /// The text so far ends inside the element.
    More,
}

impl Scan {
    /// A scan from the first byte of an element.
    pub(super) fn new() -> Scan {
        Scan {
            at: 0,
            opens: Vec::new(),
            mode: Mode::Code,
            ends_in_dot: None,
        }
    }

    /// How many bytes have been looked at.
    pub(super) fn scanned(&self) -> usize {
        self.at
    }

    /// The offset of a final `.` of code in the element, if it ends in one.
    pub(super) fn final_dot(&self) -> Option<usize> {
        self.ends_in_dot
    }

    /// Scans on through `text` (the element's text from its start, as much
    /// as has been read); `eof` says whether more can come.
    pub(super) fn run(&mut self, text: &[u8], eof: bool) -> Step {
        while let Some(&b) = text.get(self.at) {
            let mut width = 1;
            match self.mode {
                Mode::Code => {
                    match b {
                        b'"' | b'\'' => self.mode = Mode::Quoted(b),
                        b'%' => self.mode = Mode::Comment,
                        b'$' => self.mode = Mode::Char,
                        b'[' | b'{' => self.opens.push(Open::Bracket),
                        b'<' => match text.get(self.at + 1) {
                            Some(b'<') => {
                                self.opens.push(Open::Bits);
                                width = 2;
                            }
                            None if !eof => return Step::More,
                            _ => self.opens.push(Open::Angle),
                        },
                        b'>' => match self.opens.last() {
                            Some(Open::Angle) => {
                                self.opens.pop();
                            }
                            Some(Open::Bits) => match text.get(self.at + 1) {
                                Some(b'>') => {
                                    self.opens.pop();
                                    width = 2;
                                }
                                None if !eof => return Step::More,
                                _ => {}
                            },
                            _ => {}
                        },
                        b']' | b'}' | b',' | b'|' if self.opens.is_empty() => {
                            return Step::End(self.at);
                        }
                        b']' | b'}' => {
                            self.opens.pop();
                        }
                        _ => {}
                    }
                    if !b.is_ascii_whitespace() && b != b'%' {
                        self.ends_in_dot = (b == b'.').then_some(self.at);
                    }
                }
                Mode::Quoted(quote) => {
                    if b == b'\\' {
                        self.mode = Mode::Escaped(quote);
                    } else if b == quote {
                        self.mode = Mode::Code;
                    }
                    self.ends_in_dot = None;
                }
                Mode::Escaped(quote) => self.mode = Mode::Quoted(quote),
                Mode::Comment => {
                    if b == b'\n' {
                        self.mode = Mode::Code;
                    }
                }
                Mode::Char => {
                    self.mode = if b == b'\\' {
                        Mode::CharEscape
                    } else {
                        Mode::Code
                    };
                    self.ends_in_dot = None;
                }
                Mode::CharEscape => {
                    self.mode = if b == b'^' {
                        Mode::CharCaret
                    } else {
                        Mode::Code
                    };
                }
                Mode::CharCaret => self.mode = Mode::Code,
            }
            self.at += width;
        }
        if eof {
            Step::End(text.len())
        } else {
            Step::More
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(text: &str) -> usize {
        match Scan::new().run(text.as_bytes(), true) {
            Step::End(n) => n,
            Step::More => unreachable!("eof given"),
        }
    }

    #[test]
    fn stops_at_the_first_delimiter_outside_brackets() {
        assert_eq!(end("{a, [b, c]}, d"), 11);
        assert_eq!(end("<<1, 2>>]"), 8);
        assert_eq!(end("#{a => <0.1.2>}}"), 15);
        assert_eq!(end("#Fun<m.1.2,3,4,16#1,5,6,<0.1.2>,[x, y]> | t"), 40);
        assert_eq!(end("\"a,]\\\"b\" \"c\", x"), 12);
        assert_eq!(end("'a,b' % c, d\n , x"), 14);
        assert_eq!(end("$, , x"), 3);
        assert_eq!(end("$\\^[, x"), 4);
        assert_eq!(end("$\\\", x"), 3);
    }

    #[test]
    fn resumes_where_the_text_ran_out() {
        let text = b"{a, <<1>>, \"x,y\"}, b";
        let mut scan = Scan::new();
        for cut in [3, 5, 6, 8, 13] {
            assert_eq!(scan.run(&text[..cut], false), Step::More);
        }
        assert_eq!(scan.run(text, false), Step::End(17));
    }

    #[test]
    fn notices_a_final_dot() {
        let mut scan = Scan::new();
        scan.run(b"1. ]", true);
        assert_eq!(scan.final_dot(), Some(1));
        let mut scan = Scan::new();
        scan.run(b"'a.' % x.\n]", true);
        assert_eq!(scan.final_dot(), None);
    }
}
