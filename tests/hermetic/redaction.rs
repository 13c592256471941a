//! Snapshot redaction on the tutorial's own lines: two real lines that differ only in what changes
//! from run to run (time, addresses, ports, pod hashes, bytes, durations) redact to the same text;
//! lines that differ in what a claim is about do not.

use support::fixtures::recorded_lines;
use support::snapshot::{redact, settings};

fn line(file: &str, starts_with: &str) -> String {
    recorded_lines(file)
        .unwrap()
        .into_iter()
        .find(|l| l.text.starts_with(starts_with))
        .unwrap_or_else(|| panic!("{file}: no line starting {starts_with}"))
        .text
}

#[test]
fn l4_outbound_lines_of_two_clusters_redact_alike() {
    let tutorial = line("ztunnel-envoy-2022.log", "[2022-11-29T19:43:56.476Z]");
    let blog = line("ztunnel-envoy-2022.log", "[2022-09-10T10:12:33.041Z]");
    assert_ne!(tutorial, blog);
    assert_eq!(redact(&tutorial), redact(&blog));
}

#[test]
fn l4_and_l7_inbound_lines_redact_alike() {
    let l4 = line("ztunnel-envoy-2022.log", "[2022-11-29T19:43:56.477Z]");
    let l7 = line("ztunnel-envoy-2022.log", "[2022-11-29T20:18:40.054Z]");
    assert_eq!(redact(&l4), redact(&l7));
}

#[test]
fn waypoint_lines_of_two_clusters_redact_alike() {
    let tutorial = line("ztunnel-envoy-2022.log", "[2022-11-29T20:18:40.046Z]");
    let blog = line("ztunnel-envoy-2022.log", "[2022-09-10T10:51:36.373Z]");
    assert_eq!(redact(&tutorial), redact(&blog));
}

#[test]
fn cni_lines_with_tabs_or_spaces_and_other_pod_hashes_redact_alike() {
    let tutorial = line("istio-cni.log", "2022-11-26T19:44:13.500330Z");
    let blog = line("istio-cni.log", "2022-09-10T09:40:07.375442Z");
    assert!(blog.contains('\t') && !tutorial.contains('\t'));
    assert_eq!(redact(&tutorial), redact(&blog));
}

#[test]
fn structured_lines_redact_alike() {
    let a = line("ztunnel-access-1.22.log", "2024-05-04T10:11:04.964851Z");
    let b = line("ztunnel-access-1.22.log", "2024-05-04T10:11:04.969578Z");
    assert_eq!(redact(&a), redact(&b));
}

#[test]
fn what_a_claim_is_about_survives_redaction() {
    // Same shape, different service: must stay different.
    let productpage = line("istio-cni.log", "2022-09-10T09:40:07.375442Z");
    let details = line("istio-cni.log", "2022-09-10T09:40:07.379072Z");
    assert_ne!(redact(&productpage), redact(&details));
    // No waypoint vs. waypoint.
    let l4 = line("ztunnel-envoy-2022.log", "[2022-11-29T19:43:56.476Z]");
    let l7 = line("ztunnel-envoy-2022.log", "[2022-11-29T20:18:40.046Z]");
    assert_ne!(redact(&l4), redact(&l7));
    // Identities and well-known ports stay.
    let r = redact(&l7);
    assert!(
        r.contains("spiffe://cluster.local/ns/default/sa/bookinfo-productpage"),
        "{r}"
    );
    assert!(r.contains("[IP]:15006"), "{r}");
}

#[test]
fn the_tutorial_lines_redacted() {
    let _guard = settings().bind_to_scope();
    let text = [
        line("ztunnel-envoy-2022.log", "[2022-11-29T19:43:56.477Z]"),
        line("ztunnel-envoy-2022.log", "[2022-11-29T19:43:56.476Z]"),
        line("ztunnel-envoy-2022.log", "[2022-11-29T20:18:40.046Z]"),
        line("istio-cni.log", "2022-11-26T19:44:13.500330Z"),
        line("ztunnel-access-1.22.log", "2025-01-23T05:07:25.806642Z"),
    ]
    .join("\n");
    // insta applies the same filters as `redact`.
    insta::assert_snapshot!(text);
}
