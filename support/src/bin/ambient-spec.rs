//! `ambient-spec`: the suite's command-line companion.
//!
//! `ambient-spec logs` reads ztunnel or istio-cni log lines on stdin and writes one JSON object per
//! line: the typed record, or `{"error": ...}` for a line it cannot read. It never stops on a bad
//! line: `kubectl -n istio-system logs ztunnel-x | ambient-spec logs`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Logs => {
            support::logs::json::convert(std::io::stdin().lock(), std::io::stdout().lock())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ambient-spec: {e}");
            ExitCode::FAILURE
        }
    }
}
