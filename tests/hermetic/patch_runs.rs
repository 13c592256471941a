//! The patch of a sim run, applied to the seed, is a page the suite runs as written: every line it
//! adds is a command, or an output of a command, that the tutorial reader understands; none of it
//! speaks of the suite; and a waypoint it declares carries traffic (the `istio.io/use-waypoint`
//! label is a command of the page, not a step of the suite). The re-run of that page on sim
//! answers every command and output the patch wrote as documented, or not applicable with the
//! provider's why.
//!
//! Both runs are real (`fixtures/claims/README.md`): the seed's sim run whose patch this is, and
//! `AMBIENT_TUTORIAL=<the patched copy> … document::` on sim.

use std::path::Path;

use support::claims::{Answer, ClaimRecord};
use support::docpatch::{build, select};
use support::fixtures;
use support::run::applicability::SIM_GATEWAY_API_CRDS;
use support::tutorial::Tutorial;
use support::tutorial::script::Step;

/// The seed's sim run (Istio 1.31-dev, era 1.24).
const RUN: &str = "claims/sim-seed-1.31-dev.jsonl";
/// The page that run's patch makes, run as written on sim.
const RERUN: &str = "claims/sim-patched-seed-1.31-dev.jsonl";

fn records(name: &str) -> Vec<ClaimRecord> {
    support::report::load(&[&fixtures::path(name)])
        .unwrap()
        .records
}

fn seed() -> String {
    fixtures::read("tutorial/ambient-tutorial.md").unwrap()
}

/// The patch file `ambient-spec docpatch` writes for the recorded run.
fn patch_of_the_run() -> String {
    let records = records(RUN);
    let chosen = select(&records, None).unwrap();
    build(&seed(), "tutorial.md", &chosen)
        .unwrap()
        .render("1.31-dev")
}

/// The seed with `patch` applied by `git apply`, as a maintainer would.
pub(crate) fn apply(patch: &str) -> String {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("tutorial.md"), seed()).unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap()
    };
    assert!(git(&["init", "-q"]).status.success());
    std::fs::write(repo.path().join("fix.patch"), patch).unwrap();
    let applied = git(&["apply", "fix.patch"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    std::fs::read_to_string(repo.path().join("tutorial.md")).unwrap()
}

/// The lines a unified diff adds, with their line numbers in the new file.
fn added_lines(patch: &str) -> Vec<(usize, String)> {
    let mut added = Vec::new();
    let mut next: Option<usize> = None;
    for line in patch.lines() {
        if let Some(header) = line.strip_prefix("@@ -") {
            let new_start = header
                .split_once(" +")
                .and_then(|(_, rest)| rest.split([',', ' ']).next())
                .and_then(|n| n.parse().ok());
            next = new_start;
            continue;
        }
        let Some(n) = next.as_mut() else {
            continue; // the header and the file names
        };
        if let Some(text) = line.strip_prefix('+') {
            added.push((*n, text.to_string()));
            *n += 1;
        } else if line.starts_with(' ') {
            *n += 1;
        }
    }
    added
}

/// The step of `page` that holds line `n`: a command, or an output of a command.
fn step_at(page: &Tutorial, n: usize) -> Option<&Step> {
    page.script.steps.iter().find(|s| match s {
        Step::Command(c) => c.lines.start <= n && n <= c.lines.end,
        Step::Output(o) => o.command.is_some() && o.lines.start <= n && n <= o.lines.end,
        Step::Comment(_) => false,
    })
}

/// Why `page` (the seed with the lines `added`) would not run as written, if it would not.
fn runs_as_written(page: &str, added: &[(usize, String)]) -> Result<(), String> {
    let page =
        Tutorial::read(Path::new("patched.md"), page.to_string()).map_err(|e| e.to_string())?;
    for (n, text) in added {
        if step_at(&page, *n).is_none() {
            return Err(format!(
                "line {n} `{text}` is neither a command nor an output of one"
            ));
        }
        if text.to_lowercase().contains("suite") {
            return Err(format!(
                "line {n} `{text}` speaks of the suite: the reader runs the page, not the suite"
            ));
        }
    }
    // A 1.22+ waypoint (a Gateway with `istio.io/waypoint-for`) carries no traffic until a later
    // command labels the Service with its name.
    let commands: Vec<_> = page.script.commands().collect();
    for (i, c) in commands.iter().enumerate() {
        let Some(body) = c.heredoc.as_ref().map(|h| &h.body) else {
            continue;
        };
        if !(body.contains("gatewayClassName: istio-waypoint")
            && body.contains("istio.io/waypoint-for"))
        {
            continue;
        }
        let name = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("name: "))
            .ok_or_else(|| format!("the Gateway at {} has no name", c.lines))?;
        let label = format!("istio.io/use-waypoint={name}");
        if !commands[i + 1..].iter().any(|later| {
            later.text.trim().starts_with("kubectl label service") && later.text.contains(&label)
        }) {
            return Err(format!(
                "the waypoint {name} declared at {} is used by nothing: no later `kubectl label service … {label}`",
                c.lines
            ));
        }
    }
    Ok(())
}

/// Why the re-run of `page` did not answer each command and output holding an added line as
/// documented (or not applicable by the provider's own step), if it did not.
fn rewritten_answered(
    page: &str,
    added: &[(usize, String)],
    rerun: &[ClaimRecord],
) -> Result<usize, String> {
    let page =
        Tutorial::read(Path::new("patched.md"), page.to_string()).map_err(|e| e.to_string())?;
    let mut ids: Vec<String> = added
        .iter()
        .filter_map(|(n, _)| match step_at(&page, *n)? {
            Step::Command(c) => Some(support::document::command_id(c)),
            Step::Output(o) => Some(support::document::output_id(o)),
            Step::Comment(_) => None,
        })
        .collect();
    ids.dedup();
    for id in &ids {
        let Some(r) = rerun.iter().rev().find(|r| &r.claim == id) else {
            return Err(format!("{id}: the re-run has no answer"));
        };
        match &r.answer {
            Answer::AsDocumented => {}
            Answer::NotApplicable { why } if why.contains(SIM_GATEWAY_API_CRDS) => {}
            other => return Err(format!("{id}: {}", other.describe())),
        }
    }
    Ok(ids.len())
}

#[test]
fn the_patch_of_a_sim_run_is_a_page_that_runs_as_written() {
    let patch = patch_of_the_run();
    let added = added_lines(&patch);
    let page = apply(&patch);
    runs_as_written(&page, &added).unwrap();
    // The declaration, rewritten as the era's commands: the CRDs, the Gateway, the label.
    let texts: Vec<&str> = added.iter().map(|(_, t)| t.trim()).collect();
    assert!(
        texts.contains(
            &"kubectl label service productpage istio.io/use-waypoint=productpage-waypoint"
        ),
        "{patch}"
    );
    assert!(
        texts.contains(&"gatewayClassName: istio-waypoint"),
        "{patch}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with(
            "kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/"
        )),
        "{patch}"
    );
    assert!(!patch.to_lowercase().contains("the suite adds"), "{patch}");
    // What it cannot rewrite (the `get all` table, which the suite reads through the API; the
    // note before the declaration) is named for the maintainer, each by its claim and lines.
    for left in [
        "installation.ingress_gateway_as_era_says (installation.get_all, lines 70-93)",
        "installation.ztunnel_node_selector (installation.get_all.daemonset, lines 80-82)",
        "the prose before it (line 180) still names the Gateway class `istio-mesh`",
    ] {
        assert!(patch.contains(left), "{left}: {patch}");
    }
    // Each added line is counted once, on the line the patched page has it.
    let lines: Vec<&str> = page.lines().collect();
    for (n, text) in &added {
        assert_eq!(lines[n - 1], text, "line {n}");
    }
}

/// `patch` without its added line equal to `text` (trimmed), the hunks recounted.
fn without_added(patch: &str, text: &str) -> String {
    let kept: Vec<&str> = patch
        .lines()
        .filter(|l| l.starts_with("+++") || l.strip_prefix('+').is_none_or(|t| t.trim() != text))
        .collect();
    fix_counts(&(kept.join("\n") + "\n"))
}

#[test]
fn a_patch_whose_waypoint_nothing_uses_or_that_speaks_of_the_suite_does_not_run_as_written() {
    let patch = patch_of_the_run();
    let label = "kubectl label service productpage istio.io/use-waypoint=productpage-waypoint";
    // Near miss 1: the label command left out (the suite would add it; a reader would not).
    let unlabelled = without_added(&patch, label);
    assert_ne!(unlabelled, patch);
    let page = apply(&unlabelled);
    let e = runs_as_written(&page, &added_lines(&unlabelled)).unwrap_err();
    assert!(e.contains("used by nothing"), "{e}");
    // Near miss 2: the label's value names another Gateway.
    let other = patch.replace("use-waypoint=productpage-waypoint", "use-waypoint=waypoint");
    let e = runs_as_written(&apply(&other), &added_lines(&other)).unwrap_err();
    assert!(e.contains("used by nothing"), "{e}");
    // Near miss 3: the fixture's comment about the suite inside the manifest.
    let commented = patch.replacen(
        "+   apiVersion: gateway.networking.k8s.io/v1\n",
        "+   # (the suite adds that label in the L7 section)\n+   apiVersion: gateway.networking.k8s.io/v1\n",
        1,
    );
    let commented = fix_counts(&commented);
    let e = runs_as_written(&apply(&commented), &added_lines(&commented)).unwrap_err();
    assert!(e.contains("speaks of the suite"), "{e}");
    // Near miss 4: an added line the reader takes for prose, not a command.
    let prose = patch.replacen(
        &format!("+   {label}\n"),
        &format!("+   {label}\n+   ```\n+   Then label it by hand.\n+   ```bash\n"),
        1,
    );
    let prose = fix_counts(&prose);
    let e = runs_as_written(&apply(&prose), &added_lines(&prose)).unwrap_err();
    assert!(e.contains("neither a command nor an output"), "{e}");
    assert!(
        e.contains("```"),
        "the first line the reader does not run: {e}"
    );
}

/// Recounts each hunk's new start and length from the bodies (for patches edited by the tests).
fn fix_counts(patch: &str) -> String {
    let lines: Vec<&str> = patch.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut shift: isize = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(header) = line.strip_prefix("@@ -") else {
            out.push(line.to_string());
            continue;
        };
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("@@ "))
            .copied()
            .collect();
        let count = |first: char| {
            body.iter()
                .filter(|l| l.starts_with(' ') || l.starts_with(first))
                .count()
        };
        let (old_count, new_count) = (count('-'), count('+'));
        let old_start: isize = header.split(',').next().unwrap().parse().unwrap();
        out.push(format!(
            "@@ -{old_start},{old_count} +{},{new_count} @@",
            old_start + shift
        ));
        shift += new_count as isize - old_count as isize;
    }
    out.join("\n") + "\n"
}

#[test]
fn the_re_run_of_the_patched_page_answers_every_rewritten_block_as_documented() {
    let patch = patch_of_the_run();
    let added = added_lines(&patch);
    let page = apply(&patch);
    let rerun = records(RERUN);
    // The install lines, the CRDs, the Gateway, the label and the waypoint pod line.
    assert_eq!(rewritten_answered(&page, &added, &rerun), Ok(5));
    // The CRDs are the provider's own step on sim: not applicable, with why; everything else the
    // patch wrote ran and matched.
    let crds = rerun
        .iter()
        .find(|r| r.claim == "doc.l00183.l7_processing_in_ambient_mode.command")
        .unwrap();
    assert!(
        matches!(&crds.answer, Answer::NotApplicable { why } if why.contains("no internet")),
        "{:?}",
        crds.answer
    );
    // Near miss: one rewritten block answered otherwise fails the check.
    let mut drifted = rerun.clone();
    let label = drifted
        .iter_mut()
        .find(|r| r.claim == "doc.l00199.l7_processing_in_ambient_mode.command")
        .unwrap();
    label.answer = Answer::Drifted {
        expected: "exits with status 0".into(),
        actual: "exit status 1".into(),
        era_expected: None,
        documented: None,
    };
    let e = rewritten_answered(&page, &added, &drifted).unwrap_err();
    assert!(e.starts_with("doc.l00199"), "{e}");
    // And one missing is no pass.
    let missing: Vec<ClaimRecord> = rerun
        .iter()
        .filter(|r| r.claim != "doc.l00208.l7_processing_in_ambient_mode.output")
        .cloned()
        .collect();
    let e = rewritten_answered(&page, &added, &missing).unwrap_err();
    assert!(e.contains("no answer"), "{e}");
}

#[test]
fn on_sim_the_gateway_api_crds_the_page_installs_are_the_providers_step_and_nothing_else_is() {
    use support::run::{applicability, words};
    use support::settings::Provider;
    let rule = |text: &str, p: Provider| {
        applicability::check(&words::parse(text).unwrap(), p).map(|n| n.rule)
    };
    // The release's install files (the patch's form): on sim the provider applies its copy;
    // elsewhere the page's command runs.
    // istio.io's kustomize form is a remote kustomization: from the provider's verified copy of
    // that ref (the page runner substitutes it), else not applicable by the earlier rule.
    let kustomized = "kubectl get crd gateways.gateway.networking.k8s.io || \\\n  { kubectl kustomize \"github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.0\" | kubectl apply -f -; }";
    assert_eq!(
        rule(kustomized, Provider::Sim),
        Some("sim_remote_kustomization")
    );
    assert_eq!(rule(kustomized, Provider::Kind), None);
    for text in [
        "kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml",
        "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.0/experimental-install.yaml",
    ] {
        assert_eq!(
            rule(text, Provider::Sim),
            Some(SIM_GATEWAY_API_CRDS),
            "{text}"
        );
        assert_eq!(rule(text, Provider::Kind), None, "{text}");
    }
    // Near misses: another repository whose name starts the same, removing the CRDs, reading one.
    for text in [
        "kubectl apply -f https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/download/v0.3.0/manifests.yaml",
        "kubectl delete -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.0/standard-install.yaml",
        "kubectl get crd gateways.gateway.networking.k8s.io",
    ] {
        assert_eq!(rule(text, Provider::Sim), None, "{text}");
    }
}
