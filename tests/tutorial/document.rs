//! The page named by `AMBIENT_TUTORIAL`, run as written: its commands in order through bash
//! (`support::run`: the guard, the provider's table, the run's private directory with the pinned
//! kubectl and istioctl), each command and each output it shows answered by `support::document`
//! and recorded in `claims.jsonl` beside the seed's claims. This test only runs, records and
//! fails; every answer is decided in `support`.
//!
//! The cluster is the provider's own step (the `world` fixture: cluster started, Istio release
//! pinned); Istio is installed by the page's own `istioctl install`, when it has one, and the
//! suite then performs only what the provider needs after an install (sim: istiod as a local
//! process). The page runs once per process, as the last part of the `world` fixture, so it runs
//! on the cluster before any of the suite's own steps (the seed's sections, whose fixtures
//! install Istio and deploy the apps again after it, whatever the page left). On the reference tutorial the sections perform the page's steps (issue 23's claim
//! registry is the next step): here every one of its commands is only decided (run as written,
//! or not applicable with why), never refused.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::claims::{Answer, Section};
use support::document::{self, Observed};
use support::run::{Decision, Outcome, PinnedTools, RunDir, RunSetup, Runner};
use support::settings::Provider;
use support::tutorial::script::Step;

use crate::world::{World, world};

/// The kubectl a documented command reaches: on sim the one `fixtures/sim/build.sh` builds from
/// the apiserver's own module; elsewhere the release matching the server, checksum-verified.
fn pinned_kubectl(w: &World) -> std::path::PathBuf {
    if w.settings.provider == Provider::Sim {
        let built = support::cluster::sim::SimBinaries::default_dir().join("kubectl");
        assert!(
            built.is_file(),
            "{} is missing: run `bash fixtures/sim/build.sh` (it builds kubectl with the apiserver)",
            built.display()
        );
        return built;
    }
    let version = w.expect(w.run(w.cluster.client.client().apiserver_version()));
    let arch = w.expect(support::run::kubectl::arch(std::env::consts::ARCH));
    w.expect(w.run(support::run::kubectl::acquire(
        support::run::kubectl::RELEASES,
        &w.settings.cache_dir,
        &version.git_version,
        arch,
    )))
}

fn runner(w: &World) -> Runner {
    let tools = PinnedTools {
        kubectl: pinned_kubectl(w),
        istioctl: w.release.istioctl.clone(),
    };
    let pass_through = support::run::env::pass_through(|k| std::env::var(k).ok());
    let dir = w.expect(RunDir::prepare(&RunSetup {
        state: &w.settings.state_dir.join("document-run"),
        kubeconfig: &w.cluster.kubeconfig_path,
        tools: &tools,
        release_root: Some(&w.release.root),
        release_version: &w.release.version,
        pass_through: &pass_through,
    }));
    Runner::new(dir, w.settings.provider, w.timeout(300))
}

pub fn is_reference(w: &World) -> bool {
    let reference = support::workspace::root().join(support::tutorial::REFERENCE);
    std::fs::canonicalize(&w.tutorial.path).ok() == std::fs::canonicalize(reference).ok()
}

/// What running the page left: how many answers of each kind, and the failing ones.
#[derive(Debug, Default)]
pub struct PageRun {
    /// As documented, doc stale, drifted, not applicable, not reached.
    pub counts: [usize; 5],
    pub failures: Vec<String>,
}

/// Runs the page's steps in order and records an answer for each command and each output.
pub fn run_page(w: &World) -> PageRun {
    let runner = runner(w);
    let steps = &w.tutorial.script.steps;
    let mut observed: Vec<Option<Observed>> = vec![None; steps.len()];
    let mut shell_state: Vec<String> = Vec::new();
    let mut run = PageRun::default();
    let mut record = |id: &str, answer: &Answer| {
        run.counts[match answer {
            Answer::AsDocumented | Answer::Holds => 0,
            Answer::DocStale { .. } => 1,
            Answer::Drifted { .. } => 2,
            Answer::NotApplicable { .. } => 3,
            Answer::NotReached { .. } => 4,
        }] += 1;
        if let Err(e) = w.recorder.record_as(id, Section::Document, answer) {
            support::progress::say(format!("could not record {id}: {e}"));
        }
        if answer.is_failure(w.settings.strict_docs) {
            run.failures.push(format!("{id}: {}", answer.describe()));
        }
    };
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Command(c) => {
                let seen = match document::unfilled_shortcodes(c) {
                    Some(why) => Observed::NotApplicable(why),
                    None => {
                        let text = document::with_shell_state(&shell_state, &c.text);
                        let outcome = w.run(runner.run(&text));
                        if let Outcome::NotApplicable(n) = &outcome
                            && n.rule == support::run::applicability::SIM_GATEWAY_API_CRDS
                        {
                            // The page's step, done the provider's way: its copy of the CRDs.
                            w.expect(w.run(support::gateway_api::install(
                                &w.cluster.client,
                                w.facts.waypoint.gateway_api_crds,
                                w.settings.gateway_api_crds.as_deref(),
                                w.timeout(60),
                            )));
                        }
                        if let Outcome::Ran(e) = &outcome {
                            support::progress::say(format!(
                                "document: {} ran in {:.1}s ({})",
                                c.lines,
                                e.elapsed.as_secs_f64(),
                                e.exit
                            ));
                            if e.exit.success() && document::installs_istio(c) {
                                w.expect(w.after_documented_install());
                            }
                        }
                        Observed::from(&outcome)
                    }
                };
                if matches!(
                    seen,
                    Observed::Ran {
                        exit_code: Some(0),
                        ..
                    }
                ) && document::carries_shell_state(c)
                {
                    shell_state.push(c.text.clone());
                }
                record(
                    &document::command_id(c),
                    &document::command_answer(c, &seen),
                );
                observed[i] = Some(seen);
            }
            Step::Output(o) => {
                let seen = o.command.and_then(|k| observed.get(k).cloned().flatten());
                record(
                    &document::output_id(o),
                    &document::output_answer(o, seen.as_ref(), &w.facts),
                );
            }
            Step::Comment(_) => {}
        }
    }
    let [documented, stale, drifted, not_applicable, not_reached] = run.counts;
    support::progress::say(format!(
        "document {}: {documented} as documented, {stale} doc stale, {drifted} drifted, {not_applicable} not applicable, {not_reached} not reached (claims.jsonl: {})",
        w.tutorial.path.display(),
        w.recorder.path.display()
    ));
    run
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn the_page_runs_as_written(world: Arc<World>) {
    let w = world;
    if is_reference(&w) {
        // The sections perform the reference tutorial's steps; running them again here would
        // change the cluster under them. Every command is decided, none refused.
        let runner = runner(&w);
        let refused: Vec<String> = w
            .tutorial
            .script
            .commands()
            .filter_map(|c| match runner.decide(&c.text) {
                Decision::Refused(e) => Some(format!("line {}: {e}", c.lines)),
                _ => None,
            })
            .collect();
        assert!(
            refused.is_empty(),
            "the reference tutorial has commands the guard refuses:\n{}",
            refused.join("\n")
        );
        support::progress::say(
            "document: the reference tutorial's steps are performed by its sections; set AMBIENT_TUTORIAL to run another page as written",
        );
        return;
    }
    let run = w.page_run();
    assert!(
        run.failures.is_empty(),
        "the page {} does not run as written on Istio {} ({}):\n\n{}",
        w.tutorial.path.display(),
        w.release.version,
        w.settings.provider.id(),
        run.failures.join("\n\n")
    );
}
