//! A page run as written, as a state machine: it says which text to run next (site shortcodes
//! filled, the provider's local copies standing for what it fetches, the shell state of the
//! earlier commands before it), takes what running it left ([`crate::run::Outcome`]), and returns
//! the answers to record. It runs nothing itself, so the hermetic tests drive it over the
//! fixture pages with scripted outcomes; the cluster tier only runs the text, calls the
//! provider's after-install step when told, records and fails.
//!
//! Decided here, step by step:
//! - a command whose shortcodes the suite cannot fill ([`super::shortcodes`]) is not applicable
//!   with why, and is not run;
//! - a command that fetches what the provider holds a verified copy of
//!   ([`crate::run::local_copy`]) runs with only that source replaced; its answer says the
//!   provider performed it from its copy, like the provider's own steps;
//! - state: [`super::carry`]; a command substitution's values are read back once
//!   ([`crate::run::Runner::run_carrying`]) and set before later commands as quoted words;
//! - a drift after a step that changes the cluster and did not run here (not applicable,
//!   refused, not started; the provider's own steps excepted) is not applicable: what the page
//!   expects there may need that step. The why names the step and keeps what was expected and
//!   observed.

use super::shortcodes::{self, SiteValues};
use super::{Carry, Observed};
use crate::claims::Answer;
use crate::eras::EraFacts;
use crate::run::local_copy::{self, LocalCopy, Substituted};
use crate::run::{Outcome, applicability, words};
use crate::tutorial::markdown::Lines;
use crate::tutorial::script::{Command, Step};

/// One answer to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub id: String,
    pub answer: Answer,
}

/// A command to run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToRun {
    /// The text for [`crate::run::Runner::run_carrying`]: the carried state, then the command.
    pub text: String,
    /// The variables to read back after it ran ([`crate::run::Evidence::carried`]).
    pub carry: Vec<String>,
    /// Where the command is in the page.
    pub lines: Lines,
}

/// What [`PageRun::advance`] found: answers for the steps that needed no running, then the next
/// command to run (`None`: the page is done).
#[derive(Debug, Clone, PartialEq)]
pub struct Advance {
    pub answers: Vec<Recorded>,
    pub run: Option<ToRun>,
}

/// What [`PageRun::took`] made of an outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Took {
    pub answers: Vec<Recorded>,
    /// The command installed Istio: the provider's own after-install step is due before the
    /// next command (sim: istiod as a local process).
    pub after_install: bool,
}

/// A step that changes the cluster and did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Skipped {
    lines: Lines,
    first_line: String,
    why: String,
}

#[derive(Debug, Clone)]
struct Waiting {
    step: usize,
    /// The command's text after shortcodes and local copies (what is replayed).
    text: String,
    to_run: ToRun,
    substituted: Vec<Substituted>,
}

/// The state of one page run.
#[derive(Debug)]
pub struct PageRun<'a> {
    steps: &'a [Step],
    facts: &'a EraFacts,
    site: SiteValues,
    copies: Vec<LocalCopy>,
    next: usize,
    observed: Vec<Option<Observed>>,
    /// Lines set before every later command.
    carried: Vec<String>,
    skipped: Vec<Skipped>,
    waiting: Option<Waiting>,
}

impl<'a> PageRun<'a> {
    /// A run over `steps`, answering outputs against `facts` as the era's reference, filling
    /// shortcodes from `site`, fetching from `copies` where they hold what a command fetches.
    pub fn new(
        steps: &'a [Step],
        facts: &'a EraFacts,
        site: SiteValues,
        copies: Vec<LocalCopy>,
    ) -> Self {
        PageRun {
            steps,
            facts,
            site,
            copies,
            next: 0,
            observed: vec![None; steps.len()],
            carried: Vec::new(),
            skipped: Vec::new(),
            waiting: None,
        }
    }

    /// Answers every step up to the next command to run, and that command. While a command
    /// waits for [`PageRun::took`], the same command again.
    pub fn advance(&mut self) -> Advance {
        if let Some(w) = &self.waiting {
            return Advance {
                answers: Vec::new(),
                run: Some(w.to_run.clone()),
            };
        }
        let mut answers = Vec::new();
        while self.next < self.steps.len() {
            let i = self.next;
            self.next += 1;
            match &self.steps[i] {
                Step::Comment(_) => {}
                Step::Output(o) => {
                    let seen = o
                        .command
                        .and_then(|k| self.observed.get(k).cloned().flatten());
                    let answer = super::output_answer(o, seen.as_ref(), self.facts);
                    answers.push(Recorded {
                        id: super::output_id(o),
                        answer: self.following(answer),
                    });
                }
                Step::Command(c) => match shortcodes::fill(&c.text, &self.site) {
                    Err(unknown) => {
                        let seen = Observed::NotApplicable(super::shortcodes_why(&unknown));
                        self.note_skipped(c, &seen, None);
                        let answer = self.following(super::command_answer(c, &seen));
                        self.observed[i] = Some(seen);
                        answers.push(Recorded {
                            id: super::command_id(c),
                            answer,
                        });
                    }
                    Ok(filled) => {
                        let (text, substituted) = local_copy::substitute(&filled, &self.copies)
                            .unwrap_or((filled, Vec::new()));
                        let carry = match super::carry(c) {
                            Carry::Values(names) => names.into_iter().map(|(n, _)| n).collect(),
                            _ => Vec::new(),
                        };
                        let to_run = ToRun {
                            text: super::with_shell_state(&self.carried, &text),
                            carry,
                            lines: c.lines,
                        };
                        self.waiting = Some(Waiting {
                            step: i,
                            text,
                            to_run: to_run.clone(),
                            substituted,
                        });
                        return Advance {
                            answers,
                            run: Some(to_run),
                        };
                    }
                },
            }
        }
        Advance { answers, run: None }
    }

    /// The answer for the command [`PageRun::advance`] handed out, from what running it left.
    /// Without a command waiting, nothing.
    pub fn took(&mut self, outcome: &Outcome) -> Took {
        let Some(w) = self.waiting.take() else {
            return Took {
                answers: Vec::new(),
                after_install: false,
            };
        };
        let Step::Command(c) = &self.steps[w.step] else {
            return Took {
                answers: Vec::new(),
                after_install: false,
            };
        };
        let seen = Observed::from(outcome);
        let rule = match outcome {
            Outcome::NotApplicable(n) => Some(n.rule),
            _ => None,
        };
        self.note_skipped(c, &seen, rule);
        let succeeded = matches!(
            seen,
            Observed::Ran {
                exit_code: Some(0),
                ..
            }
        );
        if succeeded {
            match super::carry(c) {
                Carry::Replay => self.carried.push(w.text.clone()),
                Carry::Values(names) => {
                    if let Outcome::Ran(e) = outcome {
                        for (name, exported) in names {
                            if let Some((_, value)) =
                                e.carried.iter().rev().find(|(n, _)| *n == name)
                            {
                                let set = format!("{name}={}", words::quote(value));
                                self.carried.push(if exported {
                                    format!("export {set}")
                                } else {
                                    set
                                });
                            }
                        }
                    }
                }
                Carry::Nothing => {}
            }
        }
        let answer = if succeeded && !w.substituted.is_empty() {
            Answer::NotApplicable {
                why: performed_from_copy(&w.substituted),
            }
        } else {
            match super::command_answer(c, &seen) {
                Answer::Drifted {
                    expected,
                    actual,
                    era_expected,
                    documented,
                } if !w.substituted.is_empty() => Answer::Drifted {
                    expected,
                    actual: format!(
                        "{actual}\n(run with the provider's local copy for the network fetch: {})",
                        performed_from(&w.substituted)
                    ),
                    era_expected,
                    documented,
                },
                answer => answer,
            }
        };
        let answer = self.following(answer);
        self.observed[w.step] = Some(seen);
        Took {
            answers: vec![Recorded {
                id: super::command_id(c),
                answer,
            }],
            after_install: succeeded && super::installs_istio(c),
        }
    }

    /// Remembers a command that changes the cluster and did not run here (the provider's own
    /// steps excepted: the provider performed them its way).
    fn note_skipped(&mut self, c: &Command, seen: &Observed, rule: Option<&str>) {
        let not_run = matches!(
            seen,
            Observed::NotApplicable(_) | Observed::Refused(_) | Observed::NotStarted(_)
        );
        if !not_run || rule.is_some_and(applicability::is_providers_own_step) {
            return;
        }
        let changes = words::parse(&c.text).is_ok_and(|s| applicability::changes_cluster(&s));
        if !changes {
            return;
        }
        let why = match seen {
            Observed::NotApplicable(why) | Observed::Refused(why) | Observed::NotStarted(why) => {
                why.clone()
            }
            _ => String::new(),
        };
        self.skipped.push(Skipped {
            lines: c.lines,
            first_line: c.text.lines().next().unwrap_or_default().to_string(),
            why,
        });
    }

    /// A drift after a skipped step that changes the cluster: not applicable, with the step and
    /// what was expected and observed. Any other answer as it is.
    fn following(&self, answer: Answer) -> Answer {
        let (
            Some(first),
            Answer::Drifted {
                expected, actual, ..
            },
        ) = (self.skipped.first(), &answer)
        else {
            return answer;
        };
        let more = match self.skipped.len() {
            1 => String::new(),
            n => format!(" (and {} more such steps)", n - 1),
        };
        Answer::NotApplicable {
            why: format!(
                "follows {} (`{}`), a step that changes the cluster and did not run here ({}){more}; what the page shows here may depend on it.\nexpected: {expected}\nobserved: {actual}",
                first.lines, first.first_line, first.why
            ),
        }
    }
}

fn performed_from(done: &[Substituted]) -> String {
    done.iter()
        .map(|d| {
            format!(
                "{} from {} (verified: {})",
                d.remote,
                d.local.display(),
                d.verified
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn performed_from_copy(done: &[Substituted]) -> String {
    format!(
        "performed by the provider from its local copy, the network fetch not being possible here: {}; the rest of the command ran as written and exited 0",
        performed_from(done)
    )
}

/// What a page run left: how many answers of each kind, and the failing ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// As documented, doc stale, drifted, not applicable, not reached.
    pub counts: [usize; 5],
    /// `<id>: <answer>` of each answer that fails its test ([`Answer::is_failure`]).
    pub failures: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, r: &Recorded, strict_docs: bool) {
        self.counts[match r.answer {
            Answer::AsDocumented | Answer::Holds => 0,
            Answer::DocStale { .. } => 1,
            Answer::Drifted { .. } => 2,
            Answer::NotApplicable { .. } => 3,
            Answer::NotReached { .. } => 4,
        }] += 1;
        if r.answer.is_failure(strict_docs) {
            self.failures
                .push(format!("{}: {}", r.id, r.answer.describe()));
        }
    }

    /// `N as documented, N doc stale, N drifted, N not applicable, N not reached`.
    pub fn summary(&self) -> String {
        let [documented, stale, drifted, not_applicable, not_reached] = self.counts;
        format!(
            "{documented} as documented, {stale} doc stale, {drifted} drifted, {not_applicable} not applicable, {not_reached} not reached"
        )
    }
}

/// The commands the guard refuses (`<lines>: <why>`), decided without running anything: for a
/// page whose steps the suite performs its own way (the reference tutorial), where every
/// command must still be one the runner would run or call not applicable.
pub fn refused<'c>(
    commands: impl Iterator<Item = &'c Command>,
    runner: &crate::run::Runner,
) -> Vec<String> {
    commands
        .filter_map(|c| match runner.decide(&c.text) {
            crate::run::Decision::Refused(e) => Some(format!("{}: {e}", c.lines)),
            _ => None,
        })
        .collect()
}

/// What a page run needs from the provider: the shortcode values and the local copies.
#[derive(Debug, Clone, Default)]
pub struct ProviderInputs {
    pub site: SiteValues,
    pub copies: Vec<LocalCopy>,
    /// Why a copy the provider could have held is not used (said in the progress output).
    pub notes: Vec<String>,
}

/// Where the provider's copies are (`None` where the provider holds none).
#[derive(Debug, Clone, Copy)]
pub struct CopySources<'p> {
    /// The Gateway API CRDs `fixtures/sim/build.sh` copied (`AMBIENT_GATEWAY_API_CRDS`).
    pub gateway_api_crds: Option<&'p std::path::Path>,
    /// The go.sum that pinned the module they came from (`fixtures/sim/istio/go.sum`).
    pub go_sum: &'p std::path::Path,
    /// The Go module cache ([`local_copy::go_module_cache`]).
    pub module_cache: Option<&'p std::path::Path>,
}

/// The shortcode values and local copies for a run: on sim, the Gateway API version of the
/// provider's CRDs and, when the module they came from verifies, that module as the copy of the
/// repository; elsewhere the era table's Gateway API version and no copy (the network is there).
pub fn provider_inputs(
    provider: crate::settings::Provider,
    release_version: &str,
    facts: &EraFacts,
    sources: CopySources<'_>,
) -> ProviderInputs {
    use crate::settings::Provider;
    let mut inputs = ProviderInputs::default();
    let mut gateway_api = SiteValues::era_gateway_api(facts).map(str::to_string);
    if provider == Provider::Sim
        && let Some(crds) = sources.gateway_api_crds
    {
        match local_copy::gateway_api_bundle(crds) {
            Ok((version, _)) => gateway_api = Some(version),
            Err(e) => inputs.notes.push(crate::errors::chain(&e)),
        }
        match sources.module_cache {
            Some(cache) => match local_copy::sim_gateway_api(crds, sources.go_sum, cache) {
                Ok((_, copy)) => inputs.copies.push(copy),
                Err(e) => inputs.notes.push(crate::errors::chain(&e)),
            },
            None => inputs.notes.push(
                "no Go module cache (GOMODCACHE, GOPATH, HOME unset): the Gateway API repository has no local copy".into(),
            ),
        }
    }
    inputs.site = SiteValues::of(release_version, gateway_api.as_deref());
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eras::{IstioVersion, facts_for};
    use crate::run::{Evidence, Exit, NotApplicable};
    use crate::tutorial::Tutorial;
    use std::time::Duration;

    fn dev() -> EraFacts {
        facts_for(&IstioVersion::parse("1.31-dev").expect("a version"))
    }

    fn ran(code: i32, stdout: &str, carried: &[(&str, &str)]) -> Outcome {
        Outcome::Ran(Evidence {
            command: String::new(),
            stdout: stdout.into(),
            stderr: if code == 0 {
                String::new()
            } else {
                "error: boom\n".into()
            },
            exit: Exit::Code(code),
            elapsed: Duration::ZERO,
            carried: carried
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        })
    }

    fn na(rule: &'static str) -> Outcome {
        Outcome::NotApplicable(NotApplicable {
            rule,
            command: "x".into(),
            reason: "the provider cannot",
        })
    }

    /// Drives a run to its end: `outcome` says what each handed-out command left.
    fn drive(
        page: &mut PageRun<'_>,
        mut outcome: impl FnMut(&ToRun) -> Outcome,
    ) -> (Vec<ToRun>, Vec<Recorded>) {
        let (mut ran, mut answers) = (Vec::new(), Vec::new());
        loop {
            let a = page.advance();
            answers.extend(a.answers);
            let Some(r) = a.run else { break };
            let took = page.took(&outcome(&r));
            answers.extend(took.answers);
            ran.push(r);
        }
        (ran, answers)
    }

    fn steps(text: &str) -> Vec<Step> {
        crate::tutorial::script::read(text).steps
    }

    fn answer<'r>(answers: &'r [Recorded], id_part: &str) -> &'r Answer {
        &answers
            .iter()
            .find(|r| r.id.contains(id_part))
            .unwrap_or_else(|| panic!("no answer for {id_part}: {answers:?}"))
            .answer
    }

    #[test]
    fn a_substitutions_values_are_read_back_once_and_set_before_later_commands() {
        let s = steps(
            "```bash\n$ export HOST=$(kubectl get svc gw -o jsonpath='{.spec.clusterIP}')\n$ curl -s \"$HOST\"\n$ echo done\n```\n",
        );
        let facts = dev();
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (ran, answers) = drive(&mut page, |r| {
            if r.carry.is_empty() {
                ran(0, "", &[])
            } else {
                ran(0, "", &[("HOST", "it's $x `y`\nz")])
            }
        });
        assert_eq!(ran[0].carry, ["HOST"]);
        // The substitution is in the first text only: later ones get its value, quoted.
        assert!(ran[0].text.contains("$(kubectl get svc"));
        for later in &ran[1..] {
            assert!(!later.text.contains("$(kubectl"), "{}", later.text);
            assert!(
                later.text.starts_with("export HOST='it'\\''s $x `y`\nz'\n"),
                "{}",
                later.text
            );
            assert!(later.carry.is_empty());
        }
        assert!(answers.iter().all(|r| r.answer == Answer::AsDocumented));
    }

    #[test]
    fn a_failing_substitution_or_an_unset_name_carries_nothing() {
        let s = steps("```bash\n$ HOST=$(false)\n$ echo \"$HOST\"\n```\n");
        let facts = dev();
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        // Exit 1: even a value the trailer would not have written is not carried.
        let (ran_texts, _) = drive(&mut page, |r| {
            if r.carry.is_empty() {
                ran(0, "", &[])
            } else {
                ran(1, "", &[("HOST", "stale")])
            }
        });
        assert_eq!(ran_texts[1].text, "echo \"$HOST\"");
        // Exit 0 without the name read back: nothing either; a plain assignment is no export.
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (ran_texts, _) = drive(&mut page, |_| ran(0, "", &[]));
        assert_eq!(ran_texts[1].text, "echo \"$HOST\"");
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (ran_texts, _) = drive(&mut page, |r| {
            if r.carry.is_empty() {
                ran(0, "", &[])
            } else {
                ran(0, "", &[("HOST", "h")])
            }
        });
        assert_eq!(ran_texts[1].text, "HOST='h'\necho \"$HOST\"");
    }

    #[test]
    fn a_drift_after_a_skipped_step_that_changes_the_cluster_is_not_applicable_with_why() {
        let s = steps(
            "```bash\n$ kubectl apply -f crds.yaml\n$ kubectl get gateway\n$ kubectl wait --for=condition=programmed gtw/x\n```\n",
        );
        let facts = dev();
        let outcome = |first: Outcome| {
            let mut first = Some(first);
            move |_: &ToRun| first.take().unwrap_or_else(|| ran(1, "", &[]))
        };
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (_, answers) = drive(&mut page, outcome(na("sim_traffic")));
        let Answer::NotApplicable { why } = answer(&answers, "l00004") else {
            panic!("{answers:?}")
        };
        assert!(
            why.contains("follows line 2 (`kubectl apply -f crds.yaml`)"),
            "{why}"
        );
        assert!(why.contains("expected: exits with status 0"), "{why}");
        assert!(why.contains("observed: exit status 1"), "{why}");
        // Near miss: the same drifts without the skipped step stay drifts.
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (_, answers) = drive(&mut page, outcome(ran(0, "", &[])));
        assert!(matches!(answer(&answers, "l00004"), Answer::Drifted { .. }));
        let Answer::Drifted { actual, .. } = answer(&answers, "l00003") else {
            panic!("{answers:?}")
        };
        // Nothing was run from a local copy: the drift says nothing of one.
        assert!(!actual.contains("local copy"), "{actual}");
        // Near miss: the provider's own step, not run as written, taints nothing.
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (_, answers) = drive(&mut page, outcome(na("kind_cluster")));
        assert!(matches!(answer(&answers, "l00004"), Answer::Drifted { .. }));
        // Near miss: a skipped read-only step taints nothing.
        let read_only = steps(
            "```bash\n$ kubectl get pods\n$ curl -s http://x.example/\n$ kubectl wait --for=condition=programmed gtw/x\n```\n",
        );
        let mut page = PageRun::new(&read_only, &facts, SiteValues::default(), Vec::new());
        let (_, answers) = drive(&mut page, |r| {
            if r.lines.start == 4 {
                ran(1, "", &[])
            } else {
                na("sim_traffic")
            }
        });
        assert!(matches!(answer(&answers, "l00004"), Answer::Drifted { .. }));
    }

    #[test]
    fn unknown_shortcodes_are_not_run_and_known_ones_are_filled() {
        let s = steps(
            "```bash\n$ kubectl apply -f {{< github_file >}}/a.yaml\n$ echo {{< istio_version >}}\n```\n",
        );
        let facts = dev();
        let mut page = PageRun::new(&s, &facts, SiteValues::of("1.24.2", None), Vec::new());
        let (ran_texts, answers) = drive(&mut page, |_| ran(0, "", &[]));
        assert_eq!(ran_texts.len(), 1);
        assert_eq!(ran_texts[0].text, "echo 1.24");
        let Answer::NotApplicable { why } = answer(&answers, "l00002") else {
            panic!("{answers:?}")
        };
        assert!(why.contains("github_file"), "{why}");
    }

    #[test]
    fn istioctl_install_asks_for_the_providers_step_only_when_it_succeeded() {
        let t = Tutorial::load(&crate::fixtures::path("pages/ambient/getting-started.md"))
            .expect("reads");
        let facts = dev();
        let mut page = PageRun::new(&t.script.steps, &facts, SiteValues::default(), Vec::new());
        let mut installs = Vec::new();
        loop {
            let a = page.advance();
            let Some(r) = a.run else { break };
            let took = page.took(&ran(if r.lines.start == 64 { 0 } else { 1 }, "", &[]));
            if took.after_install {
                installs.push(r.lines.start);
            }
        }
        assert_eq!(installs, [64]);
        // A failing install asks for nothing; took without advance records nothing.
        let mut page = PageRun::new(&t.script.steps, &facts, SiteValues::default(), Vec::new());
        assert!(page.took(&ran(0, "", &[])).answers.is_empty());
        loop {
            let a = page.advance();
            let Some(r) = a.run else { break };
            // advance again while waiting hands out the same command.
            assert_eq!(page.advance().run.as_ref(), Some(&r));
            assert!(!page.took(&ran(1, "", &[])).after_install);
        }
    }

    #[test]
    fn refused_and_unstarted_steps_taint_and_several_are_counted() {
        let s = steps(
            "```bash\n$ kubectl apply -f a.yaml\n$ kubectl label ns default x=y\n$ kubectl get pods\n```\n",
        );
        let facts = dev();
        let refused = Outcome::Refused(crate::run::GuardError::Refused(crate::run::Refusal {
            command: "kubectl apply".into(),
            offending: "--context=x".into(),
            reason: "names another kube context".into(),
        }));
        let mut outcomes = vec![
            refused,
            Outcome::NotStarted {
                command: "kubectl label".into(),
                reason: "no bash".into(),
            },
            ran(1, "", &[]),
        ]
        .into_iter();
        let mut page = PageRun::new(&s, &facts, SiteValues::default(), Vec::new());
        let (_, answers) = drive(&mut page, |_| outcomes.next().expect("three commands"));
        let Answer::NotApplicable { why } = answer(&answers, "l00004") else {
            panic!("{answers:?}")
        };
        assert!(
            why.contains("follows line 2 (`kubectl apply -f a.yaml`)"),
            "{why}"
        );
        assert!(why.contains("names another kube context"), "{why}");
        assert!(why.contains("(and 1 more such steps)"), "{why}");
    }

    fn write_crds(dir: &std::path::Path, version: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("gateway.networking.k8s.io_gateways.yaml"),
            format!(
                "metadata:\n  annotations:\n    gateway.networking.k8s.io/bundle-version: {version}\n    gateway.networking.k8s.io/channel: standard\n"
            ),
        )
        .unwrap();
    }

    #[test]
    fn the_provider_gives_its_gateway_api_version_and_a_verified_copy_on_sim_only() {
        use crate::settings::Provider;
        let tmp = tempfile::tempdir().unwrap();
        let crds = tmp.path().join("crds");
        write_crds(&crds, "v9.9.9");
        let cache = tmp.path().join("mod");
        let module = cache.join("sigs.k8s.io/gateway-api@v9.9.9");
        write_crds(&module.join("config/crd/standard"), "v9.9.9");
        std::fs::create_dir_all(module.join("config/crd/experimental")).unwrap();
        std::fs::write(
            module.join("config/crd/experimental/kustomization.yaml"),
            "resources: []\n",
        )
        .unwrap();
        let sum = local_copy::hash1(&module, "sigs.k8s.io/gateway-api@v9.9.9").unwrap();
        let go_sum = tmp.path().join("go.sum");
        std::fs::write(&go_sum, format!("sigs.k8s.io/gateway-api v9.9.9 {sum}\n")).unwrap();
        let facts = dev();
        let sources = CopySources {
            gateway_api_crds: Some(&crds),
            go_sum: &go_sum,
            module_cache: Some(&cache),
        };
        let sim = provider_inputs(Provider::Sim, "1.31-dev", &facts, sources);
        assert_eq!(sim.site.get("k8s_gateway_api_version"), Some("v9.9.9"));
        assert_eq!(sim.site.get("istio_version"), Some("1.31"));
        assert_eq!(sim.copies.len(), 1, "{:?}", sim.notes);
        assert!(sim.notes.is_empty());
        // Elsewhere: the era's version, no copy, even with the same sources.
        let kind = provider_inputs(Provider::Kind, "1.31-dev", &facts, sources);
        assert_eq!(
            kind.site.get("k8s_gateway_api_version"),
            SiteValues::era_gateway_api(&facts)
        );
        assert!(kind.copies.is_empty());
        // Near misses on sim: a sim CRD that is not the module's, no module cache.
        std::fs::write(crds.join("extra.yaml"), "kind: X\n").unwrap();
        let changed = provider_inputs(Provider::Sim, "1.31-dev", &facts, sources);
        assert!(changed.copies.is_empty());
        assert!(
            changed.notes.iter().any(|n| n.contains("extra.yaml")),
            "{:?}",
            changed.notes
        );
        assert_eq!(changed.site.get("k8s_gateway_api_version"), Some("v9.9.9"));
        let no_cache = provider_inputs(
            Provider::Sim,
            "1.31-dev",
            &facts,
            CopySources {
                module_cache: None,
                ..sources
            },
        );
        assert!(no_cache.copies.is_empty());
        assert!(no_cache.notes.iter().any(|n| n.contains("module cache")));
    }

    #[test]
    fn a_tally_counts_each_kind_and_lists_what_fails() {
        let mut t = Tally::default();
        let rec = |answer: Answer| Recorded {
            id: "doc.l00001.x.command".into(),
            answer,
        };
        t.add(&rec(Answer::AsDocumented), false);
        t.add(&rec(Answer::NotApplicable { why: "w".into() }), false);
        t.add(
            &rec(Answer::Drifted {
                expected: "e".into(),
                actual: "a".into(),
                era_expected: None,
                documented: None,
            }),
            false,
        );
        t.add(&rec(Answer::NotReached { why: "r".into() }), false);
        assert_eq!(t.counts, [1, 0, 1, 1, 1]);
        assert_eq!(t.failures.len(), 2);
        assert!(t.failures[0].starts_with("doc.l00001.x.command: "));
        assert_eq!(
            t.summary(),
            "1 as documented, 0 doc stale, 1 drifted, 1 not applicable, 1 not reached"
        );
    }
}
