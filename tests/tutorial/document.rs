//! The page named by `AMBIENT_TUTORIAL`, run as written: its commands in order through bash
//! (`support::run`: the guard, the provider's table, the run's private directory with the pinned
//! kubectl and istioctl), each command and each output it shows answered by `support::document`
//! and recorded in `claims.jsonl` beside the seed's claims. This test only runs the text
//! `support::document::page_run` hands it, calls the provider's after-install step when told,
//! records and fails; every answer is decided in `support`.
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
use support::claims::Section;
use support::document::page_run;
use support::run::{Outcome, PinnedTools, RunDir, RunSetup, Runner};
use support::settings::Provider;

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
pub type PageRun = page_run::Tally;

/// Runs the page's steps in order, as `support::document::page_run` says, and records its
/// answers.
pub fn run_page(w: &World) -> PageRun {
    let runner = runner(w);
    let go_sum = support::workspace::root().join("fixtures/sim/istio/go.sum");
    let module_cache = support::run::local_copy::go_module_cache(|k| std::env::var(k).ok());
    let inputs = page_run::provider_inputs(
        w.settings.provider,
        &w.release.version,
        &w.facts,
        page_run::CopySources {
            gateway_api_crds: w.settings.gateway_api_crds.as_deref(),
            go_sum: &go_sum,
            module_cache: module_cache.as_deref(),
        },
    );
    for note in &inputs.notes {
        support::progress::say(format!("document: {note}"));
    }
    let mut page = page_run::PageRun::new(
        &w.tutorial.script.steps,
        &w.facts,
        inputs.site,
        inputs.copies,
    );
    let mut run = PageRun::default();
    let mut record = |answers: Vec<page_run::Recorded>| {
        for r in answers {
            if let Err(e) = w.recorder.record_as(&r.id, Section::Document, &r.answer) {
                support::progress::say(format!("could not record {}: {e}", r.id));
            }
            run.add(&r, w.settings.strict_docs);
        }
    };
    loop {
        let next = page.advance();
        record(next.answers);
        let Some(command) = next.run else { break };
        let outcome = w.run(runner.run_carrying(&command.text, &command.carry));
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
                command.lines,
                e.elapsed.as_secs_f64(),
                e.exit
            ));
        }
        let took = page.took(&outcome);
        if took.after_install {
            w.expect(w.after_documented_install());
        }
        record(took.answers);
    }
    support::progress::say(format!(
        "document {}: {} (claims.jsonl: {})",
        w.tutorial.path.display(),
        run.summary(),
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
        let refused = page_run::refused(w.tutorial.script.commands(), &runner(&w));
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
