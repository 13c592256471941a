//! The one place that installs the process's TLS crypto provider (rustls with ring), shared by
//! kube-rs and reqwest. Every client constructor calls it; only the first call does anything.

pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider is installed already: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An HTTP client with the suite's timeouts: every call the suite makes is bounded.
pub fn http_client(
    connect: std::time::Duration,
    total: std::time::Duration,
) -> reqwest::Result<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total)
        .user_agent("ambient-tutorial-suite")
        .build()
}
