//! L7 processing: declare the productpage waypoint the era's way; its pod runs; curl still returns
//! the page; sleep's ztunnel now sends the connection to the server waypoint. The section removes
//! the waypoint when it ends, so the other sections see the cluster as they expect.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::{Patch, PatchParams};
use rstest::rstest;
use serial_test::serial;
use support::claims::Verdict;
use support::eras::GatewayApiCrds;
use support::judge::{self, WaypointExpectation};
use support::k8s::{apply, pods};

use crate::l4::logged;
use crate::world::{World, apps};

async fn declare_waypoint(w: &World) -> Verdict {
    let c = &w.cluster.client;
    let wp = &w.facts.waypoint;
    if let Some(local) = &w.settings.gateway_api_crds {
        if let Err(e) = apply::apply_path(c, local, "default").await {
            return Verdict::NotReached {
                why: format!("Gateway API CRDs from {}: {e}", local.display()),
            };
        }
    } else if let GatewayApiCrds::Release(_) = wp.gateway_api_crds {
        // Released Istio does not install the Gateway API CRDs (istio-eras notes); the docs of
        // each release apply the standard install of the gateway-api version in its go.mod.
        let url = wp.gateway_api_crds.url().expect("a release URL");
        let text = match download(&url).await {
            Ok(t) => t,
            Err(e) => {
                return Verdict::NotReached {
                    why: format!("Gateway API CRDs from {url}: {e}"),
                };
            }
        };
        if let Err(e) = apply::apply_text(c, &url, &text, "default").await {
            return Verdict::NotReached { why: e.to_string() };
        }
    }
    if let Err(e) = apply::apply_path(c, &support::fixtures::path(wp.fixture), "default").await {
        return Verdict::drifted(format!("{} accepted", wp.fixture), e.to_string());
    }
    if let Some((k, v)) = wp.service_label {
        let services: Api<Service> = Api::namespaced(c.client(), "default");
        let patch = serde_json::json!({ "metadata": { "labels": { k: v } } });
        if let Err(e) = services
            .patch(
                "productpage",
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            return Verdict::drifted(
                format!("service productpage labelled {k}={v}"),
                e.to_string(),
            );
        }
    }
    Verdict::Holds
}

async fn download(url: &str) -> Result<String, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::get(url).await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    resp.text().await.map_err(|e| e.to_string())
}

async fn remove_waypoint(w: &World) {
    let c = &w.cluster.client;
    let wp = &w.facts.waypoint;
    if let Some((k, _)) = wp.service_label {
        let services: Api<Service> = Api::namespaced(c.client(), "default");
        let patch = serde_json::json!({ "metadata": { "labels": { k: null } } });
        let _ = services
            .patch(
                "productpage",
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await;
    }
    let text = support::fixtures::read(wp.fixture).unwrap_or_default();
    if let Err(e) = apply::delete_text(c, wp.fixture, &text, "default", w.timeout(180)).await {
        support::progress::say(format!("removing the waypoint: {e}"));
    }
    let deployment = wp.deployment;
    let _ = support::k8s::wait::until(
        &format!("waypoint deployment {deployment} to be gone"),
        w.timeout(180),
        || async move {
            match Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.client(), "default")
                .get_opt(deployment)
                .await
            {
                Ok(None) => support::k8s::wait::Probe::Ready(()),
                other => {
                    support::k8s::wait::Probe::NotYet(format!("{:?}", other.map(|d| d.is_some())))
                }
            }
        },
    )
    .await;
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn l7_processing_through_the_productpage_waypoint(apps: Arc<World>) {
    let w = &apps;
    w.section(
        async {
            w.check("l7.waypoint_declared", declare_waypoint(w).await);
            let wp = &w.facts.waypoint;
            let running = pods::wait_deployment(
                &w.cluster.client,
                "default",
                wp.deployment,
                w.data_plane_timeout(300),
            )
            .await;
            let waypoint_ips = match &running {
                Ok(_) => {
                    let found = pods::of_deployment(&w.cluster.client, "default", wp.deployment)
                        .await
                        .unwrap_or_default();
                    found.iter().flat_map(pods::ips_of).collect::<Vec<_>>()
                }
                Err(_) => Vec::new(),
            };
            w.check(
                "l7.waypoint_pod_running",
                match running {
                    Ok(_) => Verdict::Holds,
                    Err(e) => Verdict::drifted(
                        format!("deployment {} available", wp.deployment),
                        e.to_string(),
                    ),
                },
            );
            w.check(
                "l7.curl_returns_productpage",
                judge::productpage_page(&w.curl_productpage().await),
            );
            let identity = wp
                .identity_service_account
                .map(|sa| format!("spiffe://cluster.local/ns/default/sa/{sa}"));
            let traffic = w
                .traffic(Some(WaypointExpectation {
                    identity,
                    pod_ips: waypoint_ips,
                }))
                .await;
            let (verdict, line) = logged(w, "sleep", &traffic, judge::outbound_logged).await;
            if w.check("l7.sleep_ztunnel_logs_to_waypoint", verdict)
                && let Some(line) = line
            {
                w.snapshot(w.facts.era.id(), || {
                    insta::assert_snapshot!("sleep_ztunnel_to_waypoint", line)
                });
            }
            let plain = w.traffic(None).await;
            let (verdict, _) = logged(w, "productpage-v1", &plain, judge::inbound_logged).await;
            w.check("l7.productpage_ztunnel_logs_inbound", verdict);
        },
        remove_waypoint(w),
    );
}
