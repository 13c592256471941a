//! The comparators, each on real outputs (the seed tutorial's documented outputs, 1.31-dev
//! objects and istioctl output captured from a run, recorded log lines) and each shown failing on
//! its near misses: a row missing, an extra row, one cell changed, a component missing, a field
//! changed, another status code, another log line.

use proptest::prelude::*;
use serde_json::Value;
use support::compare::table::{self, Extent};
use support::compare::{
    Comparison, Difference, OutputKind, Seen, compare, http, install, like, logs, marker, names,
    object,
};
use support::settings::workspace_root;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join("fixtures").join(path)).unwrap()
}

/// The seed tutorial's lines `from..=to` (1-based), as written (indented, as in the list).
fn seed(from: usize, to: usize) -> String {
    let text = fixture("tutorial/ambient-tutorial.md");
    text.lines()
        .skip(from - 1)
        .take(to + 1 - from)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The documented `kubectl -n istio-system get all` output of the seed ("along the line of").
fn documented_get_all() -> String {
    let text = fixture("tutorial/ambient-tutorial.md");
    let start = text
        .find("    NAME                                       READY")
        .unwrap();
    let end = start + text[start..].find("    ```").unwrap();
    text[start..end].to_string()
}

/// The same output as another run would print it: every generated suffix, age, cluster IP and
/// NodePort different, the load balancer's address assigned.
fn another_run(documented: &str) -> String {
    [
        ("5vkb6", "x2q7b"),
        ("tc8fn", "bbq4z"),
        ("zm8dl", "9wvn2"),
        ("dd667dbb7", "5c8d9f7b4"),
        ("z64jh", "q7rzt"),
        ("6f9c757686", "7894bcdf56"),
        ("kw5z4", "s2ttm"),
        ("5qpn7", "v8k9x"),
        ("fccxw", "hd6wp"),
        ("mq72n", "5lz9m"),
        ("12m", "3d4h"),
        ("14m", "47s"),
        ("10.96.15.172", "10.96.201.7 "),
        ("10.96.83.33", "10.96.1.2  "),
        ("<pending>", "172.18.0.9"),
        ("32651", "31000"),
        ("32654", "30080"),
        ("30106", "30443"),
    ]
    .iter()
    .fold(documented.to_string(), |t, (a, b)| t.replace(a, b))
}

fn differences(c: &Comparison) -> Vec<Difference> {
    match c {
        Comparison::Differs(d) => d.clone(),
        other => panic!("expected a difference, got {other:?}"),
    }
}

fn only(c: &Comparison) -> Difference {
    let d = differences(c);
    assert_eq!(d.len(), 1, "{d:#?}");
    d[0].clone()
}

// ---------------------------------------------------------------- names

#[test]
fn generated_names_are_split_by_kubernetes_alphabets() {
    let g = names::generated("pod/istiod-6f9c757686-kw5z4");
    assert_eq!((g.base, g.hash, g.suffix), ("pod/istiod", true, true));
    let g = names::generated("istio-cni-node-999tj");
    assert_eq!((g.base, g.hash, g.suffix), ("istio-cni-node", false, true));
    let g = names::generated("replicaset.apps/istiod-6749969698");
    assert_eq!(
        (g.base, g.hash, g.suffix),
        ("replicaset.apps/istiod", true, false)
    );
    // Not generated: vowels, digits outside the alphabets, an ordinal, a version.
    for name in [
        "istio-cni-node",
        "reviews-v1",
        "web-0",
        "productpage-v1",
        "kube-proxy",
    ] {
        let g = names::generated(name);
        assert_eq!((g.base, g.hash, g.suffix), (name, false, false), "{name}");
    }
    assert!(
        names::generated("istiod-6f9c757686-kw5z4")
            .like(&names::generated("istiod-6749969698-2r5z9"))
    );
    assert!(!names::generated("istiod-6f9c757686-kw5z4").like(&names::generated("istiod-2r5z9")));
}

#[test]
fn each_column_normalizes_only_what_it_says() {
    // (column, documented cell, seen cell, equal?)
    let cases: &[(&str, &str, &str, bool)] = &[
        (
            "NAME",
            "pod/istiod-6f9c757686-kw5z4",
            "pod/istiod-6749969698-2r5z9",
            true,
        ),
        (
            "NAME",
            "pod/istiod-6f9c757686-kw5z4",
            "pod/istiod-2r5z9",
            false,
        ),
        (
            "NAME",
            "istio-cni-node-5vkb6",
            "istio-cni-node-5vkb6x",
            false,
        ),
        ("AGE", "12m", "3d4h", true),
        ("AGE", "12m", "<unknown>", true),
        ("AGE", "12m", "Running", false),
        ("LAST SEEN", "5s", "2m30s", true),
        ("CLUSTER-IP", "10.96.15.172", "10.96.0.1", true),
        ("CLUSTER-IP", "10.96.15.172", "fd00:10:96::1", true),
        ("CLUSTER-IP", "10.96.15.172", "None", false),
        ("CLUSTER-IP", "None", "None", true),
        ("EXTERNAL-IP", "<pending>", "172.18.0.9", true),
        ("EXTERNAL-IP", "<pending>", "a1b2.elb.amazonaws.com", true),
        ("EXTERNAL-IP", "<pending>", "<none>", false),
        ("EXTERNAL-IP", "<none>", "172.18.0.9", false),
        (
            "PORT(S)",
            "15021:32651/TCP,80:32654/TCP",
            "15021:30001/TCP,80:30002/TCP",
            true,
        ),
        (
            "PORT(S)",
            "15021:32651/TCP,80:32654/TCP",
            "15021:30001/TCP,81:30002/TCP",
            false,
        ),
        ("PORT(S)", "15021:32651/TCP", "15021:32651/UDP", false),
        ("PORT(S)", "80/TCP", "80:30080/TCP", false),
        (
            "ENDPOINTS",
            "10.244.1.5:9080,10.244.2.3:9080",
            "10.244.0.9:9080,10.244.1.2:9080",
            true,
        ),
        ("ENDPOINTS", "10.244.1.5:9080", "10.244.1.5:9081", false),
        ("READY", "1/1", "0/1", false),
        ("STATUS", "Running", "running", false),
        ("RESTARTS", "0", "0 ", false),
        ("NODE", "ambient-worker", "ambient-worker2", false),
        ("IP", "10.244.2.9", "10.244.1.4", true),
        ("IP", "10.244.2.9", "<none>", false),
    ];
    for (column, e, s, equal) in cases {
        assert_eq!(
            table::cell_equal(column, e, s),
            *equal,
            "{column}: {e} / {s}"
        );
    }
    assert_eq!(
        names::mask_ipv4("a 10.0.0.1:80, 1.2.3.4.5 v1.2.3.4x"),
        "a <ip>:80, 1.2.3.4.5 v1.2.3.4x"
    );
    assert!(names::is_age("2d3h") && names::is_age("27s") && names::is_age("1y"));
    for not_age in ["", "m", "12", "12x", "1h2", "h1"] {
        assert!(!names::is_age(not_age), "{not_age}");
    }
    assert_eq!(names::strip_ansi("\u{1b}[32m✔\u{1b}[0m done"), "✔ done");
}

// ---------------------------------------------------------------- verify.sh

#[test]
fn like_is_verify_sh_with_a_stricter_name_rule() {
    let documented = documented_get_all();
    // verify.sh's floor: suffixes, ages and cluster IPs may differ, but it knows no NodePort and
    // takes `<pending>` only for an address, not the reverse: the load balancer's line differs
    // (the table comparator, knowing columns, takes it).
    let d = only(&like::like(&documented, &another_run(&documented)));
    assert_eq!(d.what, "line 12");
    assert!(d.seen.contains("15021:31000/TCP"), "{d:?}");
    let without_lb: String = documented
        .lines()
        .filter(|l| !l.contains("LoadBalancer"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        like::like(&without_lb, &another_run(&without_lb)),
        Comparison::Matches
    );
    let changed = another_run(&without_lb).replacen("Running", "Pending", 1);
    let d = only(&like::like(&without_lb, &changed));
    assert_eq!(d.what, "line 2");
    assert!(d.seen.contains("Pending"), "{d:?}");
    // verify.sh would take these for the same name (common prefix `istio-`); we do not.
    let d = only(&like::like(
        "pod/istio-ingressgateway 1/1",
        "pod/istio-egressgateway 1/1",
    ));
    assert_eq!(d.expected, "pod/istio-ingressgateway 1/1");
    assert!(!like::like("a\nb", "a").matches());
    assert!(!like::like("NAME AGE", "NAME AGE X").matches());
    assert!(like::like("x ... z", "x anything z").matches());
    assert!(like::like("ip 10.0.0.1", "ip <pending>").matches());
    assert!(!like::like("ip <pending>", "ip 10.0.0.1").matches());
}

#[test]
fn elided_lines_first_line_and_failure_follow_verify_sh() {
    let out = "a\nb\nc\nd\n";
    assert!(like::elided("a\nb\n...\nd", out).matches());
    let d = only(&like::elided("a\nc\n...\nd", out));
    assert_eq!(d.expected, "a\nc");
    assert!(like::lines("+ b\n- x\nignored", out).matches());
    assert_eq!(only(&like::lines("+ e", out)).expected, "e");
    assert_eq!(only(&like::lines("- c", out)).seen, "c");
    assert!(like::first_line("a", "a  \r\nz").matches());
    assert_eq!(only(&like::first_line("b", out)).seen, "a");
    assert!(like::failure(Some(1)).matches());
    assert!(!like::failure(Some(0)).matches());
    assert!(!like::failure(None).matches());
}

// ---------------------------------------------------------------- kubectl tables

#[test]
fn get_all_is_read_as_one_table_per_kind() {
    let tables = table::parse(&documented_get_all());
    let kinds: Vec<_> = tables.iter().map(|t| t.kind().unwrap_or("?")).collect();
    assert_eq!(
        kinds,
        [
            "pod",
            "service",
            "daemonset.apps",
            "deployment.apps",
            "replicaset.apps",
            "horizontalpodautoscaler.autoscaling"
        ]
    );
    assert_eq!(tables[2].header[6], "NODE SELECTOR");
    assert_eq!(tables[2].rows[1].cells[6], "<none>");
    assert_eq!(tables[0].rows.len(), 8);
    assert_eq!(tables[5].rows[0].cells[2], "<unknown>/80%");
}

#[test]
fn another_run_of_the_same_install_matches_the_documented_tables() {
    let documented = documented_get_all();
    let seen = another_run(&documented);
    assert_ne!(documented, seen);
    for extent in [Extent::Exact, Extent::AlongTheLines] {
        assert_eq!(
            table::compare(&documented, &seen, extent),
            Comparison::Matches
        );
    }
}

#[test]
fn a_missing_row_an_extra_row_and_one_changed_cell_each_differ() {
    let documented = documented_get_all();
    let seen = another_run(&documented);
    let ztunnel = seen
        .lines()
        .find(|l| l.contains("pod/ztunnel-v8k9x"))
        .unwrap()
        .to_string();

    let missing = seen.replace(&format!("{ztunnel}\n"), "");
    let d = only(&table::compare(
        &documented,
        &missing,
        Extent::AlongTheLines,
    ));
    assert_eq!(d.what, "row missing");
    assert!(d.expected.starts_with("pod/ztunnel-"), "{d:?}");

    let extra = seen.replace(
        &format!("{ztunnel}\n"),
        &format!("{ztunnel}\n{}\n", ztunnel.replace("v8k9x", "wq4zz")),
    );
    let d = only(&table::compare(&documented, &extra, Extent::AlongTheLines));
    assert_eq!((d.what.as_str(), d.expected.as_str()), ("extra row", ""));
    assert!(d.seen.starts_with("pod/ztunnel-"), "{d:?}");
    // In the same run, the row with the documented name is the documented one.
    let same_run = documented.replace(
        "pod/ztunnel-mq72n                          1/1     Running   0          14m\n",
        "pod/ztunnel-mq72n                          1/1     Running   0          14m\n    pod/ztunnel-wq4zz                          1/1     Running   0          1m\n",
    );
    assert_ne!(same_run, documented);
    let d = only(&table::compare(&documented, &same_run, Extent::Exact));
    assert!(d.seen.starts_with("pod/ztunnel-wq4zz"), "{d:?}");

    // (the row, the cell as printed, what it becomes, the difference's `what`, expected, seen)
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "pod/ztunnel-v8k9x",
            "1/1",
            "0/1",
            "READY of pod/ztunnel-v8k9x",
            "1/1",
            "0/1",
        ),
        (
            "pod/istiod-7894bcdf56-s2ttm",
            "Running ",
            "Pending ",
            "STATUS of pod/istiod-7894bcdf56-s2ttm",
            "Running",
            "Pending",
        ),
        (
            "pod/istiod-7894bcdf56-s2ttm",
            "   0   ",
            "   2 (5m ago)   ",
            "RESTARTS of pod/istiod-7894bcdf56-s2ttm",
            "0",
            "2 (5m ago)",
        ),
        (
            "service/istio-ingressgateway",
            "LoadBalancer",
            "NodePort    ",
            "TYPE of service/istio-ingressgateway",
            "LoadBalancer",
            "NodePort",
        ),
        (
            "service/istio-ingressgateway",
            "15021:31000/TCP",
            "15020:31000/TCP",
            "PORT(S) of service/istio-ingressgateway",
            "15021:32651/TCP,80:32654/TCP,443:30106/TCP",
            "15020:31000/TCP,80:30080/TCP,443:30443/TCP",
        ),
        (
            "service/istio-ingressgateway",
            "172.18.0.9",
            "<none>    ",
            "EXTERNAL-IP of service/istio-ingressgateway",
            "<pending>",
            "<none>",
        ),
        (
            "service/istiod",
            "10.96.1.2  ",
            "None       ",
            "CLUSTER-IP of service/istiod",
            "10.96.83.33",
            "None",
        ),
        (
            "daemonset.apps/istio-cni-node",
            "kubernetes.io/os=linux",
            "kubernetes.io/os=windows",
            "NODE SELECTOR of daemonset.apps/istio-cni-node",
            "kubernetes.io/os=linux",
            "kubernetes.io/os=windows",
        ),
        (
            "horizontalpodautoscaler.autoscaling/istio-ingressgateway",
            "   1         5",
            "   2         5",
            "MINPODS of horizontalpodautoscaler.autoscaling/istio-ingressgateway",
            "1",
            "2",
        ),
        (
            "deployment.apps/istiod",
            "1/1",
            "0/1",
            "READY of deployment.apps/istiod",
            "1/1",
            "0/1",
        ),
    ];
    for (row, from, to, what, e, s) in cases {
        let line = seen
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{row} ")))
            .unwrap_or_else(|| panic!("{row}"));
        assert!(line.contains(from), "{row}: {from}");
        let changed = seen.replacen(line, &line.replacen(from, to, 1), 1);
        let d = only(&table::compare(
            &documented,
            &changed,
            Extent::AlongTheLines,
        ));
        assert_eq!(
            (d.what.as_str(), d.expected.as_str(), d.seen.as_str()),
            (*what, *e, *s),
            "{row}: {from} → {to}"
        );
    }

    // A name of another shape or base is another row: one missing, one extra.
    for (from, to) in [
        (
            "pod/istiod-7894bcdf56-s2ttm",
            "pod/istiod-s2ttm            ",
        ),
        (
            "pod/istiod-7894bcdf56-s2ttm",
            "pod/istiodx-7894bcdf56-s2ttm",
        ),
    ] {
        let changed = seen.replacen(from, to, 1);
        let d = differences(&table::compare(
            &documented,
            &changed,
            Extent::AlongTheLines,
        ));
        let whats: Vec<_> = d.iter().map(|d| d.what.as_str()).collect();
        assert_eq!(whats, ["row missing", "extra row"], "{to}");
    }
}

#[test]
fn whole_tables_differ_by_extent_and_headers_always_differ() {
    let documented = documented_get_all();
    let seen = another_run(&documented);
    let job = "\n\nNAME              STATUS     COMPLETIONS   DURATION   AGE\njob.batch/setup   Complete   1/1           5s         1m\n";
    let with_job = format!("{seen}{job}");
    assert!(table::compare(&documented, &with_job, Extent::AlongTheLines).matches());
    let d = only(&table::compare(&documented, &with_job, Extent::Exact));
    assert_eq!(d.what, "extra table");

    // The HPA table gone: a documented table missing, whatever the extent.
    let cut = seen
        .find("\n    NAME                                                       REFERENCE")
        .unwrap();
    let d = only(&table::compare(
        &documented,
        &seen[..cut],
        Extent::AlongTheLines,
    ));
    assert_eq!(d.what, "table missing");

    let renamed = seen.replacen("RESTARTS", "RESTART ", 1);
    let d = only(&table::compare(
        &documented,
        &renamed,
        Extent::AlongTheLines,
    ));
    assert_eq!(d.what, "header");
}

/// A `kubectl get pods` table rendered from captured pod objects, as kubectl prints one.
fn pods_table(objects: &str) -> String {
    let list: Value = serde_json::from_str(objects).unwrap();
    let mut out =
        String::from("NAME                             READY   STATUS    RESTARTS   AGE\n");
    for pod in list["items"].as_array().unwrap() {
        let statuses = pod["status"]["containerStatuses"].as_array().unwrap();
        let ready = statuses.iter().filter(|c| c["ready"] == true).count();
        let restarts: u64 = statuses
            .iter()
            .map(|c| c["restartCount"].as_u64().unwrap())
            .sum();
        out.push_str(&format!(
            "pod/{:<28} {}/{}     {:<9} {:<10} 5m\n",
            pod["metadata"]["name"].as_str().unwrap(),
            ready,
            statuses.len(),
            pod["status"]["phase"].as_str().unwrap(),
            restarts
        ));
    }
    out
}

#[test]
fn the_seed_pods_against_a_captured_1_31_install_name_the_missing_ingress_gateway() {
    let documented = documented_get_all();
    let pods = &documented[..documented.find("\n   \n").unwrap()];
    let seen = pods_table(&fixture("objects/captured/1.31-dev/istio-system-pods.json"));
    let d = only(&table::compare(pods, &seen, Extent::AlongTheLines));
    assert_eq!(d.what, "row missing");
    assert!(
        d.expected
            .starts_with("pod/istio-ingressgateway-dd667dbb7-z64jh"),
        "{d:?}"
    );
}

#[test]
fn an_excerpt_of_rows_is_found_row_by_row() {
    let excerpt = seed(98, 100);
    let seen = another_run(&documented_get_all());
    assert!(table::compare(&excerpt, &seen, Extent::Exact).matches());
    let four = format!("{excerpt}\n{}", seed(100, 100));
    let d = only(&table::compare(&four, &seen, Extent::Exact));
    assert_eq!(d.what, "row missing");
    let not_running = seen.replacen("1/1     Running", "1/1     Pending", 1);
    let d = only(&table::compare(&excerpt, &not_running, Extent::Exact));
    assert_eq!(
        (d.expected.as_str(), d.seen.as_str()),
        ("Running", "Pending")
    );
}

#[test]
fn grep_cut_rows_are_compared_with_name_first() {
    let documented = seed(201, 201);
    let rerun =
        "bookinfo-productpage-waypoint-proxy-6d9c5c7b4f-x2q7b   1/1     Running   0          3m\n";
    assert!(table::compare(&documented, rerun, Extent::Exact).matches());
    let d = only(&table::compare(
        &documented,
        &rerun.replace("1/1", "0/1"),
        Extent::Exact,
    ));
    assert_eq!((d.expected.as_str(), d.seen.as_str()), ("1/1", "0/1"));
    let d = only(&table::compare(
        &documented,
        &rerun.replace("   0   ", "   1   "),
        Extent::Exact,
    ));
    assert_eq!((d.expected.as_str(), d.seen.as_str()), ("0", "1"));
    // 1.31 names its waypoint after the Gateway: the documented row is missing.
    let v131 = "productpage-waypoint-7b5b785d58-tsxlg   1/1     Running   0          3m\n";
    assert_eq!(
        only(&table::compare(&documented, v131, Extent::Exact)).what,
        "row missing"
    );
}

#[test]
fn a_row_that_does_not_split_is_cut_at_the_header_columns() {
    let expected =
        "NAME   READY   STATUS    RESTARTS   AGE\nweb    1/1     Running   0          1m";
    // A single space where kubectl pads: cut at the header's columns.
    let seen = "NAME   READY   STATUS    RESTARTS   AGE\nweb    1/1     Running 0            9m";
    let tables = table::parse(seen);
    assert_eq!(
        tables[0].rows[0].cells,
        ["web", "1/1", "Running 0", "", "9m"]
    );
    assert!(!table::compare(expected, seen, Extent::Exact).matches());
    assert!(matches!(
        table::compare("no table here", seen, Extent::Exact),
        Comparison::Differs(_)
    ));
    assert!(matches!(
        table::compare("", seen, Extent::Exact),
        Comparison::Unreadable { .. }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tables_never_panic(a in "([A-Z ()/-]{0,12}|[a-z0-9/ .<>:-]{0,20}|\t|\n|é|   ){0,30}", b in any::<String>()) {
        let _ = table::compare(&a, &b, Extent::Exact);
        let _ = table::compare(&b, &a, Extent::AlongTheLines);
        let _ = like::like(&a, &b);
        let _ = names::mask_ipv4(&b);
        let _ = names::mask_node_ports(&b);
        let _ = install::compare(&a, &b);
        let _ = http::title(&a, &b);
        let _ = object::compare(&b, &a);
    }

    #[test]
    fn a_real_table_cut_anywhere_never_panics(cut in 0usize..4000) {
        let t = documented_get_all();
        let cut = (0..=cut.min(t.len())).rev().find(|i| t.is_char_boundary(*i)).unwrap_or(0);
        let _ = table::compare(&t, &t[..cut], Extent::Exact);
        let _ = table::compare(&t[..cut], &t, Extent::Exact);
    }
}

// ---------------------------------------------------------------- istioctl install lines

#[test]
fn install_lines_are_a_set_and_completion_comes_last() {
    let documented = seed(54, 58);
    let reordered = "✔ Istio core installed ⛵️\n✔ CNI installed 🪢\n✔ Ingress gateways installed 🛬\n✔ Istiod installed 🧠\n\u{1b}[32m✔\u{1b}[0m Installation complete";
    assert_eq!(
        install::compare(&documented, reordered),
        Comparison::Matches
    );

    let captured = fixture("objects/captured/1.31-dev/istioctl-install.stderr.txt");
    let d = differences(&install::compare(&documented, &captured));
    assert_eq!(
        d,
        [
            Difference::new("component", "✔ Ingress gateways installed", ""),
            Difference::new("component", "", "✔ Ztunnel installed"),
        ]
    );

    let early = "✔ Istio core installed\n✔ Istiod installed\n✔ Installation complete\n✔ Ingress gateways installed\n✔ CNI installed";
    assert_eq!(
        only(&install::compare(&documented, early)).what,
        "completion"
    );
    let unfinished = "✔ Istio core installed\n✔ Istiod installed\n✔ Ingress gateways installed\n✔ CNI installed\n- Pruning removed resources";
    assert_eq!(
        only(&install::compare(&documented, unfinished)).expected,
        "✔ Installation complete"
    );
    let failed = format!("{reordered}\n✘ Egress gateways encountered an error: timeout");
    assert_eq!(only(&install::compare(&documented, &failed)).what, "error");
}

// ---------------------------------------------------------------- objects

const WAYPOINT_STATUS: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: productpage-waypoint
  namespace: default
  creationTimestamp: "2022-11-29T20:18:13Z"
  resourceVersion: "1"
spec:
  gatewayClassName: istio-waypoint
status:
  conditions:
  - type: Programmed
    status: "True"
    lastTransitionTime: "2022-11-29T20:18:40Z"
  - type: Accepted
    status: "True"
"#;

#[test]
fn documented_fields_must_be_there_with_their_values_conditions_by_type() {
    let seen = fixture("objects/captured/1.31-dev/default-gateways.json");
    assert_eq!(object::compare(WAYPOINT_STATUS, &seen), Comparison::Matches);

    let not_programmed = WAYPOINT_STATUS.replacen("status: \"True\"", "status: \"False\"", 1);
    let d = only(&object::compare(&not_programmed, &seen));
    assert_eq!(
        (d.what.as_str(), d.expected.as_str(), d.seen.as_str()),
        (
            "Gateway/productpage-waypoint.status.conditions[type=Programmed].status",
            "\"False\"",
            "\"True\""
        )
    );
    let class = WAYPOINT_STATUS.replace("istio-waypoint", "istio-mesh");
    assert_eq!(
        only(&object::compare(&class, &seen)).what,
        "Gateway/productpage-waypoint.spec.gatewayClassName"
    );
    let absent = WAYPOINT_STATUS.replace("  - type: Accepted", "  - type: Ready");
    assert_eq!(
        only(&object::compare(&absent, &seen)).what,
        "Gateway/productpage-waypoint.status.conditions[type=Ready]"
    );
    let missing_field = WAYPOINT_STATUS.replace("spec:\n", "spec:\n  addresses: []\n");
    assert_eq!(
        only(&object::compare(&missing_field, &seen)).what,
        "Gateway/productpage-waypoint.spec.addresses"
    );
    // The seed's own v1alpha2 declaration names an object 1.31 does not have.
    let seed_gateway = "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: Gateway\nmetadata:\n name: productpage\nspec:\n gatewayClassName: istio-mesh\n";
    let d = only(&object::compare(seed_gateway, &seen));
    assert_eq!(d.what, "object missing");
    // One object against one: paired whatever its name, typed values.
    assert!(!object::compare("spec:\n  replicas: \"1\"", "{\"spec\":{\"replicas\":1}}").matches());
    assert!(object::compare("spec:\n  replicas: 1", "{\"spec\":{\"replicas\":1}}").matches());
    assert!(!object::compare("args: [a, b]", "args: [a, b, c]").matches());
    assert!(matches!(
        object::compare("a: [", "{}"),
        Comparison::Unreadable { .. }
    ));
}

// ---------------------------------------------------------------- HTTP, failure markers

#[test]
fn http_status_lines_and_titles() {
    assert!(http::first_line("HTTP/1.1 200 OK", "HTTP/2 200\r\nserver: istio-envoy").matches());
    assert!(http::first_line("HTTP/1.1 200 OK", "< HTTP/1.1 200 OK").matches());
    let d = only(&http::first_line(
        "HTTP/1.1 200 OK",
        "HTTP/1.1 503 Service Unavailable",
    ));
    assert_eq!(
        (d.expected.as_str(), d.seen.as_str()),
        ("200 OK", "503 Service Unavailable")
    );
    assert!(!http::first_line("HTTP/1.1 200 OK", "HTTP/1.1 200 Fine").matches());
    assert!(!http::first_line("HTTP/1.1 200 OK", "curl: (7) Failed to connect").matches());

    let page = "<!DOCTYPE html>\n<html>\n<head>\n<TITLE>Simple   Bookstore\n App</TITLE>";
    assert!(http::title("<title>Simple Bookstore App</title>", page).matches());
    let d = only(&http::title(
        "<title>Simple Bookstore App</title>",
        "<title>Bookinfo</title>",
    ));
    assert_eq!(d.seen, "Bookinfo");
    assert!(!http::title("<title>Simple Bookstore App</title>", "RBAC: access denied").matches());
}

#[test]
fn failure_markers_need_the_same_line_and_a_failed_command() {
    let expected = "command terminated with exit code 56";
    let seen = |stderr, code| Seen {
        stdout: "",
        stderr,
        exit_code: Some(code),
    };
    assert!(
        marker::exit_code(expected, seen("command terminated with exit code 56\n", 56)).matches()
    );
    let d = only(&marker::exit_code(
        expected,
        seen("command terminated with exit code 7\n", 7),
    ));
    assert_eq!(d.seen, "command terminated with exit code 7");
    assert_eq!(
        differences(&marker::exit_code(expected, seen("", 0)))[0].what,
        "remote exit code"
    );
    let d = differences(&marker::exit_code(
        expected,
        seen("command terminated with exit code 56", 0),
    ));
    assert_eq!(d[0].what, "exit status");

    assert!(marker::rbac_denied("RBAC: access denied").matches());
    assert!(!marker::rbac_denied("upstream said RBAC: access denied twice").matches());
    assert!(!marker::rbac_denied("<html><title>Simple Bookstore App</title>").matches());
    // The dispatcher reads both streams for RBAC, stderr for the exit code.
    assert!(
        compare(
            OutputKind::RbacDenied,
            "RBAC: access denied",
            seen("RBAC: access denied", 0)
        )
        .matches()
    );
}

// ---------------------------------------------------------------- log lines

#[test]
fn log_lines_go_through_the_suites_readers() {
    let documented = seed(133, 138);
    let seen = another_run(&documented)
        .replace("2022-11-26T19:44:13", "2026-12-06T11:02:59")
        .replace(
            "productpage-v1-7c548b785b-thqvj",
            "productpage-v1-5d4f7b9c8d-q2wzx",
        )
        .replace("10.244.2.", "10.244.1.");
    assert_eq!(logs::compare(&documented, &seen), Comparison::Matches);
    let other_namespace = seen
        .replace("thqvj", "x")
        .replace("q2wzx/default", "q2wzx/bookinfo");
    let d = only(&logs::compare(&documented, &other_namespace));
    assert_eq!(d.what, "log line (namespace differ)");
    assert!(d.seen.contains("/bookinfo"));
    let one_fewer: String = seen.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let d = only(&logs::compare(&documented, &one_fewer));
    assert!(
        d.expected.contains("productpage-v1-7c548b785b-thqvj"),
        "{d:?}"
    );

    // A 1.22 connection line: the workload's generated suffix may differ, its name may not.
    let line = fixture("recorded/ztunnel-access-1.22.log")
        .lines()
        .find(|l| l.contains("connection complete"))
        .unwrap()
        .to_string();
    let rerun = line
        .replace("sleep-bc9998558-bhv5z", "sleep-7656cf8794-9v2gv")
        .replace("10.12.0.8:37522", "10.12.0.44:40001")
        .replace("bytes_recv=158", "bytes_recv=9000");
    assert!(logs::compare(&line, &rerun).matches());
    let other = line.replace("dst.workload=helloworld-v1-", "dst.workload=helloworld-v2-");
    assert_eq!(
        only(&logs::compare(&line, &other)).what,
        "log line (dst.workload differ)"
    );
    // The seed's 2022 Envoy line against a 1.22 line: another event, another era.
    let envoy = seed(163, 163);
    assert!(!logs::compare(&envoy, &line).matches());
    assert!(matches!(
        logs::compare("not a log line", &line),
        Comparison::Unreadable { .. }
    ));
}

#[test]
fn the_dispatcher_reads_each_kind_where_its_tool_writes_it() {
    let documented = seed(54, 58);
    let stderr = fixture("objects/captured/1.31-dev/istioctl-install.stderr.txt");
    let seen = Seen {
        stdout: "",
        stderr: &stderr,
        exit_code: Some(0),
    };
    assert_eq!(
        compare(OutputKind::InstallLines, &documented, seen)
            .differences()
            .len(),
        2
    );
    let get_all = documented_get_all();
    let rerun = another_run(&get_all);
    let seen = Seen {
        stdout: &rerun,
        stderr: "",
        exit_code: Some(0),
    };
    assert!(compare(OutputKind::Table(Extent::Exact), &get_all, seen).matches());
    assert_eq!(
        compare(OutputKind::Like, &get_all, seen)
            .differences()
            .len(),
        1
    );
}

/// A generated 5-character suffix for `i` (Kubernetes' alphabet).
fn suffix(mut i: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| {
            let c = ALPHABET[i % 27] as char;
            i /= 27;
            c
        })
        .collect()
}

#[test]
fn tables_are_compared_in_linear_time() {
    // Rows of one DaemonSet: every row has the same base name, the worst case for pairing. Four
    // times the rows must take about four times as long (pairing by scanning would take 16).
    let table = |rows: usize, offset: usize| {
        let mut t = String::from("NAME                 READY   STATUS    RESTARTS   AGE\n");
        for i in 0..rows {
            t.push_str(&format!(
                "pod/ztunnel-{}    1/1     Running   0          {}m\n",
                suffix(i + offset),
                i % 60 + 1
            ));
        }
        t
    };
    let run = |rows: usize| {
        let (documented, seen) = (table(rows, 0), table(rows, 50_000));
        let excerpt: String = documented
            .lines()
            .skip(1)
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            table::compare(&documented, &seen, Extent::Exact),
            Comparison::Matches
        );
        assert_eq!(
            table::compare(&excerpt, &seen, Extent::Exact),
            Comparison::Matches
        );
    };
    crate::timing::linear("500 rows, then 2,000", 9, || run(500), || run(2_000))
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------- how a difference reads

#[test]
fn a_difference_names_what_differs_and_both_sides() {
    let d = Difference::new("STATUS of pod/istiod", "Running", "CrashLoopBackOff");
    assert_eq!(
        d.to_string(),
        r#"STATUS of pod/istiod: expected "Running", seen "CrashLoopBackOff""#
    );
    // An empty side is shown as empty, not dropped.
    assert_eq!(
        Difference::new("row missing", "", "x").to_string(),
        r#"row missing: expected "", seen "x""#
    );
}

#[test]
fn an_age_or_an_address_stands_only_for_another_age_or_address() {
    // verify.sh lets elapsed times and IPv4 addresses differ, nothing else in their place.
    assert!(like::token_like("12m", "3d4h"));
    assert!(
        !like::token_like("12m", "Running"),
        "an age is not any word"
    );
    assert!(
        !like::token_like("Running", "12m"),
        "any word is not an age"
    );
    assert!(like::token_like("10.96.15.172", "10.96.1.2"));
    assert!(like::token_like("10.96.15.172", "<none>"));
    assert!(like::token_like("10.96.15.172", "<pending>"));
    assert!(
        !like::token_like("10.96.15.172", "ClusterIP"),
        "an address is not any word"
    );
}

#[test]
fn install_lines_without_the_completion_line_are_still_compared() {
    // A page may show the component lines and leave "Installation complete" out.
    let shown = "✔ Istio core installed\n✔ Istiod installed";
    assert_eq!(install::compare(shown, shown), Comparison::Matches);
    let d = only(&install::compare(shown, "✔ Istio core installed"));
    assert_eq!(d.expected, "✔ Istiod installed");
}

#[test]
fn a_generated_name_stands_only_for_the_same_name_and_an_ipv6_address_for_nothing() {
    assert!(like::token_like(
        "istiod-dd667dbb7-5vkb6",
        "istiod-5c8d9f7b4-x2q7b"
    ));
    assert!(
        !like::token_like("istiod-dd667dbb7-5vkb6", "ztunnel-5c8d9f7b4-x2q7b"),
        "another workload's pod"
    );
    // verify.sh normalizes IPv4 addresses only.
    assert!(!like::token_like("fd00::1", "10.96.1.2"));
    assert!(!like::token_like("fd00::1", "fd00::2"));
}

/// A real 1.22+ outbound line through a waypoint (fixtures/recorded/ztunnel-access-waypoint.log):
/// the tunnel target (`dst.hbone_addr`) is not the address dialled, so dst is the waypoint.
fn through_waypoint() -> String {
    fixture("recorded/ztunnel-access-waypoint.log")
        .lines()
        .find(|l| l.contains("direction=\"outbound\""))
        .unwrap()
        .to_string()
}

#[test]
fn a_documented_waypoint_must_be_the_seen_one() {
    let documented = through_waypoint();
    let rerun = documented
        .replace("waypoint-7594b5b786-vgjwz", "waypoint-5c9d8f7b64-x2q7b")
        .replace("10.28.2.18:51960", "10.28.1.7:40100");
    assert_eq!(logs::compare(&documented, &rerun), Comparison::Matches);
    let what = |seen: &str| only(&logs::compare(&documented, seen)).what;
    // Straight to the service: the same dst, but the tunnel goes where it dialled.
    let direct = documented.replace(
        "dst.hbone_addr=34.118.226.6:9080",
        "dst.hbone_addr=10.28.2.14:9080",
    );
    assert_eq!(what(&direct), "log line (waypoint differ)");
    // Another waypoint: its identity, or its workload.
    let other_identity = documented.replace("sa/waypoint\"", "sa/reviews-waypoint\"");
    assert_eq!(
        what(&other_identity),
        "log line (dst.identity, waypoint.identity differ)"
    );
    let other_workload =
        documented.replace("\"waypoint-7594b5b786", "\"reviews-waypoint-7594b5b786");
    assert_eq!(
        what(&other_workload),
        "log line (dst.workload, waypoint.workload differ)"
    );
    // A failed connection where the page shows a completed one.
    let failed = format!("{documented} error=\"connection timed out\"");
    assert_eq!(what(&failed), "log line (error differ)");
}

#[test]
fn a_waypoint_seen_where_the_page_says_none_differs_only_where_the_page_says_so() {
    let via = through_waypoint();
    // The page's line goes straight to the service (outbound: it says there was no waypoint).
    let direct = via.replace(
        "dst.hbone_addr=34.118.226.6:9080",
        "dst.hbone_addr=10.28.2.14:9080",
    );
    assert_eq!(
        only(&logs::compare(&direct, &via)).what,
        "log line (waypoint differ)"
    );
    // A line without a direction cannot say whether a waypoint was on the path: the seen
    // waypoint is not held against it.
    let undirected = via.replace(" direction=\"outbound\"", "");
    assert_ne!(undirected, via);
    assert_eq!(logs::compare(&undirected, &via), Comparison::Matches);
}

#[test]
fn a_denial_that_is_not_there_quotes_the_first_line_printed() {
    let d = only(&marker::rbac_denied("\n  \nupstream connect error\n"));
    assert_eq!(d.seen, "upstream connect error");
}

#[test]
fn a_dash_after_nothing_or_after_a_kind_is_no_generated_suffix() {
    for name in ["-x2q7b", "pod/-x2q7b"] {
        let g = names::generated(name);
        assert!(!g.suffix && !g.hash, "{name}: {g:?}");
    }
    assert!(names::generated("pod/istiod-x2q7b").suffix);
}

#[test]
fn an_address_starts_after_neither_a_letter_nor_a_dot() {
    assert_eq!(names::mask_ipv4("x.10.96.0.1"), "x.10.96.0.1");
    assert_eq!(names::mask_ipv4("v10.96.0.1"), "v10.96.0.1");
    assert_eq!(names::mask_ipv4("at 10.96.0.1"), "at <ip>");
}

#[test]
fn a_dotted_quad_has_octets_of_at_most_three_digits_and_ends_where_the_address_does() {
    assert_eq!(names::mask_ipv4("1234.10.0.1"), "1234.10.0.1");
    assert_eq!(names::mask_ipv4("10.0.0.1.5"), "10.0.0.1.5");
    // A sentence may end right after an address.
    assert_eq!(names::mask_ipv4("at 10.0.0.1."), "at <ip>.");
}

#[test]
fn only_a_numeric_node_port_is_masked() {
    assert_eq!(names::mask_node_ports("80:32654/TCP"), "80:<nodeport>/TCP");
    assert_eq!(names::mask_node_ports("80:abc/TCP"), "80:abc/TCP");
    assert_eq!(names::mask_node_ports("80:/TCP"), "80:/TCP");
}

#[test]
fn a_json_array_is_its_items_and_only_a_list_with_items_is_flattened() {
    let docs = object::documents(r#"[{"kind": "Pod"}, {"kind": "Service"}]"#).unwrap();
    assert_eq!(docs.len(), 2, "{docs:?}");
    // A kind that ends in List without items, and items under another kind, stay one object.
    assert_eq!(
        object::documents("kind: PodList\nmetadata: {}\n")
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        object::documents("kind: Config\nitems: [1, 2]\n")
            .unwrap()
            .len(),
        1
    );
    let list = "kind: PodList\nitems:\n- kind: Pod\n- kind: Pod\n";
    assert_eq!(object::documents(list).unwrap().len(), 2);
}

#[test]
fn an_empty_document_is_no_object_and_a_single_pair_is_compared_field_by_field() {
    assert!(matches!(
        object::compare("", "kind: Pod\n"),
        Comparison::Unreadable { .. }
    ));
    // One documented object against one seen: paired whatever their names, so a renamed
    // object reads as its name, not as a missing object.
    let a = "kind: Pod\nmetadata:\n  name: a\n";
    let b = "kind: Pod\nmetadata:\n  name: b\n";
    assert_eq!(only(&object::compare(a, b)).what, "metadata.name");
    assert_eq!(
        only(&object::compare("spec:\n  a: 1\n", "spec:\n  a: 2\n")).what,
        "spec.a"
    );
}

#[test]
fn only_the_api_servers_own_metadata_is_ignored() {
    let shown = "metadata:\n  name: a\n  uid: x\n  annotations:\n    team: mesh\n    kubectl.kubernetes.io/last-applied-configuration: '{}'\nspec:\n  uid: u1\n";
    let seen = "metadata:\n  name: a\n  uid: y\n  annotations:\n    team: mesh\n    kubectl.kubernetes.io/last-applied-configuration: '{\"a\":1}'\nspec:\n  uid: u1\n";
    assert_eq!(object::compare(shown, seen), Comparison::Matches);
    // Another annotation, and a field named like volatile metadata outside metadata, count.
    let other_annotation = seen.replace("team: mesh", "team: web");
    assert_eq!(
        only(&object::compare(shown, &other_annotation)).what,
        "metadata.annotations.team"
    );
    let other_spec = seen.replace("uid: u1", "uid: u2");
    assert_eq!(only(&object::compare(shown, &other_spec)).what, "spec.uid");
}

#[test]
fn lists_are_matched_by_key_only_when_both_sides_carry_it() {
    // The seen conditions lack `type`: compared element by element.
    let shown = "status:\n  conditions:\n  - type: Ready\n    status: 'True'\n";
    let untyped = "status:\n  conditions:\n  - status: 'True'\n";
    assert_eq!(
        only(&object::compare(shown, untyped)).what,
        "status.conditions[0].type"
    );
    // Scalars are no keyed objects: order counts.
    let d = differences(&object::compare("args: [a, b]\n", "args: [b, a]\n"));
    let what: Vec<&str> = d.iter().map(|d| d.what.as_str()).collect();
    assert_eq!(what, ["args[0]", "args[1]"]);
    // An empty documented list is a value: a seen element differs.
    assert_eq!(
        only(&object::compare("items: []\n", "items:\n- type: A\n")).what,
        "items (length)"
    );
}

#[test]
fn a_long_value_is_cut_after_200_bytes_and_one_of_200_is_not() {
    let exact = "x".repeat(198); // 200 bytes with its quotes
    let d = only(&object::compare(&format!("a: {exact}\n"), "a: other\n"));
    assert_eq!(d.expected, format!("\"{exact}\""));
    let long = "x".repeat(400);
    let d = only(&object::compare(&format!("a: {long}\n"), "a: other\n"));
    assert!(d.expected.ends_with('…'), "{}", d.expected);
    assert_eq!(d.expected.len(), 200 + '…'.len_utf8());
}

#[test]
fn a_table_names_its_kind_from_the_name_column_wherever_it_is() {
    let t = table::parse(
        "NAMESPACE      NAME              READY\nistio-system   pod/istiod-x2q7b  1/1\n",
    );
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].kind(), Some("pod"));
}

#[test]
fn a_header_is_upper_case_and_two_cells_or_a_lone_name() {
    // A lone NAME is a header (kubectl get ... -o name is not, but `NAME` alone is).
    let t = table::parse("NAME\nistiod\n");
    assert_eq!(t[0].header, vec!["NAME"]);
    // A lone upper-case word that is not NAME is a row.
    let t = table::parse("ERROR\n");
    assert!(t[0].header.is_empty(), "{t:?}");
    let t = table::parse("NAME   READY\nistiod   1/1\n");
    assert_eq!(t[0].header, vec!["NAME", "READY"]);
    // Capitalized words are values, not a header.
    let t = table::parse("Running   Completed\n");
    assert!(t[0].header.is_empty(), "{t:?}");
    assert_eq!(t[0].rows.len(), 1);
}

#[test]
fn a_row_knows_its_line() {
    let t = table::parse("NAME     READY\nistiod   1/1\n");
    assert_eq!(t[0].rows[0].line, 2);
}

#[test]
fn a_cell_without_a_header_stands_only_for_an_age_or_an_address_of_its_kind() {
    assert!(table::cell_equal("", "12m", "3d4h"));
    assert!(table::cell_equal("", "10.0.0.1", "10.0.0.2"));
    assert!(!table::cell_equal("", "12m", "Running"));
    assert!(!table::cell_equal("", "10.0.0.1", "Running"));
    assert!(!table::cell_equal("", "Running", "10.0.0.1"));
}

#[test]
fn an_external_address_is_pending_an_address_or_a_dotted_host_name() {
    assert!(table::cell_equal(
        "EXTERNAL-IP",
        "<pending>",
        "lb.example.com"
    ));
    assert!(table::cell_equal("EXTERNAL-IP", "<pending>", "172.18.0.9"));
    assert!(!table::cell_equal("EXTERNAL-IP", "<pending>", "localhost"));
    assert!(!table::cell_equal(
        "EXTERNAL-IP",
        "<pending>",
        "lb.example.com/x"
    ));
}

#[test]
fn a_documented_table_pairs_with_the_seen_table_of_its_header_before_another_of_its_kind() {
    let documented = "NAME    READY\npod/a   1/1\n";
    // The same kind under another header comes first.
    let seen = "NAME    STATUS\npod/b   Running\n\nNAME    READY\npod/a   1/1\n";
    assert_eq!(
        table::compare(documented, seen, Extent::AlongTheLines),
        Comparison::Matches
    );
}
