//! `ambient-spec`: the suite's command-line companion.
//!
//! - `ambient-spec logs`: reads ztunnel or istio-cni log lines on stdin and writes one JSON object
//!   per line (the typed record, or `{"error": ...}`); it never stops on a bad line:
//!   `kubectl -n istio-system logs ztunnel-x | ambient-spec logs`.
//! - `ambient-spec doctor`: checks the prerequisites of the cluster tier.
//! - `ambient-spec delete-cluster`: deletes the suite's kind cluster (the one
//!   `AMBIENT_CLUSTER_NAME` names), for CI and for cleaning up by hand.

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
                &support::doctor::Inputs::for_this_machine(settings.istio),
            ));
            print!("{}", support::doctor::render(&checks));
            if support::doctor::has_failures(&checks) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
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

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ambient-spec: {e}");
    ExitCode::FAILURE
}
