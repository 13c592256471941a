//! Kiali: apply the release's `samples/addons`, wait for the kiali rollout, open the dashboard the
//! tutorial's way (`istioctl dashboard kiali`, without a browser), make traffic, and read the graph
//! through Kiali's API until it shows sleep → productpage.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::claims::Verdict;
use support::judge;
use support::k8s::wait::{Probe, until};
use support::k8s::{apply, pods};

use crate::world::{World, apps, block_on};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(20001)
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn kiali_shows_the_traffic(apps: Arc<World>) {
    let w = &apps;
    block_on(async {
        let c = &w.cluster.client;
        let ns = w.facts.istio_namespace;
        let rollout = match w.release.sample("addons") {
            Err(e) => Verdict::NotReached { why: e.to_string() },
            Ok(dir) => match apply::apply_path(c, &dir, ns).await {
                Err(e) => Verdict::drifted("samples/addons applied", e.to_string()),
                Ok(_) => match pods::wait_deployment(c, ns, "kiali", w.timeout(300)).await {
                    Ok(_) => Verdict::Holds,
                    Err(e) => Verdict::drifted("deployment kiali rolled out", e.to_string()),
                },
            },
        };
        w.check("kiali.rollout_completes", rollout);

        // `istioctl dashboard kiali` port-forwards and prints the URL; `--browser=false` keeps it
        // from opening one (flag present from the 2022 build to 1.30: istioctl dashboard.go).
        let port = free_port().to_string();
        let dashboard = w
            .tools
            .command(w.release.istioctl.display().to_string())
            .args(["dashboard", "kiali", "--browser=false", "-p", &port])
            .arg("--kubeconfig")
            .arg(&w.cluster.kubeconfig_path)
            .args(["--context", &w.cluster.context])
            .timeout(w.timeout(60))
            .spawn_until(|line| line.contains("http://"))
            .await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let (dashboard, base, reachable) = match dashboard {
            Ok(d) => {
                let url = d
                    .ready_line
                    .split_whitespace()
                    .find(|t| t.starts_with("http://"))
                    .unwrap_or_default()
                    .to_string();
                let page = http.get(&url).send().await.map(|r| r.status().as_u16());
                let verdict = Verdict::holds_if(
                    page.as_ref().is_ok_and(|s| *s == 200),
                    format!("HTTP 200 from {url}"),
                    format!("{page:?}"),
                );
                (Some(d), url, verdict)
            }
            Err(e) => (
                None,
                String::new(),
                Verdict::drifted("istioctl dashboard kiali prints its URL", e.to_string()),
            ),
        };
        w.check("kiali.dashboard_reachable", reachable);

        let graph_url = format!(
            "{}/api/namespaces/graph?namespaces=default&graphType=workload&duration=120s",
            base.trim_end_matches('/')
        );
        let shown = until(
            "Kiali's graph to show sleep -> productpage",
            w.data_plane_timeout(240),
            || {
                let http = http.clone();
                let graph_url = graph_url.clone();
                async move {
                    let _ = w.curl_productpage().await;
                    let graph = match http.get(&graph_url).send().await {
                        Ok(r) => r.json::<serde_json::Value>().await.unwrap_or_default(),
                        Err(e) => return Probe::NotYet(e.to_string()),
                    };
                    match judge::graph_edge(&graph, "sleep", "productpage") {
                        Verdict::Holds => Probe::Ready(()),
                        other => Probe::NotYet(format!("{other:?}")),
                    }
                }
            },
        )
        .await;
        drop(dashboard);
        w.check(
            "kiali.graph_shows_traffic",
            shown.map_or_else(
                |e| Verdict::drifted("an edge sleep -> productpage", e.to_string()),
                |()| Verdict::Holds,
            ),
        );
    });
}
