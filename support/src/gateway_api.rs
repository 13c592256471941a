//! The Gateway API CRDs a waypoint needs. The 2022 build's istioctl installs them; released Istio
//! does not (shared notes istio-eras.md), and each release's docs apply the standard install of
//! the gateway-api version in its go.mod. A local copy (`AMBIENT_GATEWAY_API_CRDS`, the sim
//! default) is applied instead of a download.

use std::path::Path;
use std::time::Duration;

use crate::eras::GatewayApiCrds;
use crate::k8s::GuardedClient;
use crate::k8s::apply::{self, ApplyError};

#[derive(Debug, thiserror::Error)]
pub enum GatewayApiError {
    #[error("Gateway API CRDs from {origin}")]
    Apply {
        origin: String,
        #[source]
        source: ApplyError,
    },
    #[error("downloading the Gateway API CRDs from {url}: {reason}")]
    Download { url: String, reason: String },
}

/// Makes sure the cluster serves the Gateway API, as the era needs.
pub async fn install(
    client: &GuardedClient,
    crds: GatewayApiCrds,
    local: Option<&Path>,
    timeout: Duration,
) -> Result<(), GatewayApiError> {
    if let Some(local) = local {
        return apply::apply_path(client, local, "default")
            .await
            .map(|_| ())
            .map_err(|source| GatewayApiError::Apply {
                origin: local.display().to_string(),
                source,
            });
    }
    let Some(url) = crds.url() else {
        return Ok(()); // istioctl installed them
    };
    let text = download(&url, timeout).await?;
    apply::apply_text(client, &url, &text, "default")
        .await
        .map(|_| ())
        .map_err(|source| GatewayApiError::Apply {
            origin: url,
            source,
        })
}

async fn download(url: &str, timeout: Duration) -> Result<String, GatewayApiError> {
    let err = |reason: String| GatewayApiError::Download {
        url: url.into(),
        reason,
    };
    let http = crate::tls::http_client(Duration::from_secs(20), timeout)
        .map_err(|e| err(crate::errors::chain(&e)))?;
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| err(crate::errors::chain(&e)))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status())));
    }
    resp.text().await.map_err(|e| err(crate::errors::chain(&e)))
}
