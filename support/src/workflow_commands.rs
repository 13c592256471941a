//! GitHub Actions workflow commands in text the suite prints. The runner reads every line a step
//! prints: a line that starts with `::` after leading whitespace is a command (`::error ...::`,
//! `::add-mask::`, `::stop-commands::`), and so is `##[command]` anywhere in a line (the older
//! syntax, still parsed). Lines end at `\n` or `\r`. (actions/runner
//! src/Runner.Worker/ActionCommandManager.cs, src/Runner.Common/ActionCommand.cs: TryParseV2
//! trims leading space and wants `::`; TryParse finds `##[` anywhere.)
//!
//! Text that holds what records say (an Istio version, a claim id, observed output) goes through
//! [`neutralize`] before it is printed, so no record can annotate, mask or stop the log of the job
//! that prints it.

use std::borrow::Cow;

/// The start of a command line (after leading whitespace).
const COMMAND: &str = "::";
/// The older syntax's start, anywhere in a line.
const OLD_COMMAND: &str = "##[";

/// Whether the runner would read `line` (one line, without its end) as a workflow command.
pub fn is_command(line: &str) -> bool {
    line.trim_start().starts_with(COMMAND) || line.contains(OLD_COMMAND)
}

/// `text` with no line the runner reads as a command: a backslash before a line's leading `::`
/// and before the `[` of `##[` (in Markdown outside code a backslash before punctuation is an
/// escape, so the rendered text reads the same). Text without such a line is returned as it is.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if !text.split(['\n', '\r']).any(is_command) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    loop {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let content = line.trim_start();
        out.push_str(&line[..line.len() - content.len()]);
        if content.starts_with(COMMAND) {
            out.push('\\');
        }
        out.push_str(&content.replace(OLD_COMMAND, "##\\["));
        if end == rest.len() {
            break;
        }
        // The line end, as it was.
        let sep = &rest[end..end + 1];
        out.push_str(sep);
        rest = &rest[end + 1..];
    }
    Cow::Owned(out)
}

/// `text` that must stay byte for byte what it is (a patch), made safe to print: when a line of
/// it is a command, it is printed between `::stop-commands::<token>` and `::<token>::` (the
/// runner reads no command in between), the token random and not in `text`. `git apply` skips
/// both lines (text before a diff and after its last hunk).
pub fn guard(text: &str) -> Cow<'_, str> {
    if !text.split(['\n', '\r']).any(is_command) {
        return Cow::Borrowed(text);
    }
    let token = loop {
        let t = random_token();
        if !text.contains(&t) {
            break t;
        }
    };
    let end = if text.ends_with('\n') { "" } else { "\n" };
    Cow::Owned(format!(
        "::stop-commands::{token}\n{text}{end}::{token}::\n"
    ))
}

/// 32 hex digits from the kernel's random source (or, failing that, from the clock and the
/// process: still not in the text, which is all the runner needs).
fn random_token() -> String {
    use sha2::Digest;
    use std::io::Read;
    let mut seed = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut seed));
    let mut hasher = sha2::Sha256::new();
    hasher.update(seed);
    if read.is_err() {
        hasher.update(format!(
            "{:?}{}",
            std::time::SystemTime::now(),
            std::process::id()
        ));
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{guard, is_command, neutralize};

    #[test]
    fn guarded_text_is_unchanged_between_a_stop_and_its_resume() {
        let plain = "diff --git a/t b/t\n+text\n";
        assert!(matches!(guard(plain), std::borrow::Cow::Borrowed(p) if p == plain));
        let hostile = "diff --git a/t b/t\n+##[error]x\n ::warning::y";
        let guarded = guard(hostile);
        let lines: Vec<&str> = guarded.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(lines.last().unwrap(), &format!("::{token}::"));
        assert_eq!(lines[1..lines.len() - 1].join("\n"), hostile);
        assert!(!hostile.contains(token));
        assert_ne!(guard(hostile), guarded, "a new token each time");
    }

    #[test]
    fn command_lines_are_recognized_as_the_runner_reads_them() {
        assert!(is_command("::error title=x::y"));
        assert!(is_command("  \t::add-mask::secret"));
        assert!(is_command("text ##[error]y"));
        assert!(!is_command("a ::error::y"), "not at the start of the line");
        assert!(!is_command(": :error::y"));
        assert!(!is_command("## [error]"));
    }

    #[test]
    fn no_line_of_neutralized_text_is_a_command_and_other_text_is_untouched() {
        let hostile = "ok\n::error title=t::m\r  ::stop-commands::x\nsee ##[warning]w ##[x]\n";
        let safe = neutralize(hostile);
        assert!(!safe.split(['\n', '\r']).any(is_command), "{safe:?}");
        assert_eq!(
            safe,
            "ok\n\\::error title=t::m\r  \\::stop-commands::x\nsee ##\\[warning]w ##\\[x]\n"
        );
        let plain = "1.24.2 (1.24, kind): 0 drifted\nx::y\n";
        assert!(matches!(neutralize(plain), std::borrow::Cow::Borrowed(p) if p == plain));
    }
}
