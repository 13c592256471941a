//! Records are files anyone can hand to `ambient-spec` (an artifact of another job, a file in a
//! pull request): each test here feeds one that attacks a writer (the docs patch, the printed
//! headline and report, the JUnit file, the drift issues) and shows the attack does not get
//! through, beside proof that the attack itself is real.

use std::path::Path;

use support::claims::{Anchor, Answer, ClaimId, ClaimRecord, EraFact, RECORD_FORMAT, of};
use support::eras::{Fact, IstioVersion, facts_for, provenance};
use support::fixtures;
use support::tutorial::markdown::Lines;

fn seed() -> String {
    fixtures::read("tutorial/ambient-tutorial.md").unwrap()
}

fn record(id: ClaimId, istio: &str, answer: Answer) -> ClaimRecord {
    let claim = of(id);
    ClaimRecord {
        format: RECORD_FORMAT,
        run_id: "hostile".into(),
        claim: claim.name().into(),
        section: claim.section,
        era: "1.24".into(),
        istio_version: istio.into(),
        provider: "sim".into(),
        at: "2026-12-06T00:00:00Z".into(),
        tutorial: None,
        nextest_run_id: None,
        answer,
    }
}

/// A stale record of `id` on lines `start..=end` of the seed tutorial, with their text.
fn stale(id: ClaimId, start: usize, end: usize, era: EraFact, new: Option<&str>) -> ClaimRecord {
    let text = seed()
        .lines()
        .skip(start - 1)
        .take(end + 1 - start)
        .collect::<Vec<_>>()
        .join("\n");
    record(
        id,
        "1.31-dev",
        Answer::DocStale {
            documented: Anchor {
                expectation: of(id).anchors[0].into(),
                lines: Lines { start, end },
                text,
            },
            observed: "seen".into(),
            era,
            replacement: new.map(str::to_string),
        },
    )
}

fn suite_fact(fact: Fact) -> EraFact {
    provenance(&facts_for(&IstioVersion::parse("1.31-dev").unwrap()), fact)
}

/// A patch that creates `PWNED.txt` when `git apply` reads it.
const PWNED_PATCH: &str = "diff --git a/PWNED.txt b/PWNED.txt\nnew file mode 100644\n--- /dev/null\n+++ b/PWNED.txt\n@@ -0,0 +1 @@\n+pwned\n";

struct Repo(tempfile::TempDir);

impl Repo {
    fn new() -> Repo {
        let repo = Repo(tempfile::tempdir().unwrap());
        std::fs::write(repo.path().join("tutorial.md"), seed()).unwrap();
        assert!(repo.git(&["init", "-q"]).status.success());
        repo
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn git(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap()
    }
    fn apply(&self, patch: &str) -> std::process::Output {
        std::fs::write(self.path().join("fix.patch"), patch).unwrap();
        self.git(&["apply", "fix.patch"])
    }
    fn pwned(&self) -> bool {
        self.path().join("PWNED.txt").exists()
    }
}

#[test]
fn a_record_cannot_smuggle_a_file_into_the_docs_patch() {
    // The attack is real: git applies a header that holds a diff.
    let proof = Repo::new();
    let applied = proof.apply(&format!(
        "Some header\n  - note: x\n{PWNED_PATCH} since 1.24\n"
    ));
    assert!(applied.status.success(), "{applied:?}");
    assert!(proof.pwned());

    // Records carrying it: in the era fact (a note of the header), in the claim id, in the
    // expectation, in the Istio version, beside one honest stale block the patch rewrites.
    let mut fact = suite_fact(Fact::ZtunnelNodeSelector);
    fact.fact = format!("x\n{PWNED_PATCH}");
    let in_fact = stale(ClaimId::InstallationZtunnelNodeSelector, 3, 3, fact, None);
    let mut in_claim = in_fact.clone();
    in_claim.claim = format!("installation.x\n{PWNED_PATCH}");
    in_claim.answer = stale(
        ClaimId::InstallationZtunnelNodeSelector,
        3,
        3,
        suite_fact(Fact::ZtunnelNodeSelector),
        None,
    )
    .answer;
    let mut in_expectation = stale(
        ClaimId::InstallationIstioCniNodeSelector,
        3,
        3,
        suite_fact(Fact::ZtunnelNodeSelector),
        None,
    );
    if let Answer::DocStale { documented, .. } = &mut in_expectation.answer {
        documented.expectation = format!("x\n{PWNED_PATCH}");
    }
    let honest = stale(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        5,
        5,
        suite_fact(Fact::InstallLines),
        Some(&format!("rewritten\n{PWNED_PATCH}")),
    );
    let records = [&in_fact, &in_claim, &in_expectation, &honest];
    let patch = support::docpatch::build(&seed(), "tutorial.md", &records).unwrap();
    let rendered = patch.render(&format!("1.31-dev\n{PWNED_PATCH}"));
    assert_eq!(patch.replaced, 1, "{rendered}");
    assert_eq!(
        rendered
            .lines()
            .filter(|l| l.starts_with("diff --git"))
            .count(),
        1,
        "only the patch's own diff: {rendered}"
    );
    assert!(
        !rendered.lines().any(|l| l.starts_with("--- /dev/null")),
        "{rendered}"
    );
    // What the records said is counted, not quoted.
    assert!(
        rendered.contains("2 stale record(s) of claims or expectations"),
        "{rendered}"
    );
    assert!(
        rendered.contains("1 stale record(s) whose era fact"),
        "{rendered}"
    );
    assert!(
        rendered.contains("(a version this suite cannot read)"),
        "{rendered}"
    );
    let repo = Repo::new();
    let applied = repo.apply(&rendered);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(!repo.pwned(), "{rendered}");
    // The observed text is the new block, line for line, PWNED's lines included as text.
    let patched = std::fs::read_to_string(repo.path().join("tutorial.md")).unwrap();
    assert!(
        patched.contains("rewritten\ndiff --git a/PWNED.txt"),
        "{patched}"
    );
}

#[test]
fn lines_outside_the_tutorial_are_an_error_naming_the_record() {
    let total = seed().lines().count();
    let honest = stale(
        ClaimId::InstallationZtunnelNodeSelector,
        3,
        3,
        suite_fact(Fact::ZtunnelNodeSelector),
        Some("new"),
    );
    assert!(
        support::docpatch::build(&seed(), "t.md", &[&honest]).is_ok(),
        "the near miss: lines inside the tutorial"
    );
    let last = stale(
        ClaimId::InstallationZtunnelNodeSelector,
        total,
        total,
        suite_fact(Fact::ZtunnelNodeSelector),
        Some("new"),
    );
    assert!(support::docpatch::build(&seed(), "t.md", &[&last]).is_ok());
    for (start, end) in [
        (0, 3),
        (4, 3),
        (total, total + 1),
        (total + 1, total + 1),
        (usize::MAX, usize::MAX),
        (1, usize::MAX),
    ] {
        let mut r = honest.clone();
        if let Answer::DocStale { documented, .. } = &mut r.answer {
            documented.lines = Lines { start, end };
        }
        let e = support::docpatch::build(&seed(), "t.md", &[&r]).unwrap_err();
        let said = e.to_string();
        assert!(
            said.contains("installation.ztunnel_node_selector")
                && said.contains("1.31-dev")
                && said.contains(&format!("{start}..={end}")),
            "{said}"
        );
    }
}

fn commands_in(text: &str) -> Vec<&str> {
    text.split(['\n', '\r'])
        .filter(|l| support::workflow_commands::is_command(l))
        .collect()
}

#[test]
fn no_record_prints_a_workflow_command() {
    let hostile = "::error title=pwned::a record wrote this";
    let old = "##[add-mask]whatever";
    let mut records = Vec::new();
    for (istio, era, provider) in [
        (hostile, "1.24", "sim"),
        ("1.24.2", old, "kind"),
        ("1.24.3", "1.24", "x\r::warning::y"),
    ] {
        let mut r = record(
            ClaimId::L4CurlReturnsProductpage,
            istio,
            Answer::Drifted {
                expected: format!("{hostile}\n{old}"),
                actual: format!("  {hostile}\r{old}"),
                era_expected: None,
                documented: None,
            },
        );
        r.era = era.into();
        r.provider = provider.into();
        records.push(r);
    }
    let mut unknown = records[0].clone();
    unknown.claim = format!("{hostile}\n{old}");
    records.push(unknown);
    let loaded = support::report::Loaded {
        records,
        notes: vec![format!("{hostile}\n{old}")],
    };
    let report = support::report::build(&loaded);
    // The near miss: the text that went in is made of commands.
    assert!(support::workflow_commands::is_command(hostile));
    assert!(support::workflow_commands::is_command(old));
    let headline = report.headline();
    assert_eq!(headline.lines().count(), 3, "{headline}");
    assert!(commands_in(&headline).is_empty(), "{headline}");
    assert!(headline.contains("\\::error title=pwned"), "{headline}");
    let markdown = report.markdown();
    assert!(commands_in(&markdown).is_empty(), "{markdown}");
    // A line of a claims file that is not a record: the error quotes none as a command.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    std::fs::write(&path, format!("{{\"format\": \"{old}\"}}\n")).unwrap();
    let error = support::report::load(&[&path]).unwrap_err().to_string();
    assert!(error.contains("add-mask"), "{error}");
    assert!(commands_in(&error).is_empty(), "{error}");
}
