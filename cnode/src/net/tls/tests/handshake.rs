//! Each configuration accepts the peers it should and refuses the others,
//! proven by handshakes in memory.

use super::{handshake, identity, Pki, Refused, TRUST};
use rustls::{CertificateError, Error, ProtocolVersion};

/// The certificate error a side gave up with.
fn certificate_error(refused: Result<super::Pair, Refused>) -> (&'static str, CertificateError) {
    match refused {
        Err(Refused::Client(Error::InvalidCertificate(e))) => ("client", e),
        Err(Refused::Server(Error::InvalidCertificate(e))) => ("server", e),
        Err(other) => panic!("refused, but not for the certificate: {other:?}"),
        Ok(_) => panic!("the handshake succeeded"),
    }
}

#[test]
fn mutual_tls_from_pem_connects_by_name_and_by_ip_over_tls13() {
    let pki = Pki::new();
    let (server, client) = (pki.mutual("node"), pki.mutual("peer"));
    let pair = handshake(&server, &client, "localhost").unwrap();
    assert_eq!(pair.server.server_name(), Some("localhost"));
    assert_eq!(
        pair.client.protocol_version(),
        Some(ProtocolVersion::TLSv1_3)
    );
    assert!(pair.server.peer_certificates().is_some());

    let pair = handshake(&server, &client, "127.0.0.1").unwrap();
    assert_eq!(pair.server.server_name(), None, "no SNI for an IP address");
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    let client = pki.sections(&[&identity("peer")], &[&identity("stranger"), TRUST]);
    let (side, error) = certificate_error(handshake(&pki.mutual("node"), &client, "localhost"));
    assert_eq!((side, error), ("server", CertificateError::UnknownIssuer));
}

#[test]
fn a_server_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    let server = pki.sections(&[&identity("stranger")], &[TRUST]);
    let (side, error) = certificate_error(handshake(&server, &pki.mutual("peer"), "localhost"));
    assert_eq!((side, error), ("client", CertificateError::UnknownIssuer));
}

#[test]
fn expired_certificates_are_refused_both_ways() {
    let pki = Pki::new();
    let expired = pki.mutual("expired");
    let (side, error) = certificate_error(handshake(&expired, &pki.mutual("peer"), "localhost"));
    assert_eq!(side, "client");
    assert!(
        matches!(error, CertificateError::ExpiredContext { .. }),
        "{error:?}"
    );
    let (side, error) = certificate_error(handshake(&pki.mutual("node"), &expired, "localhost"));
    assert_eq!(side, "server");
    assert!(
        matches!(error, CertificateError::ExpiredContext { .. }),
        "{error:?}"
    );
}

#[test]
fn fail_if_no_peer_cert_refuses_a_client_without_certificate() {
    let pki = Pki::new();
    let anonymous = pki.sections(&[&identity("peer")], &[TRUST]);
    let strict = pki.sections(
        &[
            &identity("node"),
            TRUST,
            "{verify, verify_peer}",
            "{fail_if_no_peer_cert, true}",
        ],
        &[TRUST],
    );
    match handshake(&strict, &anonymous, "localhost") {
        Err(Refused::Server(Error::NoCertificatesPresented)) => {}
        other => panic!("expected the server to refuse: {:?}", other.err()),
    }
    // verify_peer alone asks for a certificate and takes a client without.
    let lenient = pki.sections(
        &[&identity("node"), TRUST, "{verify, verify_peer}"],
        &[TRUST],
    );
    let pair = handshake(&lenient, &anonymous, "localhost").unwrap();
    assert!(pair.server.peer_certificates().is_none());
    // ...but checks one that is given.
    let stranger = pki.sections(&[&identity("peer")], &[&identity("stranger"), TRUST]);
    let (side, _) = certificate_error(handshake(&lenient, &stranger, "localhost"));
    assert_eq!(side, "server");
}

#[test]
fn the_host_name_is_checked_unless_sni_is_disabled() {
    let pki = Pki::new();
    let server = pki.mutual("node");
    let (side, error) = certificate_error(handshake(&server, &pki.mutual("peer"), "elsewhere"));
    assert_eq!(side, "client");
    assert!(
        matches!(error, CertificateError::NotValidForNameContext { .. }),
        "{error:?}"
    );

    let unnamed = pki.sections(
        &[&identity("peer")],
        &[
            &identity("peer"),
            TRUST,
            "{server_name_indication, disable}",
        ],
    );
    let pair = handshake(&server, &unnamed, "elsewhere").unwrap();
    assert_eq!(pair.server.server_name(), None, "no SNI sent");
    // The chain is still checked.
    let stranger = pki.sections(&[&identity("stranger")], &[TRUST]);
    let (side, error) = certificate_error(handshake(&stranger, &unnamed, "elsewhere"));
    assert_eq!((side, error), ("client", CertificateError::UnknownIssuer));
}

#[test]
fn a_fixed_server_name_is_sent_and_checked_whatever_the_host() {
    let pki = Pki::new();
    let fixed = |name: &str| {
        let sni = format!("{{server_name_indication, \"{name}\"}}");
        pki.sections(&[&identity("peer")], &[&identity("peer"), TRUST, &sni])
    };
    let pair = handshake(&pki.mutual("node"), &fixed("localhost"), "10.1.2.3").unwrap();
    assert_eq!(pair.server.server_name(), Some("localhost"));
    let (side, _) = certificate_error(handshake(
        &pki.mutual("node"),
        &fixed("other.example"),
        "localhost",
    ));
    assert_eq!(side, "client");
}

#[test]
fn verify_none_accepts_any_server_certificate() {
    let pki = Pki::new();
    let trusting = pki.sections(&[&identity("peer")], &["{verify, verify_none}"]);
    for server in ["stranger", "expired"] {
        let server = pki.sections(&[&identity(server)], &[TRUST]);
        handshake(&server, &trusting, "elsewhere").unwrap();
    }
}

#[test]
fn option_files_pin_tls12_unless_versions_are_given() {
    let pki = Pki::new();
    let pinned = pki.sections(&[&identity("node")], &[TRUST]);
    let pair = handshake(&pinned, &pki.mutual("peer"), "localhost").unwrap();
    assert_eq!(
        pair.client.protocol_version(),
        Some(ProtocolVersion::TLSv1_2)
    );

    let tls13 = pki.sections(
        &[&identity("node"), "{versions, ['tlsv1.3']}"],
        &[TRUST, "{versions, ['tlsv1.3']}"],
    );
    let pair = handshake(&tls13, &tls13, "localhost").unwrap();
    assert_eq!(
        pair.client.protocol_version(),
        Some(ProtocolVersion::TLSv1_3)
    );
    assert!(handshake(&pinned, &tls13, "localhost").is_err());
}

#[test]
fn reuse_sessions_false_turns_resumption_off() {
    let pki = Pki::new();
    let config = pki.sections(
        &[
            &identity("node"),
            "{reuse_sessions, false}",
            "{honor_cipher_order, true}",
        ],
        &[TRUST, "{reuse_sessions, false}"],
    );
    assert_eq!(config.server_config().send_tls13_tickets, 0);
    assert!(config.server_config().ignore_client_order);
    assert!(!config.server_config().session_storage.can_cache());
    handshake(&config, &config, "localhost").unwrap();
}
