//! `istioctl install --set profile=ambient -y`, against the guarded cluster only.

use std::time::Duration;

use crate::cluster::Cluster;
use crate::eras::EraFacts;
use crate::istio::IstioRelease;
use crate::process::{ProcessError, Tools};

/// What the install printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The `✔ ... installed` lines, in the order printed.
    pub component_lines: Vec<String>,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("istioctl install: {0}")]
    Process(#[from] ProcessError),
}

/// The argv of the tutorial's install step (Installation step 4), plus the era's and the
/// platform's flags, pointed at `cluster`.
pub fn install_args(cluster: &Cluster, facts: &EraFacts, platform_flags: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["install", "--set", "profile=ambient", "-y"]
        .map(String::from)
        .into();
    args.extend(facts.install_extra_flags.iter().map(|f| f.to_string()));
    args.extend(platform_flags.iter().map(|f| f.to_string()));
    // istioctl's global flags: never the user's current context.
    args.push("--kubeconfig".into());
    args.push(cluster.kubeconfig_path.display().to_string());
    args.push("--context".into());
    args.push(cluster.context.clone());
    args
}

/// Runs the install (again, if it ran before: istioctl re-applies the same manifests, so a second
/// install of the same version changes nothing and prints the same lines).
pub async fn install(
    release: &IstioRelease,
    cluster: &Cluster,
    facts: &EraFacts,
    platform_flags: &[&str],
    tools: &Tools,
    timeout: Duration,
) -> Result<InstallReport, InstallError> {
    let out = tools
        .command(release.istioctl.display().to_string())
        .args(install_args(cluster, facts, platform_flags))
        .timeout(timeout)
        .echo()
        .run()
        .await?;
    // istioctl writes its progress to stderr (seen with the 1.31 build on sim); keep stdout too.
    let lines = component_lines(&format!("{}\n{}", out.stdout, out.stderr));
    Ok(InstallReport {
        component_lines: lines,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// The `✔` lines of istioctl's progress output, without terminal colour codes. The spinner
/// rewrites its line with `\r`, and the closing message can follow `✔ Installation complete` on
/// the same line, so the lines are matched, not split.
pub fn component_lines(output: &str) -> Vec<String> {
    static LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"✔ (?:Installation complete|[A-Z][A-Za-z]*(?: [a-z]+)? installed(?: [^\s\x00-\x7f]+)?)")
            .expect("valid regex")
    });
    let clean = strip_ansi(output);
    LINE.find_iter(&clean)
        .map(|m| m.as_str().trim_end().to_string())
        .collect()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next_if_eq(&'[').is_some() {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_lines_survive_spinners_and_a_message_on_the_same_line() {
        let err = "- Processing resources for CNI, Istiod.\r\u{1b}[K✔ CNI installed 🪢\n- Pruning removed resources\r✔ Installation completeThe ambient profile has been installed successfully, enjoy Istio without sidecars!\n";
        assert_eq!(
            component_lines(err),
            ["✔ CNI installed 🪢", "✔ Installation complete"]
        );
    }

    #[test]
    fn component_lines_are_found_among_noise() {
        let out = "\u{1b}[32m✔\u{1b}[0m Istio core installed ⛵️\nProcessing resources for Istiod.\n✔ Istiod installed 🧠\n\n✔ Installation complete\nThe ambient profile has been installed successfully, enjoy Istio without sidecars!\n";
        assert_eq!(
            component_lines(out),
            [
                "✔ Istio core installed ⛵️",
                "✔ Istiod installed 🧠",
                "✔ Installation complete"
            ]
        );
    }
}
