//! The HTTPS side of the simulator harness: a server identity (certificate chain and key) and
//! a listener that hands axum connections whose TLS handshake has already completed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client that opens a connection and never finishes its handshake is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a simulator presents over HTTPS: the certificate chain it sends (leaf first, then any
/// intermediates) and the leaf's private key. Cheap to clone.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<ServerConfig>,
}

impl TlsIdentity {
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        // The harness serves HTTP/1.1 only (axum without its http2 feature).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            config: Arc::new(config),
        })
    }
}

/// Accepts TCP connections and completes their handshakes in their own tasks, so one slow or
/// refusing client (the "certificate not trusted" tests are exactly that) never holds up the
/// next connection.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, identity: &TlsIdentity) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(accept_loop(
            tcp,
            TlsAcceptor::from(identity.config.clone()),
            tx,
        ));
        Ok(TlsListener { local, ready })
    }
}

/// Runs until the listener is dropped (the server stopped), which closes the channel and
/// releases the port.
async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let accepted = tokio::select! {
            _ = tx.closed() => return,
            accepted = tcp.accept() => accepted,
        };
        let Ok((stream, peer)) = accepted else {
            // Out of descriptors or a connection reset before accept: wait a moment rather
            // than spin on an error that repeats until something closes.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            // A client that refuses our certificate aborts the handshake; that is its answer,
            // not a server error.
            if let Ok(Ok(tls)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            {
                let _ = tx.send((tls, peer)).await;
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends once this listener is gone; never reached while serving.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;

    use crate::simulators::harness::{SimControl, SimServer};
    use crate::simulators::loopback_pki::LoopbackPki;

    fn plain_body(_: axum::http::StatusCode, _: &str) -> axum::response::Response {
        axum::response::Response::default()
    }

    fn trusting(pki: &LoopbackPki) -> reqwest::Client {
        crate::vendor::tls::install_crypto_provider();
        reqwest::Client::builder()
            .tls_certs_merge(
                reqwest::Certificate::from_pem_bundle(pki.root_pem().as_bytes()).unwrap(),
            )
            .timeout(std::time::Duration::from_secs(3))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_client_that_never_handshakes_does_not_hold_up_the_next_one() {
        let pki = LoopbackPki::generate().unwrap();
        let vendor = Router::new().route("/ping", get(|| async { "pong" }));
        let server = SimServer::start_tls(
            vendor,
            Router::new(),
            SimControl::new(plain_body),
            "127.0.0.1:0".parse().unwrap(),
            pki.identity(),
        )
        .await
        .unwrap();
        assert!(server.url().starts_with("https://127.0.0.1:"));
        // Connected, silent: its handshake waits in its own task.
        let _silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let client = trusting(&pki);
        let pong = client
            .get(format!("{}/ping", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(pong.text().await.unwrap(), "pong");
        // The control routes are served over HTTPS as well.
        let counters = client
            .get(format!("{}/_sim/counters", server.url()))
            .send()
            .await
            .unwrap();
        assert!(counters.status().is_success());
        assert_eq!(server.control.count("GET /ping"), 1);
    }
}
