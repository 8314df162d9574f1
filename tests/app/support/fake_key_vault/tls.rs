//! Real TLS for the fake vault: a throwaway CA and a `localhost`/`127.0.0.1`
//! server certificate made at start, and an axum [`Listener`] that does the
//! rustls handshake.
//!
//! Real TLS rather than a rewriting transport, so the handler runs its
//! production HTTP stack unchanged and only trusts the CA via `SSL_CERT_FILE`.

use axum::serve::Listener;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A CA (PEM, to trust) and a rustls config serving a certificate it signed.
pub struct TlsMaterial {
    pub ca_pem: String,
    pub config: Arc<ServerConfig>,
}

/// Makes the CA and the server certificate (ECDSA P-256: fast to generate).
pub fn make_material() -> TlsMaterial {
    let ca_key = KeyPair::generate().expect("fake vault: CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("fake vault: CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.distinguished_name.push(DnType::CommonName, "Fake Key Vault Test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("fake vault: CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().expect("fake vault: server key");
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("fake vault: server params");
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.signed_by(&key, &issuer).expect("fake vault: server certificate");

    // An explicit provider: the test binaries link both ring and aws-lc-rs, so
    // rustls cannot pick a process default by itself.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("fake vault: TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
        .expect("fake vault: TLS config");
    // axum here speaks HTTP/1.1 only; advertising it keeps h2-capable clients on it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsMaterial { ca_pem: ca_cert.pem(), config: Arc::new(config) }
}

/// Accepted TLS connections, handshaken off the accept path so one stalled
/// or failed handshake (e.g. a plain-HTTP client) cannot block the others.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp`; must run inside a tokio runtime.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> TlsListener {
        let addr = tcp.local_addr().expect("fake vault: local_addr");
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    // e.g. too many open files: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        TlsListener { rx, addr }
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task ended (runtime shutting down): never yield again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
