//! OTP's `-ssl_dist_optfile`: one Erlang term, `[{server, Opts}, {client,
//! Opts}].`, read into the options of each side.
//!
//! OTP evaluates the file as an Erlang expression (`ssl_dist_sup:consult/1`)
//! and keeps only the `server` and `client` entries: options outside them
//! are silently ignored there, so here a list of bare options (the form of
//! an `ssl:connect/3` call) is an error. This parser reads literal terms
//! only; the one function call OTP's documentation puts in such files,
//! `public_key:pkix_verify_hostname_match_fun(https)`, is recognised.

use super::error::TlsConfigError;
use super::options::{PeerName, SideOptions, Verify};
use etf::Term;
use rustls::pki_types::ServerName;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The options of both sides.
#[derive(Debug)]
pub(super) struct OptFile {
    pub(super) server: SideOptions,
    pub(super) client: SideOptions,
}

/// Reads and checks the option file at `path`.
pub(super) fn read(path: &Path) -> Result<OptFile, TlsConfigError> {
    let bytes = std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &decode(&bytes))
}

/// The file's text: UTF-8, or else Latin-1 (OTP's default for a file
/// without an encoding comment).
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Parses the text of the option file at `path`.
pub(super) fn parse(path: &Path, text: &str) -> Result<OptFile, TlsConfigError> {
    let text = replace_match_fun(text);
    let term = etf::parse_term(&text).map_err(|source| TlsConfigError::Syntax {
        path: path.to_owned(),
        source,
    })?;
    let layout = |problem: String| TlsConfigError::Layout {
        path: path.to_owned(),
        problem,
    };
    let entries = term.to_list().ok_or_else(|| {
        layout(format!(
            "expected a list [{{server, Opts}}, {{client, Opts}}], found {term}"
        ))
    })?;
    let mut server = None;
    let mut client = None;
    for entry in &entries {
        let (slot, section, options) = match entry.as_tuple() {
            Some([name, options]) if name.is_atom("server") => (&mut server, "server", options),
            Some([name, options]) if name.is_atom("client") => (&mut client, "client", options),
            _ => {
                return Err(layout(format!(
                    "expected {{server, Opts}} or {{client, Opts}}, found {entry} \
                     (OTP ignores options outside these two)"
                )))
            }
        };
        if slot.is_some() {
            return Err(layout(format!("`{section}` given twice")));
        }
        *slot = Some(Section { path, section }.read(options)?);
    }
    let missing = |section| layout(format!("no {{{section}, Opts}} entry"));
    Ok(OptFile {
        server: server.ok_or_else(|| missing("server"))?,
        client: client.ok_or_else(|| missing("client"))?,
    })
}

/// The atom that stands for `public_key:pkix_verify_hostname_match_fun(https)`
/// once [`replace_match_fun`] has replaced the call.
const HTTPS_MATCH_FUN: &str = "'$https_match_fun'";

/// Replaces each `public_key:pkix_verify_hostname_match_fun(https)` call
/// (white space allowed between its tokens) by [`HTTPS_MATCH_FUN`] padded
/// with spaces, keeping line breaks: the parser's positions stay those of
/// the file.
fn replace_match_fun(text: &str) -> Cow<'_, str> {
    const TOKENS: [&str; 6] = [
        "public_key",
        ":",
        "pkix_verify_hostname_match_fun",
        "(",
        "https",
        ")",
    ];
    let mut out = Cow::Borrowed(text);
    let mut from = 0;
    while let Some(found) = text[from..].find(TOKENS[0]) {
        let start = from + found;
        from = start + TOKENS[0].len();
        let mut end = start;
        let matched = TOKENS.iter().all(|token| {
            end += text[end..].len() - text[end..].trim_start().len();
            let hit = text[end..].starts_with(token);
            end += token.len();
            hit
        });
        let bounded = !text[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if matched && bounded {
            let span = &text[start..end];
            let padding =
                span[HTTPS_MATCH_FUN.len()..]
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' });
            let replacement: String = HTTPS_MATCH_FUN.chars().chain(padding).collect();
            out.to_mut().replace_range(start..end, &replacement);
            from = end;
        }
    }
    out
}

/// One section being read: where errors point.
struct Section<'a> {
    path: &'a Path,
    section: &'static str,
}

impl Section<'_> {
    fn read(&self, options: &Term) -> Result<SideOptions, TlsConfigError> {
        let options = options.to_list().ok_or_else(|| TlsConfigError::Layout {
            path: self.path.to_owned(),
            problem: format!(
                "expected a list of options for `{}`, found {options}",
                self.section
            ),
        })?;
        let mut side = SideOptions::otp_defaults();
        let mut seen: Vec<&str> = Vec::new();
        for option in &options {
            let Some([name, value]) = option.as_tuple() else {
                return Err(self.layout(format!("expected {{Option, Value}}, found {option}")));
            };
            let Some(name) = name.as_atom().map(|a| a.as_str()) else {
                return Err(self.layout(format!("expected {{Option, Value}}, found {option}")));
            };
            if seen.contains(&name) {
                return Err(self.layout(format!("`{name}` given twice")));
            }
            seen.push(name);
            self.apply(&mut side, name, value)?;
        }
        Ok(side)
    }

    /// Sets option `name` to `value` in `side`, or says why not.
    fn apply(
        &self,
        side: &mut SideOptions,
        name: &str,
        value: &Term,
    ) -> Result<(), TlsConfigError> {
        let server = self.section == "server";
        match name {
            "certfile" => side.certfile = Some(self.file(name, value)?),
            "keyfile" => side.keyfile = Some(self.file(name, value)?),
            "cacertfile" => side.cacertfile = Some(self.file(name, value)?),
            "verify" => {
                side.verify = Some(match value {
                    v if v.is_atom("verify_peer") => Verify::Peer,
                    v if v.is_atom("verify_none") => Verify::None,
                    v => return Err(self.bad(name, "verify_peer or verify_none", v)),
                })
            }
            "versions" => side.versions = self.versions(name, value)?,
            "reuse_sessions" => side.reuse_sessions = self.boolean(name, value)?,
            "fail_if_no_peer_cert" if server => {
                side.fail_if_no_peer_cert = self.boolean(name, value)?
            }
            "honor_cipher_order" if server => {
                side.honor_cipher_order = self.boolean(name, value)?
            }
            "server_name_indication" if !server => side.peer_name = self.peer_name(name, value)?,
            "customize_hostname_check" if !server => self.hostname_check(name, value)?,
            // OTP 25's `ssl` lets a client say `false` and refuses `true`.
            "fail_if_no_peer_cert" if !self.boolean(name, value)? => {}
            "fail_if_no_peer_cert" | "honor_cipher_order" | "dhfile" => {
                return Err(self.unsupported(name, "a server option; OTP refuses it for a client"))
            }
            // OTP's `ssl` ignores these on a server; they are checked all
            // the same, for a file whose sections share their options.
            "server_name_indication" => {
                self.peer_name(name, value)?;
            }
            "customize_hostname_check" => self.hostname_check(name, value)?,
            // Accepted, with nothing to do here.
            "secure_renegotiate" => {
                self.boolean(name, value)?;
                tracing::debug!(
                    option = name,
                    "TLS option without effect: rustls never renegotiates"
                );
            }
            "depth" => {
                value
                    .as_u64()
                    .ok_or_else(|| self.bad(name, "a non-negative integer", value))?;
                tracing::debug!(
                    option = name,
                    "TLS option without effect: webpki bounds chain length itself"
                );
            }
            "hibernate_after" => {
                if value.as_u64().is_none() && !value.is_atom("infinity") {
                    return Err(self.bad(name, "a non-negative integer or infinity", value));
                }
            }
            "log_level" => {
                const LEVELS: [&str; 10] = [
                    "none",
                    "all",
                    "emergency",
                    "alert",
                    "critical",
                    "error",
                    "warning",
                    "notice",
                    "info",
                    "debug",
                ];
                if !LEVELS.iter().any(|level| value.is_atom(level)) {
                    return Err(self.bad(name, "a logger level, e.g. notice", value));
                }
                tracing::debug!(
                    option = name,
                    "TLS option without effect: rustls logs through tracing's levels"
                );
            }
            "password" => match self.string(value) {
                Some(password) if password.is_empty() => {}
                _ => {
                    return Err(self.unsupported(
                        name,
                        "encrypted keys cannot be read; give the key decrypted \
                         (e.g. `openssl pkey -in KEY -out PLAIN`)",
                    ))
                }
            },
            "verify_fun" | "partial_chain" | "sni_fun" => {
                return Err(self.unsupported(name, "functions cannot be run by this node"))
            }
            "ciphers" => {
                return Err(self.unsupported(
                    name,
                    "rustls offers its own safe cipher suites; choose TLS versions with `versions`",
                ))
            }
            "cacerts" | "cert" | "key" | "certs_keys" => {
                return Err(self.unsupported(
                    name,
                    "give PEM files with `certfile`, `keyfile` and `cacertfile`",
                ))
            }
            "crl_check" | "crl_cache" => {
                return Err(self.unsupported(name, "revocation lists are not implemented"))
            }
            "ktls" => return Err(self.unsupported(name, "kernel TLS is not implemented")),
            "sni_hosts" => {
                return Err(self.unsupported(name, "a node has one certificate for every name"))
            }
            _ => return Err(self.unsupported(name, "unknown to this node")),
        }
        Ok(())
    }

    fn file(&self, name: &str, value: &Term) -> Result<PathBuf, TlsConfigError> {
        match self.string(value) {
            Some(text) if !text.is_empty() => Ok(PathBuf::from(text)),
            _ => Err(self.bad(name, "a file name", value)),
        }
    }

    /// An Erlang string (a list of characters) or a UTF-8 binary.
    fn string(&self, value: &Term) -> Option<String> {
        if let Some(text) = value.as_utf8() {
            return Some(text.to_owned());
        }
        value
            .to_list()?
            .iter()
            .map(|c| {
                c.as_u64()
                    .and_then(|c| u32::try_from(c).ok())
                    .and_then(char::from_u32)
            })
            .collect()
    }

    fn boolean(&self, name: &str, value: &Term) -> Result<bool, TlsConfigError> {
        value
            .as_bool()
            .ok_or_else(|| self.bad(name, "true or false", value))
    }

    fn versions(
        &self,
        name: &str,
        value: &Term,
    ) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsConfigError> {
        const EXPECTED: &str = "a non-empty list of 'tlsv1.2' and 'tlsv1.3'";
        let list = value
            .to_list()
            .ok_or_else(|| self.bad(name, EXPECTED, value))?;
        let mut versions = Vec::new();
        for version in &list {
            let version = match version {
                v if v.is_atom("tlsv1.2") => &rustls::version::TLS12,
                v if v.is_atom("tlsv1.3") => &rustls::version::TLS13,
                _ => return Err(self.bad(name, EXPECTED, value)),
            };
            if !versions.contains(&version) {
                versions.push(version);
            }
        }
        if versions.is_empty() {
            return Err(self.bad(name, EXPECTED, value));
        }
        Ok(versions)
    }

    fn peer_name(&self, name: &str, value: &Term) -> Result<PeerName, TlsConfigError> {
        const EXPECTED: &str = "disable or a host name";
        if value.is_atom("disable") {
            return Ok(PeerName::Unchecked);
        }
        let host = self
            .string(value)
            .ok_or_else(|| self.bad(name, EXPECTED, value))?;
        ServerName::try_from(host)
            .map(PeerName::Fixed)
            .map_err(|_| self.bad(name, EXPECTED, value))
    }

    /// `customize_hostname_check`: `[]`, or the `https` match fun alone,
    /// which matches as webpki does (a `*` as the whole leftmost label).
    fn hostname_check(&self, name: &str, value: &Term) -> Result<(), TlsConfigError> {
        let list = value
            .to_list()
            .ok_or_else(|| self.bad(name, "a list", value))?;
        for item in &list {
            match item.as_tuple() {
                Some([key, fun])
                    if key.is_atom("match_fun")
                        && fun.is_atom(HTTPS_MATCH_FUN.trim_matches('\'')) => {}
                _ => {
                    return Err(self.unsupported(
                        name,
                        "only [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}] \
                         is implemented",
                    ))
                }
            }
        }
        Ok(())
    }

    fn layout(&self, problem: String) -> TlsConfigError {
        TlsConfigError::Layout {
            path: self.path.to_owned(),
            problem: format!("{}: {problem}", self.section),
        }
    }

    fn bad(&self, option: &str, expected: &'static str, found: &Term) -> TlsConfigError {
        TlsConfigError::BadValue {
            path: self.path.to_owned(),
            section: self.section,
            option: option.to_owned(),
            expected,
            found: found.to_string(),
        }
    }

    fn unsupported(&self, option: &str, reason: &'static str) -> TlsConfigError {
        TlsConfigError::Unsupported {
            path: self.path.to_owned(),
            section: self.section,
            option: option.to_owned(),
            reason,
        }
    }
}
