//! Running documented commands as written: shell words, the guard (each refused form and the
//! near misses that must run), the provider table, the run directory and environment, bash with
//! pipefail, closed stdin and a timeout that ends the process group, the pinned kubectl download.

use std::path::Path;

use proptest::prelude::*;
use std::time::{Duration, Instant};

use support::run::applicability::{self, RULES};
use support::run::words::{self, ShellError};
use support::run::{
    Decision, Exit, GuardError, Outcome, PinnedTools, RunDir, RunSetup, Runner, guard, kubectl,
};
use support::settings::Provider;

use crate::world::{Answer, FakeBin, Server, sha256_hex};

// ---------------------------------------------------------------- shell words

#[test]
fn words_split_lists_and_pipelines_and_drop_quotes_and_redirections() {
    let s = words::parse(
        "kubectl get pods -n 'istio system' | grep \"ztunnel\" && echo ok > /tmp/x 2>&1; FOO=bar env",
    )
    .unwrap();
    let w: Vec<Vec<String>> = s.commands.iter().map(|c| c.words.clone()).collect();
    assert_eq!(
        w,
        vec![
            vec!["kubectl", "get", "pods", "-n", "istio system"],
            vec!["grep", "ztunnel"],
            vec!["echo", "ok"],
            vec!["env"],
        ]
    );
    assert_eq!(
        s.commands[3].assignments,
        vec![("FOO".into(), "bar".into())]
    );
}

#[test]
fn heredoc_bodies_are_data_and_commands_after_them_are_read() {
    let text = "kubectl apply -f - <<EOF\nspec:\n  server: https://x\n  args: [--context, prod]\nEOF\nkubectl get gateway";
    let s = words::parse(text).unwrap();
    assert_eq!(s.commands.len(), 2, "{s:?}");
    assert_eq!(s.commands[0].words, ["kubectl", "apply", "-f", "-"]);
    assert_eq!(s.commands[1].words, ["kubectl", "get", "gateway"]);
    assert_eq!(s.heredocs.len(), 1);
    assert!(s.heredocs[0].body.contains("--context, prod"));
    // Quoted and tab-stripping delimiters.
    let s = words::parse("cat <<-'END' | kubectl apply -f -\n\tkind: X\n\tEND\necho done").unwrap();
    assert_eq!(s.commands.len(), 3, "{s:?}");
    assert_eq!(s.commands[2].words, ["echo", "done"]);
    // Each body belongs to the command that reads it.
    let s = words::parse("cat <<A; bash <<B\none\nA\ntwo\nB\n").unwrap();
    let owners: Vec<_> = s
        .heredocs
        .iter()
        .map(|h| (h.body.as_str(), h.command))
        .collect();
    assert_eq!(owners, [("one\n", Some(0)), ("two\n", Some(1))]);
}

#[test]
fn command_substitutions_are_read_as_commands_and_placeholders_are_found() {
    let s = words::parse("echo $(kubectl get pods -o name) `istioctl version`").unwrap();
    let programs: Vec<_> = s.commands.iter().filter_map(|c| c.program()).collect();
    assert_eq!(programs, ["kubectl", "istioctl", "echo"]);
    let s = words::parse("kubectl logs <istio-cni-node-id> -n istio-system|grep route").unwrap();
    assert_eq!(s.placeholders, ["<istio-cni-node-id>"]);
    // A real redirection is no placeholder.
    let s = words::parse("kubectl apply -f - < file.yaml").unwrap();
    assert!(s.placeholders.is_empty());
}

#[test]
fn a_hash_inside_a_word_and_an_escaped_char_are_the_words_own() {
    let s = words::parse("curl http://x/#top issue#1 # a comment").unwrap();
    assert_eq!(s.commands[0].words, ["curl", "http://x/#top", "issue#1"]);
    // A backslash keeps the char after it, one byte or several; a quote it escapes is a char.
    let s = words::parse("echo \\$HOME a\\ b \\é \\\"x\\\"").unwrap();
    assert_eq!(s.commands[0].words, ["echo", "$HOME", "a b", "é", "\"x\""]);
}

#[test]
fn both_streams_to_a_file_take_the_next_word_as_the_file_only() {
    for text in [
        "echo hi &>x extra",
        "echo hi &>>x extra",
        "echo hi &> x extra",
    ] {
        let s = words::parse(text).unwrap();
        let w: Vec<&Vec<String>> = s.commands.iter().map(|c| &c.words).collect();
        assert_eq!(w, [&vec!["echo", "hi", "extra"]], "{text}");
    }
    // Near miss: `&` alone ends the command (runs it in the background).
    let s = words::parse("echo hi & x extra").unwrap();
    assert_eq!(s.commands.len(), 2);
}

#[test]
fn only_an_unquoted_name_before_the_first_equals_sign_makes_an_assignment() {
    let s = words::parse("FOO=1 BAR=a=b env x=3").unwrap();
    assert_eq!(
        s.commands[0].assignments,
        [("FOO".into(), "1".into()), ("BAR".into(), "a=b".into())]
    );
    assert_eq!(s.commands[0].words, ["env", "x=3"]);
    for (text, first) in [
        ("A-B=x env", "A-B=x"),
        ("=y env", "=y"),
        ("1X=y env", "1X=y"),
    ] {
        let s = words::parse(text).unwrap();
        assert!(s.commands[0].assignments.is_empty(), "{text}: {s:?}");
        assert_eq!(s.commands[0].words, [first, "env"], "{text}");
    }
}

#[test]
fn inside_double_quotes_a_backslash_escapes_only_what_bash_says() {
    let s =
        words::parse("echo \"a\\\"b\" \"c\\\\d\" \"e\\$f\" \"g\\`h\" \"i\\x\" \"j\\\nk\"").unwrap();
    assert_eq!(
        s.commands[0].words,
        ["echo", "a\"b", "c\\d", "e$f", "g`h", "i\\x", "jk"]
    );
    // `$( … )` and backquotes inside double quotes are commands too.
    let s = words::parse("echo \"$(kubectl get pods)\" \"`istioctl version`\"").unwrap();
    let programs: Vec<_> = s.commands.iter().filter_map(|c| c.program()).collect();
    assert_eq!(programs, ["kubectl", "istioctl", "echo"]);
}

#[test]
fn a_backquoted_command_ends_at_its_unescaped_backquote() {
    let s = words::parse("echo `kubectl version` x").unwrap();
    let programs: Vec<_> = s.commands.iter().filter_map(|c| c.program()).collect();
    assert_eq!(programs, ["kubectl", "echo"]);
    assert_eq!(s.commands[1].words, ["echo", "`kubectl version`", "x"]);
    let s = words::parse("echo `echo a\\`b` y").unwrap();
    assert_eq!(s.commands[0].words, ["echo", "a`b"]);
    assert_eq!(s.commands[1].words[2], "y");
}

#[test]
fn redirections_take_their_target_and_leave_every_other_word() {
    let words = |text: &str| -> Vec<Vec<String>> {
        words::parse(text)
            .unwrap()
            .commands
            .iter()
            .map(|c| c.words.clone())
            .collect()
    };
    // A stream number is no word; a word before `>` is, quoted digits too.
    assert_eq!(
        words("kubectl logs x 2>/dev/null"),
        [["kubectl", "logs", "x"]]
    );
    assert_eq!(words("echo abc>x"), [["echo", "abc"]]);
    assert_eq!(words("echo \"2\">x"), [["echo", "2"]]);
    assert_eq!(words("echo 2 >x"), [["echo", "2"]]);
    // `<` reads a file, `<<<` a string: neither opens a heredoc.
    let s = words::parse("kubectl apply -f - < file.yaml").unwrap();
    assert!(s.heredocs.is_empty(), "{s:?}");
    assert_eq!(s.commands[0].words, ["kubectl", "apply", "-f", "-"]);
    let s = words::parse("grep x <<< \"$v\"; echo done").unwrap();
    assert!(s.heredocs.is_empty(), "{s:?}");
    let w: Vec<&Vec<String>> = s.commands.iter().map(|c| &c.words).collect();
    assert_eq!(w, [&vec!["grep", "x"], &vec!["echo", "done"]]);
    // A heredoc's delimiter after a space, or escaped.
    for text in [
        "cat << EOF\nx\nEOF\necho done",
        "cat <<\\EOF\nx\nEOF\necho done",
    ] {
        let s = words::parse(text).unwrap();
        assert_eq!(
            (
                s.heredocs[0].delimiter.as_str(),
                s.heredocs[0].body.as_str()
            ),
            ("EOF", "x\n"),
            "{text}"
        );
        assert_eq!(s.commands[1].words, ["echo", "done"], "{text}");
    }
    // A placeholder is one word of its command.
    assert_eq!(
        words("kubectl logs <istio-cni-node-id> -n istio-system|grep route"),
        [
            vec![
                "kubectl",
                "logs",
                "<istio-cni-node-id>",
                "-n",
                "istio-system"
            ],
            vec!["grep", "route"]
        ]
    );
}

#[test]
fn a_substitution_ends_at_its_own_paren_not_one_quoted_or_escaped() {
    for (text, inner) in [
        ("echo $(echo ')') after", ")"),
        ("echo $(echo \")\") after", ")"),
        ("echo $(echo \"a\\\")b\") after", "a\")b"),
        ("echo $(echo \\)) after", ")"),
        ("echo $(echo é) after", "é"),
    ] {
        let s = words::parse(text).unwrap();
        let w: Vec<&Vec<String>> = s.commands.iter().map(|c| &c.words).collect();
        assert_eq!(w.len(), 2, "{text}: {w:?}");
        assert_eq!(w[0], &vec!["echo", inner], "{text}");
        assert_eq!(w[1].last().map(String::as_str), Some("after"), "{text}");
    }
}

#[test]
fn substitutions_nest_up_to_the_bound_and_not_one_deeper() {
    let nested = |n: usize| format!("{}x{}", "$(echo ".repeat(n), ")".repeat(n));
    let s = words::parse(&nested(words::MAX_DEPTH)).unwrap();
    assert_eq!(
        s.commands.iter().map(|c| c.depth).max(),
        Some(words::MAX_DEPTH)
    );
    assert_eq!(
        words::parse(&nested(words::MAX_DEPTH + 1)),
        Err(ShellError::TooDeep)
    );
}

#[test]
fn unreadable_text_is_a_typed_error_never_a_panic() {
    assert!(matches!(
        words::parse("echo 'open"),
        Err(ShellError::Unterminated { .. })
    ));
    assert!(matches!(
        words::parse("echo \"open"),
        Err(ShellError::Unterminated { .. })
    ));
    assert!(matches!(
        words::parse("echo $(kubectl get"),
        Err(ShellError::Unterminated { .. })
    ));
    let deep = format!("{}x{}", "$(echo ".repeat(20), ")".repeat(20));
    assert_eq!(words::parse(&deep), Err(ShellError::TooDeep));
    for text in [
        "\\",
        "<",
        "<<",
        "2>",
        "$(",
        "`",
        "a=\u{e9}\u{1f600} <<'",
        "<a",
    ] {
        let _ = words::parse(text);
        let _ = guard::check(text);
    }
}

// ---------------------------------------------------------------- the guard

fn refused(text: &str) -> support::run::Refusal {
    match guard::check(text) {
        Err(GuardError::Refused(r)) => r,
        other => panic!("{text:?} should be refused, got {other:?}"),
    }
}

#[test]
fn every_form_that_names_another_cluster_is_refused_with_why() {
    let cases: &[(&str, &str)] = &[
        (
            "kubectl --kubeconfig /root/.kube/config get pods",
            "--kubeconfig",
        ),
        ("kubectl get pods --kubeconfig=/x", "--kubeconfig=/x"),
        ("kubectl --context prod get pods", "--context"),
        ("kubectl get pods --context=prod", "--context=prod"),
        ("kubectl --cluster other get pods", "--cluster"),
        ("kubectl -s https://10.0.0.1:6443 get pods", "-s"),
        (
            "kubectl -shttps://10.0.0.1:6443 get pods",
            "-shttps://10.0.0.1:6443",
        ),
        ("kubectl --server=https://x get pods", "--server=https://x"),
        ("kubectl --token abc get pods", "--token"),
        ("kubectl --user admin get pods", "--user"),
        ("kubectl --client-key k.pem get pods", "--client-key"),
        (
            "KUBECONFIG=/tmp/other kubectl get pods",
            "KUBECONFIG=/tmp/other",
        ),
        ("export KUBECONFIG=/tmp/other", "KUBECONFIG=/tmp/other"),
        ("env KUBECONFIG=/x kubectl get pods", "KUBECONFIG=/x"),
        ("HOME=/root kubectl get pods", "HOME=/root"),
        ("kubectl config use-context prod", "config use-context"),
        (
            "kubectl config set-context --current --namespace=x",
            "config set-context",
        ),
        (
            "kubectl config set-cluster other --server=https://x",
            "--server=https://x",
        ),
        ("kubectl config set-credentials me --token=x", "--token=x"),
        ("istioctl --context prod install -y", "--context"),
        (
            "kubectl apply --context=\"${CTX_CLUSTER1}\" -f x.yaml",
            "--context=${CTX_CLUSTER1}",
        ),
        ("istioctl install -c /other/kubeconfig -y", "-c"),
        (
            "./istio/bin/istioctl --kubeconfig x proxy-status",
            "--kubeconfig",
        ),
        (
            "kind create cluster --kubeconfig /root/.kube/config",
            "--kubeconfig",
        ),
        ("helm install x chart --kube-context prod", "--kube-context"),
        (
            "kubectl get pods | kubectl --context prod apply -f -",
            "--context",
        ),
        ("true && kubectl --context prod get pods", "--context"),
        ("echo $(kubectl --context prod get pods)", "--context"),
        ("bash -c 'kubectl --context prod get pods'", "--context"),
        ("sudo kubectl --context prod get pods", "--context"),
        ("timeout 60 kubectl --context prod get pods", "--context"),
        ("watch -n 1 kubectl --context prod get pods", "--context"),
        (
            "echo prod | xargs kubectl config use-context",
            "config use-context",
        ),
        (
            "kubectl apply -f - --context prod <<EOF\nkind: X\nEOF",
            "--context",
        ),
    ];
    for (text, offending) in cases {
        let r = refused(text);
        assert_eq!(r.offending, *offending, "{text}");
        let message = r.to_string();
        assert!(message.starts_with("refused before it ran: `"), "{message}");
        assert!(!r.reason.is_empty(), "{text}: a reason");
    }
    let r = refused("kubectl --context prod get pods");
    assert_eq!(r.command, "kubectl --context prod get pods");
    assert_eq!(r.reason, "names another kube context");
}

#[test]
fn near_misses_of_the_guard_are_allowed() {
    for text in [
        // Heredoc bodies are data: a Gateway's `--context` arg, a kubeconfig-like `server:`.
        "kubectl apply -f - <<EOF\napiVersion: v1\nkind: ConfigMap\ndata:\n  args: --context=prod --kubeconfig=/x\n  server: https://10.0.0.1:6443\nEOF",
        "kubectl get pods -l context=x",
        "kubectl get pods --selector=server=x",
        "kubectl exec deploy/sleep -- curl -s http://productpage:9080/",
        "kubectl exec deploy/sleep -- sh -c 'curl -s --user a:b http://x'",
        "kubectl -n istio-system logs ztunnel-x -cistio-proxy --tail 1",
        "kubectl config view",
        "kubectl config current-context",
        "kubectl config get-contexts",
        "echo '--context is a flag of kubectl'",
        "curl -s -u user:pass https://example.com/",
        "kubectl get pods -o jsonpath='{.items[*].metadata.name}'",
        "kubectl label namespace default istio.io/dataplane-mode=ambient",
        "FOO=bar kubectl get pods",
        "istioctl proxy-config clusters deploy/sleep --fqdn x",
        "kubectl get svc -o custom-columns=CONTEXT:.metadata.name",
        "echo KUBECONFIG=/x",
        "kubectl get pods # --context prod",
        "cat <<EOF | kubectl apply -f -\nargs: [--context=prod]\nEOF",
        "bash -c 'echo hi' <<EOF\n--context prod\nEOF",
        "timeout 60 kubectl get pods",
        "kubectl apply --server-side -f crds.yaml",
        "kubectl apply --dry-run=server -f x.yaml",
        "istioctl install --set values.global.multiCluster.clusterName=cluster1 -y",
        "kubectl get pods --cluster-domain=x",
    ] {
        assert_eq!(guard::check(text), Ok(()), "{text}");
    }
}

#[test]
fn a_shell_that_reads_its_commands_from_a_heredoc_has_that_body_checked() {
    // The body is what the shell runs: each shell, `sh -s`, `source /dev/stdin`, `. /dev/stdin`.
    for reader in [
        "bash",
        "sh -s",
        "zsh",
        "dash",
        "ksh",
        "source /dev/stdin",
        ". /dev/stdin",
    ] {
        let text = format!("{reader} <<EOF\nkubectl --context prod get pods\nEOF");
        assert_eq!(refused(&text).offending, "--context", "{text}");
    }
    // Near misses: the same body as data of a program that does not run it.
    for text in [
        "cat <<EOF\nkubectl --context prod get pods\nEOF",
        "source ./env.sh <<EOF\nkubectl --context prod get pods\nEOF",
        "bash -c 'echo hi' <<EOF\nkubectl --context prod get pods\nEOF",
        "python3 <<EOF\nkubectl --context prod get pods\nEOF",
    ] {
        assert_eq!(guard::check(text), Ok(()), "{text}");
    }
}

#[test]
fn the_guard_looks_into_eval_and_nested_shells_to_a_bounded_depth() {
    assert_eq!(
        refused("eval kubectl --context prod get pods").offending,
        "--context"
    );
    assert_eq!(
        refused("bash -c \"sh -c 'kubectl --context prod get pods'\"").offending,
        "--context"
    );
    // `bash -c '…'` nested: as deep as the shell-word reader goes is read; one deeper is an
    // error, never a pass.
    let nest = |levels: usize| {
        let mut text = "kubectl --context prod get pods".to_string();
        for _ in 0..levels {
            text = format!("eval '{}'", text.replace('\'', "'\\''"));
        }
        text
    };
    assert_eq!(refused(&nest(words::MAX_DEPTH)).offending, "--context");
    assert!(matches!(
        guard::check(&nest(words::MAX_DEPTH + 1)),
        Err(GuardError::Unreadable(_))
    ));
    // The same bound through `bash -c '…'` and through heredocs a shell reads.
    let nest_shells = |levels: usize| {
        let mut text = "kubectl --context prod get pods".to_string();
        for _ in 0..levels {
            text = format!("bash -c '{}'", text.replace('\'', "'\\''"));
        }
        text
    };
    assert_eq!(
        refused(&nest_shells(words::MAX_DEPTH)).offending,
        "--context"
    );
    assert!(matches!(
        guard::check(&nest_shells(words::MAX_DEPTH + 1)),
        Err(GuardError::Unreadable(_))
    ));
    let nest_heredocs = |levels: usize| {
        let mut text = "kubectl --context prod get pods".to_string();
        for level in 0..levels {
            text = format!("bash <<E{level}\n{text}\nE{level}");
        }
        text
    };
    assert_eq!(
        refused(&nest_heredocs(words::MAX_DEPTH)).offending,
        "--context"
    );
    assert!(matches!(
        guard::check(&nest_heredocs(words::MAX_DEPTH + 1)),
        Err(GuardError::Unreadable(_))
    ));
    // Near miss: an export of another variable is no cluster variable.
    assert_eq!(guard::check("export FOO=bar"), Ok(()));
    assert_eq!(guard::check("env"), Ok(()));
}

#[test]
fn an_unreadable_command_is_not_run() {
    assert!(matches!(
        guard::check("kubectl get pods -l 'app=x"),
        Err(GuardError::Unreadable(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Shell-shaped noise: quotes, heredocs, substitutions, operators, flags, in any order.
    #[test]
    fn shell_words_the_guard_and_the_table_never_panic(
        s in r#"(kubectl|istioctl|kind|-s|-c|--context=|KUBECONFIG=|<<|<<-|EOF|\n|'|"|\\|\$\(|\)|`|\||&&|;|<[a-z]+>|>|2>&1|\{|\}|if|then|é| |[a-z]{1,6}){0,40}"#
    ) {
        if let Ok(script) = words::parse(&s) {
            for p in [Provider::Kind, Provider::Sim, Provider::K3s, Provider::Existing] {
                let _ = applicability::check(&script, p);
            }
        }
        let _ = guard::check(&s);
    }
}

// ---------------------------------------------------------------- provider applicability

fn not_applicable(text: &str, provider: Provider) -> Option<&'static str> {
    applicability::check(&words::parse(text).unwrap(), provider).map(|n| n.rule)
}

#[test]
fn every_rule_of_the_table_has_a_command_it_matches_and_a_near_miss_it_does_not() {
    // (rule, provider, a command it matches, a near miss on the same provider)
    let cases: &[(&str, Provider, &str, &str)] = &[
        (
            "placeholder",
            Provider::Kind,
            "kubectl logs <istio-cni-node-id> -n istio-system|grep route",
            "kubectl logs ds/istio-cni-node -n istio-system < /dev/null",
        ),
        (
            "kind_cluster",
            Provider::Sim,
            "kind create cluster --config=kind-config.yaml",
            "kind get clusters",
        ),
        (
            "kind_delete",
            Provider::Kind,
            "kind delete cluster",
            "kind get clusters",
        ),
        (
            "istio_download",
            Provider::Sim,
            "curl https://storage.googleapis.com/istio-build/dev/x/istio-x-linux-amd64.tar.gz --output istio.tar.gz",
            "curl -sL https://raw.githubusercontent.com/linsun/sample-apps/main/sleep/sleep.yaml -o sleep.yaml",
        ),
        ("docker", Provider::K3s, "docker ps", "kubectl get pods"),
        (
            "sim_exec",
            Provider::Sim,
            "kubectl exec deploy/sleep -- curl -s http://productpage:9080/",
            "kubectl get deploy/sleep",
        ),
        (
            "sim_data_plane_logs",
            Provider::Sim,
            "kubectl -n istio-system logs ztunnel-5qpn7 -cistio-proxy --tail 1",
            "kubectl logs deploy/istiod -n istio-system",
        ),
        (
            "sim_traffic",
            Provider::Sim,
            "curl -s \"http://$GATEWAY_URL/productpage\" | grep -o \"<title>.*</title>\"",
            "curl -sL https://raw.githubusercontent.com/istio/istio/master/samples/x.yaml -o x.yaml",
        ),
        (
            "sim_gateway_api_crds",
            Provider::Sim,
            "kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.0/standard-install.yaml",
            "kubectl get crd gateways.gateway.networking.k8s.io",
        ),
        (
            "sim_dashboard",
            Provider::Sim,
            "./istio/bin/istioctl dashboard kiali",
            "./istio/bin/istioctl version",
        ),
        (
            "sim_port_forward",
            Provider::Sim,
            "kubectl port-forward svc/kiali 20001:20001 -n istio-system",
            "kubectl get svc/kiali -n istio-system",
        ),
        (
            "sim_remote_kustomization",
            Provider::Sim,
            "kubectl kustomize \"github.com/kubernetes-sigs/gateway-api/config/crd/experimental?ref=v1.6.0\" | kubectl apply -f -",
            "kubectl kustomize ./config/crd/experimental | kubectl apply -f -",
        ),
    ];
    for (rule, provider, matching, near_miss) in cases {
        assert_eq!(
            not_applicable(matching, *provider),
            Some(*rule),
            "{matching} on {provider:?}"
        );
        assert_eq!(
            not_applicable(near_miss, *provider),
            None,
            "{near_miss} on {provider:?}"
        );
    }
    // The Istio download: an archive named istio…, or Istio's download scripts; not any archive,
    // nor any file named istio….
    for (text, rule) in [
        (
            "curl -L https://istio.io/downloadIstio | sh -",
            Some("istio_download"),
        ),
        (
            "curl -L https://git.io/getLatestIstio | sh -",
            Some("istio_download"),
        ),
        (
            "tar -xzf istio-1.24.2-linux-amd64.tgz",
            Some("istio_download"),
        ),
        ("curl -LO https://example.com/helm-v3.16.0.tar.gz", None),
        ("tar -xf istio-notes.zip", None),
    ] {
        assert_eq!(not_applicable(text, Provider::Kind), rule, "{text}");
    }
    // Traffic into workloads on sim: a service name with a port or a path, or any URL to one
    // (names with digits and dashes too); a bare word alone is a file, not a service.
    for (text, rule) in [
        ("curl -s productpage:9080/", Some("sim_traffic")),
        ("curl -s reviews/health", Some("sim_traffic")),
        ("curl -s http://productpage/", Some("sim_traffic")),
        ("curl -s http://productpage", Some("sim_traffic")),
        (
            "curl -s http://reviews-v2:9080/reviews/0",
            Some("sim_traffic"),
        ),
        (
            "wget -qO- http://details1:9080/details/0",
            Some("sim_traffic"),
        ),
        ("curl -s productpage", None),
        ("curl -s -o out.txt https://example.com/", None),
        // A remote kustomization: kustomize's own form too; not a remote only echoed, nor on a
        // provider with the network.
        (
            "kustomize build https://github.com/kubernetes-sigs/gateway-api//config/crd?ref=v1.2.0",
            Some("sim_remote_kustomization"),
        ),
        (
            "echo github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.0",
            None,
        ),
        ("kubectl kustomize github.com/a/b/c", None),
        // The same remote target after kubectl's other verbs, or another program's `build`.
        (
            "kubectl get github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.0",
            None,
        ),
        (
            "make build github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.0",
            None,
        ),
    ] {
        assert_eq!(not_applicable(text, Provider::Sim), rule, "{text}");
    }
    assert_eq!(
        not_applicable(
            "kubectl kustomize github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.0",
            Provider::Kind
        ),
        None
    );
    let covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    for rule in RULES {
        assert!(covered.contains(&rule.id), "rule {} has no test", rule.id);
        assert!(!rule.reason.is_empty());
    }
}

#[test]
fn what_sim_cannot_do_runs_elsewhere_and_the_cluster_step_is_never_the_documents() {
    let exec = "kubectl exec deploy/sleep -- curl -s http://productpage:9080/";
    assert_eq!(not_applicable(exec, Provider::Kind), None);
    assert_eq!(not_applicable(exec, Provider::K3s), None);
    assert_eq!(
        not_applicable("./istio/bin/istioctl dashboard kiali", Provider::Kind),
        None
    );
    for p in [
        Provider::Kind,
        Provider::Sim,
        Provider::K3s,
        Provider::Existing,
    ] {
        assert_eq!(
            not_applicable("kind create cluster", p),
            Some("kind_cluster"),
            "{p:?}"
        );
    }
    // The seed's release steps are the suite's; its sample paths are not.
    for text in [
        "tar -xvf istio.tar.gz\nrm istio.tar.gz",
        "mkdir istio\nmv istio*/*  istio",
    ] {
        assert_eq!(
            not_applicable(text, Provider::Kind),
            Some("istio_download"),
            "{text}"
        );
    }
    assert_eq!(
        not_applicable("kubectl apply -f ./istio/samples/addons", Provider::Sim),
        None
    );
    assert_eq!(
        not_applicable("rm -rf istio/samples/addons", Provider::Kind),
        None
    );
    for traffic in [
        "curl -s http://productpage:9080/",
        "curl productpage:9080/productpage",
        "curl -sS http://10.96.33.162:9080/",
        "curl http://localhost:20001/kiali",
        "wget -qO- http://[fd00::1]:80/",
        "curl -s -H 'Host: bookinfo.example.com' http://$INGRESS_HOST:$INGRESS_PORT/",
    ] {
        assert_eq!(
            not_applicable(traffic, Provider::Sim),
            Some("sim_traffic"),
            "{traffic}"
        );
        assert_eq!(not_applicable(traffic, Provider::Kind), None, "{traffic}");
    }
    for download in [
        "curl -sL https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.0/standard-install.yaml -o crds.yaml",
        "curl -o out.txt example.com/x",
        "curl --version",
        "wget -q notes.txt",
    ] {
        assert_eq!(not_applicable(download, Provider::Sim), None, "{download}");
    }
    // One matching command makes the whole block not applicable, with the one that matched.
    let block = "kubectl get pods\nkubectl exec deploy/sleep -- curl -s http://productpage:9080/";
    let n = applicability::check(&words::parse(block).unwrap(), Provider::Sim).unwrap();
    assert_eq!(
        n.command,
        "kubectl exec deploy/sleep -- curl -s http://productpage:9080/"
    );
    assert!(n.reason.contains("replay"), "{}", n.reason);
    assert_eq!(
        not_applicable(
            "if kubectl exec deploy/sleep -- curl -s http://productpage:9080/; then echo ok; fi",
            Provider::Sim
        ),
        Some("sim_exec")
    );
}

// ---------------------------------------------------------------- the run directory and bash

struct Fixture {
    _bin: FakeBin,
    _release: tempfile::TempDir,
    state: tempfile::TempDir,
    dir: RunDir,
}

fn fixture() -> Fixture {
    let bin = FakeBin::new();
    bin.script("kubectl", "echo \"fake kubectl $*\"");
    bin.script("istioctl", "echo \"fake istioctl $*\"");
    let release = tempfile::tempdir().unwrap();
    let samples = release.path().join("samples/bookinfo");
    std::fs::create_dir_all(&samples).unwrap();
    std::fs::write(samples.join("bookinfo.yaml"), "kind: Deployment\n").unwrap();
    std::fs::create_dir_all(release.path().join("bin")).unwrap();
    std::fs::write(release.path().join("bin/istioctl"), "not the pinned one").unwrap();
    let state = tempfile::tempdir().unwrap();
    let kubeconfig = state.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "apiVersion: v1\n").unwrap();
    let tools = PinnedTools {
        kubectl: bin.dir.path().join("kubectl"),
        istioctl: bin.dir.path().join("istioctl"),
    };
    let pass = vec![
        ("https_proxy".to_string(), "http://proxy:3128".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "leak".to_string()),
    ];
    let dir = RunDir::prepare(&RunSetup {
        state: &state.path().join("run"),
        kubeconfig: &kubeconfig,
        tools: &tools,
        release_root: Some(release.path()),
        release_version: "1.24.2",
        pass_through: &pass,
    })
    .unwrap();
    Fixture {
        _bin: bin,
        _release: release,
        state,
        dir,
    }
}

fn runner(f: &Fixture, provider: Provider, timeout: Duration) -> Runner {
    Runner::new(f.dir.clone(), provider, timeout)
}

async fn ran(r: &Runner, text: &str) -> support::run::Evidence {
    match r.run(text).await {
        Outcome::Ran(e) => e,
        other => panic!("{text:?} should run, got {other:?}"),
    }
}

#[tokio::test]
async fn commands_reach_the_pinned_tools_and_the_release_by_every_documented_path() {
    let f = fixture();
    let r = runner(&f, Provider::Kind, Duration::from_secs(20));
    let e = ran(&r, "kubectl get pods && ./istio/bin/istioctl version").await;
    assert_eq!(e.exit, Exit::Code(0));
    assert_eq!(
        e.stdout, "fake kubectl get pods\nfake istioctl version\n",
        "{e:?}"
    );
    for text in [
        "cat ./istio/samples/bookinfo/bookinfo.yaml",
        "cat samples/bookinfo/bookinfo.yaml",
        "cat @samples/bookinfo/bookinfo.yaml@",
        "cd istio-1.24.2 && cat samples/bookinfo/bookinfo.yaml",
        "cd / && cat @samples/bookinfo/bookinfo.yaml@",
    ] {
        let e = ran(&r, text).await;
        assert_eq!(e.stdout, "kind: Deployment\n", "{text}: {e:?}");
    }
    let e = ran(&r, "command -v kubectl istioctl").await;
    let bin = f.dir.bin();
    assert_eq!(
        e.stdout,
        format!(
            "{}\n{}\n",
            bin.join("kubectl").display(),
            bin.join("istioctl").display()
        )
    );
    // The marker is resolved in the evidence, as it was run.
    let e = ran(&r, "echo @samples/x@").await;
    assert!(e.command.starts_with("echo /"), "{}", e.command);
    assert!(!e.command.contains('@'));
}

#[tokio::test]
async fn the_environment_is_built_from_the_allow_list_only() {
    let f = fixture();
    let r = runner(&f, Provider::Kind, Duration::from_secs(20));
    let e = ran(&r, "env").await;
    let mut names: Vec<&str> = e
        .stdout
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    names.sort();
    // bash adds PWD, SHLVL and `_` itself.
    assert_eq!(
        names,
        [
            "HOME",
            "KUBECONFIG",
            "LANG",
            "PATH",
            "PWD",
            "SHLVL",
            "TMPDIR",
            "_",
            "https_proxy"
        ],
        "{}",
        e.stdout
    );
    let home = f.state.path().join("run/home");
    assert!(e.stdout.contains(&format!("HOME={}\n", home.display())));
    assert!(e.stdout.contains(&format!(
        "KUBECONFIG={}\n",
        f.state.path().join("kubeconfig").display()
    )));
    assert!(e.stdout.contains(&format!(
        "PATH={}:/usr/local/bin:/usr/bin:/bin\n",
        f.dir.bin().display()
    )));
    assert!(!e.stdout.contains("leak"), "a variable off the list got in");
}

#[tokio::test]
async fn pipefail_closed_stdin_and_exit_statuses_are_kept() {
    let f = fixture();
    let r = runner(&f, Provider::Kind, Duration::from_secs(20));
    let e = ran(&r, "false | cat").await;
    assert_eq!(e.exit, Exit::Code(1), "pipefail: the failing stage counts");
    let e = ran(&r, "cat; echo after").await;
    assert_eq!(e.stdout, "after\n", "stdin is closed: cat ends at once");
    let e = ran(&r, "echo out; echo err >&2; exit 3").await;
    assert_eq!((e.stdout.as_str(), e.stderr.as_str()), ("out\n", "err\n"));
    assert_eq!(e.exit, Exit::Code(3));
    let e = ran(&r, "kill -TERM $$").await;
    assert_eq!(e.exit, Exit::Signal(15));
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let f = fixture();
    let pid_file = f.state.path().join("child.pid");
    let text = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
    // A short timeout first, a longer one only if the kill came before the background sleep's
    // number was written (see `process::CHILD_STARTED_WITHIN`).
    for timeout in crate::process::CHILD_STARTED_WITHIN.map(Duration::from_millis) {
        let _ = std::fs::remove_file(&pid_file);
        let r = runner(&f, Provider::Kind, timeout);
        let started = Instant::now();
        let outcome = r.run(&text).await;
        assert!(
            matches!(outcome, Outcome::TimedOut { after, .. } if after == timeout),
            "{outcome:?}"
        );
        assert!(started.elapsed() < timeout + Duration::from_secs(10));
        let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .filter(|pid| pid.trim().parse::<u32>().is_ok())
        else {
            continue;
        };
        let proc_dir = Path::new("/proc").join(pid.trim());
        // The kill is delivered before run() returns; reaping by init may lag a little.
        let deadline = Instant::now() + Duration::from_secs(5);
        while proc_dir.exists()
            && !std::fs::read_to_string(proc_dir.join("stat")).is_ok_and(|s| s.contains(") Z "))
        {
            assert!(
                Instant::now() < deadline,
                "the background sleep {} outlived the timeout",
                pid.trim()
            );
            tokio::task::yield_now().await;
        }
        return;
    }
    panic!("the block never wrote its background sleep's number before its timeout");
}

#[tokio::test]
async fn refused_and_not_applicable_commands_never_run() {
    let f = fixture();
    let marker = f.state.path().join("ran");
    let r = runner(&f, Provider::Sim, Duration::from_secs(20));
    let text = format!(
        "touch {} && kubectl --context prod get pods",
        marker.display()
    );
    assert!(matches!(r.run(&text).await, Outcome::Refused(_)));
    let text = format!("touch {} && kind create cluster", marker.display());
    match r.run(&text).await {
        Outcome::NotApplicable(n) => assert_eq!(n.rule, "kind_cluster"),
        other => panic!("{other:?}"),
    }
    assert!(!marker.exists(), "nothing of a refused block ran");
    assert!(matches!(r.decide("kubectl get pods"), Decision::Run(_)));
}

#[tokio::test]
async fn output_is_bounded_like_every_tool_output() {
    let f = fixture();
    let r = runner(&f, Provider::Kind, Duration::from_secs(20));
    let e = ran(
        &r,
        "head -c 3000000 /dev/zero | tr '\\0' 'a' | fold -w 1000",
    )
    .await;
    assert!(e.stdout.len() < 2_200_000, "{}", e.stdout.len());
    assert!(e.stdout.contains("bytes dropped"));
}

#[test]
fn a_missing_pinned_tool_is_a_clear_error() {
    let state = tempfile::tempdir().unwrap();
    let tools = PinnedTools {
        kubectl: state.path().join("nope"),
        istioctl: state.path().join("nope"),
    };
    let err = RunDir::prepare(&RunSetup {
        state: state.path(),
        kubeconfig: &state.path().join("kc"),
        tools: &tools,
        release_root: None,
        release_version: "",
        pass_through: &[],
    })
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("kubectl "), "{err}");
    assert!(err.contains("pin it first"), "{err}");
}

// ---------------------------------------------------------------- the pinned kubectl

#[test]
fn the_kubectl_release_follows_the_server_version() {
    assert_eq!(kubectl::release_for_server("v1.33.1").unwrap(), "v1.33.1");
    assert_eq!(
        kubectl::release_for_server("v1.31.4+k3s1").unwrap(),
        "v1.31.4"
    );
    assert_eq!(
        kubectl::release_for_server("v1.34.0-rc.1").unwrap(),
        "v1.34.0-rc.1"
    );
    for bad in ["1.33.1", "v1.33", "v1.33.x", "v1.33.1/../x", "", "v1.33.1-"] {
        assert!(kubectl::release_for_server(bad).is_err(), "{bad}");
    }
    assert_eq!(
        kubectl::release_url(kubectl::RELEASES, "v1.33.1", "amd64"),
        "https://dl.k8s.io/release/v1.33.1/bin/linux/amd64/kubectl"
    );
    assert_eq!(kubectl::arch("x86_64").unwrap(), "amd64");
    assert!(kubectl::arch("riscv64").is_err());
}

#[tokio::test]
async fn kubectl_is_verified_cached_and_a_corrupt_one_is_never_kept() {
    let server = Server::start().await;
    let binary = b"#!/bin/sh\necho kubectl\n".to_vec();
    let path = "/release/v1.33.1/bin/linux/amd64/kubectl";
    server.route(&format!("{path}.sha256"), Answer::ok(sha256_hex(&binary)));
    server.route(path, Answer::ok(binary.clone()));
    let cache = tempfile::tempdir().unwrap();
    let base = format!("{}/release", server.base);
    let got = kubectl::acquire(&base, cache.path(), "v1.33.1", "amd64")
        .await
        .unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), binary);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(got.metadata().unwrap().permissions().mode() & 0o111, 0o111);
    kubectl::acquire(&base, cache.path(), "v1.33.1", "amd64")
        .await
        .unwrap();
    assert_eq!(server.hits(path), 1, "cached");

    // A published digest that does not match: an error naming both, nothing cached.
    let bad = "/release/v1.32.0/bin/linux/amd64/kubectl";
    server.route(&format!("{bad}.sha256"), Answer::ok("0".repeat(64)));
    server.route(bad, Answer::ok(binary.clone()));
    let err = kubectl::acquire(&base, cache.path(), "v1.32.0", "amd64")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kubectl::KubectlError::Checksum { expected, .. } if *expected == "0".repeat(64)),
        "{err}"
    );
    let entry = cache.path().join("kubectl-v1.32.0-amd64");
    assert!(!entry.join("kubectl").exists());
    assert_eq!(
        std::fs::read_dir(&entry).unwrap().count(),
        0,
        "no partial file"
    );

    // No checksum published, or not a checksum: refused.
    let none = "/release/v1.30.0/bin/linux/amd64/kubectl";
    server.route(none, Answer::ok(binary.clone()));
    assert!(matches!(
        kubectl::acquire(&base, cache.path(), "v1.30.0", "amd64").await,
        Err(kubectl::KubectlError::Http { status: 404, .. })
    ));
    let garbled = "/release/v1.29.0/bin/linux/amd64/kubectl";
    server.route(&format!("{garbled}.sha256"), Answer::ok("<html>"));
    assert!(matches!(
        kubectl::acquire(&base, cache.path(), "v1.29.0", "amd64").await,
        Err(kubectl::KubectlError::ChecksumFile { .. })
    ));
}

// ---------------------------------------------------------------- the seed's commands

/// The seed tutorial's lines `from..=to` (1-based), its list indentation removed.
fn seed_block(from: usize, to: usize) -> String {
    let text = std::fs::read_to_string(
        support::settings::workspace_root().join("fixtures/tutorial/ambient-tutorial.md"),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().skip(from - 1).take(to + 1 - from).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_command_of_the_seed_is_run_or_not_applicable_with_why() {
    // (lines of the block, decision on sim, decision on kind): `run`, `refused`, or a rule id.
    let blocks: &[(usize, usize, &str, &str)] = &[
        (17, 25, "kind_cluster", "kind_cluster"),
        (36, 36, "istio_download", "istio_download"),
        (40, 41, "istio_download", "istio_download"),
        (45, 46, "istio_download", "istio_download"),
        (50, 50, "run", "run"),
        (62, 62, "run", "run"),
        (116, 119, "run", "run"),
        (124, 124, "run", "run"),
        (129, 129, "placeholder", "placeholder"),
        (150, 150, "sim_exec", "run"),
        (159, 159, "placeholder", "placeholder"),
        (183, 192, "run", "run"),
        (197, 197, "run", "run"),
        (206, 206, "sim_exec", "run"),
        (215, 215, "placeholder", "placeholder"),
        (238, 239, "run", "run"),
        (243, 243, "sim_dashboard", "run"),
        (253, 253, "sim_exec", "run"),
    ];
    let f = fixture();
    for (from, to, on_sim, on_kind) in blocks {
        let text = seed_block(*from, *to);
        for (provider, want) in [(Provider::Sim, on_sim), (Provider::Kind, on_kind)] {
            let r = runner(&f, provider, Duration::from_secs(1));
            let got = match r.decide(&text) {
                Decision::Run(resolved) => {
                    assert_eq!(resolved, text, "run as written");
                    "run"
                }
                Decision::Refused(e) => panic!("lines {from}-{to} refused: {e}"),
                Decision::NotApplicable(n) => {
                    assert!(!n.reason.is_empty());
                    n.rule
                }
            };
            assert_eq!(got, *want, "lines {from}-{to} on {provider:?}:\n{text}");
        }
    }
}

#[test]
fn the_guard_reads_in_linear_time() {
    // Commands with a heredoc and a command substitution each, one refused at the end. Four
    // times the commands must take about four times as long.
    let text = |n: usize| {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!(
                "kubectl apply -f - <<EOF && echo $(kubectl get cm c{i} -o name) | grep -v x\nkind: ConfigMap\nmetadata: {{name: c{i}}}\nEOF\n"
            ));
        }
        text.push_str("kubectl --context prod get pods\n");
        text
    };
    let run = |n: usize| {
        let text = text(n);
        assert!(matches!(guard::check(&text), Err(GuardError::Refused(_))));
        let script = words::parse(&text).unwrap();
        assert_eq!(script.commands.len(), 4 * n + 1);
        assert_eq!(script.heredocs.len(), n);
        assert_eq!(applicability::check(&script, Provider::Sim), None);
    };
    crate::timing::linear("500 commands, then 2,000", 9, || run(500), || run(2_000))
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------- the page run, driven

use support::document::page_run::{PageRun, Recorded, ToRun};
use support::document::shortcodes::SiteValues;
use support::run::local_copy::LocalCopy;

fn dev_facts() -> support::eras::EraFacts {
    support::eras::facts_for(&support::eras::IstioVersion::parse("1.31-dev").unwrap())
}

/// Drives `page` with a real runner (bash in the fixture's run directory).
async fn drive_for_real(page: &mut PageRun<'_>, r: &Runner) -> Vec<Recorded> {
    let mut answers = Vec::new();
    loop {
        let a = page.advance();
        answers.extend(a.answers);
        let Some(cmd) = a.run else { break };
        let outcome = r.run_carrying(&cmd.text, &cmd.carry).await;
        answers.extend(page.took(&outcome).answers);
    }
    answers
}

fn answer_at(answers: &[Recorded], line: usize, what: &str) -> support::claims::Answer {
    let id = format!("doc.l{line:05}.");
    answers
        .iter()
        .find(|a| a.id.starts_with(&id) && a.id.ends_with(what))
        .unwrap_or_else(|| panic!("no {what} at line {line}: {answers:?}"))
        .answer
        .clone()
}

#[tokio::test]
async fn a_command_substitution_runs_once_and_later_commands_see_its_value() {
    let f = fixture();
    let r = runner(&f, Provider::Kind, Duration::from_secs(20));
    let value = "it's $HOME `id` \"q\"\n\\n end";
    std::fs::write(f.dir.work().join("value.txt"), value).unwrap();
    let page = "```bash\n$ export V=$(echo ran >> count.txt; cat value.txt)\n$ printf %s \"$V\" > seen.txt\n$ wc -l < count.txt\n1\n```\n";
    let s = support::tutorial::script::read(page);
    let facts = dev_facts();
    let mut run = PageRun::new(&s.steps, &facts, SiteValues::default(), Vec::new());
    let answers = drive_for_real(&mut run, &r).await;
    // Run once: one line in count.txt, and the last command's output says so.
    assert_eq!(
        std::fs::read_to_string(f.dir.work().join("count.txt")).unwrap(),
        "ran\n"
    );
    assert_eq!(
        answer_at(&answers, 5, "output"),
        support::claims::Answer::AsDocumented
    );
    // The later command saw the value, byte for byte: quotes, `$`, backquotes, newlines.
    assert_eq!(
        std::fs::read_to_string(f.dir.work().join("seen.txt")).unwrap(),
        value
    );
    // Nothing of the carried values reaches the output that is compared.
    let outcome = r
        .run_carrying("export W=$(echo secret-value)", &["W".to_string()])
        .await;
    let Outcome::Ran(e) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(e.stdout, "");
    assert_eq!(e.carried, [("W".to_string(), "secret-value".to_string())]);
    assert!(!f.dir.carried_file().exists());
}

#[tokio::test]
async fn a_failing_substitution_carries_nothing() {
    let f = fixture();
    let r = runner(&f, Provider::Kind, Duration::from_secs(20));
    let page = "```bash\n$ V=$(echo ran >> count.txt; false)\n$ echo \"${V-unset}\"\nunset\n```\n";
    let s = support::tutorial::script::read(page);
    let facts = dev_facts();
    let mut run = PageRun::new(&s.steps, &facts, SiteValues::default(), Vec::new());
    let answers = drive_for_real(&mut run, &r).await;
    assert!(matches!(
        answer_at(&answers, 2, "command"),
        support::claims::Answer::Drifted { .. }
    ));
    assert_eq!(
        answer_at(&answers, 4, "output"),
        support::claims::Answer::AsDocumented
    );
    assert_eq!(
        std::fs::read_to_string(f.dir.work().join("count.txt")).unwrap(),
        "ran\n"
    );
    // Near miss: the same without `false` carries the (empty) value, set.
    let page = "```bash\n$ V=$(true)\n$ echo \"${V-unset}\"\nunset\n```\n";
    let s = support::tutorial::script::read(page);
    let mut run = PageRun::new(&s.steps, &facts, SiteValues::default(), Vec::new());
    let answers = drive_for_real(&mut run, &r).await;
    assert!(matches!(
        answer_at(&answers, 4, "output"),
        support::claims::Answer::Drifted { .. }
    ));
}

#[test]
fn a_quoted_value_reads_back_unchanged_in_bash() {
    for value in [
        "",
        "plain",
        "it's",
        "''",
        "a\nb\n",
        "$HOME ${X} $(id) `id`",
        "\\ \" ' \t ;|&<>*?[]{}~#!",
        "ünïcode ✔",
    ] {
        let out = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-c"])
            .arg(format!("printf %s {}", words::quote(value)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), value, "{value:?}");
    }
    // Near miss: double quotes would not keep `$HOME` as written.
    let out = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-c", "printf %s \"$HOME\""])
        .output()
        .unwrap();
    assert_ne!(String::from_utf8(out.stdout).unwrap(), "$HOME");
}

/// The sim outcome of a command of the page: the runner's own decision, and for a command that
/// would run, `ran(lines)`.
fn scripted(r: &Runner, cmd: &ToRun, ran: &dyn Fn(usize) -> (i32, String)) -> Outcome {
    match r.decide(&cmd.text) {
        Decision::Run(text) => {
            let (code, stderr) = ran(cmd.lines.start);
            Outcome::Ran(support::run::Evidence {
                command: text,
                stdout: String::new(),
                stderr,
                exit: Exit::Code(code),
                elapsed: Duration::ZERO,
                carried: Vec::new(),
            })
        }
        Decision::Refused(e) => Outcome::Refused(e),
        Decision::NotApplicable(n) => Outcome::NotApplicable(n),
    }
}

fn drive_scripted(
    page: &mut PageRun<'_>,
    r: &Runner,
    ran: &dyn Fn(usize) -> (i32, String),
) -> (Vec<ToRun>, Vec<Recorded>) {
    let (mut handed, mut answers) = (Vec::new(), Vec::new());
    loop {
        let a = page.advance();
        answers.extend(a.answers);
        let Some(cmd) = a.run else { break };
        let outcome = scripted(r, &cmd, ran);
        answers.extend(page.took(&outcome).answers);
        handed.push(cmd);
    }
    (handed, answers)
}

#[test]
fn the_getting_started_page_on_sim_with_and_without_the_providers_copy() {
    let f = fixture();
    let r = runner(&f, Provider::Sim, Duration::from_secs(20));
    let t = support::tutorial::Tutorial::load(&support::fixtures::path(
        "pages/ambient/getting-started.md",
    ))
    .unwrap();
    let facts = dev_facts();
    let site = SiteValues::of("1.31-dev", Some("v1.6.0"));
    let copy_root = tempfile::tempdir().unwrap();
    let experimental = copy_root.path().join("config/crd/experimental");
    std::fs::create_dir_all(&experimental).unwrap();
    std::fs::write(experimental.join("kustomization.yaml"), "resources: []\n").unwrap();
    let copy = LocalCopy {
        repo: "github.com/kubernetes-sigs/gateway-api".into(),
        reference: "v1.6.0".into(),
        root: copy_root.path().to_path_buf(),
        verified: "a test copy".into(),
    };
    // Every command that runs succeeds but the Gateway's (l128), which fails as it does when
    // the CRDs are missing.
    let ran = |line: usize| match line {
        128 => (1, "no matches for kind \"HTTPRoute\"".to_string()),
        245 => (56, "command terminated with exit code 56\n".to_string()),
        _ => (0, String::new()),
    };

    // With the copy: l51 runs from it, and the Gateway's failure is a drift of its own.
    let mut page = PageRun::new(&t.script.steps, &facts, site.clone(), vec![copy.clone()]);
    let (handed, answers) = drive_scripted(&mut page, &r, &ran);
    let l51 = handed.iter().find(|c| c.lines.start == 51).unwrap();
    assert!(
        l51.text
            .contains(&format!("kubectl kustomize \"{}\"", experimental.display())),
        "{}",
        l51.text
    );
    assert!(!l51.text.contains("{{<"), "{}", l51.text);
    let support::claims::Answer::NotApplicable { why } = answer_at(&answers, 51, "command") else {
        panic!("{answers:?}")
    };
    assert!(
        why.contains("performed by the provider from its local copy"),
        "{why}"
    );
    assert!(why.contains("a test copy"), "{why}");
    assert!(matches!(
        answer_at(&answers, 128, "command"),
        support::claims::Answer::Drifted { .. }
    ));
    // `kind create cluster` is the provider's: not run, and taints nothing (l128 above).
    let support::claims::Answer::NotApplicable { why } = answer_at(&answers, 37, "command") else {
        panic!("{answers:?}")
    };
    assert!(why.contains("kind_cluster"), "{why}");
    // One answer per command and per output of the page, ids distinct.
    let mut ids: Vec<&str> = answers.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), 39 + 17, "{ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 39 + 17);
    // Exports without a substitution are replayed before later commands.
    let after = handed.iter().find(|c| c.lines.start == 147).unwrap();
    assert!(
        after
            .text
            .starts_with("export GATEWAY_HOST=bookinfo-gateway-istio.istio-system\n"),
        "{}",
        after.text
    );

    // The copy's run failing is a drift that says the copy was used, and taints nothing.
    let failing = |line: usize| match line {
        51 => (1, "metadata.annotations: Too long".to_string()),
        _ => ran(line),
    };
    let mut page = PageRun::new(&t.script.steps, &facts, site.clone(), vec![copy.clone()]);
    let (_, answers) = drive_scripted(&mut page, &r, &failing);
    let support::claims::Answer::Drifted { actual, .. } = answer_at(&answers, 51, "command") else {
        panic!("{answers:?}")
    };
    assert!(actual.contains("Too long"), "{actual}");
    assert!(actual.contains("provider's local copy"), "{actual}");
    assert!(matches!(
        answer_at(&answers, 128, "command"),
        support::claims::Answer::Drifted { .. }
    ));

    // Without it (another ref): l51 is not applicable, and the Gateway's failure follows it.
    let other = LocalCopy {
        reference: "v1.5.1".into(),
        ..copy
    };
    let mut page = PageRun::new(&t.script.steps, &facts, site.clone(), vec![other]);
    let (_, answers) = drive_scripted(&mut page, &r, &ran);
    let support::claims::Answer::NotApplicable { why } = answer_at(&answers, 51, "command") else {
        panic!("{answers:?}")
    };
    assert!(why.contains("sim_remote_kustomization"), "{why}");
    let support::claims::Answer::NotApplicable { why } = answer_at(&answers, 128, "command") else {
        panic!("{answers:?}")
    };
    assert!(why.contains("follows lines 51-52"), "{why}");
    assert!(why.contains("no matches for kind"), "{why}");
    // Without a Gateway API version, the shortcode is not filled and l51 is not applicable for
    // that, naming it.
    let mut page = PageRun::new(
        &t.script.steps,
        &facts,
        SiteValues::of("1.31-dev", None),
        Vec::new(),
    );
    let (_, answers) = drive_scripted(&mut page, &r, &ran);
    let support::claims::Answer::NotApplicable { why } = answer_at(&answers, 51, "command") else {
        panic!("{answers:?}")
    };
    assert!(why.contains("k8s_gateway_api_version"), "{why}");
}

#[test]
fn every_fixture_page_is_answered_once_per_step_on_every_provider() {
    let f = fixture();
    let facts = dev_facts();
    for provider in [Provider::Kind, Provider::Sim] {
        let r = runner(&f, provider, Duration::from_secs(20));
        for page in [
            "pages/ambient/getting-started.md",
            "pages/ambient/deploy-sample-app.md",
            "pages/ambient/secure-and-visualize.md",
            "pages/ambient/manage-traffic.md",
            "pages/ambient/cleanup.md",
            "pages/ambient/waypoint.md",
            "tutorial/ambient-tutorial.md",
        ] {
            let t = support::tutorial::Tutorial::load(&support::fixtures::path(page)).unwrap();
            let mut run = PageRun::new(
                &t.script.steps,
                &facts,
                SiteValues::of("1.31-dev", Some("v1.6.0")),
                Vec::new(),
            );
            let (_, answers) = drive_scripted(&mut run, &r, &|_| (0, String::new()));
            let steps = t.script.commands().count() + t.script.outputs().count();
            assert_eq!(answers.len(), steps, "{page} on {provider:?}");
        }
    }
}

#[test]
fn steps_that_change_the_cluster_are_told_from_reads_by_their_words() {
    let changes = |text: &str| applicability::changes_cluster(&words::parse(text).unwrap());
    for text in [
        "kubectl apply -f @samples/bookinfo/platform/kube/bookinfo.yaml@",
        "kubectl label namespace default istio.io/dataplane-mode=ambient",
        "kubectl -n default delete -f x.yaml",
        "kubectl get crd x &> /dev/null || { kubectl kustomize y | kubectl apply -f -; }",
        "istioctl install --set profile=ambient --skip-confirmation",
        "istioctl x waypoint apply --enroll-namespace --wait",
        "istioctl waypoint delete --all",
        "./istio/bin/istioctl uninstall -y --purge",
        "helm install istio-base istio/base -n istio-system",
        "kubectl rollout restart deploy/productpage",
        "sed -e s/a/b/ x.yaml | kubectl apply -f -",
    ] {
        assert!(changes(text), "{text}");
    }
    // Near misses: reads, traffic, the provider's own cluster, words that only name a verb.
    for text in [
        "kubectl get pods,daemonset -n istio-system",
        "kubectl wait --for=condition=programmed gtw/bookinfo-gateway -n istio-system",
        "kubectl exec deploy/sleep -- curl -s http://productpage:9080/",
        "kubectl logs ds/ztunnel -n istio-system | grep apply",
        "kubectl rollout status deploy/kiali -n istio-system",
        "kubectl kustomize github.com/a/b/c?ref=v1",
        "istioctl version",
        "istioctl x waypoint list",
        "curl -s http://example.com/apply",
        "kind create cluster --config=-",
        "echo kubectl apply -f x.yaml",
        "helm repo add istio https://istio-release.storage.googleapis.com/charts",
    ] {
        assert!(!changes(text), "{text}");
    }
}

#[test]
fn the_reference_tutorial_has_no_command_the_guard_refuses_and_a_near_miss_has_one() {
    let f = fixture();
    let r = runner(&f, Provider::Sim, Duration::from_secs(20));
    let seed = support::tutorial::Tutorial::reference().unwrap();
    assert_eq!(
        support::document::page_run::refused(seed.script.commands(), &r),
        Vec::<String>::new()
    );
    let s = support::tutorial::script::read(
        "```bash\n$ kubectl get pods\n$ kubectl --context=prod get pods\n```\n",
    );
    let refused = support::document::page_run::refused(s.commands(), &r);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].starts_with("line 3: "), "{refused:?}");
    assert!(refused[0].contains("--context=prod"), "{refused:?}");
}
