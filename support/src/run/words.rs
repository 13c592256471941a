//! Shell words of a documented command, as bash would split them, enough to judge a command
//! before it runs: simple commands (split at `|`, `||`, `&&`, `;`, `&`, newlines and
//! parentheses), leading `NAME=value` assignments, quotes removed, redirect targets and
//! heredoc bodies set aside as data, `$( … )` and backquoted commands read as commands too.
//!
//! Read byte by byte: the bytes of a multi-byte char are all 0x80 or more, never an ASCII byte
//! the shell reads as syntax, so a char is copied whole wherever it is split.
//!
//! Not a shell: no expansion happens (`$VAR` stays as written). One pass over the text; a command
//! substitution is read again once per level of nesting, and nesting is bounded.

/// A command as the shell would start it: its assignments, then its words (program first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    /// Leading `NAME=value` words, quotes removed.
    pub assignments: Vec<(String, String)>,
    /// The program and its arguments, quotes removed; redirections not included.
    pub words: Vec<String>,
    /// 0 for a command of the text itself; 1 inside one `$( … )` or backquote, and so on.
    pub depth: usize,
}

impl SimpleCommand {
    /// The program's file name (`./istio/bin/istioctl` → `istioctl`), if any.
    pub fn program(&self) -> Option<&str> {
        self.words
            .first()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
    }
}

/// A heredoc: its delimiter and its body, which is data to the command, never words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub delimiter: String,
    pub body: String,
    /// The index in [`Script::commands`] of the command that reads it.
    pub command: Option<usize>,
}

/// Everything a command text holds, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub commands: Vec<SimpleCommand>,
    pub heredocs: Vec<Heredoc>,
    /// `<name>` placeholders a reader must fill in (`kubectl logs <pod-id>`): bash would read
    /// them as redirections from a file named `name>`.
    pub placeholders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    #[error("unterminated {what} starting at byte {at}: close it as bash would need")]
    Unterminated { what: &'static str, at: usize },
    #[error("command substitutions nested more than {MAX_DEPTH} deep: write the command flatter")]
    TooDeep,
}

/// Words bash reads as syntax at the start of a command.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "time",
    "case", "esac", "for", "select", "in", "function", "[[", "]]", "coproc",
];

/// How deep `$( $( … ) )` may nest.
pub const MAX_DEPTH: usize = 8;

/// Reads `text` into its simple commands.
pub fn parse(text: &str) -> Result<Script, ShellError> {
    let mut script = Script::default();
    parse_into(text, 0, &mut script)?;
    Ok(script)
}

struct PendingHeredoc {
    delimiter: String,
    strip_tabs: bool,
    /// Set when the command it belongs to ends: `Some(index)`, or `None` for an empty command.
    command: Option<Option<usize>>,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    word: Vec<u8>,
    in_word: bool,
    /// Some of the current word was quoted (`'if'` is a program name, not syntax).
    quoted: bool,
    /// The `=` of a `NAME=` prefix was unquoted (an assignment if it leads the command).
    assignment_shape: bool,
    command: SimpleCommand,
    redirect_target: bool,
    pending: Vec<PendingHeredoc>,
    depth: usize,
}

fn parse_into(text: &str, depth: usize, script: &mut Script) -> Result<(), ShellError> {
    if depth > MAX_DEPTH {
        return Err(ShellError::TooDeep);
    }
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        word: Vec::new(),
        in_word: false,
        quoted: false,
        assignment_shape: false,
        command: SimpleCommand::default(),
        redirect_target: false,
        pending: Vec::new(),
        depth,
    };
    while r.at < r.bytes.len() {
        let b = r.bytes[r.at];
        match b {
            b' ' | b'\t' | b'\r' => {
                r.end_word();
                r.at += 1;
            }
            b'\n' => {
                r.end_word();
                r.end_command(script);
                r.at += 1;
                r.read_heredoc_bodies(script);
            }
            b'#' if !r.in_word => {
                while r.at < r.bytes.len() && r.bytes[r.at] != b'\n' {
                    r.at += 1;
                }
            }
            b'\'' => {
                let start = r.at;
                let end = find_byte(r.bytes, r.at + 1, b'\'').ok_or(ShellError::Unterminated {
                    what: "single quote",
                    at: start,
                })?;
                r.push(&r.bytes[start + 1..end]);
                r.quoted = true;
                r.at = end + 1;
            }
            b'"' => r.double_quoted(depth, script)?,
            b'\\' => {
                if r.at + 1 < r.bytes.len() {
                    if r.bytes[r.at + 1] != b'\n' {
                        r.push(&r.bytes[r.at + 1..r.at + 2]);
                        r.at += 2;
                    } else {
                        r.at += 2;
                    }
                } else {
                    r.at += 1;
                }
            }
            b'$' if r.peek(1) == Some(b'(') => r.substitution(depth, script)?,
            b'`' => r.backquoted(depth, script)?,
            b'|' | b'&' | b';' | b'(' | b')' => {
                if b == b'&' && r.peek(1) == Some(b'>') {
                    // `&>file` and `&>>file`: both streams to a file; the `>` is read as a
                    // redirection's.
                    r.end_word();
                    r.at += 1;
                    continue;
                }
                r.end_word();
                r.end_command(script);
                r.at += 1;
            }
            b'<' if r.placeholder(script) => {}
            b'<' | b'>' => r.redirection(),
            _ => {
                if b == b'=' && r.in_word && !r.assignment_shape && is_name(&r.word) {
                    r.assignment_shape = true;
                }
                r.push(&[b]);
                r.at += 1;
            }
        }
    }
    r.end_word();
    r.end_command(script);
    if let Some(p) = r.pending.first() {
        // bash runs an unterminated heredoc with a warning: its body ran to the end.
        script.heredocs.push(Heredoc {
            delimiter: p.delimiter.clone(),
            body: String::new(),
            command: p.command.flatten(),
        });
    }
    Ok(())
}

impl Reader<'_> {
    fn peek(&self, n: usize) -> Option<u8> {
        self.bytes.get(self.at + n).copied()
    }

    fn push(&mut self, data: &[u8]) {
        self.word.extend_from_slice(data);
        self.in_word = true;
    }

    fn end_word(&mut self) {
        if !self.in_word {
            return;
        }
        let word = String::from_utf8_lossy(&self.word).into_owned();
        self.word.clear();
        self.in_word = false;
        let quoted = std::mem::take(&mut self.quoted);
        let assignment = std::mem::take(&mut self.assignment_shape);
        if std::mem::take(&mut self.redirect_target) {
            return;
        }
        // `if`, `then`, `{`, `!` … lead into the command that follows; they are not its program.
        if self.command.words.is_empty() && RESERVED.contains(&word.as_str()) && !quoted {
            return;
        }
        if assignment
            && self.command.words.is_empty()
            && let Some((name, value)) = word.split_once('=')
        {
            self.command
                .assignments
                .push((name.to_string(), value.to_string()));
            return;
        }
        self.command.words.push(word);
    }

    fn end_command(&mut self, script: &mut Script) {
        let mut command = std::mem::take(&mut self.command);
        command.depth = self.depth;
        let index = if !command.words.is_empty() || !command.assignments.is_empty() {
            script.commands.push(command);
            Some(script.commands.len() - 1)
        } else {
            None
        };
        for p in self.pending.iter_mut().filter(|p| p.command.is_none()) {
            p.command = Some(index);
        }
    }

    fn double_quoted(&mut self, depth: usize, script: &mut Script) -> Result<(), ShellError> {
        let start = self.at;
        self.at += 1;
        self.in_word = true;
        self.quoted = true;
        loop {
            let Some(b) = self.peek(0) else {
                return Err(ShellError::Unterminated {
                    what: "double quote",
                    at: start,
                });
            };
            match b {
                b'"' => {
                    self.at += 1;
                    return Ok(());
                }
                b'\\' if matches!(self.peek(1), Some(b'"' | b'\\' | b'$' | b'`')) => {
                    self.word.push(self.bytes[self.at + 1]);
                    self.at += 2;
                }
                b'\\' if self.peek(1) == Some(b'\n') => self.at += 2,
                b'$' if self.peek(1) == Some(b'(') => self.substitution(depth, script)?,
                b'`' => self.backquoted(depth, script)?,
                _ => {
                    self.word.push(b);
                    self.at += 1;
                }
            }
        }
    }

    /// `$( … )` (its commands are read as commands) or `$(( … ))` (arithmetic: kept as text).
    fn substitution(&mut self, depth: usize, script: &mut Script) -> Result<(), ShellError> {
        let start = self.at;
        // From the `$`: the scan counts from the `(` after it.
        let end = matching_paren(self.bytes, start).ok_or(ShellError::Unterminated {
            what: "command substitution",
            at: start,
        })?;
        if self.peek(2) != Some(b'(') {
            parse_into(&self.text[start + 2..end], depth + 1, script)?;
        }
        self.push(&self.bytes[start..=end]);
        self.at = end + 1;
        Ok(())
    }

    fn backquoted(&mut self, depth: usize, script: &mut Script) -> Result<(), ShellError> {
        let start = self.at;
        let mut i = start + 1;
        while i < self.bytes.len() && self.bytes[i] != b'`' {
            i += if self.bytes[i] == b'\\' { 2 } else { 1 };
        }
        if i >= self.bytes.len() {
            return Err(ShellError::Unterminated {
                what: "backquote",
                at: start,
            });
        }
        parse_into(&self.text[start + 1..i], depth + 1, script)?;
        self.push(&self.bytes[start..=i]);
        self.at = i + 1;
        Ok(())
    }

    /// `<name>` where a reader is meant to fill in a value.
    fn placeholder(&mut self, script: &mut Script) -> bool {
        let rest = &self.bytes[self.at + 1..];
        let Some(first) = rest.first() else {
            return false;
        };
        if !first.is_ascii_alphabetic() {
            return false;
        }
        let len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .count();
        if rest.get(len) != Some(&b'>') {
            return false;
        }
        let name = &self.text[self.at..self.at + len + 2];
        script.placeholders.push(name.to_string());
        let bytes = name.as_bytes().to_vec();
        self.push(&bytes);
        self.at += len + 2;
        true
    }

    /// `<`, `>`, `>>`, `2>&1`, `<<EOF`, `<<-'EOF'`, `<<<word`: what follows is a file, a heredoc
    /// or a string, never an argument.
    fn redirection(&mut self) {
        // `2>`: the digits before the operator name a stream, not a word.
        if self.in_word
            && self.word.iter().all(u8::is_ascii_digit)
            && !self.assignment_shape
            && !self.quoted
        {
            self.word.clear();
            self.in_word = false;
        } else {
            self.end_word();
        }
        let op = self.bytes[self.at];
        self.at += 1;
        if op == b'<' && self.peek(0) == Some(b'<') {
            self.at += 1;
            if self.peek(0) == Some(b'<') {
                // `<<<word`: the third `<` is read next, as a redirection's, and the word is
                // its target.
                self.redirect_target = true;
                return;
            }
            let strip_tabs = self.peek(0) == Some(b'-');
            if strip_tabs {
                self.at += 1;
            }
            self.heredoc_delimiter(strip_tabs);
            return;
        }
        while matches!(self.peek(0), Some(b'>' | b'&' | b'|')) {
            self.at += 1;
        }
        self.redirect_target = true;
    }

    fn heredoc_delimiter(&mut self, strip_tabs: bool) {
        while matches!(self.peek(0), Some(b' ' | b'\t')) {
            self.at += 1;
        }
        let mut delimiter = Vec::new();
        while let Some(b) = self.peek(0) {
            match b {
                b'\'' | b'"' => {
                    let close = find_byte(self.bytes, self.at + 1, b).unwrap_or(self.bytes.len());
                    delimiter.extend_from_slice(&self.bytes[self.at + 1..close]);
                    self.at = (close + 1).min(self.bytes.len());
                }
                b'\\' => self.at += 1,
                b' ' | b'\t' | b'\n' | b';' | b'|' | b'&' | b'<' | b'>' | b'(' | b')' => break,
                _ => {
                    delimiter.push(b);
                    self.at += 1;
                }
            }
        }
        self.pending.push(PendingHeredoc {
            delimiter: String::from_utf8_lossy(&delimiter).into_owned(),
            strip_tabs,
            command: None,
        });
    }

    /// After a newline: the bodies of the heredocs opened on the line just read, in order.
    fn read_heredoc_bodies(&mut self, script: &mut Script) {
        for pending in std::mem::take(&mut self.pending) {
            let body_start = self.at;
            let mut body_end = self.bytes.len();
            while self.at < self.bytes.len() {
                let line_end = find_byte(self.bytes, self.at, b'\n').unwrap_or(self.bytes.len());
                let mut line = &self.text[self.at..line_end];
                if pending.strip_tabs {
                    line = line.trim_start_matches('\t');
                }
                let line_start = self.at;
                self.at = (line_end + 1).min(self.bytes.len());
                if line.trim_end_matches('\r') == pending.delimiter {
                    body_end = line_start;
                    break;
                }
            }
            script.heredocs.push(Heredoc {
                delimiter: pending.delimiter,
                body: self.text[body_start..body_end.max(body_start)].to_string(),
                command: pending.command.flatten(),
            });
        }
    }
}

fn is_name(word: &[u8]) -> bool {
    !word.is_empty()
        && !word[0].is_ascii_digit()
        && word.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|b| *b == needle)
        .map(|i| i + from)
}

/// The `)` closing the `(` at `open`, skipping quoted text.
fn matching_paren(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'\'' => i = find_byte(bytes, i + 1, b'\'')?,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// `value` as one shell word bash reads back unchanged: in single quotes, each `'` written as
/// `'\''` (nothing is special inside single quotes, newlines included). Linear in the value.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A shell variable name (`GATEWAY_HOST`): what may follow `export` and be carried.
pub fn is_variable_name(name: &str) -> bool {
    is_name(name.as_bytes())
}
