//! `ambient-spec`: the suite's command-line companion.
//!
//! - `ambient-spec logs`: reads ztunnel or istio-cni log lines on stdin and writes one JSON object
//!   per line (the typed record, or `{"error": ...}`); it never stops on a bad line:
//!   `kubectl -n istio-system logs ztunnel-x | ambient-spec logs`.
//! - `ambient-spec doctor`: checks the prerequisites of the cluster tier.
//! - `ambient-spec delete-cluster`: deletes the suite's kind cluster (the one
//!   `AMBIENT_CLUSTER_NAME` names), for CI and for cleaning up by hand.
//! - `ambient-spec junit`: claim records as JUnit XML, one test case per claim and build.
//! - `ambient-spec timeline`: claims × builds of any number of runs, as a text table and an SVG.
//! - `ambient-spec drift-issues`: what the nightly's issues job should do (open, comment, reopen,
//!   close), from the report's JSON and the existing issues.
//! - `ambient-spec secret-scan`: the nightly's check that no credential is in the evidence.
//! - `ambient-spec plan FILE [--json]`: the tutorial as the suite will run it (see
//!   `support::plan`).

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use support::settings::Settings;

#[derive(Parser)]
#[command(
    name = "ambient-spec",
    about = "Companion tool of the Istio ambient tutorial suite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read ztunnel / istio-cni log lines on stdin, write one JSON object per line on stdout.
    Logs,
    /// Check docker, kind, memory, inotify limits and architecture before a cluster run.
    Doctor,
    /// Delete the suite's kind cluster (AMBIENT_CLUSTER_NAME, default `ambient`) if it exists.
    DeleteCluster,
    /// Turn claim records (claims.jsonl of one or more runs) into the drift report (Markdown on
    /// stdout).
    Report {
        /// claims.jsonl files
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Also write the JSON summary here.
        #[arg(long)]
        json: Option<std::path::PathBuf>,
    },
    /// Compare a tutorial's Markdown with what the suite performs and expects: its commands with
    /// the commands the suite performs, its documented expectations with those of the suite's
    /// reference copy (edited, added, removed), and the output blocks it cannot read.
    Docsync {
        /// The tutorial page (Markdown fences or istio.io Hugo shortcodes).
        markdown: std::path::PathBuf,
        /// Compare with this page instead of the suite (its commands and expectations).
        #[arg(long)]
        against: Option<std::path::PathBuf>,
    },
    /// Print the tutorial as the suite will run it, in order: every command, output and outcome
    /// comment with its lines, what the suite does with it (performed by which test, or run as
    /// written; judged by which comparator and claims), what is not applicable on the provider,
    /// and what the reader did not understand, with why.
    Plan {
        /// The tutorial page (Markdown fences or istio.io Hugo shortcodes).
        file: std::path::PathBuf,
        /// One JSON object a line (`kind`, `lines`: [first, last], ...).
        #[arg(long)]
        json: bool,
        /// The provider the plan is for (default: AMBIENT_PROVIDER, else kind).
        #[arg(long, value_parser = ["kind", "sim", "k3s", "existing"])]
        provider: Option<String>,
    },
    /// Write a patch for the tutorial from one build's claim records: every stale block whose
    /// new text the suite observed, replaced (apply it with `git apply`).
    Docpatch {
        /// The tutorial file to patch (as the records read it).
        #[arg(long)]
        tutorial: std::path::PathBuf,
        /// Which build's records to use, when the files hold several.
        #[arg(long)]
        istio: Option<String>,
        /// Write the patch here instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// claims.jsonl files
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Write claim records as JUnit XML: one test case per claim and build (suite = section,
    /// name = claim id; drifted = failure, not reached = error, not applicable = skipped, doc
    /// stale = passed with the stale lines in system-out).
    Junit {
        /// Write the XML here (the tutorial tier writes `junit.xml` beside `claims.jsonl` itself).
        #[arg(long)]
        out: std::path::PathBuf,
        /// A stale tutorial fails its test case, as with AMBIENT_DOCS=strict.
        #[arg(long)]
        strict_docs: bool,
        /// claims.jsonl files
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Decide the nightly's drift issues: one per drifted claim, commented while it stays
    /// drifted, closed when it holds again on the build line it was opened for. Prints the actions as JSON for the
    /// workflow to carry out with `gh`.
    DriftIssues {
        /// The report's JSON (`ambient-spec report --json`).
        #[arg(long)]
        report: std::path::PathBuf,
        /// The existing issues: `gh issue list --label ambient-drift --state all --json
        /// number,title,body,state,labels`.
        #[arg(long)]
        issues: std::path::PathBuf,
        /// The workflow run, linked from every body.
        #[arg(long)]
        run_url: Option<String>,
        /// Open or reopen at most this many issues; the rest are listed in a summary action.
        #[arg(long, default_value_t = support::drift_issues::MAX_OPEN)]
        max_open: usize,
    },
    /// Check evidence before it is uploaded: fails, naming file, line and form (never the text),
    /// if a file under a directory holds what a credential looks like (PEM keys, kubeconfig
    /// credentials, tokens, a Secret's tls.key, Bearer), gzip files read decompressed.
    SecretScan {
        /// Directories (or files) to read.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
    /// Draw the drift timeline of any number of runs: claims (rows, in tutorial order) × builds
    /// (columns, by Istio version and commit date), each answer a coloured cell, the build where a
    /// claim's answer changed marked. Prints the text table; writes the SVG with --svg.
    Timeline {
        /// Write the SVG here (no script: an image for a job summary or an artifact).
        #[arg(long)]
        svg: Option<std::path::PathBuf>,
        /// claims.jsonl files
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Print the report's headline: per build, how many documented statements are stale and how
    /// many drifted.
    Headline {
        /// claims.jsonl files
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Logs => {
            match support::logs::json::convert(std::io::stdin().lock(), std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Doctor => {
            let settings = match Settings::from_env() {
                Ok(s) => s,
                Err(e) => return fail(&e),
            };
            let checks = runtime().block_on(support::doctor::run(
                &support::doctor::Inputs::for_settings(&settings),
            ));
            print!("{}", support::doctor::render(&checks));
            if support::doctor::has_failures(&checks) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Report { files, json } => {
            let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
            let loaded = match support::report::load(&paths) {
                Ok(l) => l,
                Err(e) => return fail(&e),
            };
            let report = support::report::build(&loaded);
            if let Some(path) = json
                && let Err(e) = std::fs::write(&path, format!("{:#}\n", report.json()))
            {
                return fail(&format!("{}: {e}", path.display()));
            }
            print!("{}", report.markdown());
            ExitCode::SUCCESS
        }
        Command::Docsync { markdown, against } => {
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
            };
            let text = match read(&markdown) {
                Ok(t) => t,
                Err(e) => return fail(&e),
            };
            // A page the reader cannot read is said so, not shown as a page that removed
            // every command.
            let documented = match support::docsync::extract_checked(&text) {
                Ok(d) => d,
                Err(e) => return fail(&format!("{}: {e}", markdown.display())),
            };
            let with = against.as_ref().map_or_else(
                || "the suite's reference copy".to_string(),
                |p| p.display().to_string(),
            );
            let with_page = against.is_some();
            let (commands, reference) = match against {
                Some(other) => {
                    let other_text = match read(&other) {
                        Ok(t) => t,
                        Err(e) => return fail(&e),
                    };
                    let theirs = match support::docsync::extract_checked(&other_text) {
                        Ok(d) => d,
                        Err(e) => return fail(&format!("{}: {e}", other.display())),
                    };
                    // Two pages: their commands, and the outputs each shows for them.
                    (
                        support::docsync::compare_pages(&documented, &theirs),
                        support::docsync::compare_outputs(
                            &support::tutorial::script::read(&text),
                            &support::tutorial::script::read(&other_text),
                        ),
                    )
                }
                // The suite: its registry of commands, and its reference copy's expectations.
                None => match support::tutorial::Tutorial::reference() {
                    Ok(r) => (
                        support::docsync::compare(&documented, support::docsync::PERFORMED),
                        support::docsync::compare_expectations(
                            &support::tutorial::expectations::extract(&text),
                            &r.expectations,
                        ),
                    ),
                    Err(e) => return fail(&support::errors::report(&e)),
                },
            };
            let expectations = reference;
            let commands_text = if with_page {
                commands.render_pages()
            } else {
                commands.render()
            };
            let in_sync = commands.in_sync() && expectations.in_sync();
            let mut text = format!("{commands_text}{}", expectations.render());
            if in_sync {
                text.push_str(&format!("in sync with {with}\n"));
            }
            match emit(&text) {
                code if code != ExitCode::SUCCESS => code,
                _ if in_sync => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            }
        }
        Command::Plan {
            file,
            json,
            provider,
        } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return fail(&format!("{}: {e}", file.display())),
            };
            let provider = provider
                .or_else(|| std::env::var("AMBIENT_PROVIDER").ok())
                .unwrap_or_else(|| "kind".into());
            let provider = match provider.trim() {
                "kind" => support::settings::Provider::Kind,
                "sim" => support::settings::Provider::Sim,
                "k3s" => support::settings::Provider::K3s,
                "existing" => support::settings::Provider::Existing,
                other => {
                    return fail(&format!(
                        "AMBIENT_PROVIDER={other}: not a provider (kind, sim, k3s, existing)"
                    ));
                }
            };
            match support::plan::plan(&text, provider) {
                Ok(plan) if json => emit(&plan.json_lines()),
                Ok(plan) => emit(&plan.render()),
                Err(e) => fail(&format!("{}: {e}", file.display())),
            }
        }
        Command::Docpatch {
            tutorial,
            istio,
            out,
            files,
        } => {
            let text = match std::fs::read_to_string(&tutorial) {
                Ok(t) => t,
                Err(e) => return fail(&format!("{}: {e}", tutorial.display())),
            };
            let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
            let loaded = match support::report::load(&paths) {
                Ok(l) => l,
                Err(e) => return fail(&e),
            };
            let records = match support::docpatch::select(&loaded.records, istio.as_deref()) {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            let build = records
                .first()
                .map(|r| r.istio_version.clone())
                .unwrap_or_default();
            let patch =
                match support::docpatch::build(&text, &tutorial.display().to_string(), &records) {
                    Ok(p) => p,
                    Err(e) => return fail(&e),
                };
            let rendered = patch.render(&build);
            match out {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, &rendered) {
                        return fail(&format!("{}: {e}", path.display()));
                    }
                    eprintln!(
                        "ambient-spec: {} block(s) replaced, {} note(s); apply with: git apply {}",
                        patch.replaced,
                        patch.notes.len(),
                        path.display()
                    );
                }
                // The patch's added lines are a record's text: kept byte for byte, printed
                // where GitHub reads no workflow command in them.
                None => print!("{}", support::workflow_commands::guard(&rendered)),
            }
            ExitCode::SUCCESS
        }
        Command::Junit {
            out,
            strict_docs,
            files,
        } => {
            let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
            let loaded = match support::report::load(&paths) {
                Ok(l) => l,
                Err(e) => return fail(&e),
            };
            let written = support::junit::render(&loaded.records, strict_docs)
                .and_then(|xml| support::junit::write(&out, &xml));
            match written {
                Ok(()) => {
                    for note in &loaded.notes {
                        eprintln!("ambient-spec: {note}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::DriftIssues {
            report,
            issues,
            run_url,
            max_open,
        } => {
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
            };
            let planned = read(&report)
                .and_then(|text| {
                    support::drift_issues::parse_report(&text)
                        .map_err(|e| format!("{}: not the report's JSON: {e}", report.display()))
                })
                .and_then(|r| {
                    let text = read(&issues)?;
                    let existing = support::drift_issues::parse_issues(&text).map_err(|e| {
                        format!(
                            "{}: not `gh issue list --json number,title,body,state,labels` output: {e}",
                            issues.display()
                        )
                    })?;
                    support::drift_issues::plan(&r, &existing, run_url.as_deref(), max_open)
                        .map_err(|e| e.to_string())
                });
            match planned {
                Ok(actions) => {
                    println!("{}", support::drift_issues::to_json(&actions));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::SecretScan { paths } => {
            let mut findings = Vec::new();
            for path in &paths {
                match support::secret_scan::scan_dir(path) {
                    Ok(f) => findings.extend(f),
                    Err(e) => return fail(&e),
                }
            }
            for f in &findings {
                println!("{f}");
            }
            if findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                fail(&format!(
                    "{} credential-looking item(s) (listed above): not uploading",
                    findings.len()
                ))
            }
        }
        Command::Timeline { svg, files } => {
            let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
            let loaded = match support::report::load(&paths) {
                Ok(l) => l,
                Err(e) => return fail(&e),
            };
            let timeline = support::timeline::Timeline::from_records(&loaded.records);
            if let Some(path) = svg
                && let Err(e) = std::fs::write(&path, timeline.svg())
            {
                return fail(&format!("{}: {e}", path.display()));
            }
            for note in &loaded.notes {
                eprintln!("ambient-spec: {note}");
            }
            print!("{}", timeline.text());
            ExitCode::SUCCESS
        }
        Command::Headline { files } => {
            let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
            match support::report::load(&paths) {
                Ok(l) => {
                    println!("{}", support::report::build(&l).headline());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::DeleteCluster => {
            let settings = match Settings::from_env() {
                Ok(s) => s,
                Err(e) => return fail(&e),
            };
            let tools = support::process::Tools::default();
            match runtime().block_on(support::cluster::delete_kind(&settings, &tools)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Writes `text` to standard output; a reader that stopped early (`| head`) is no failure.
fn emit(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&format!("writing to standard output: {e}")),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    // Errors quote input (a record's value in a parse error): no line of them is a workflow
    // command.
    let said = e.to_string();
    let _ = writeln!(
        std::io::stderr(),
        "ambient-spec: {}",
        support::workflow_commands::neutralize(&said)
    );
    ExitCode::FAILURE
}
