//! The steps of a page as a reader follows them: every command, every output shown, every comment
//! that states what a command should do, read from the code blocks by what each block holds, not
//! by the heading above it.
//!
//! - A shell block (`bash`, `sh`, `shell`, `console`, ...) with `$ ` prompts is read as istio.io's
//!   `scripts/snip.py` reads it: a `$ ` line is a command, with its `\` continuations and its
//!   heredoc body; the first other line starts the output of that command, which runs to the next
//!   `$ ` line. `$ # …` is a comment; one that states an outcome ("should fail", "this works")
//!   is the expectation of the next command.
//! - A shell block without prompts holds commands (lines that start with a tool, a path or an
//!   assignment) or, when its first line is none of these, output (the tutorial's shape: "You
//!   should see…" and a `bash` block of output).
//! - A `text`/`plain`/unnamed block is output; a `yaml`/`json` block is output when the prose
//!   before it presents it as output. Output belongs to the last command before it.
//! - Anything else is *not understood*, with why: never dropped.
//!
//! The steps are plain data (no I/O): the command as written, its lines, the expected output and
//! its kind, the outcome comment, the block's language and attributes.

use serde::Serialize;

use super::markdown::{self, Block, Document, Fence, Heading, Lines};

/// What a block is, for the steps that come from it (plain data, copied from the block).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockInfo {
    pub heading: Heading,
    pub lang: String,
    pub fence: Fence,
    pub attrs: Vec<(String, String)>,
    /// The block's content lines.
    pub lines: Lines,
}

impl BlockInfo {
    fn of(b: &Block) -> Self {
        BlockInfo {
            heading: b.heading.clone(),
            lang: b.lang.clone(),
            fence: b.fence.clone(),
            attrs: b.attrs.clone(),
            lines: b.lines,
        }
    }
}

/// What a comment says a command will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Success,
    Failure,
}

/// A comment stating the outcome of the command after it (`$ # this should fail …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The comment without `$ ` and `#`.
    pub text: String,
    pub lines: Lines,
    pub expects: Expect,
}

/// A heredoc's body (`cmd <<EOF` … `EOF`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heredoc {
    pub marker: String,
    /// Its lines as written (the block's indentation removed), each ending with a newline.
    pub body: String,
    pub lines: Lines,
}

/// One command, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Command {
    /// The command as a shell would run it: the prompt removed, continuation lines and the
    /// heredoc (body and terminator) kept, lines joined by newlines.
    pub text: String,
    pub lines: Lines,
    /// Whether it was written after a `$ ` prompt.
    pub prompted: bool,
    pub heredoc: Option<Heredoc>,
    /// The comment before it that states its outcome.
    pub outcome: Option<Outcome>,
    /// `@path@` markers: files of the Istio release (`@samples/addons/kiali.yaml@`).
    pub release_files: Vec<String>,
    /// Hugo shortcodes inside it (`github_file`, `istio_full_version`, ...): filled in by the site.
    pub shortcodes: Vec<String>,
    pub block: BlockInfo,
}

impl Command {
    /// On one line: continuations joined, the heredoc body after the command, whitespace
    /// collapsed (the form doc sync compares).
    pub fn line(&self) -> String {
        normalize(&self.text.replace("\\\n", " "))
    }
}

/// The kind of an output, which names how it can be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// `kubectl get` columns (with or without the `NAME` header).
    KubectlTable,
    /// `istioctl`'s `✔ …` / `✘ …` lines.
    IstioctlChecks,
    Yaml,
    Json,
    /// An HTTP response (status line, headers).
    Http,
    Html,
    /// Timestamped log lines (istio-cni, ztunnel, Envoy access logs).
    LogLines,
    /// `<kind>/<name> <verb>` lines (`namespace/default labeled`).
    ResourceActions,
    /// Anything else: compared line by line.
    Text,
}

impl OutputKind {
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::KubectlTable => "kubectl table",
            OutputKind::IstioctlChecks => "istioctl ✔ lines",
            OutputKind::Yaml => "YAML object",
            OutputKind::Json => "JSON object",
            OutputKind::Http => "HTTP response",
            OutputKind::Html => "HTML page",
            OutputKind::LogLines => "log lines",
            OutputKind::ResourceActions => "kubectl/istioctl action lines",
            OutputKind::Text => "text, line by line",
        }
    }

    /// What the output looks like, from its text and its block's language.
    pub fn of(text: &str, lang: &str) -> Self {
        // `...` stands for elided lines (istio.io's `_verify_elided`): not the output's shape.
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "...")
            .collect();
        let Some(first) = lines.first() else {
            return OutputKind::Text;
        };
        let lower = first.to_ascii_lowercase();
        if lang == "json" || first.starts_with('{') || first.starts_with('[') && first.len() == 1 {
            return OutputKind::Json;
        }
        if lower.starts_with("<!doctype")
            || lower.starts_with("<html")
            || (first.starts_with('<') && first.contains("</"))
        {
            return OutputKind::Html;
        }
        if first.starts_with("HTTP/") || first.starts_with("< HTTP/") {
            return OutputKind::Http;
        }
        if lines
            .iter()
            .any(|l| l.starts_with('✔') || l.starts_with('✘'))
        {
            return OutputKind::IstioctlChecks;
        }
        if timestamped(first) {
            return OutputKind::LogLines;
        }
        if lang == "yaml"
            || lang == "yml"
            || first.starts_with("apiVersion:")
            || first.starts_with("kind:")
        {
            return OutputKind::Yaml;
        }
        if first.starts_with("NAME ") || first.starts_with("NAMESPACE ") {
            return OutputKind::KubectlTable;
        }
        let columns = |l: &str| l.split("  ").filter(|c| !c.trim().is_empty()).count();
        if columns(first) >= 3 && lines.iter().all(|l| columns(l) == columns(first)) {
            return OutputKind::KubectlTable;
        }
        if lines.iter().all(|l| resource_action(l)) {
            return OutputKind::ResourceActions;
        }
        OutputKind::Text
    }
}

impl OutputKind {
    /// The kind of what `command` prints: `-o yaml` / `-o json` name it whatever the first line
    /// looks like (`...` elisions, a fragment); otherwise [`OutputKind::of`].
    pub fn for_command(text: &str, lang: &str, command: Option<&Command>) -> Self {
        let of = Self::of(text, lang);
        let Some(c) = command else { return of };
        let line = c.line();
        let words: Vec<&str> = line.split_whitespace().collect();
        let asks = |format: &str| {
            words
                .windows(2)
                .any(|w| (w[0] == "-o" || w[0] == "--output") && w[1] == format)
                || words
                    .iter()
                    .any(|w| *w == format!("-o{format}") || *w == format!("--output={format}"))
        };
        if asks("yaml") && of == OutputKind::Text {
            OutputKind::Yaml
        } else if asks("json") && of == OutputKind::Text {
            OutputKind::Json
        } else {
            of
        }
    }
}

fn command_at(script: &Script, index: Option<usize>) -> Option<&Command> {
    match script.steps.get(index?) {
        Some(Step::Command(c)) => Some(c),
        _ => None,
    }
}

/// `2022-11-26T19:44:13Z …` or `[2022-11-29T19:43:56.477Z] …`.
fn timestamped(line: &str) -> bool {
    let b = line.trim_start_matches('[').as_bytes();
    b.len() >= 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
}

/// `namespace/default labeled`, `waypoint default/waypoint applied`.
fn resource_action(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.iter().any(|w| w.contains('/'))
        // created, configured, unchanged, labeled, applied, deleted...
        && words.iter().any(|w| w.ends_with("ed"))
}

/// An output shown for a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// The expected text (the block's indentation removed).
    pub text: String,
    pub lines: Lines,
    pub kind: OutputKind,
    /// The prose that introduced it ("You should see…"), if it has its own block.
    pub lead: String,
    /// The index (in [`Script::steps`]) of the command it belongs to.
    pub command: Option<usize>,
    /// Whether it is printed in the command's own block (after a `$ ` line).
    pub in_command_block: bool,
    pub block: BlockInfo,
}

/// A comment that states no outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub text: String,
    pub lines: Lines,
    pub block: BlockInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Command(Command),
    Output(Output),
    Comment(Comment),
}

impl Step {
    pub fn lines(&self) -> Lines {
        match self {
            Step::Command(c) => c.lines,
            Step::Output(o) => o.lines,
            Step::Comment(c) => c.lines,
        }
    }
}

/// A block, or part of one, the reader could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    pub heading: Heading,
    pub lines: Lines,
    pub why: String,
}

/// A page read into steps.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub document: Document,
    pub steps: Vec<Step>,
    pub not_understood: Vec<Unread>,
}

impl Script {
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.steps.iter().filter_map(|s| match s {
            Step::Command(c) => Some(c),
            _ => None,
        })
    }

    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.steps.iter().filter_map(|s| match s {
            Step::Output(o) => Some(o),
            _ => None,
        })
    }
}

/// A page with nothing the reader can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no readable block: {blocks} code block(s), none holding a command or an output the reader understands{}; \
     a tutorial writes its commands in ```bash fences or {{{{< text bash >}}}} shortcodes",
    if .unread.is_empty() { String::new() } else { format!(" ({})", .unread) }
)]
pub struct NoReadableBlock {
    pub blocks: usize,
    /// Why the first blocks were not understood.
    pub unread: String,
}

impl Script {
    /// The page's steps, or why it holds none.
    pub fn require_steps(&self) -> Result<(), NoReadableBlock> {
        // Comments alone are not a tutorial: a command or an output is.
        if self
            .steps
            .iter()
            .any(|s| matches!(s, Step::Command(_) | Step::Output(_)))
        {
            return Ok(());
        }
        Err(NoReadableBlock {
            blocks: self.document.blocks.len(),
            unread: self
                .not_understood
                .iter()
                .take(3)
                .map(|u| format!("{}: {}", u.lines, u.why))
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

const SHELL: &[&str] = &[
    "bash",
    "sh",
    "shell",
    "console",
    "zsh",
    "shell-session",
    "shellsession",
    "terminal",
];
const OUTPUT: &[&str] = &[
    "",
    "text",
    "plain",
    "plaintext",
    "txt",
    "output",
    "log",
    "none",
];
const DATA: &[&str] = &["yaml", "yml", "json"];

/// Tools and shell words a command line starts with.
const TOOLS: &[&str] = &[
    "kubectl", "istioctl", "kind", "k3d", "k3s", "minikube", "helm", "curl", "wget", "tar",
    "unzip", "gunzip", "rm", "mkdir", "mv", "cp", "cd", "ln", "touch", "chmod", "chown", "export",
    "unset", "set", "source", ".", "echo", "printf", "cat", "ls", "grep", "sed", "awk", "jq", "yq",
    "head", "tail", "sort", "wc", "cut", "tr", "tee", "xargs", "base64", "diff", "envsubst",
    "openssl", "git", "docker", "podman", "make", "go", "sleep", "watch", "sudo", "env", "bash",
    "sh", "kill", "ps", "brew", "apt", "apt-get", "yum", "dnf", "gcloud", "aws", "az", "eksctl",
    "for", "while", "until", "if", "then", "else", "fi", "do", "done", "case", "esac", "function",
    "python", "python3", "pip", "npm", "node", "ssh", "scp", "nc", "dig", "nslookup", "ping",
    "hey", "fortio", "kubectx", "kubens", "stern", "true", "false", "test", "[", "exit", "pushd",
    "popd", "read", "local", "eval", "exec", "alias", "wait", "trap",
];

/// Whether a line (no prompt) starts a command: a known tool or shell word, a path to a
/// program, a variable, or an assignment.
pub fn starts_command(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or_default();
    if first.is_empty() {
        return false;
    }
    TOOLS.contains(&first)
        || first.starts_with("./")
        || first.starts_with("../")
        || first.starts_with("~/")
        || (first.starts_with('/') && first.len() > 1)
        || first.contains("/bin/")
        || first.ends_with("/istioctl")
        || (first.starts_with('$') && first.len() > 1)
        || assignment(first)
}

fn assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}

/// Whitespace collapsed, a leading prompt removed.
pub fn normalize(s: &str) -> String {
    s.trim()
        .trim_start_matches("$ ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a comment says of the next command's outcome, if it says anything.
pub fn outcome_of(comment: &str) -> Option<Expect> {
    let c = comment.to_ascii_lowercase();
    const FAILURE: &[&str] = &[
        "fail",
        "error",
        "denied",
        "forbidden",
        "refused",
        "reject",
        "not allowed",
        "rbac",
        "403",
        "401",
        "503",
        "timed out",
        "timeout",
        "exit code",
        "blocked",
        "unauthorized",
    ];
    const SUCCESS: &[&str] = &["succeed", "success", "work", "allowed", "200 ok", "is ok"];
    if FAILURE.iter().any(|w| c.contains(w)) {
        Some(Expect::Failure)
    } else if SUCCESS.iter().any(|w| c.contains(w)) {
        Some(Expect::Success)
    } else {
        None
    }
}

/// Whether prose presents the block after it as output.
pub fn introduces_output(lead: &str) -> bool {
    let l = lead.to_ascii_lowercase();
    [
        "output",
        "should see",
        "will see",
        "you see",
        "similar",
        "similiar",
        "look like",
        "looks like",
        "returns",
        "prints",
        "shows",
        "displays",
        "result",
        "expect",
        "response",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// The heredoc marker a command line opens (`<<EOF`, `<<-'EOF'`, `<< \EOF`), not a here-string.
fn heredoc_marker(line: &str) -> Option<String> {
    let mut rest = line;
    while let Some(i) = rest.find("<<") {
        let after = &rest[i + 2..];
        if after.starts_with('<') {
            rest = after.trim_start_matches('<');
            continue;
        }
        let word = after
            .trim_start_matches('-')
            .trim_start()
            .trim_start_matches('\\')
            .trim_start_matches(['\'', '"']);
        let marker: String = word
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !marker.is_empty() {
            return Some(marker);
        }
        rest = after;
    }
    None
}

/// `@path@` markers (snip.py: not after a letter or digit; path characters only).
fn release_files(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let len = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || b"._-/".contains(b))
                .count();
            if len > 0 && bytes.get(i + 1 + len) == Some(&b'@') {
                out.push(s[i + 1..i + 1 + len].to_string());
                i += len + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Names of the shortcodes in a command (`{{< istio_full_version >}}` → `istio_full_version`).
fn shortcodes_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{<") {
        let after = &rest[i + 3..];
        let Some(end) = after.find(">}}") else { break };
        if let Some(name) = after[..end].split_whitespace().next() {
            out.push(name.to_string());
        }
        rest = &after[end + 3..];
    }
    out
}

/// Reads a page's text into steps.
pub fn read(text: &str) -> Script {
    let document = markdown::parse(text);
    let mut script = Script::default();
    for block in &document.blocks {
        read_block(block, &mut script);
    }
    for s in &document.shortcodes {
        if s.name == "boilerplate" {
            script.not_understood.push(Unread {
                heading: s.heading.clone(),
                lines: Lines::one(s.line),
                why: format!(
                    "a boilerplate shortcode ({}): its commands are in another file of the site, not in this page",
                    s.args
                ),
            });
        }
    }
    script.not_understood.sort_by_key(|u| u.lines.start);
    script.document = document;
    script
}

/// The lines of a block's content, with their line numbers.
fn numbered(block: &Block) -> Vec<(usize, &str)> {
    block
        .content
        .lines()
        .enumerate()
        .map(|(i, l)| (block.lines.start + i, l))
        .collect()
}

fn read_block(block: &Block, script: &mut Script) {
    let lang = block.lang.as_str();
    let unread = |why: String| Unread {
        heading: block.heading.clone(),
        lines: block.lines,
        why,
    };
    if block.content.trim().is_empty() {
        script
            .not_understood
            .push(unread("an empty block".to_string()));
        return;
    }
    // A block that names no language is read by what it holds: prompts or a command first make
    // it a shell block.
    let unnamed_shell = lang.is_empty()
        && block
            .content
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| prompt(l).is_some() || starts_command(l));
    if SHELL.contains(&lang) || unnamed_shell {
        read_shell(block, script);
    } else if OUTPUT.contains(&lang) || (DATA.contains(&lang) && introduces_output(&block.lead)) {
        standalone_output(block, script);
    } else if DATA.contains(&lang) {
        script.not_understood.push(unread(format!(
            "a {lang} block that no prose presents as output and no command reads: a manifest shown, not run"
        )));
    } else {
        script.not_understood.push(unread(format!(
            "a `{lang}` block: neither shell commands nor output"
        )));
    }
}

/// A whole block of output, for the last command before it.
fn standalone_output(block: &Block, script: &mut Script) {
    let command = last_command(script);
    if command.is_none() {
        script.not_understood.push(Unread {
            heading: block.heading.clone(),
            lines: block.lines,
            why: "output with no command before it".into(),
        });
        return;
    }
    script.steps.push(Step::Output(Output {
        kind: OutputKind::for_command(&block.content, &block.lang, command_at(script, command)),
        text: block.content.clone(),
        lines: block.lines,
        lead: block.lead.clone(),
        command,
        in_command_block: false,
        block: BlockInfo::of(block),
    }));
}

fn last_command(script: &Script) -> Option<usize> {
    script
        .steps
        .iter()
        .rposition(|s| matches!(s, Step::Command(_)))
}

/// The prompt's command text, if the line has a `$ ` prompt.
fn prompt(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t == "$" {
        return Some("");
    }
    t.strip_prefix("$ ")
}

/// Output lines being gathered.
struct OpenOutput {
    start: usize,
    end: usize,
    text: String,
}

fn read_shell(block: &Block, script: &mut Script) {
    let lines = numbered(block);
    let prompted = lines.iter().any(|(_, l)| prompt(l).is_some());
    if !prompted
        && lines
            .iter()
            .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .is_some_and(|(_, l)| !starts_command(l))
    {
        // No command in its first line: the tutorial's shape of output in a `bash` block.
        standalone_output(block, script);
        return;
    }
    let info = BlockInfo::of(block);
    let mut pending: Option<Outcome> = None;
    let mut output: Option<OpenOutput> = None;
    let mut command_here: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = lines[i];
        let as_command = if prompted {
            prompt(line)
        } else if starts_command(line) || (output.is_none() && line.trim_start().starts_with('#')) {
            Some(line.trim_start())
        } else {
            None
        };
        let Some(first) = as_command else {
            // Output of the command before it, or a blank line.
            if line.trim().is_empty() {
                if let Some(o) = output.as_mut() {
                    o.text.push('\n');
                }
            } else if command_here.is_none() {
                script.not_understood.push(Unread {
                    heading: block.heading.clone(),
                    lines: Lines::one(n),
                    why: "a line before any command of its block that is no prompt, comment or command".into(),
                });
            } else {
                let o = output.get_or_insert(OpenOutput {
                    start: n,
                    end: n,
                    text: String::new(),
                });
                o.text.push_str(line);
                o.text.push('\n');
                o.end = n;
            }
            i += 1;
            continue;
        };
        close_output(&mut output, command_here, &info, script);
        if let Some(comment) = first.trim_start().strip_prefix('#') {
            let text = comment.trim().to_string();
            match outcome_of(&text) {
                Some(expects) => {
                    pending = Some(Outcome {
                        text,
                        lines: Lines::one(n),
                        expects,
                    })
                }
                None if !text.is_empty() => script.steps.push(Step::Comment(Comment {
                    text,
                    lines: Lines::one(n),
                    block: info.clone(),
                })),
                None => {}
            }
            i += 1;
            continue;
        }
        if first.trim().is_empty() {
            i += 1;
            continue;
        }
        let (command, next) = read_command(&lines, i, first, prompted, pending.take(), &info);
        script.steps.push(Step::Command(command));
        command_here = Some(script.steps.len() - 1);
        i = next;
    }
    close_output(&mut output, command_here, &info, script);
    if let Some(o) = pending {
        script.not_understood.push(Unread {
            heading: block.heading.clone(),
            lines: o.lines,
            why: "an outcome comment with no command after it in its block".into(),
        });
    }
}

fn close_output(
    output: &mut Option<OpenOutput>,
    command: Option<usize>,
    info: &BlockInfo,
    script: &mut Script,
) {
    let Some(o) = output.take() else { return };
    let text = o.text.trim_end_matches('\n').to_string() + "\n";
    script.steps.push(Step::Output(Output {
        kind: OutputKind::for_command(&text, "", command_at(script, command)),
        text,
        lines: Lines {
            start: o.start,
            end: o.end,
        },
        lead: String::new(),
        command,
        in_command_block: true,
        block: info.clone(),
    }));
}

/// Reads the command starting at `lines[i]` (whose text without its prompt is `first`): its `\`
/// continuations and its heredoc. Returns it and the index of the line after it.
fn read_command(
    lines: &[(usize, &str)],
    i: usize,
    first: &str,
    prompted: bool,
    outcome: Option<Outcome>,
    info: &BlockInfo,
) -> (Command, usize) {
    let mut text = first.trim_end().to_string();
    let mut end = i;
    while text.ends_with('\\') && end + 1 < lines.len() {
        end += 1;
        let next = lines[end].1;
        let next = if prompted {
            prompt(next).unwrap_or(next)
        } else {
            next
        };
        text.push('\n');
        text.push_str(next.trim_end());
    }
    let mut heredoc = None;
    if let Some(marker) = heredoc_marker(&text) {
        let start = end + 1;
        let mut body = String::new();
        let mut closed = false;
        while end + 1 < lines.len() {
            end += 1;
            let line = lines[end].1;
            text.push('\n');
            text.push_str(line.trim_end());
            if line.trim() == marker {
                closed = true;
                break;
            }
            body.push_str(line.trim_end());
            body.push('\n');
        }
        if start < lines.len() {
            let last = if closed { end.saturating_sub(1) } else { end };
            heredoc = Some(Heredoc {
                marker,
                body,
                lines: Lines {
                    start: lines[start].0,
                    end: lines[last.max(start)].0,
                },
            });
        }
    }
    let command = Command {
        release_files: release_files(&text),
        shortcodes: shortcodes_in(&text),
        text,
        lines: Lines {
            start: lines[i].0,
            end: lines[end].0,
        },
        prompted,
        heredoc,
        outcome,
        block: info.clone(),
    };
    (command, end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(s: &Script) -> Vec<String> {
        s.commands().map(Command::line).collect()
    }

    #[test]
    fn prompts_output_heredocs_and_outcomes() {
        let page = r#"## Try
{{< text syntax=bash snip_id=try >}}
$ kubectl get pods
NAME   READY   STATUS
a-1    1/1     Running
$ # this should fail with an RBAC error
$ kubectl exec deploy/curl -- \
    curl -s http://x/
command terminated with exit code 56
$ kubectl apply -f - <<EOF
kind: Namespace
EOF
$ # list the pods
$ kubectl apply -f @samples/addons/kiali.yaml@ --version {{< istio_full_version >}}
{{< /text >}}
"#;
        let s = read(page);
        assert!(s.not_understood.is_empty(), "{:?}", s.not_understood);
        assert_eq!(
            commands(&s),
            [
                "kubectl get pods",
                "kubectl exec deploy/curl -- curl -s http://x/",
                "kubectl apply -f - <<EOF kind: Namespace EOF",
                "kubectl apply -f @samples/addons/kiali.yaml@ --version {{< istio_full_version >}}",
            ]
        );
        let c: Vec<&Command> = s.commands().collect();
        assert_eq!(c[0].lines, Lines::one(3));
        assert_eq!(
            c[0].block.attrs[1],
            ("snip_id".to_string(), "try".to_string())
        );
        assert_eq!(
            c[1].text,
            "kubectl exec deploy/curl -- \\\n    curl -s http://x/"
        );
        assert_eq!(c[1].lines, Lines { start: 7, end: 8 });
        let o = c[1].outcome.as_ref().unwrap();
        assert_eq!(o.expects, Expect::Failure);
        assert_eq!(o.lines, Lines::one(6));
        assert!(c[0].outcome.is_none() && c[2].outcome.is_none());
        let h = c[2].heredoc.as_ref().unwrap();
        assert_eq!(
            (h.body.as_str(), h.lines),
            ("kind: Namespace\n", Lines::one(11))
        );
        assert_eq!(c[3].release_files, ["samples/addons/kiali.yaml"]);
        assert_eq!(c[3].shortcodes, ["istio_full_version"]);
        let outputs: Vec<&Output> = s.outputs().collect();
        assert_eq!(outputs.len(), 2);
        assert_eq!(outputs[0].kind, OutputKind::KubectlTable);
        assert_eq!(outputs[0].lines, Lines { start: 4, end: 5 });
        assert!(outputs[0].in_command_block);
        assert_eq!(outputs[1].text, "command terminated with exit code 56\n");
        // The comment that states no outcome is a comment.
        assert!(
            s.steps
                .iter()
                .any(|st| matches!(st, Step::Comment(c) if c.text == "list the pods"))
        );
    }

    #[test]
    fn the_tutorial_shape_commands_then_output_in_bash_blocks() {
        let page = "## Install\n```bash\n./istio/bin/istioctl install -y\n```\nYou should see:\n```bash\n✔ Istio core installed\n```\n```yaml\nkind: Gateway\n```\n```go\nfunc main() {}\n```\n";
        let s = read(page);
        assert_eq!(commands(&s), ["./istio/bin/istioctl install -y"]);
        let o: Vec<&Output> = s.outputs().collect();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].kind, OutputKind::IstioctlChecks);
        assert_eq!(o[0].lead, "You should see:");
        assert_eq!(o[0].command, Some(0));
        let why: Vec<&str> = s.not_understood.iter().map(|u| u.why.as_str()).collect();
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why[0].contains("a manifest shown"), "{why:?}");
        assert!(why[1].contains("`go` block"), "{why:?}");
    }

    #[test]
    fn a_block_without_a_language_is_read_by_what_it_holds() {
        let s = read(
            "```\n$ kubectl get ns\nNAME   STATUS\n```\n```\nistioctl version\n```\n```\nno running Istio pods\n```\n",
        );
        assert_eq!(commands(&s), ["kubectl get ns", "istioctl version"]);
        let outputs: Vec<&Output> = s.outputs().collect();
        assert_eq!(outputs.len(), 2);
        assert!(outputs[0].in_command_block);
        assert!(!outputs[1].in_command_block);
        assert_eq!(outputs[1].command, Some(2));
    }

    #[test]
    fn a_page_without_a_readable_block_says_so() {
        let s = read("# Notes\n\nJust prose.\n\n```go\nx\n```\n");
        let err = s.require_steps().unwrap_err().to_string();
        assert!(err.contains("no readable block: 1 code block(s)"), "{err}");
        assert!(err.contains("`go` block"), "{err}");
        assert!(
            read("```bash\nkubectl get pods\n```")
                .require_steps()
                .is_ok()
        );
        // Output alone is no readable step: it has no command; nor is a comment alone.
        assert!(read("```text\nhello\n```").require_steps().is_err());
        assert!(read("```sh\n# a note\n```").require_steps().is_err());
    }

    #[test]
    fn kinds_of_output() {
        assert_eq!(OutputKind::of("{\"a\": 1}", ""), OutputKind::Json);
        assert_eq!(OutputKind::of("HTTP/1.1 200 OK\n", ""), OutputKind::Http);
        assert_eq!(OutputKind::of("<!DOCTYPE html>\n", ""), OutputKind::Html);
        assert_eq!(
            OutputKind::of("<title>A page</title>\n", ""),
            OutputKind::Html
        );
        assert_eq!(OutputKind::of("<none>   x\n", ""), OutputKind::Text);
        assert_eq!(
            OutputKind::of("2022-11-26T19:44:13.500330Z info ambient x\n", ""),
            OutputKind::LogLines
        );
        assert_eq!(
            OutputKind::of("namespace/default labeled\n", ""),
            OutputKind::ResourceActions
        );
        assert_eq!(OutputKind::of("kind: Gateway\n", ""), OutputKind::Yaml);
        assert_eq!(
            OutputKind::of("pod/a-1   1/1   Running\npod/b-2   1/1   Running\n", ""),
            OutputKind::KubectlTable
        );
        assert_eq!(OutputKind::of("hello world\n", ""), OutputKind::Text);
        assert_eq!(OutputKind::of("...\nkind: Gateway\n", ""), OutputKind::Yaml);
        assert_eq!(OutputKind::of("...\n", ""), OutputKind::Text);
    }

    #[test]
    fn each_kind_of_output_and_its_near_misses() {
        use OutputKind::*;
        for (text, lang, kind) in [
            // An Envoy access line starts with `[`: a log line, not a JSON array.
            (
                "[2022-11-29T19:43:56.477Z] \"- - HTTP/2\" 0 - x\n",
                "",
                LogLines,
            ),
            ("[\n  {\"a\": 1}\n]\n", "", Json),
            ("not json\n", "json", Json),
            ("<html lang=\"en\">\n", "", Html),
            ("<!doctype html>\n", "", Html),
            ("<a href=\"x\">\n", "", Text),
            ("< HTTP/2 200\n< server: envoy\n", "", Http),
            ("HTTPS is on\n", "", Text),
            // A ✔ or ✘ on any line.
            ("Installing\n✘ Istiod failed\n", "", IstioctlChecks),
            ("Installing\n✔ Istio core installed\n", "", IstioctlChecks),
            ("2022-11-26 19:44:13 info x\n", "", LogLines),
            ("2022-11-26_19:44:13 info x\n", "", Text),
            ("2022/11-26T19:44:13Z x\n", "", Text),
            ("2022-11/26T19:44:13Z x\n", "", Text),
            ("a: 1\n", "yaml", Yaml),
            ("a: 1\n", "yml", Yaml),
            ("apiVersion: v1\n", "", Yaml),
            ("a: 1\n", "", Text),
            ("NAMESPACE   NAME   READY\n", "", KubectlTable),
            ("NAME   READY\n", "", KubectlTable),
            // Three columns or more, as many on every line.
            ("a  b  c\nd  e  f\n", "", KubectlTable),
            ("a  b  c\nd  e\n", "", Text),
            ("a  b\nd  e\n", "", Text),
            (
                "namespace/default labeled\npod/x created\n",
                "",
                ResourceActions,
            ),
            ("namespace/default labeled\nsome text\n", "", Text),
            ("", "", Text),
        ] {
            assert_eq!(OutputKind::of(text, lang), kind, "{text:?} {lang}");
        }
    }

    #[test]
    fn each_way_a_line_starts_a_command_and_its_near_misses() {
        // Each matches by one rule alone.
        for command in [
            "kubectl get pods",
            "./run.sh",
            "../run.sh",
            "~/run.sh",
            "/opt/run.sh",
            "istio-1.24.2/bin/x version",
            "out/istioctl version",
            "$ISTIOCTL version",
            "GATEWAY_URL=x",
            "_X1=y curl x",
        ] {
            assert!(starts_command(command), "{command}");
        }
        for not_a_command in ["/", "$", "=x", "1X=y", "A-B=x", "pod/x   1/1", "", "  "] {
            assert!(!starts_command(not_a_command), "{not_a_command:?}");
        }
    }

    #[test]
    fn markers_shortcodes_and_heredocs_in_a_command() {
        assert_eq!(release_files("@a.yaml@ -f x"), ["a.yaml"]);
        // The scan goes on after the marker's closing `@`, short markers too.
        assert_eq!(release_files("@a@ @ab@"), ["a", "ab"]);
        assert_eq!(
            release_files("-f @samples/x.yaml@ @y-1_2.yaml@"),
            ["samples/x.yaml", "y-1_2.yaml"]
        );
        for none in ["x@a@", "@@", "@a.yaml", "@a b@", "user@host"] {
            assert!(release_files(none).is_empty(), "{none}");
        }
        assert_eq!(
            shortcodes_in("v{{< istio_full_version >}} and {{< k8s_gateway_api_version x >}}"),
            ["istio_full_version", "k8s_gateway_api_version"]
        );
        for none in ["{{< >}}", "{{< open", "{{ x }}"] {
            assert!(shortcodes_in(none).is_empty(), "{none}");
        }
        assert_eq!(
            heredoc_marker("cat <<END_OF_YAML").as_deref(),
            Some("END_OF_YAML")
        );
        assert_eq!(heredoc_marker("cat <<- 'EOF'").as_deref(), Some("EOF"));
        assert_eq!(heredoc_marker("grep x <<< \"$v\""), None);
    }

    #[test]
    fn an_unprompted_block_comments_output_and_unfinished_commands() {
        // A comment first, then the command: a command block, not output.
        let s = read("```bash\n# make the namespace\nkubectl create ns x\n```\n");
        assert_eq!(commands(&s), ["kubectl create ns x"]);
        // Output after a command is output, even before any output line was read.
        let s = read("```bash\nkubectl get ns\nNAME   STATUS\nx      Active\n```\n");
        assert_eq!(commands(&s), ["kubectl get ns"]);
        let o: Vec<&Output> = s.outputs().collect();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].text, "NAME   STATUS\nx      Active\n");
        // A bare `#` states nothing: no comment step.
        let s = read("```bash\n#\nkubectl get ns\n```\n");
        assert!(
            !s.steps.iter().any(|st| matches!(st, Step::Comment(_))),
            "{:?}",
            s.steps
        );
        // A continuation or a heredoc the block ends inside: the command ends with the block.
        let s = read("```bash\nkubectl get \\\n```\n");
        let c: Vec<&Command> = s.commands().collect();
        assert_eq!((c.len(), c[0].lines), (1, Lines::one(2)));
        let s = read("```bash\nkubectl apply -f - <<EOF\nkind: Namespace\n```\n");
        let c: Vec<&Command> = s.commands().collect();
        let h = c[0].heredoc.as_ref().unwrap();
        assert_eq!(
            (h.body.as_str(), h.lines, c[0].lines),
            (
                "kind: Namespace\n",
                Lines::one(3),
                Lines { start: 2, end: 3 }
            )
        );
    }

    #[test]
    fn prose_that_presents_output_and_prose_that_does_not() {
        assert!(introduces_output("Your output should be similar to:"));
        assert!(introduces_output("The command returns"));
        assert!(!introduces_output("Run the following command:"));
    }

    #[test]
    fn a_block_of_output_is_not_read_as_commands_even_when_it_looks_like_one() {
        // An unnamed block whose first line is a command, without a prompt: shell.
        let s = read("```\nkubectl get pods\n```\n");
        assert_eq!(commands(&s), ["kubectl get pods"]);
        // Near miss: the same line in a `text` block is output (of no command here).
        let s = read("```bash\nkubectl version\n```\n```text\nkubectl get pods\n```\n");
        assert_eq!(commands(&s), ["kubectl version"]);
        assert_eq!(s.outputs().count(), 1);
    }

    #[test]
    fn every_spelling_of_an_output_format_names_its_kind() {
        use OutputKind::*;
        for (flags, output, kind) in [
            ("-o yaml", "status:\n  x: y", Yaml),
            ("--output yaml", "status:\n  x: y", Yaml),
            ("-oyaml", "status:\n  x: y", Yaml),
            ("--output=yaml", "status:\n  x: y", Yaml),
            ("-o json", "\"status\": 1", Json),
            ("--output json", "\"status\": 1", Json),
            ("-ojson", "\"status\": 1", Json),
            ("--output=json", "\"status\": 1", Json),
            // Near misses: another format, another flag, an output whose own shape is known.
            ("-o wide", "status:\n  x: y", Text),
            ("-x yaml", "status:\n  x: y", Text),
            ("--output=jsonpath", "status:\n  x: y", Text),
            ("-o yaml", "NAME   READY", KubectlTable),
            ("-o json", "NAME   READY", KubectlTable),
        ] {
            let s = read(&format!(
                "```bash\n$ kubectl get gtw w {flags}\n{output}\n```\n"
            ));
            let kinds: Vec<OutputKind> = s.outputs().map(|o| o.kind).collect();
            assert_eq!(kinds, [kind], "{flags}: {output}");
        }
    }

    #[test]
    fn an_output_format_the_command_asks_for_names_its_kind() {
        let s = read(
            "```bash\n$ kubectl get gtw w -o yaml\n...\nstatus:\n  x: y\n$ kubectl get gtw w -o wide\nstatus: y\n```\n",
        );
        let kinds: Vec<OutputKind> = s.outputs().map(|o| o.kind).collect();
        assert_eq!(kinds, [OutputKind::Yaml, OutputKind::Text]);
    }

    #[test]
    fn outcome_comments_near_misses() {
        assert_eq!(outcome_of("this should fail"), Some(Expect::Failure));
        assert_eq!(outcome_of("this works"), Some(Expect::Success));
        assert_eq!(outcome_of("should succeed"), Some(Expect::Success));
        assert_eq!(outcome_of("list the pods"), None);
        assert!(!starts_command("pod/istio-cni-node-5vkb6   1/1"));
        assert!(!starts_command("NAME   READY"));
        assert!(starts_command("kubectl get pods"));
        assert!(starts_command("GATEWAY_URL=x"));
        assert!(!starts_command("=x"));
        assert_eq!(release_files("a@b@ @c/d.yaml@"), ["c/d.yaml"]);
    }
}
