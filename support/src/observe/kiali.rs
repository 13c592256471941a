//! Kiali as the tutorial uses it: `istioctl dashboard kiali` (without a browser) port-forwards and
//! prints the dashboard's URL; the dashboard page and the graph API (`GET
//! <url>/api/namespaces/graph`, kiali/kiali routing/routes.go "GraphNamespaces") are read over
//! HTTP with bounded timeouts.

use std::path::Path;
use std::time::Duration;

use crate::process::{ProcessError, Running, Tools};

#[derive(Debug, thiserror::Error)]
pub enum KialiError {
    #[error("istioctl dashboard kiali: {0}")]
    Dashboard(#[from] ProcessError),
    #[error("istioctl dashboard kiali printed no http:// URL: {line:?}")]
    NoUrl { line: String },
    #[error("GET {url}: {reason}")]
    Http { url: String, reason: String },
}

/// A running `istioctl dashboard kiali`; the port-forward ends when this is dropped.
pub struct Dashboard {
    _running: Running,
    pub url: String,
    http: reqwest::Client,
}

/// Where the dashboard runs and how long each step may take.
pub struct Open<'a> {
    pub tools: &'a Tools,
    pub istioctl: &'a Path,
    pub kubeconfig: &'a Path,
    pub context: &'a str,
    pub timeout: Duration,
}

impl Dashboard {
    /// Starts `istioctl dashboard kiali --browser=false -p <free port>` (flags present from the
    /// 2022 build to 1.30: istioctl dashboard.go) and waits for the URL it prints.
    pub async fn open(o: Open<'_>) -> Result<Self, KialiError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(20001)
            .to_string();
        let running = o
            .tools
            .command(o.istioctl.display().to_string())
            .args(["dashboard", "kiali", "--browser=false", "-p", &port])
            .arg("--kubeconfig")
            .arg(o.kubeconfig)
            .args(["--context", o.context])
            .timeout(o.timeout)
            .spawn_until(|line| line.contains("http://"))
            .await?;
        let url = running
            .ready_line
            .split_whitespace()
            .find(|t| t.starts_with("http://"))
            .map(|u| u.trim_end_matches('/').to_string())
            .ok_or_else(|| KialiError::NoUrl {
                line: running.ready_line.clone(),
            })?;
        let http = crate::tls::http_client(Duration::from_secs(10), o.timeout).map_err(|e| {
            KialiError::Http {
                url: url.clone(),
                reason: crate::errors::chain(&e),
            }
        })?;
        Ok(Dashboard {
            _running: running,
            url,
            http,
        })
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response, KialiError> {
        self.http
            .get(url)
            .send()
            .await
            .map_err(|e| KialiError::Http {
                url: url.into(),
                reason: crate::errors::chain(&e),
            })
    }

    /// The HTTP status of the dashboard's page.
    pub async fn page_status(&self) -> Result<u16, KialiError> {
        Ok(self.get(&self.url).await?.status().as_u16())
    }

    /// The workload graph of `namespace` over the last `duration`.
    pub async fn graph(
        &self,
        namespace: &str,
        duration: Duration,
    ) -> Result<crate::judge::KialiGraph, KialiError> {
        let url = format!(
            "{}/api/namespaces/graph?namespaces={namespace}&graphType=workload&duration={}s",
            self.url,
            duration.as_secs()
        );
        let response = self.get(&url).await?;
        // The status is part of the answer: Kiali answers errors with a JSON body too.
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| KialiError::Http {
            url: url.clone(),
            reason: crate::errors::chain(&e),
        })?;
        let body = serde_json::from_slice(&body).map_err(|e| KialiError::Http {
            url,
            reason: format!("HTTP {status}, not JSON: {e}"),
        })?;
        Ok(crate::judge::KialiGraph { status, body })
    }
}
