//! Real istio.io ambient pages (fixtures/pages/ambient, verbatim) read by the tutorial reader:
//! what it finds against what the pages hold (counted by hand, README "Reading a tutorial"),
//! the plan, doc sync between any two pages, a page without a readable block, and time linear in
//! the page.

use std::time::{Duration, Instant};

use support::docsync;
use support::fixtures;
use support::plan::{self, Kind, Plan};
use support::settings::Provider;
use support::tutorial::Tutorial;
use support::tutorial::script::{self, OutputKind};

/// (page, commands, outputs shown, `# …` outcome comments): counted by hand, reading each page.
const IN_THE_PAGE: &[(&str, usize, usize, usize)] = &[
    ("tutorial/ambient-tutorial.md", 24, 10, 0),
    ("pages/ambient/deploy-sample-app.md", 7, 2, 0),
    ("pages/ambient/secure-and-visualize.md", 5, 1, 0),
    ("pages/ambient/manage-traffic.md", 2, 0, 0),
    ("pages/ambient/cleanup.md", 11, 0, 0),
    ("pages/ambient/waypoint.md", 12, 9, 0),
    ("pages/ambient/getting-started.md", 39, 17, 6),
];

fn plan_of(page: &str, provider: Provider) -> Plan {
    plan::plan(&fixtures::read(page).unwrap(), provider).unwrap()
}

#[test]
fn every_command_and_output_of_each_page_is_found() {
    for (page, commands, outputs, outcomes) in IN_THE_PAGE {
        let c = plan_of(page, Provider::Kind).counts();
        assert_eq!(
            (c.commands, c.outputs, c.outcome_comments),
            (*commands, *outputs, *outcomes),
            "{page}"
        );
    }
}

#[test]
fn what_the_reader_cannot_read_is_listed_with_why() {
    // The pages include boilerplates: files of the site, not text of the page.
    let p = plan_of("pages/ambient/waypoint.md", Provider::Kind);
    let unread: Vec<(usize, &str)> = p
        .entries
        .iter()
        .filter(|e| e.kind == Kind::NotUnderstood)
        .map(|e| (e.lines.unwrap().start, e.why.as_deref().unwrap()))
        .collect();
    assert_eq!(unread.len(), 2, "{unread:?}");
    assert_eq!(unread[0].0, 36);
    assert!(
        unread[0].1.contains("gateway-api-install-crds"),
        "{unread:?}"
    );
    let clean = plan_of("pages/ambient/manage-traffic.md", Provider::Kind);
    assert_eq!(clean.counts().not_understood, 0);
}

#[test]
fn outputs_in_the_commands_block_belong_to_their_command_and_have_a_kind() {
    let page = fixtures::read("pages/ambient/waypoint.md").unwrap();
    let s = script::read(&page);
    let kinds: Vec<OutputKind> = s.outputs().map(|o| o.kind).collect();
    assert_eq!(kinds[0], OutputKind::KubectlTable);
    assert_eq!(kinds[1], OutputKind::Yaml);
    assert_eq!(kinds[2], OutputKind::ResourceActions);
    for o in s.outputs() {
        assert!(o.in_command_block);
        let Some(script::Step::Command(c)) = o.command.map(|i| &s.steps[i]) else {
            panic!("an output without its command: {o:?}")
        };
        assert_eq!(c.lines.end + 1, o.lines.start, "{c:?} {o:?}");
        assert_eq!(c.block.attrs, o.block.attrs);
    }
    // The heredoc is one command, its body kept as written.
    let heredoc = s
        .commands()
        .find(|c| c.heredoc.is_some())
        .expect("the waypoint page declares a Gateway inline");
    assert_eq!(heredoc.lines.start, 81);
    assert_eq!(heredoc.lines.end, 94);
    assert!(heredoc.text.ends_with("\nEOF"), "{}", heredoc.text);
    assert!(
        heredoc
            .heredoc
            .as_ref()
            .unwrap()
            .body
            .starts_with("kind: Gateway\nmetadata:\n  labels:\n")
    );
}

#[test]
fn the_seeds_plan_holds_everything_the_suite_checks_and_every_output() {
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let tutorial = Tutorial::read(std::path::Path::new("seed"), seed.clone()).unwrap();
    let p = plan::plan(&seed, Provider::Kind).unwrap();
    for d in &tutorial.expectations.documented {
        assert!(
            p.entries
                .iter()
                .any(|e| e.kind == Kind::Expectation && e.text == d.id && e.lines == Some(d.lines)),
            "{} missing from the plan",
            d.id
        );
    }
    for c in support::claims::CLAIMS {
        assert!(
            p.entries.iter().any(|e| e.claims.contains(&c.name())),
            "claim {} missing from the plan",
            c.name()
        );
    }
    // No claim is recorded "not documented" for the seed.
    assert_eq!(p.counts().claims_not_documented, 0);
    let outputs: Vec<String> = p
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Output)
        .map(|e| e.lines.unwrap().to_string())
        .collect();
    assert_eq!(
        outputs,
        [
            "lines 54-58",
            "lines 66-94",
            "lines 98-100",
            "lines 106-108",
            "lines 133-138",
            "line 163",
            "line 167",
            "line 201",
            "line 219",
            "line 223"
        ]
    );
    // On sim, what needs a data plane or the internet is named not applicable, with why.
    let sim = plan::plan(&seed, Provider::Sim).unwrap();
    let curl = sim
        .entries
        .iter()
        .find(|e| e.kind == Kind::Command && e.text.starts_with("kubectl exec deploy/sleep"))
        .unwrap();
    assert!(
        curl.not_applicable
            .as_deref()
            .unwrap()
            .contains("data plane"),
        "{curl:?}"
    );
    let kind_cluster = sim
        .entries
        .iter()
        .find(|e| e.text.starts_with("kind create"))
        .unwrap();
    assert!(kind_cluster.not_applicable.is_some());
    let on_kind = p
        .entries
        .iter()
        .find(|e| e.text.starts_with("kind create"))
        .unwrap();
    assert!(on_kind.not_applicable.is_none());
}

#[test]
fn the_plan_as_json_is_one_object_a_line_with_kind_and_lines() {
    let p = plan_of("pages/ambient/deploy-sample-app.md", Provider::Kind);
    let text = p.json_lines();
    let objects: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), p.entries.len());
    let first = &objects[0];
    assert_eq!(first["kind"], "command");
    assert_eq!(first["lines"], serde_json::json!([20, 20]));
    assert_eq!(first["lang"], "bash");
    let table = objects.iter().find(|o| o["kind"] == "output").unwrap();
    assert_eq!(table["lines"], serde_json::json!([28, 34]));
    assert_eq!(table["comparator"], "kubectl table");
    assert_eq!(table["of_command"], serde_json::json!([27, 27]));
    assert_eq!(
        table["attrs"],
        serde_json::json!([["syntax", "bash"], ["snip_id", "none"]])
    );
    // The seed's claims the page does not make: not applicable, with why, no lines.
    let claims: Vec<&serde_json::Value> = objects.iter().filter(|o| o["kind"] == "claim").collect();
    assert_eq!(claims.len(), support::claims::CLAIMS.len());
    assert!(claims[0]["lines"].is_null());
    assert!(
        claims[0]["not_applicable"]
            .as_str()
            .unwrap()
            .contains("documents none of installation.archive_url")
    );
}

#[test]
fn any_fixture_page_is_accepted_as_the_tutorial() {
    for (page, ..) in IN_THE_PAGE {
        let path = fixtures::path(page);
        let t = Tutorial::load(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(t.script.commands().count() > 0);
    }
}

#[test]
fn a_page_without_a_readable_block_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.md");
    std::fs::write(
        &path,
        "# Notes\n\nProse only.\n\n```go\nfunc main() {}\n```\n",
    )
    .unwrap();
    let err = Tutorial::load(&path).unwrap_err().to_string();
    assert!(err.contains("no readable block"), "{err}");
    assert!(err.contains("`go` block"), "{err}");
    assert!(err.contains("AMBIENT_TUTORIAL"), "{err}");
    let sync = docsync::extract_checked(&std::fs::read_to_string(&path).unwrap());
    assert!(sync.unwrap_err().to_string().contains("no readable block"));
    let plan = plan::plan("just prose\n", Provider::Kind).unwrap_err();
    assert!(plan.to_string().contains("0 code block(s)"), "{plan}");
}

#[test]
fn doc_sync_compares_any_two_pages() {
    let page = fixtures::read("pages/ambient/cleanup.md").unwrap();
    let same = docsync::compare_pages(
        &docsync::extract_checked(&page).unwrap(),
        &docsync::extract_checked(&page).unwrap(),
    );
    assert!(same.in_sync(), "{}", same.render());
    assert_eq!(same.matched, 11);
    // One command removed, one changed, in the istio.io shape.
    let edited = page
        .replace("$ kubectl delete httproute reviews\n", "")
        .replace("istioctl uninstall -y --purge", "istioctl uninstall -y");
    assert_ne!(edited, page);
    let sync = docsync::compare_pages(
        &docsync::extract_checked(&edited).unwrap(),
        &docsync::extract_checked(&page).unwrap(),
    );
    assert_eq!(
        sync.no_longer_documented,
        ["kubectl delete httproute reviews"]
    );
    assert_eq!(sync.changed.len(), 1, "{}", sync.render());
    assert_eq!(sync.changed[0].0.command, "istioctl uninstall -y");
    assert_eq!(sync.changed[0].1, "istioctl uninstall -y --purge");
    // Across shapes: the seed's Markdown against an istio.io page shares the label command.
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let other = fixtures::read("pages/ambient/secure-and-visualize.md").unwrap();
    let across = docsync::compare_pages(
        &docsync::extract_checked(&other).unwrap(),
        &docsync::extract_checked(&seed).unwrap(),
    );
    assert_eq!(across.matched, 1, "{}", across.render());
}

#[test]
fn the_suites_registry_is_the_reference_tutorials_commands_read_by_the_reader() {
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let sync = docsync::compare(&docsync::extract(&seed), docsync::PERFORMED);
    assert!(sync.in_sync(), "{}", sync.render());
    assert_eq!(sync.matched, docsync::PERFORMED.len());
}

/// The seed followed by 30,000 empty code blocks (373 KB): reading it was quadratic (two minutes).
fn seed_and_empty_blocks(blocks: usize) -> String {
    let mut page = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    page.push('\n');
    for _ in 0..blocks {
        page.push_str("```bash\n```\n");
    }
    page
}

#[test]
fn reading_planning_and_doc_sync_are_linear_in_the_page() {
    let page = seed_and_empty_blocks(30_000);
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let started = Instant::now();
    let p = plan::plan(&page, Provider::Kind).unwrap();
    let reference = support::tutorial::expectations::extract(&seed);
    let given = support::tutorial::expectations::extract(&page);
    let commands = docsync::compare(&docsync::extract(&page), docsync::PERFORMED);
    let expectations = docsync::compare_expectations(&given, &reference);
    let elapsed = started.elapsed();
    assert_eq!(p.counts().commands, 24);
    assert_eq!(
        p.counts().not_understood,
        30_000,
        "each empty block, with why"
    );
    assert!(commands.in_sync(), "{}", commands.render());
    assert_eq!(expectations.same, reference.documented.len());
    // Quadratic work took minutes at this size; linear work takes well under a second in a
    // release build and a few in a debug build on a loaded machine.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn a_long_heading_over_many_blocks_is_kept_once() {
    // A 100 KB heading over 20,000 blocks took 105 s and 3.9 GB when every block copied it.
    let mut page = format!("## {}\n\n", "word ".repeat(20_000));
    for i in 0..10_000 {
        page.push_str(&format!(
            "```bash\nkubectl get pod p{i}\n```\n```text\nNAME   READY\np{i}   1/1\n```\n"
        ));
    }
    let started = Instant::now();
    let s = script::read(&page);
    let p = plan::build(
        &s,
        &support::tutorial::expectations::from_script(&page, &s),
        Provider::Kind,
    );
    let sync = docsync::compare_pages(&docsync::commands_of(&s), &docsync::commands_of(&s));
    let elapsed = started.elapsed();
    assert_eq!(s.document.blocks.len(), 20_000);
    let first = &s.document.blocks[0].heading;
    assert!(first.len() >= 99_999);
    assert!(
        s.document.blocks.iter().all(|b| b.heading.is(first)),
        "every block shares the one heading"
    );
    assert!(
        p.entries
            .iter()
            .filter(|e| !e.heading.is_empty())
            .all(|e| e.heading.is(first))
    );
    assert_eq!((p.counts().commands, p.counts().outputs), (10_000, 10_000));
    assert_eq!(sync.matched, 10_000);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn doc_sync_between_pages_names_the_other_page_not_the_suite() {
    let page = fixtures::read("pages/ambient/cleanup.md").unwrap();
    let edited = page.replace("$ kubectl delete httproute reviews\n", "");
    let sync = docsync::compare_pages(
        &docsync::extract_checked(&edited).unwrap(),
        &docsync::extract_checked(&page).unwrap(),
    );
    let text = sync.render_pages();
    assert!(
        text.starts_with("10 documented commands also in the other page\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "REMOVED kubectl delete httproute reviews\n        in the other page, this one no longer shows it\n"
        ),
        "{text}"
    );
    assert!(!text.contains("the suite"), "{text}");
}

mod any_page {
    use proptest::prelude::*;
    use support::plan;
    use support::settings::Provider;
    use support::tutorial::script;

    /// Pieces of the shapes the reader knows, in any order.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "```bash\n",
            "```\n",
            "~~~yaml\n",
            "    ```sh\n",
            "{{< text bash >}}\n",
            "{{< text syntax=bash snip_id=x >}}\n",
            "{{< /text >}}\n",
            "{{</ text >}}\n",
            "$ kubectl get pods\n",
            "$ # this should fail\n",
            "$ kubectl apply -f - <<EOF\n",
            "EOF\n",
            "kubectl exec deploy/x -- \\\n",
            "NAME   READY\n",
            "a-1   1/1\n",
            "## H\n",
            "> a note\n",
            "1. step\n",
            "You should see:\n",
            "\n",
            "---\n",
            "<!-- c\n",
            "-->\n",
            "@a/b.yaml@ é ✔\n",
            "$\n",
            "#\n",
            "\\\n",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        /// Any page reads and plans without a panic, and every step names lines of the page.
        #[test]
        fn any_page_reads_within_its_lines(pieces in prop::collection::vec(piece(), 0..40)) {
            let page: String = pieces.concat();
            let last = page.lines().count().max(1);
            let s = script::read(&page);
            for step in &s.steps {
                let l = step.lines();
                prop_assert!(1 <= l.start && l.start <= l.end && l.end <= last, "{l:?} of {last}: {page:?}");
            }
            for u in &s.not_understood {
                prop_assert!(u.lines.start >= 1 && u.lines.start <= last + 1, "{u:?}: {page:?}");
            }
            match plan::plan(&page, Provider::Sim) {
                Ok(p) => prop_assert!(p.counts().commands > 0 || p.counts().outputs > 0),
                Err(e) => prop_assert!(e.to_string().contains("no readable block")),
            }
        }
    }
}

#[test]
fn blocks_not_understood_for_one_reason_are_one_entry_until_something_is_read_between() {
    let page =
        "```bash\n```\n```bash\n```\n```bash\nkubectl get pods\n```\n```bash\n```\n```go\nx\n```\n";
    let p = plan::plan(page, Provider::Kind).unwrap();
    let unread: Vec<(String, usize)> = p
        .entries
        .iter()
        .filter(|e| e.kind == Kind::NotUnderstood)
        .map(|e| (e.lines.unwrap().to_string(), e.blocks))
        .collect();
    // Two empty blocks together; the command splits them from the third; the go block has
    // another reason.
    assert_eq!(
        unread,
        [
            ("lines 2-4".to_string(), 2),
            ("line 9".to_string(), 1),
            ("line 11".to_string(), 1)
        ]
    );
    assert_eq!(p.counts().not_understood, 4);
    let json = p.json_lines();
    assert!(json.contains("\"lines\":[2,4],"), "{json}");
    assert!(json.contains("\"blocks\":2"), "{json}");
}

#[test]
fn doc_sync_between_pages_compares_the_outputs_each_shows_for_its_commands() {
    let page = fixtures::read("pages/ambient/deploy-sample-app.md").unwrap();
    let same = docsync::compare_outputs(&script::read(&page), &script::read(&page));
    assert!(same.in_sync(), "{}", same.render());
    assert_eq!(same.same, 2);
    assert!(
        same.render()
            .starts_with("2 outputs shown as in the other page\n")
    );
    // One output edited (a column renamed), one removed with its lines.
    let edited = page
        .replace("PROGRAMMED   AGE", "READY        AGE")
        .replace(
            "NAME                             READY   STATUS    RESTARTS   AGE\n",
            "",
        );
    assert_ne!(edited, page);
    let sync = docsync::compare_outputs(&script::read(&edited), &script::read(&page));
    assert_eq!(sync.edited.len(), 2, "{}", sync.render());
    assert_eq!(sync.edited[1].0.id, "output of `kubectl get gateway`");
    assert!(sync.edited[1].1.text.contains("READY        AGE"));
    assert!(!sync.in_sync());
    // A page the reader half understands says which block and why.
    let boilerplate = fixtures::read("pages/ambient/cleanup.md").unwrap();
    let with_unread =
        docsync::compare_outputs(&script::read(&boilerplate), &script::read(&boilerplate));
    assert_eq!(with_unread.not_understood.len(), 1);
    assert!(with_unread.not_understood[0].why.contains("boilerplate"));
    assert!(!with_unread.in_sync());
}

#[test]
fn the_plan_for_people_counts_and_names_what_each_entry_does() {
    let count = |p: &Plan, kind: Kind| p.entries.iter().filter(|e| e.kind == kind).count();
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let sim = plan::plan(&seed, Provider::Sim).unwrap();
    let c = sim.counts();
    assert_eq!(
        (c.commands, c.outputs, c.outcome_comments, c.expectations),
        (
            count(&sim, Kind::Command),
            count(&sim, Kind::Output),
            count(&sim, Kind::Should),
            count(&sim, Kind::Expectation)
        )
    );
    let tutorial = Tutorial::read(std::path::Path::new("seed"), seed.clone()).unwrap();
    assert_eq!(c.expectations, tutorial.expectations.documented.len());
    let text = sim.render();
    assert!(
        text.starts_with(&format!(
            "plan on sim: {} commands, {} outputs, 0 outcome comments, {} documented expectations, 0 not understood\n\n",
            c.commands, c.outputs, c.expectations
        )),
        "{text}"
    );
    // A command of several lines shows its first, marked; what it does, its claims, why it
    // cannot run here, each on its own line; nothing empty.
    assert!(text.contains(" ✔ Istio core installed …\n"), "{text}");
    assert!(text.contains("→ "), "{text}");
    assert!(text.contains("  claims: "), "{text}");
    assert!(text.contains("  not applicable: "), "{text}");
    for empty in ["→ \n", "claims: \n"] {
        assert!(!text.contains(empty), "{empty:?} in {text}");
    }
    // A page without the tutorial's anchors: the suite's claims are listed as not documented.
    let page = fixtures::read("pages/ambient/cleanup.md").unwrap();
    let p = plan::plan(&page, Provider::Kind).unwrap();
    let c = p.counts();
    assert_eq!(c.claims_not_documented, count(&p, Kind::Claim));
    assert!(c.claims_not_documented > 0, "{c:?}");
    // Blocks not understood together: "of them" only for more than one, and one JSON field.
    let page = "```bash\n```\n```bash\n```\n```go\nx\n```\n```bash\nkubectl get ns\n```\n";
    let p = plan::plan(page, Provider::Kind).unwrap();
    let text = p.render();
    assert!(text.contains("  not understood (2 of them): "), "{text}");
    assert!(!text.contains("(1 of them)"), "{text}");
    let json = p.json_lines();
    assert_eq!(json.matches("\"blocks\"").count(), 1, "{json}");
}

#[test]
fn the_plan_names_what_cannot_run_on_each_provider_and_why() {
    let page = "```bash\n\
kind create cluster\n\
kubectl apply -f https://example.com/a.yaml\n\
curl -s http://example.com/\n\
curl -s http://localhost:20001/kiali\n\
echo http://example.com/\n\
kubectl exec deploy/sleep -- ls\n\
kubectl logs ds/ztunnel\n\
kubectl get pods\n\
echo exec logs dashboard\n\
./istio/bin/istioctl dashboard kiali\n\
istioctl version\n\
kubectl apply -f @samples/addons/kiali.yaml@\n\
kubectl apply -f {{< github_file >}}/a.yaml\n\
```\n";
    let na = |provider: Provider| -> Vec<(String, Option<String>)> {
        plan::plan(page, provider)
            .unwrap()
            .entries
            .into_iter()
            .filter(|e| e.kind == Kind::Command)
            .map(|e| (e.text, e.not_applicable))
            .collect()
    };
    let why = |text: &str, entries: &[(String, Option<String>)]| -> String {
        entries
            .iter()
            .find(|(t, _)| t == text)
            .unwrap_or_else(|| panic!("{text} not in {entries:?}"))
            .1
            .clone()
            .unwrap_or_default()
    };
    let sim = na(Provider::Sim);
    for (text, says) in [
        ("kind create cluster", "the provider makes the cluster"),
        (
            "kubectl apply -f https://example.com/a.yaml",
            "needs the internet",
        ),
        ("curl -s http://example.com/", "needs the internet"),
        ("curl -s http://localhost:20001/kiali", "needs a data plane"),
        ("kubectl exec deploy/sleep -- ls", "needs a data plane"),
        ("kubectl logs ds/ztunnel", "needs a data plane"),
        ("./istio/bin/istioctl dashboard kiali", "needs a data plane"),
        (
            "kubectl apply -f {{< github_file >}}/a.yaml",
            "needs the internet",
        ),
    ] {
        assert!(
            why(text, &sim).contains(says),
            "{text}: {:?}",
            why(text, &sim)
        );
    }
    // Near misses: a URL nobody fetches, syntax words after another program, a command that only
    // reads the control plane.
    for text in [
        "echo http://example.com/",
        "kubectl get pods",
        "echo exec logs dashboard",
        "istioctl version",
        "kubectl apply -f @samples/addons/kiali.yaml@",
    ] {
        assert_eq!(why(text, &sim), "", "{text}");
    }
    // On kind everything can run.
    for (text, na) in na(Provider::Kind) {
        assert_eq!(na, None, "{text}");
    }
    // What each command needs besides: release files, shortcodes; nothing said when none.
    let p = plan::plan(page, Provider::Kind).unwrap();
    let does = |text: &str| {
        p.entries
            .iter()
            .find(|e| e.text == text)
            .unwrap()
            .does
            .clone()
    };
    assert!(
        does("kubectl apply -f @samples/addons/kiali.yaml@")
            .contains("(files of the Istio release: samples/addons/kiali.yaml)")
    );
    assert!(
        does("kubectl apply -f {{< github_file >}}/a.yaml")
            .contains("(site shortcodes to fill in: github_file)")
    );
    let plain = does("kubectl get pods");
    assert_eq!(plain, "run as written");
}

#[test]
fn each_output_names_exactly_the_expectations_within_its_lines_and_claims_say_where_decided() {
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let tutorial = Tutorial::read(std::path::Path::new("seed"), seed.clone()).unwrap();
    let documented = &tutorial.expectations.documented;
    for provider in [Provider::Kind, Provider::Sim] {
        let p = plan::plan(&seed, provider).unwrap();
        let mut named = 0;
        for e in &p.entries {
            let lines = e
                .lines
                .unwrap_or(support::tutorial::markdown::Lines::one(0));
            match e.kind {
                Kind::Output => {
                    let within: Vec<String> = documented
                        .iter()
                        .filter(|d| d.lines.start >= lines.start && d.lines.end <= lines.end)
                        .map(|d| d.id.clone())
                        .collect();
                    let mut got = e.expectations.clone();
                    let mut want = within.clone();
                    got.sort();
                    want.sort();
                    assert_eq!(got, want, "{lines}");
                    named += got.len();
                    assert_eq!(
                        e.does.ends_with("; no claim of the suite reads it"),
                        got.is_empty(),
                        "{}",
                        e.does
                    );
                }
                Kind::Command | Kind::Comment => {
                    assert!(e.expectations.is_empty(), "{lines}: {:?}", e.expectations);
                }
                Kind::Expectation => {
                    // Not applicable exactly where a claim of it is decided elsewhere.
                    let elsewhere: Vec<String> = e
                        .claims
                        .iter()
                        .filter(|c| {
                            let claim = support::claims::claim(c).unwrap();
                            !support::cluster::provider::facts(provider).decides(claim.plane)
                        })
                        .map(|c| c.to_string())
                        .collect();
                    match &e.not_applicable {
                        None => assert!(elsewhere.is_empty(), "{}: {elsewhere:?}", e.text),
                        Some(na) => {
                            assert!(!elsewhere.is_empty(), "{}: {na}", e.text);
                            for c in &elsewhere {
                                assert!(na.contains(&format!("{c} is decided by")), "{na}");
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(named > 10, "{named}");
    }
    // The one documented statement no claim checks says why.
    let p = plan::plan(&seed, Provider::Kind).unwrap();
    let kind_config = p
        .entries
        .iter()
        .find(|e| e.kind == Kind::Expectation && e.text == "requirements.kind_config")
        .unwrap();
    assert!(
        kind_config
            .does
            .starts_with("no claim: the suite creates its kind cluster"),
        "{}",
        kind_config.does
    );
}
