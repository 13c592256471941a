//! The command guard: a documented command that names another kubeconfig, context, cluster,
//! server or credentials is refused before it runs, with why.
//!
//! The run's environment already points `KUBECONFIG` and `HOME` at the run's private state (see
//! [`super::env`]); a flag or an assignment in the command itself is the only way a documented
//! command could reach another cluster, so this reads every simple command of the text (in
//! pipelines, lists, `$( … )`, and `bash -c '…'` strings), never heredoc bodies (data), except
//! the body of a heredoc a shell reads its commands from (`bash <<EOF`). What a pipeline feeds a
//! shell (`curl … | sh`) is not known before it runs and is not checked.

use super::words::{self, ShellError, SimpleCommand};

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused before it ran: `{command}` {reason}; the suite runs documented commands only against the cluster it manages (KUBECONFIG and HOME point at the run's private state)"
)]
pub struct Refusal {
    /// The simple command that was refused, its words joined by spaces.
    pub command: String,
    /// What in it names another cluster (`--context=prod`, `KUBECONFIG=…`).
    pub offending: String,
    pub reason: String,
}

/// The guard's verdict on a whole command text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(
        "the command cannot be read as shell words ({0}), so it cannot be checked; it was not run"
    )]
    Unreadable(#[from] ShellError),
}

/// Variables that choose the cluster or the file a kube client reads its credentials from.
const CLUSTER_VARIABLES: &[(&str, &str)] = &[
    ("KUBECONFIG", "names another kubeconfig"),
    (
        "HOME",
        "moves HOME, where kubectl and istioctl find ~/.kube/config",
    ),
];

/// Flags of every kube client (kubectl, istioctl, kind, helm, …) that name another kubeconfig,
/// context, cluster, server or identity.
const KUBE_FLAGS: &[(&str, &str)] = &[
    ("--kubeconfig", "names another kubeconfig"),
    ("--context", "names another kube context"),
    ("--cluster", "names another cluster of a kubeconfig"),
    ("--server", "names another API server"),
    ("--token", "brings other credentials"),
    ("--user", "names another kubeconfig user"),
    ("--username", "brings other credentials"),
    ("--password", "brings other credentials"),
    ("--client-certificate", "brings other credentials"),
    ("--client-key", "brings other credentials"),
    ("--kube-context", "names another kube context"),
    ("--kube-apiserver", "names another API server"),
    ("--kube-token", "brings other credentials"),
];

/// `kubectl config` subcommands that select or change kubeconfig entries.
const KUBECTL_CONFIG_WRITES: &[&str] = &[
    "use-context",
    "use",
    "set-context",
    "set-cluster",
    "set-credentials",
    "set",
    "unset",
    "delete-context",
    "delete-cluster",
    "delete-user",
    "rename-context",
];

/// Programs whose flags are cobra/pflag kube-client flags.
const KUBE_CLIENTS: &[&str] = &["kubectl", "istioctl", "kind", "helm", "kubectl-kustomize"];

/// Programs that run the rest of their words as a command.
const WRAPPERS: &[&str] = &[
    "env", "command", "exec", "time", "nohup", "sudo", "xargs", "watch", "timeout", "nice",
];

/// Checks every simple command of `text`.
pub fn check(text: &str) -> Result<(), GuardError> {
    check_at_depth(text, 0)
}

fn check_at_depth(text: &str, depth: usize) -> Result<(), GuardError> {
    if depth > words::MAX_DEPTH {
        return Err(ShellError::TooDeep.into());
    }
    let script = words::parse(text)?;
    for command in &script.commands {
        check_command(command, depth)?;
    }
    // A heredoc is data, except to a shell that reads its commands from it (`bash <<EOF`).
    for heredoc in &script.heredocs {
        let reader = heredoc.command.and_then(|i| script.commands.get(i));
        if reader.is_some_and(reads_commands_from_stdin) {
            check_at_depth(&heredoc.body, depth + 1)?;
        }
    }
    Ok(())
}

/// `bash`, `sh -s`, `source /dev/stdin`: a command that runs what its stdin says.
fn reads_commands_from_stdin(command: &SimpleCommand) -> bool {
    let Some(program) = command.program() else {
        return false;
    };
    let args = &command.words[1..];
    match program {
        "bash" | "sh" | "zsh" | "dash" | "ksh" => !args.iter().any(|a| a == "-c"),
        "source" | "." => args.first().is_some_and(|a| a == "/dev/stdin"),
        _ => false,
    }
}

fn refuse(command: &SimpleCommand, offending: &str, reason: &str) -> GuardError {
    let mut shown: Vec<String> = command
        .assignments
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    shown.extend(command.words.iter().cloned());
    GuardError::Refused(Refusal {
        command: shown.join(" "),
        offending: offending.to_string(),
        reason: reason.to_string(),
    })
}

fn check_command(command: &SimpleCommand, depth: usize) -> Result<(), GuardError> {
    for (name, value) in &command.assignments {
        if let Some((_, why)) = CLUSTER_VARIABLES.iter().find(|(v, _)| v == name) {
            return Err(refuse(command, &format!("{name}={value}"), why));
        }
    }
    let mut words: &[String] = &command.words;
    // `env K=V prog`, `sudo prog`, `export KUBECONFIG=…`: look through to what really runs.
    loop {
        let Some(first) = words.first() else {
            return Ok(());
        };
        let program = first.rsplit('/').next().unwrap_or(first);
        if matches!(
            program,
            "export" | "declare" | "typeset" | "readonly" | "local"
        ) || (program == "env" && words.len() > 1)
        {
            for word in &words[1..] {
                if let Some((name, _)) = word.split_once('=')
                    && let Some((_, why)) = CLUSTER_VARIABLES.iter().find(|(v, _)| *v == name)
                {
                    return Err(refuse(command, word, why));
                }
            }
        }
        if WRAPPERS.contains(&program) {
            words = &words[1..];
            // Their own flags, assignments and numbers (`timeout 60`, `watch -n 1`) come before
            // the program.
            while let Some(w) = words.first()
                && (w.starts_with('-')
                    || w.contains('=')
                    || w.starts_with(|c: char| c.is_ascii_digit()))
            {
                words = &words[1..];
            }
            continue;
        }
        if matches!(program, "bash" | "sh" | "zsh" | "dash")
            && let Some(i) = words.iter().position(|w| w == "-c")
            && let Some(inner) = words.get(i + 1)
        {
            return check_at_depth(inner, depth + 1);
        }
        if program == "eval" {
            return check_at_depth(&words[1..].join(" "), depth + 1);
        }
        if KUBE_CLIENTS.contains(&program) {
            return check_kube_client(command, program, &words[1..]);
        }
        return Ok(());
    }
}

fn check_kube_client(
    command: &SimpleCommand,
    program: &str,
    args: &[String],
) -> Result<(), GuardError> {
    let mut positional = Vec::new();
    for arg in args {
        // `kubectl exec pod -- curl -s …`: what follows `--` belongs to another program.
        if arg == "--" {
            break;
        }
        if let Some(flag) = arg.strip_prefix("--") {
            let name = flag.split_once('=').map_or(flag, |(n, _)| n);
            let long = format!("--{name}");
            if let Some((_, why)) = KUBE_FLAGS.iter().find(|(f, _)| *f == long) {
                return Err(refuse(command, arg, why));
            }
            continue;
        }
        if let Some(short) = arg.strip_prefix('-')
            && !short.is_empty()
        {
            // kubectl's `-s` is `--server`; istioctl's `-c` is `--kubeconfig` (kubectl's `-c`
            // is a container, `curl -s` comes after `--`).
            if program == "kubectl" && short.starts_with('s') {
                return Err(refuse(
                    command,
                    arg,
                    "names another API server (-s is --server)",
                ));
            }
            if program == "istioctl" && short.starts_with('c') {
                return Err(refuse(
                    command,
                    arg,
                    "names another kubeconfig (istioctl's -c is --kubeconfig)",
                ));
            }
            continue;
        }
        positional.push(arg.as_str());
    }
    if program == "kubectl"
        && positional.first() == Some(&"config")
        && let Some(sub) = positional.get(1)
        && KUBECTL_CONFIG_WRITES.contains(sub)
    {
        return Err(refuse(
            command,
            &format!("config {sub}"),
            "selects or changes kubeconfig entries (the run's kubeconfig names one context, the suite's)",
        ));
    }
    Ok(())
}
