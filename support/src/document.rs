//! Answers for a page run as written: every command of the page and every output it shows gets
//! one answer (as documented / doc stale / drifted / not applicable / not reached), decided here
//! by pure functions from the page's step and what running it left (`crate::run`), so the
//! hermetic tests reach every path. The cluster tier only runs the steps in order and records.
//!
//! - A command is as documented when it ends as the page says: exit status 0, or not 0 after an
//!   outcome comment that says it fails ("this should fail …"). A command the provider cannot
//!   perform, or the guard refuses, is not applicable with why; one that was killed after its
//!   timeout drifted (the page promises it completes); one that could not be started is not
//!   reached.
//! - An output is compared with what its command printed by its kind's comparator
//!   (`crate::compare`). Where it differs, the era is the second reference *for the kinds of
//!   statement the era table has a fact for*: today istioctl's install lines (`Fact::InstallLines`,
//!   a fact of every release, so it serves any page that shows them). A difference the era
//!   explains is doc stale with the fact and its source; any other is a drift, and says whether
//!   the era had a fact for that kind of statement.
//!
//! Ids are stable per expectation: `doc.l<first line, 5 digits>.<section>.<command|output>`, the
//! section being the heading's `{#anchor}` where it has one, else its words; the padded line
//! first so that records sorted by id (the report's table) read in the page's order.

pub mod page_run;
pub mod shortcodes;

use crate::claims::{Anchor, Answer, EraFact};
use crate::compare::{self, Comparison, OutputKind, Seen, table::Extent};
use crate::eras::{EraFacts, Fact, provenance};
use crate::tutorial::markdown::Lines;
use crate::tutorial::script::{self, Command, Expect, Output};

/// What running one command of the page left (built from `crate::run::Outcome`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Ran {
        stdout: String,
        stderr: String,
        /// `None` when it ended by a signal.
        exit_code: Option<i32>,
    },
    /// The provider cannot perform it (why).
    NotApplicable(String),
    /// The command guard refused it before it ran (why).
    Refused(String),
    /// Killed after its timeout (what it had said on stderr).
    TimedOut {
        after_secs: u64,
        stderr_tail: String,
    },
    /// bash could not be started (why).
    NotStarted(String),
}

impl From<&crate::run::Outcome> for Observed {
    fn from(o: &crate::run::Outcome) -> Self {
        use crate::run::{Exit, Outcome};
        match o {
            Outcome::Ran(e) => Observed::Ran {
                stdout: e.stdout.clone(),
                stderr: e.stderr.clone(),
                exit_code: match e.exit {
                    Exit::Code(c) => Some(c),
                    Exit::Signal(_) => None,
                },
            },
            Outcome::NotApplicable(n) => Observed::NotApplicable(format!(
                "{} (rule {}, at `{}`)",
                n.reason, n.rule, n.command
            )),
            Outcome::Refused(r) => Observed::Refused(r.to_string()),
            Outcome::TimedOut {
                after, stderr_tail, ..
            } => Observed::TimedOut {
                after_secs: after.as_secs(),
                stderr_tail: stderr_tail.clone(),
            },
            Outcome::NotStarted { reason, .. } => Observed::NotStarted(reason.clone()),
        }
    }
}

/// The section part of an id: the heading's `{#anchor}`, else its words, lower case, joined by
/// `_` (at most 40 characters); `top` before the first heading.
pub fn section_key(heading: &str) -> String {
    let text = heading.trim_start_matches('#').trim();
    if let Some(start) = text.rfind("{#")
        && let Some(anchor) = text[start + 2..].strip_suffix('}')
        && !anchor.is_empty()
    {
        return slug(anchor);
    }
    let key = slug(text);
    if key.is_empty() { "top".into() } else { key }
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('_').to_string()
}

/// `doc.l<line>.<section>.command`.
pub fn command_id(c: &Command) -> String {
    format!(
        "doc.l{:05}.{}.command",
        c.lines.start,
        section_key(c.block.heading.as_str())
    )
}

/// `doc.l<line>.<section>.output`.
pub fn output_id(o: &Output) -> String {
    format!(
        "doc.l{:05}.{}.output",
        o.lines.start,
        section_key(o.block.heading.as_str())
    )
}

fn anchor(id: &str, lines: Lines, text: &str) -> Anchor {
    Anchor {
        expectation: id.to_string(),
        lines,
        text: text.to_string(),
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// The answer for the command itself: did it end as the page says?
pub fn command_answer(c: &Command, observed: &Observed) -> Answer {
    let expects_failure = c.outcome.as_ref().map(|o| o.expects) == Some(Expect::Failure);
    let expected = match &c.outcome {
        Some(o) if o.expects == Expect::Failure => format!("fails ({})", o.text.trim()),
        _ => "exits with status 0".to_string(),
    };
    match observed {
        Observed::Ran {
            stderr, exit_code, ..
        } => {
            let succeeded = *exit_code == Some(0);
            if succeeded != expects_failure {
                Answer::AsDocumented
            } else {
                Answer::Drifted {
                    expected,
                    actual: match exit_code {
                        Some(code) => format!("exit status {code}; stderr:\n{}", tail(stderr)),
                        None => format!("ended by a signal; stderr:\n{}", tail(stderr)),
                    },
                    era_expected: None,
                    documented: Some(anchor(&command_id(c), c.lines, &c.text)),
                }
            }
        }
        Observed::NotApplicable(why) => Answer::NotApplicable { why: why.clone() },
        Observed::Refused(why) => Answer::NotApplicable {
            why: format!("refused before it ran (command guard): {why}"),
        },
        Observed::TimedOut {
            after_secs,
            stderr_tail,
        } => Answer::Drifted {
            expected,
            actual: format!(
                "killed after {after_secs} s; stderr:\n{}",
                tail(stderr_tail)
            ),
            era_expected: None,
            documented: Some(anchor(&command_id(c), c.lines, &c.text)),
        },
        Observed::NotStarted(why) => Answer::NotReached {
            why: format!("bash could not be started: {why}"),
        },
    }
}

/// The comparator for an output the page shows: its reader's kind, refined by the text for the
/// kinds the reader calls plain text (a failure marker, an elided listing).
pub fn comparator(o: &Output) -> OutputKind {
    use script::OutputKind as Shown;
    match o.kind {
        Shown::KubectlTable => {
            if o.lead.to_ascii_lowercase().contains("along the line") {
                OutputKind::Table(Extent::AlongTheLines)
            } else {
                OutputKind::Table(Extent::Exact)
            }
        }
        Shown::IstioctlChecks => OutputKind::InstallLines,
        Shown::Yaml | Shown::Json => OutputKind::Object,
        Shown::Http => OutputKind::HttpStatus,
        Shown::Html => OutputKind::Title,
        Shown::LogLines => OutputKind::Logs,
        Shown::ResourceActions => OutputKind::Like,
        Shown::Text => {
            if compare::marker::terminated_code(&o.text).is_some() {
                OutputKind::ExitCode
            } else if o.text.contains("RBAC: access denied") {
                OutputKind::RbacDenied
            } else {
                OutputKind::Like
            }
        }
    }
}

/// What the era expects for a kind of statement, where the era table has a fact for it.
fn era_statement(kind: OutputKind, facts: &EraFacts) -> Option<(String, Fact)> {
    match kind {
        OutputKind::InstallLines => Some((facts.install_lines.join("\n"), Fact::InstallLines)),
        _ => None,
    }
}

/// The `✔` lines istioctl printed, colours removed: what could replace the documented block.
fn install_lines_as_printed(printed: &str) -> String {
    printed
        .lines()
        .map(|l| compare::names::strip_ansi(l).trim().to_string())
        .filter(|l| l.starts_with('✔'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn kind_name(kind: OutputKind) -> &'static str {
    match kind {
        OutputKind::Table(_) => "kubectl table",
        OutputKind::InstallLines => "istioctl install lines",
        OutputKind::Object => "YAML/JSON object",
        OutputKind::HttpStatus => "HTTP status line",
        OutputKind::Title => "HTML title",
        OutputKind::ExitCode => "exit code marker",
        OutputKind::RbacDenied => "RBAC denial",
        OutputKind::Logs => "log lines",
        OutputKind::Like => "text (verify.sh _verify_like)",
    }
}

fn describe(c: &Comparison) -> String {
    match c {
        Comparison::Matches => "matches".into(),
        Comparison::Differs(d) => d
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        Comparison::Unreadable { side, reason } => format!("{side:?} side unreadable: {reason}"),
    }
}

/// The answer for an output the page shows, from what its command left (`None`: the page shows
/// it before any command).
pub fn output_answer(o: &Output, observed: Option<&Observed>, facts: &EraFacts) -> Answer {
    let id = output_id(o);
    let Some(observed) = observed else {
        return Answer::NotReached {
            why: "the page shows this output before any command: nothing printed it".into(),
        };
    };
    let (stdout, stderr, exit_code) = match observed {
        Observed::Ran {
            stdout,
            stderr,
            exit_code,
        } => (stdout, stderr, *exit_code),
        Observed::NotApplicable(why) => {
            return Answer::NotApplicable {
                why: format!("its command was not run: {why}"),
            };
        }
        Observed::Refused(why) => {
            return Answer::NotApplicable {
                why: format!("its command was refused before it ran (command guard): {why}"),
            };
        }
        Observed::TimedOut { after_secs, .. } => {
            return Answer::NotReached {
                why: format!("its command was killed after {after_secs} s"),
            };
        }
        Observed::NotStarted(why) => {
            return Answer::NotReached {
                why: format!("its command could not be started: {why}"),
            };
        }
    };
    let seen = Seen {
        stdout,
        stderr,
        exit_code,
    };
    let kind = comparator(o);
    let doc = compare::compare(kind, &o.text, seen);
    if doc.matches() {
        return Answer::AsDocumented;
    }
    let documented = anchor(&id, o.lines, &o.text);
    let printed = || {
        if stderr.trim().is_empty() {
            stdout.clone()
        } else {
            format!("{stdout}{stderr}")
        }
    };
    match era_statement(kind, facts) {
        Some((era_text, fact)) => {
            if compare::compare(kind, &era_text, seen).matches() {
                let EraFact {
                    fact: what,
                    since,
                    source,
                } = provenance(facts, fact);
                Answer::DocStale {
                    documented,
                    // The statement's own lines, not the banner and progress around them.
                    observed: install_lines_as_printed(&printed()),
                    era: EraFact {
                        fact: what,
                        since,
                        source,
                    },
                    replacement: Some(install_lines_as_printed(&printed())),
                }
            } else {
                Answer::Drifted {
                    expected: o.text.clone(),
                    actual: format!(
                        "{}\ncompared as {}: {}",
                        printed(),
                        kind_name(kind),
                        describe(&doc)
                    ),
                    era_expected: Some(era_text),
                    documented: Some(documented),
                }
            }
        }
        None => Answer::Drifted {
            expected: o.text.clone(),
            actual: format!(
                "{}\ncompared as {}: {}\n(the era table has no fact for a {} statement, so the era cannot say the page is stale here)",
                printed(),
                kind_name(kind),
                describe(&doc),
                kind_name(kind)
            ),
            era_expected: None,
            documented: Some(documented),
        },
    }
}

/// Why a command cannot run as written because the site fills part of it in (istio.io's
/// `{{< github_file >}}`, `{{< istio_full_version >}}`): bash would read `{{<` as a redirection.
pub fn unfilled_shortcodes(c: &Command) -> Option<String> {
    if c.shortcodes.is_empty() {
        return None;
    }
    Some(shortcodes_why(&c.shortcodes))
}

/// Why a command with these unfilled shortcodes is not run.
fn shortcodes_why(names: &[String]) -> String {
    format!(
        "the command holds site shortcodes ({}) that istio.io fills in when it builds the page; the suite does not know their values here, and bash would read `{{{{<` as a redirection",
        names.join(", ")
    )
}

/// What a command leaves for the later commands of the page: a reader types the page into one
/// shell, while the runner starts a shell per command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carry {
    Nothing,
    /// It only sets state from its own words (`export NAME=value`, `NAME=value`, `cd DIR`, one
    /// a line): run again before each later command.
    Replay,
    /// It only assigns, and a value comes from a command substitution (`export NAME=$(kubectl
    /// get … -o jsonpath=…)`), which may have effects and must run once: these names
    /// (`(name, exported)`) are read after it ran and their values set before each later command.
    Values(Vec<(String, bool)>),
}

/// How a command carries state ([`Carry`]), read with the shell-words parser; a command that
/// does anything else (or holds a heredoc) carries nothing. A `cd` beside a command
/// substitution carries nothing either: the directory is not read back.
pub fn carry(c: &Command) -> Carry {
    let Ok(script) = crate::run::words::parse(&c.text) else {
        return Carry::Nothing;
    };
    let assignment = |w: &String| {
        w.split_once('=')
            .is_some_and(|(name, _)| crate::run::words::is_variable_name(name))
    };
    let top: Vec<&crate::run::words::SimpleCommand> =
        script.commands.iter().filter(|sc| sc.depth == 0).collect();
    let substitutes = script.commands.iter().any(|sc| sc.depth > 0);
    let mut names: Vec<(String, bool)> = Vec::new();
    let mut cd = false;
    for sc in &top {
        match sc.words.split_first() {
            // No words: assignments alone (words::parse keeps no empty command).
            None => {
                names.extend(sc.assignments.iter().map(|(n, _)| (n.clone(), false)));
            }
            Some((program, args)) if program == "export" && !args.is_empty() => {
                if !args.iter().all(assignment) {
                    return Carry::Nothing;
                }
                names.extend(
                    args.iter()
                        .filter_map(|a| a.split_once('=').map(|(n, _)| (n.to_string(), true))),
                );
            }
            Some((program, args)) if program == "cd" && args.len() <= 1 => cd = true,
            _ => return Carry::Nothing,
        }
    }
    if c.heredoc.is_some() || top.is_empty() {
        Carry::Nothing
    } else if !substitutes {
        Carry::Replay
    } else if cd {
        Carry::Nothing
    } else {
        Carry::Values(names)
    }
}

/// Whether a command carries state to later commands ([`carry`]).
pub fn carries_shell_state(c: &Command) -> bool {
    carry(c) != Carry::Nothing
}

/// Whether the command installs Istio (`istioctl install …`, also behind `sudo`/`env` and in a
/// list), after which the provider takes its own post-install step (sim: istiod as a local
/// process). `istioctl uninstall`, `istioctl x waypoint apply` and `istioctl install` inside a
/// heredoc's body do not.
pub fn installs_istio(c: &Command) -> bool {
    let Ok(script) = crate::run::words::parse(&c.text) else {
        return false;
    };
    script.commands.iter().any(|sc| {
        sc.words
            .iter()
            .position(|w| w == "istioctl" || w.ends_with("/istioctl"))
            .and_then(|at| sc.words[at + 1..].iter().find(|w| !w.starts_with('-')))
            .is_some_and(|sub| sub == "install")
    })
}

/// The text to run for a command: the state-carrying commands before it, then its own text.
pub fn with_shell_state(state: &[String], text: &str) -> String {
    let mut out = String::new();
    for s in state {
        out.push_str(s);
        out.push('\n');
    }
    out.push_str(text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eras::{Era, IstioVersion, facts, facts_for};
    use crate::tutorial::Tutorial;

    fn page(rel: &str) -> Tutorial {
        Tutorial::load(&crate::fixtures::path(rel)).expect("fixture page reads")
    }

    fn command_at(t: &Tutorial, line: usize) -> Command {
        t.script
            .commands()
            .find(|c| c.lines.start == line)
            .cloned()
            .unwrap_or_else(|| panic!("no command at line {line}"))
    }

    fn output_at(t: &Tutorial, line: usize) -> Output {
        t.script
            .outputs()
            .find(|o| o.lines.start == line)
            .cloned()
            .unwrap_or_else(|| panic!("no output at line {line}"))
    }

    fn ran(stdout: &str, stderr: &str, code: i32) -> Observed {
        Observed::Ran {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_code: Some(code),
        }
    }

    fn captured_install() -> String {
        std::fs::read_to_string(crate::fixtures::path(
            "objects/captured/1.31-dev/istioctl-install.stderr.txt",
        ))
        .expect("captured install output")
    }

    fn dev_1_31() -> EraFacts {
        facts_for(&IstioVersion::parse("1.31-dev").expect("a version"))
    }

    #[test]
    fn a_section_key_is_one_underscore_between_words_and_none_at_the_ends() {
        assert_eq!(section_key("## Download  &  Install"), "download_install");
        assert_eq!(section_key("  (Optional) Kiali "), "optional_kiali");
    }

    #[test]
    fn ids_come_from_the_section_anchor_and_the_line() {
        let t = page("pages/ambient/getting-started.md");
        assert_eq!(
            command_id(&command_at(&t, 64)),
            "doc.l00064.download_and_install.command"
        );
        assert_eq!(
            output_id(&output_at(&t, 71)),
            "doc.l00071.download_and_install.output"
        );
        assert_eq!(
            section_key("## L4 processing in ambient mode"),
            "l4_processing_in_ambient_mode"
        );
        assert_eq!(section_key(""), "top");
        assert_eq!(
            section_key("## Download and install {#download}"),
            "download"
        );
        assert_eq!(section_key("## Empty anchor {#}"), "empty_anchor");
        // Every id of the page is distinct.
        let mut ids: Vec<String> = t
            .script
            .commands()
            .map(command_id)
            .chain(t.script.outputs().map(output_id))
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn the_seeds_install_lines_on_1_31_dev_are_doc_stale_by_the_era_fact() {
        let t = Tutorial::reference().expect("the seed reads");
        let shown = t
            .script
            .outputs()
            .find(|o| o.kind == script::OutputKind::IstioctlChecks)
            .cloned()
            .expect("the seed shows istioctl's install lines");
        let answer = output_answer(&shown, Some(&ran("", &captured_install(), 0)), &dev_1_31());
        let Answer::DocStale {
            era, replacement, ..
        } = &answer
        else {
            panic!("expected doc stale, got {}", answer.describe())
        };
        assert!(era.fact.contains("istioctl install prints"), "{era:?}");
        let Answer::DocStale { observed, .. } = &answer else {
            unreachable!()
        };
        assert!(observed.lines().all(|l| l.starts_with('✔')), "{observed}");
        assert!(
            replacement
                .as_deref()
                .unwrap_or("")
                .contains("Ztunnel installed")
        );
        // Near miss: one component line fewer than 1.31 prints matches neither reference.
        let missing: String = captured_install()
            .lines()
            .filter(|l| !l.contains("CNI installed"))
            .map(|l| format!("{l}\n"))
            .collect();
        let answer = output_answer(&shown, Some(&ran("", &missing, 0)), &dev_1_31());
        assert!(
            matches!(
                &answer,
                Answer::Drifted {
                    era_expected: Some(_),
                    ..
                }
            ),
            "{}",
            answer.describe()
        );
    }

    #[test]
    fn the_pages_install_lines_match_what_1_31_dev_printed() {
        let t = page("pages/ambient/getting-started.md");
        let shown = output_at(&t, 71);
        assert_eq!(comparator(&shown), OutputKind::InstallLines);
        let answer = output_answer(&shown, Some(&ran("", &captured_install(), 0)), &dev_1_31());
        assert_eq!(answer, Answer::AsDocumented, "{}", answer.describe());
        // Near miss: the same output without its last line misses `Installation complete`; the
        // era's lines also end with it, so it drifts.
        let cut: String = captured_install()
            .lines()
            .filter(|l| !l.contains("Installation complete"))
            .map(|l| format!("{l}\n"))
            .collect();
        let answer = output_answer(&shown, Some(&ran("", &cut, 0)), &dev_1_31());
        assert!(
            matches!(answer, Answer::Drifted { .. }),
            "{}",
            answer.describe()
        );
    }

    #[test]
    fn a_table_without_an_era_fact_drifts_and_says_so() {
        let t = page("pages/ambient/getting-started.md");
        let shown = output_at(&t, 82);
        assert_eq!(comparator(&shown), OutputKind::Table(Extent::Exact));
        // Other generated names and ages: as documented.
        let seen = shown
            .text
            .replace("istiod-55b74b77bd-xggqf", "istiod-6f9c757686-kw5z4")
            .replace("2m18s", "41s");
        let answer = output_answer(&shown, Some(&ran(&seen, "", 0)), &facts(Era::Ga1_24));
        assert_eq!(answer, Answer::AsDocumented, "{}", answer.describe());
        // Near miss: three ztunnels where the page shows one (a three-node cluster).
        let seen = shown.text.replace(
            "daemonset.apps/ztunnel          1         1         1       1            1",
            "daemonset.apps/ztunnel          3         3         3       3            3",
        );
        let answer = output_answer(&shown, Some(&ran(&seen, "", 0)), &facts(Era::Ga1_24));
        let Answer::Drifted {
            actual,
            era_expected,
            ..
        } = &answer
        else {
            panic!("expected a drift, got {}", answer.describe())
        };
        assert!(era_expected.is_none());
        assert!(actual.contains("no fact for a kubectl table"), "{actual}");
        assert!(actual.contains("DESIRED"), "{actual}");
        // The comparator's own difference is quoted, each of its lines.
        let Comparison::Differs(differences) =
            compare::table::compare(&shown.text, &seen, Extent::Exact)
        else {
            panic!("the tables differ")
        };
        for d in &differences {
            assert!(actual.contains(&d.to_string()), "{d} not in {actual}");
        }
    }

    #[test]
    fn markers_and_elided_text_get_their_comparators() {
        let t = page("pages/ambient/getting-started.md");
        let exit56 = output_at(&t, 246);
        assert_eq!(comparator(&exit56), OutputKind::ExitCode);
        let rbac = output_at(&t, 304);
        assert_eq!(comparator(&rbac), OutputKind::RbacDenied);
        let seen = Observed::Ran {
            stdout: String::new(),
            stderr: "command terminated with exit code 56\n".into(),
            exit_code: Some(56),
        };
        assert_eq!(
            output_answer(&exit56, Some(&seen), &dev_1_31()),
            Answer::AsDocumented
        );
        // Near miss: curl's connection-refused code instead of 56.
        let seen = Observed::Ran {
            stdout: String::new(),
            stderr: "command terminated with exit code 7\n".into(),
            exit_code: Some(7),
        };
        assert!(matches!(
            output_answer(&exit56, Some(&seen), &dev_1_31()),
            Answer::Drifted { .. }
        ));
        assert!(matches!(
            output_answer(
                &rbac,
                Some(&ran("<title>Simple Bookstore App</title>\n", "", 0)),
                &dev_1_31()
            ),
            Answer::Drifted { .. }
        ));
        assert_eq!(
            output_answer(&rbac, Some(&ran("RBAC: access denied", "", 0)), &dev_1_31()),
            Answer::AsDocumented
        );
    }

    #[test]
    fn a_command_ends_as_the_page_says() {
        let t = page("pages/ambient/getting-started.md");
        let install = command_at(&t, 64);
        assert_eq!(
            command_answer(&install, &ran("", "", 0)),
            Answer::AsDocumented
        );
        // Near miss: a failing install drifts, with the status and stderr.
        let Answer::Drifted {
            actual, documented, ..
        } = command_answer(&install, &ran("", "Error: no kube config\n", 1))
        else {
            panic!("a failing install must drift")
        };
        assert!(actual.contains("exit status 1") && actual.contains("no kube config"));
        assert_eq!(
            documented.map(|d| d.expectation).as_deref(),
            Some("doc.l00064.download_and_install.command")
        );
        // "this should fail …": failing is as documented, succeeding drifts, and the drift says
        // which end the page expected.
        let should_fail = command_at(&t, 245);
        assert_eq!(
            command_answer(&should_fail, &ran("", "", 56)),
            Answer::AsDocumented
        );
        let Answer::Drifted { expected, .. } = command_answer(&should_fail, &ran("", "", 0)) else {
            panic!("succeeding where the page says it fails must drift")
        };
        assert!(expected.starts_with("fails ("), "{expected}");
        let Answer::Drifted { expected, .. } = command_answer(&install, &ran("", "", 1)) else {
            panic!("a failing install must drift")
        };
        assert_eq!(expected, "exits with status 0");
        // A comment that says the command succeeds expects status 0 like no comment at all.
        let mut should_work = should_fail.clone();
        if let Some(o) = should_work.outcome.as_mut() {
            o.expects = Expect::Success;
        }
        let Answer::Drifted { expected, .. } = command_answer(&should_work, &ran("", "", 1)) else {
            panic!("failing where the page says it works must drift")
        };
        assert_eq!(expected, "exits with status 0");
        // Killed after its timeout: drifted; not applicable and refused say why; not started is
        // not reached.
        let killed = Observed::TimedOut {
            after_secs: 300,
            stderr_tail: "waiting".into(),
        };
        assert!(matches!(
            command_answer(&install, &killed),
            Answer::Drifted { .. }
        ));
        let na = command_answer(
            &install,
            &Observed::NotApplicable("sim has no docker".into()),
        );
        assert_eq!(
            na,
            Answer::NotApplicable {
                why: "sim has no docker".into()
            }
        );
        let refused = command_answer(&install, &Observed::Refused("--kubeconfig".into()));
        assert!(matches!(&refused, Answer::NotApplicable { why } if why.contains("command guard")));
        assert!(matches!(
            command_answer(&install, &Observed::NotStarted("no bash".into())),
            Answer::NotReached { .. }
        ));
    }

    #[test]
    fn an_output_whose_command_did_not_run_is_not_decided() {
        let t = page("pages/ambient/getting-started.md");
        let title = output_at(&t, 148);
        assert_eq!(comparator(&title), OutputKind::Title);
        let na = output_answer(
            &title,
            Some(&Observed::NotApplicable("no data plane".into())),
            &dev_1_31(),
        );
        assert!(matches!(&na, Answer::NotApplicable { why } if why.contains("no data plane")));
        assert!(matches!(
            output_answer(&title, None, &dev_1_31()),
            Answer::NotReached { .. }
        ));
        let killed = Observed::TimedOut {
            after_secs: 5,
            stderr_tail: String::new(),
        };
        assert!(matches!(
            output_answer(&title, Some(&killed), &dev_1_31()),
            Answer::NotReached { .. }
        ));
    }

    #[test]
    fn exports_are_carried_to_later_commands() {
        let t = page("pages/ambient/getting-started.md");
        let export = command_at(&t, 140);
        assert!(carries_shell_state(&export));
        // Near misses: a command that exports and does more, and a heredoc apply.
        assert!(!carries_shell_state(&command_at(&t, 139)));
        assert!(!carries_shell_state(&command_at(&t, 209)));
        let mut other = export.clone();
        other.text = "export GATEWAY_HOST=x; kubectl delete ns default".into();
        assert!(!carries_shell_state(&other));
        other.text = "1X=2".into();
        assert!(!carries_shell_state(&other));
        // A plain assignment and a `cd` carry state; a name with a dash is no assignment, and
        // another program given assignments (`env`) sets nothing for the next command.
        for (text, carries) in [
            ("GATEWAY_HOST=x", true),
            ("cd istio-1.24.0", true),
            ("export A-B=1", false),
            ("env GATEWAY_HOST=x", false),
            ("kubectl GATEWAY_HOST=x", false),
            ("export", false),
            ("cd a b", false),
            // An empty command sets nothing.
            ("", false),
        ] {
            other.text = text.into();
            assert_eq!(carries_shell_state(&other), carries, "{text}");
        }
        // An assignment that feeds a heredoc to nothing is not replayed.
        let read = crate::tutorial::script::read("```bash\nGATEWAY_HOST=x <<EOF\nbody\nEOF\n```\n");
        let heredoc = read.commands().next().unwrap();
        assert!(heredoc.heredoc.is_some());
        assert_eq!(carry(heredoc), Carry::Nothing);
        assert_eq!(
            with_shell_state(std::slice::from_ref(&export.text), "echo $GATEWAY_HOST"),
            "export GATEWAY_HOST=bookinfo-gateway-istio.istio-system\necho $GATEWAY_HOST"
        );
    }

    #[test]
    fn a_command_substitution_carries_values_not_its_text() {
        let t = page("pages/ambient/getting-started.md");
        let mut c = command_at(&t, 140);
        assert_eq!(carry(&c), Carry::Replay);
        for (text, want) in [
            (
                "export HOST=$(kubectl get svc gw -o jsonpath='{.spec.clusterIP}')",
                Carry::Values(vec![("HOST".into(), true)]),
            ),
            (
                "PORT=`kubectl get svc gw -o jsonpath='{.spec.ports[0].port}'`",
                Carry::Values(vec![("PORT".into(), false)]),
            ),
            (
                "export A=1 B=\"$(date)\"\nC=$(id -u)",
                Carry::Values(vec![
                    ("A".into(), true),
                    ("B".into(), true),
                    ("C".into(), false),
                ]),
            ),
            // Arithmetic runs no command: replayed.
            ("N=$((1 + 2))", Carry::Replay),
            // A directory from a substitution is not read back.
            ("cd $(mktemp -d)", Carry::Nothing),
            // A substitution in a command that does more carries nothing.
            ("export H=$(hostname); kubectl get pods", Carry::Nothing),
            ("echo $(hostname)", Carry::Nothing),
        ] {
            c.text = text.into();
            assert_eq!(carry(&c), want, "{text}");
        }
    }

    #[test]
    fn only_istioctl_install_installs_istio() {
        let t = page("pages/ambient/getting-started.md");
        assert!(installs_istio(&command_at(&t, 64)));
        // Near misses: waypoint apply, uninstall, and a heredoc that only mentions it.
        assert!(!installs_istio(&command_at(&t, 254)));
        assert!(!installs_istio(&command_at(&t, 347)));
        let mut c = command_at(&t, 64);
        c.text = "kubectl apply -f - <<EOF\nrun: istioctl install\nEOF".into();
        assert!(!installs_istio(&c));
        c.text = "./istio-1.24.0/bin/istioctl install -y --set profile=ambient".into();
        assert!(installs_istio(&c));
    }

    #[test]
    fn shortcodes_the_site_fills_in_are_named() {
        let t = page("pages/ambient/deploy-sample-app.md");
        let apply = command_at(&t, 20);
        let why = unfilled_shortcodes(&apply).expect("github_file is a shortcode");
        assert!(why.contains("github_file"), "{why}");
        assert_eq!(unfilled_shortcodes(&command_at(&t, 27)), None);
    }
}
