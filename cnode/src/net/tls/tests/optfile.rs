//! Option files: every option read, every refusal naming its option and
//! its file.

use super::super::error::TlsConfigError;
use super::super::optfile::parse;
use super::super::options::{PeerName, Verify};
use super::{handshake, identity, Pki, TRUST};
use rustls::pki_types::ServerName;
use std::path::{Path, PathBuf};

const FILE: &str = "/etc/dist.conf";

type OptFile = super::super::optfile::OptFile;

/// Parses an option file whose `name` section holds `options`, the other
/// none.
fn section(name: &str, options: &str) -> Result<OptFile, TlsConfigError> {
    let (server, client) = if name == "server" {
        (options, "")
    } else {
        ("", options)
    };
    parse(
        Path::new(FILE),
        &format!("[{{server, [{server}]}}, {{client, [{client}]}}]."),
    )
}

#[test]
fn every_supported_option_is_read() {
    let file = parse(
        Path::new(FILE),
        r#"[{server, [{certfile, "/s.pem"}, {keyfile, <<"/s.key">>}, {cacertfile, "/ca.pem"},
                      {verify, verify_peer}, {fail_if_no_peer_cert, true},
                      {versions, ['tlsv1.3', 'tlsv1.2']}, {honor_cipher_order, true},
                      {reuse_sessions, false}, {secure_renegotiate, true}, {depth, 2},
                      {log_level, notice}, {hibernate_after, 1000}, {password, ""}]},
            {client, [{verify, verify_none}, {server_name_indication, "node.example"},
                      {customize_hostname_check,
                       [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}]}]."#,
    )
    .unwrap();
    let s = &file.server;
    assert_eq!(s.certfile.as_deref(), Some(Path::new("/s.pem")));
    assert_eq!(s.keyfile.as_deref(), Some(Path::new("/s.key")));
    assert_eq!(s.cacertfile.as_deref(), Some(Path::new("/ca.pem")));
    assert_eq!(s.verify, Some(Verify::Peer));
    assert!(s.fail_if_no_peer_cert && s.honor_cipher_order && !s.reuse_sessions);
    assert_eq!(
        s.versions,
        [&rustls::version::TLS13, &rustls::version::TLS12]
    );
    let c = &file.client;
    assert_eq!(c.verify, Some(Verify::None));
    assert_eq!(c.versions, [&rustls::version::TLS12], "OTP pins TLS 1.2");
    let name = ServerName::try_from("node.example").unwrap();
    assert_eq!(c.peer_name, PeerName::Fixed(name));
    assert_eq!(
        section("client", "{server_name_indication, disable}")
            .unwrap()
            .client
            .peer_name,
        PeerName::Unchecked
    );
}

#[test]
fn options_otp_ignores_in_the_other_section_are_accepted() {
    let shared = "{server_name_indication, disable}, {customize_hostname_check, []}, \
                  {fail_if_no_peer_cert, false}, {reuse_sessions, true}";
    let file = parse(
        Path::new(FILE),
        &format!("[{{server, [{shared}]}}, {{client, [{shared}]}}]."),
    )
    .unwrap();
    assert_eq!(file.server.peer_name, PeerName::NodeHost);
    assert_eq!(file.client.peer_name, PeerName::Unchecked);
    assert!(!file.client.fail_if_no_peer_cert);
}

#[test]
fn the_match_fun_call_keeps_the_positions_of_later_errors() {
    let text = "[{client, [{customize_hostname_check, [{match_fun,\n  public_key : pkix_verify_hostname_match_fun( https )}]}]},\n {server, [}]}].";
    match parse(Path::new(FILE), text) {
        Err(TlsConfigError::Syntax { source, .. }) => {
            assert_eq!((source.line(), source.column()), (3, 12))
        }
        other => panic!("{other:?}"),
    }
}

/// What an error is about: (variant, option), option empty where none.
fn kind(error: &TlsConfigError) -> (&'static str, &str) {
    match error {
        TlsConfigError::Unsupported { option, path, .. } => {
            assert_eq!(path, Path::new(FILE));
            ("unsupported", option)
        }
        TlsConfigError::BadValue { option, path, .. } => {
            assert_eq!(path, Path::new(FILE));
            ("bad value", option)
        }
        TlsConfigError::Layout { .. } => ("layout", ""),
        TlsConfigError::Syntax { .. } => ("syntax", ""),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn refusals_name_their_option() {
    let cases = [
        (
            "server",
            r#"{password, "secret"}"#,
            ("unsupported", "password"),
        ),
        (
            "server",
            "{verify_fun, {inet_tls_dist, verify_client, []}}",
            ("unsupported", "verify_fun"),
        ),
        (
            "client",
            "{verify_fun, {fun inet_tls_dist:verify_client/3, []}}",
            ("unsupported", "verify_fun"),
        ),
        (
            "server",
            r#"{ciphers, ["ECDHE-ECDSA-AES256-GCM-SHA384"]}"#,
            ("unsupported", "ciphers"),
        ),
        (
            "server",
            "{cacerts, [<<1,2,3>>]}",
            ("unsupported", "cacerts"),
        ),
        ("server", "{crl_check, true}", ("unsupported", "crl_check")),
        (
            "server",
            r#"{dhfile, "/dh.pem"}"#,
            ("unsupported", "dhfile"),
        ),
        ("server", "{ktls, true}", ("unsupported", "ktls")),
        ("server", "{frobnicate, 1}", ("unsupported", "frobnicate")),
        (
            "client",
            "{fail_if_no_peer_cert, true}",
            ("unsupported", "fail_if_no_peer_cert"),
        ),
        (
            "client",
            "{honor_cipher_order, true}",
            ("unsupported", "honor_cipher_order"),
        ),
        (
            "server",
            "{customize_hostname_check, [{match_fun, {m, f}}]}",
            ("unsupported", "customize_hostname_check"),
        ),
        (
            "client",
            "{fail_if_no_peer_cert, nope}",
            ("bad value", "fail_if_no_peer_cert"),
        ),
        (
            "client",
            "{customize_hostname_check, [{match_fun, {m, f}}]}",
            ("unsupported", "customize_hostname_check"),
        ),
        ("client", "{verify, verify_always}", ("bad value", "verify")),
        (
            "client",
            "{versions, ['tlsv1.1']}",
            ("bad value", "versions"),
        ),
        ("client", "{versions, []}", ("bad value", "versions")),
        ("client", "{certfile, 42}", ("bad value", "certfile")),
        (
            "client",
            "{reuse_sessions, yes}",
            ("bad value", "reuse_sessions"),
        ),
        ("client", "{depth, -1}", ("bad value", "depth")),
        ("client", "{log_level, chatty}", ("bad value", "log_level")),
        (
            "client",
            "{server_name_indication, 42}",
            ("bad value", "server_name_indication"),
        ),
        (
            "client",
            "{verify, verify_peer}, {verify, verify_none}",
            ("layout", ""),
        ),
        ("client", "verify_peer", ("layout", "")),
    ];
    for (name, option, expected) in cases {
        let error = section(name, option).expect_err(option);
        assert_eq!(kind(&error), expected, "{option}: {error}");
        assert!(error.to_string().starts_with(FILE), "{error}");
    }
}

#[test]
fn only_the_otp_layout_is_read() {
    for text in [
        r#"[{certfile, "/s.pem"}, {verify, verify_peer}]."#,
        "[{server, []}].",
        "[{server, []}, {server, []}, {client, []}].",
        "{server, []}.",
        "[{server, {certfile, \"/s.pem\"}}, {client, []}].",
    ] {
        let error = parse(Path::new(FILE), text).expect_err(text);
        assert_eq!(kind(&error), ("layout", ""), "{text}: {error}");
    }
    let error = parse(Path::new(FILE), "[{server, [}].").unwrap_err();
    assert_eq!(kind(&error), ("syntax", ""));
}

#[test]
fn file_errors_name_the_file() {
    let pki = Pki::new();
    let missing = pki.path("missing.conf");
    match super::super::TlsConfig::from_optfile(&missing) {
        Err(TlsConfigError::Read { path, .. }) => assert_eq!(path, missing),
        other => panic!("{other:?}"),
    }
    let pem = |name: &str| pki.path(name);
    let from_pem = |cert: &str, key: &str, ca: &str| {
        super::super::TlsConfig::from_pem(pem(cert), pem(key), pem(ca)).unwrap_err()
    };
    match from_pem("node.pem", "peer.key", "ca.pem") {
        TlsConfigError::KeyMismatch { cert, key } => {
            assert_eq!((cert, key), (pem("node.pem"), pem("peer.key")))
        }
        other => panic!("{other:?}"),
    }
    let about = |error: TlsConfigError| -> PathBuf {
        match error {
            TlsConfigError::Pem { path, .. } | TlsConfigError::Read { path, .. } => path,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        about(from_pem("node.pem", "node.key", "empty.pem")),
        pem("empty.pem")
    );
    assert_eq!(
        about(from_pem("empty.pem", "node.key", "ca.pem")),
        pem("empty.pem")
    );
    assert_eq!(
        about(from_pem("node.pem", "node.pem", "ca.pem")),
        pem("node.pem")
    );
    assert_eq!(
        about(from_pem("node.pem", "encrypted.key", "ca.pem")),
        pem("encrypted.key")
    );
    assert_eq!(
        about(from_pem("node.pem", "nothere.key", "ca.pem")),
        pem("nothere.key")
    );
    let error = from_pem("node.pem", "encrypted.key", "ca.pem");
    assert!(error.to_string().contains("encrypted"), "{error}");
}

#[test]
fn options_that_do_not_fit_together_are_refused() {
    let pki = Pki::new();
    for (server, client) in [
        (vec![identity("node")], vec![]), // client: verify_peer, no CA
        (vec![], vec![TRUST.to_owned()]), // server: no certificate
        (
            vec![identity("node"), "{verify, verify_peer}".into()],
            vec![TRUST.to_owned()],
        ),
        (
            vec![identity("node"), "{fail_if_no_peer_cert, true}".into()],
            vec![TRUST.to_owned()],
        ),
        (
            vec![identity("node")],
            vec![TRUST.to_owned(), "{keyfile, \"{dir}/node.key\"}".into()],
        ),
    ] {
        let text = format!(
            "[{{server, [{}]}}, {{client, [{}]}}].",
            server.join(","),
            client.join(",")
        );
        match pki.optfile(&text) {
            Err(TlsConfigError::Incomplete { path, .. }) => assert_eq!(path, pki.path("dist.conf")),
            other => panic!("{text}: {other:?}"),
        }
    }
}

/// An option file in the style of the inter-node TLS guides of RabbitMQ
/// and EMQX: comments, full paths, the secure defaults spelled out, the
/// `https` match fun for wildcard certificates.
#[test]
fn a_realistic_option_file_is_read_and_connects() {
    let pki = Pki::new();
    let text = r#"%% -*- mode: erlang -*-
%% Inter-node TLS for the cluster: every node presents its own
%% certificate and trusts the cluster CA only.
[
  {server, [
    {cacertfile, "{dir}/ca.pem"},
    {certfile,   "{dir}/node.pem"},
    {keyfile,    "{dir}/node.key"},
    {secure_renegotiate, true},
    {verify, verify_peer},
    {fail_if_no_peer_cert, true},
    {depth, 3}
  ]},
  {client, [
    {cacertfile, "{dir}/ca.pem"},
    {certfile,   "{dir}/node.pem"},
    {keyfile,    "{dir}/node.key"},
    {secure_renegotiate, true},
    {verify, verify_peer},
    {customize_hostname_check, [
      {match_fun, public_key:pkix_verify_hostname_match_fun(https)}
    ]}
  ]}
].
"#;
    let config = pki.optfile(text).unwrap();
    let pair = handshake(&config, &config, "localhost").unwrap();
    assert_eq!(
        pair.client.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert!(pair.server.peer_certificates().is_some());
}
