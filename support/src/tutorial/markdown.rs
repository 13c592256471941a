//! A tutorial page as the suite reads it: headings, code blocks and prose, each with the lines it
//! occupies in the file (1-based, inclusive), so every expectation drawn from it can name its lines.
//!
//! Code blocks are Markdown fences (```` ``` ```` or `~~~`, at any indentation, as in list items)
//! and istio.io's Hugo shortcodes (`{{< text bash >}}` … `{{< /text >}}`, with `syntax=`,
//! `snip_id=`, `outputis=` attributes). The page is read one line at a time, once: time linear in
//! its size, and what it keeps is a small multiple of it.

/// Lines of the tutorial file, 1-based and inclusive.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Lines {
    pub start: usize,
    pub end: usize,
}

impl std::fmt::Display for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.start == self.end {
            write!(f, "line {}", self.start)
        } else {
            write!(f, "lines {}-{}", self.start, self.end)
        }
    }
}

impl Lines {
    pub fn one(line: usize) -> Self {
        Lines {
            start: line,
            end: line,
        }
    }
}

/// A heading's text, shared by everything under it (a long heading over many blocks is kept
/// once, not once per block).
#[derive(Debug, Clone, Eq, PartialOrd, Ord)]
pub struct Heading(std::sync::Arc<str>);

impl PartialEq for Heading {
    fn eq(&self, other: &Self) -> bool {
        // The same heading shared by two blocks compares without reading it.
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Default for Heading {
    fn default() -> Self {
        Heading(std::sync::Arc::from(""))
    }
}

impl Heading {
    pub fn new(text: &str) -> Self {
        Heading(std::sync::Arc::from(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this very heading (the same one in the page, not an equal text).
    pub fn is(&self, other: &Heading) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl From<&str> for Heading {
    fn from(s: &str) -> Self {
        Heading::new(s)
    }
}

impl From<String> for Heading {
    fn from(s: String) -> Self {
        Heading::new(&s)
    }
}

impl std::ops::Deref for Heading {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Heading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Heading {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Heading {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl serde::Serialize for Heading {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// How a code block is written.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fence {
    /// A Markdown fence; its info string.
    #[default]
    Markdown,
    /// istio.io's `{{< text … >}}` shortcode.
    Shortcode,
}

/// A code block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    /// The nearest heading above it.
    pub heading: Heading,
    /// Its language, lowercased: the fence's first info word, or the shortcode's `syntax=` or
    /// first bare word (`bash`, `yaml`, ...); empty when it names none.
    pub lang: String,
    pub fence: Fence,
    /// The shortcode's attributes (`snip_id`, `outputis`, ...) or the fence's further info words
    /// (`key=value`, or `word` with an empty value).
    pub attrs: Vec<(String, String)>,
    /// The line that opens it (the fence or the shortcode).
    pub opened_at: usize,
    /// The lines of its content (between the fences).
    pub lines: Lines,
    /// Its content with the indentation of its opening line removed, as Markdown renders it;
    /// every line ends with a newline.
    pub content: String,
    /// The prose just before it (the last paragraph or quote since the previous block).
    pub lead: String,
}

impl Block {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A paragraph or a quoted paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prose {
    pub heading: Heading,
    pub lines: Lines,
    /// Its text on one line (soft breaks as spaces, links as their text), as a reader sees it.
    pub text: String,
}

/// A shortcode standing on its own line that is not a code block (`{{< boilerplate x >}}`,
/// `{{< tip >}}`, `{{< image … >}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcode {
    pub heading: Heading,
    pub line: usize,
    /// Its name (`boilerplate`, `tip`, `/tip`, ...).
    pub name: String,
    /// The rest of it, as written.
    pub args: String,
}

/// The parts of the document the suite reads, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub headings: Vec<(Heading, Lines)>,
    pub blocks: Vec<Block>,
    pub prose: Vec<Prose>,
    pub shortcodes: Vec<Shortcode>,
}

/// A code block being read.
struct OpenBlock {
    /// `Some((char, length))` for a Markdown fence, `None` for a shortcode.
    fence: Option<(char, usize)>,
    indent: usize,
    block: Block,
    last: usize,
}

/// A paragraph being read.
struct OpenProse {
    text: String,
    start: usize,
    end: usize,
    quoted: bool,
}

struct Reader {
    doc: Document,
    heading: Heading,
    prose: Option<OpenProse>,
    lead: String,
}

impl Reader {
    fn close_prose(&mut self) {
        let Some(p) = self.prose.take() else { return };
        let text = inline_text(&p.text);
        if text.is_empty() {
            return;
        }
        self.lead = text.clone();
        self.doc.prose.push(Prose {
            heading: self.heading.clone(),
            lines: Lines {
                start: p.start,
                end: p.end,
            },
            text,
        });
    }

    fn prose_line(&mut self, n: usize, line: &str) {
        let (quoted, rest) = strip_quote(line);
        let (item, rest) = strip_list_marker(rest);
        let interrupts = match &self.prose {
            Some(p) => item || (quoted && !p.quoted),
            None => false,
        };
        if interrupts {
            self.close_prose();
        }
        let p = self.prose.get_or_insert(OpenProse {
            text: String::new(),
            start: n,
            end: n,
            quoted,
        });
        if !p.text.is_empty() {
            p.text.push(' ');
        }
        p.text.push_str(rest.trim());
        p.end = n;
    }

    fn heading(&mut self, n: usize, text: String) {
        self.close_prose();
        self.heading = Heading::new(&text);
        self.doc
            .headings
            .push((self.heading.clone(), Lines::one(n)));
        self.lead.clear();
    }
}

/// The indentation of a line, in columns (a tab counts as four).
fn indentation(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// `line` without up to `columns` columns of leading indentation.
fn dedent(line: &str, columns: usize) -> &str {
    let mut taken = 0;
    for (i, c) in line.char_indices() {
        if taken >= columns || (c != ' ' && c != '\t') {
            return &line[i..];
        }
        taken += if c == '\t' { 4 } else { 1 };
    }
    ""
}

fn strip_quote(line: &str) -> (bool, &str) {
    let mut rest = line.trim_start();
    let mut quoted = false;
    while let Some(r) = rest.strip_prefix('>') {
        quoted = true;
        rest = r.trim_start();
    }
    (quoted, rest)
}

/// A list item's marker (`*`, `-`, `+`, `1.`, `1)`) removed, and whether there was one.
fn strip_list_marker(line: &str) -> (bool, &str) {
    let t = line.trim_start();
    for m in ["* ", "- ", "+ "] {
        if let Some(r) = t.strip_prefix(m) {
            return (true, r);
        }
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let r = &t[digits..];
        if let Some(r) = r.strip_prefix(". ").or_else(|| r.strip_prefix(") ")) {
            return (true, r);
        }
    }
    (false, t)
}

/// An ATX heading (`## Title {#anchor}`): its level and text.
fn atx_heading(line: &str) -> Option<(usize, String)> {
    if indentation(line) > 3 {
        return None;
    }
    let t = line.trim();
    let level = t.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let mut text = rest.trim().trim_end_matches('#').trim_end();
    // Hugo's heading ids: `{#useawaypoint}`.
    if text.ends_with('}')
        && let Some(i) = text.rfind("{#")
    {
        text = text[..i].trim_end();
    }
    Some((level, inline_text(text)))
}

/// A fence opening: its character, length and info string.
fn fence_open(line: &str) -> Option<(char, usize, &str)> {
    let t = line.trim_start();
    let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|x| *x == c).count();
    if len < 3 {
        return None;
    }
    let info = t[len..].trim();
    if c == '`' && info.contains('`') {
        return None;
    }
    Some((c, len, info))
}

fn fence_closes(line: &str, c: char, len: usize) -> bool {
    let t = line.trim();
    let run = t.chars().take_while(|x| *x == c).count();
    run >= len && t.len() == run * c.len_utf8()
}

/// A shortcode standing alone on its line: `{{< name args >}}` or `{{% … %}}`.
fn shortcode(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    let inner = t
        .strip_prefix("{{<")
        .and_then(|r| r.strip_suffix(">}}"))
        .or_else(|| t.strip_prefix("{{%").and_then(|r| r.strip_suffix("%}}")))?;
    // One shortcode, not several on a line.
    if inner.contains("}}") {
        return None;
    }
    let inner = inner.trim();
    let (name, args) = match inner.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (inner, ""),
    };
    // `{{</ tip >}}` is written too.
    let name = if name == "/" {
        format!("/{}", args.split_whitespace().next().unwrap_or_default())
    } else {
        name.to_string()
    };
    Some((name, args.to_string()))
}

/// Splits shortcode or info-string words into attributes: `syntax=bash`, `snip_id="x"`, `bash`.
fn attributes(args: &str) -> Vec<(String, String)> {
    args.split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.trim_matches(['"', '\'']).to_string()),
            None => (w.trim_matches(['"', '\'']).to_string(), String::new()),
        })
        .collect()
}

/// Inline Markdown as a reader sees it: links and images as their text, no code ticks, no
/// strong emphasis, no inline shortcodes. One pass over the text.
pub fn inline_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{<") || rest.starts_with("{{%") {
            match rest.find("}}") {
                Some(i) => {
                    rest = &rest[i + 2..];
                    continue;
                }
                None => {
                    out.push_str(rest);
                    break;
                }
            }
        }
        if rest.starts_with("**") || rest.starts_with("__") {
            rest = &rest[2..];
            continue;
        }
        if c == '`' {
            rest = &rest[1..];
            continue;
        }
        if c == '!' && rest[1..].starts_with('[') {
            rest = &rest[1..];
            continue;
        }
        if c == ']' && rest[1..].starts_with('(') {
            // The link's target, up to its closing parenthesis (within the line).
            if let Some(i) = rest.find(')') {
                rest = &rest[i + 1..];
                continue;
            }
        }
        if c == '[' {
            rest = &rest[1..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a document. Never fails: what is no heading or code block is prose.
pub fn parse(text: &str) -> Document {
    let mut reader = Reader {
        doc: Document::default(),
        heading: Heading::default(),
        prose: None,
        lead: String::new(),
    };
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // A trailing newline ends the last line; it does not start another.
    let count = if text.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    let mut i = front_matter_end(&lines[..count]);
    let mut open: Option<OpenBlock> = None;
    let mut in_comment = false;
    while i < count {
        let n = i + 1;
        let line = lines[i];
        i += 1;
        if let Some(b) = open.as_mut() {
            let closes = match b.fence {
                Some((c, len)) => fence_closes(line, c, len),
                None => shortcode(line).is_some_and(|(name, _)| name == "/text"),
            };
            if closes {
                let b = open.take().expect("a block is open");
                reader.doc.blocks.push(finish(b));
            } else {
                b.block.content.push_str(dedent(line, b.indent));
                b.block.content.push('\n');
                b.last = n;
            }
            continue;
        }
        if in_comment {
            in_comment = !line.contains("-->");
            continue;
        }
        if line.trim().is_empty() {
            reader.close_prose();
            continue;
        }
        if line.trim_start().starts_with("<!--") {
            reader.close_prose();
            in_comment = !line.contains("-->");
            continue;
        }
        let (_, unquoted) = strip_quote(line);
        let (_, unlisted) = strip_list_marker(unquoted);
        if let Some((level, heading)) = atx_heading(line).or_else(|| atx_heading(unlisted)) {
            if level <= 4 {
                reader.heading(n, heading);
            } else {
                // `#####` notes inside a section: not a section of their own.
                reader.close_prose();
            }
            continue;
        }
        if let Some((c, len, info)) = fence_open(line) {
            reader.close_prose();
            let mut words = attributes(info).into_iter();
            let lang = words.next().map(|(k, _)| k).unwrap_or_default();
            open = Some(OpenBlock {
                fence: Some((c, len)),
                indent: indentation(line),
                block: new_block(&mut reader, n, lang.to_ascii_lowercase(), words.collect()),
                last: n,
            });
            open.as_mut().expect("just opened").block.fence = Fence::Markdown;
            continue;
        }
        if let Some((name, args)) = shortcode(line) {
            reader.close_prose();
            if name == "text" {
                let attrs = attributes(&args);
                let lang = attrs
                    .iter()
                    .find(|(k, _)| k == "syntax")
                    .or_else(|| attrs.iter().find(|(_, v)| v.is_empty()))
                    .map(|(k, v)| if v.is_empty() { k } else { v })
                    .cloned()
                    .unwrap_or_default();
                let mut block = new_block(&mut reader, n, lang.to_ascii_lowercase(), attrs);
                block.fence = Fence::Shortcode;
                open = Some(OpenBlock {
                    fence: None,
                    indent: indentation(line),
                    block,
                    last: n,
                });
            } else {
                reader.doc.shortcodes.push(Shortcode {
                    heading: reader.heading.clone(),
                    line: n,
                    name,
                    args,
                });
            }
            continue;
        }
        reader.prose_line(n, line);
    }
    // An unterminated block runs to the end of the file.
    if let Some(b) = open.take() {
        reader.doc.blocks.push(finish(b));
    }
    reader.close_prose();
    reader.doc
}

fn new_block(
    reader: &mut Reader,
    opened_at: usize,
    lang: String,
    attrs: Vec<(String, String)>,
) -> Block {
    Block {
        heading: reader.heading.clone(),
        lang,
        fence: Fence::Markdown,
        attrs,
        opened_at,
        lines: Lines::default(), // known when it closes ([`finish`])
        content: String::new(),
        lead: std::mem::take(&mut reader.lead),
    }
}

fn finish(open: OpenBlock) -> Block {
    let mut block = open.block;
    let first = block.opened_at + 1;
    block.lines = Lines {
        start: first,
        end: open.last.max(first),
    };
    block
}

/// Where a YAML front matter (`---` … `---` at the top) ends: the index of the first line after
/// it, or 0 without one.
fn front_matter_end(lines: &[&str]) -> usize {
    if lines.first().map(|l| l.trim_end()) != Some("---") {
        return 0;
    }
    lines
        .iter()
        .skip(1)
        .position(|l| l.trim_end() == "---")
        .map_or(0, |i| i + 2)
}

/// The lines of a text, to quote any range of them in time proportional to the range: the text
/// once, and where each line starts.
#[derive(Debug, Clone, Default)]
pub struct Source {
    text: String,
    /// Byte offsets of the line starts (as `str::lines` splits: a final newline starts none).
    starts: Vec<usize>,
}

impl Source {
    pub fn new(text: &str) -> Self {
        let mut starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        if starts.last() == Some(&text.len()) {
            starts.pop();
        }
        Source {
            text: text.to_string(),
            starts,
        }
    }

    /// The bytes of lines `first..=last` (0-based, clamped), their final newline included.
    fn span(&self, first: usize, last: usize) -> &str {
        let count = self.starts.len();
        if first >= count || first > last {
            return "";
        }
        let from = self.starts[first];
        let to = self
            .starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        &self.text[from..to]
    }

    /// The file's own lines `lines` (with their indentation), joined by newlines: the verbatim
    /// text.
    pub fn verbatim(&self, lines: Lines) -> String {
        if lines.end == 0 || lines.end < lines.start {
            return String::new();
        }
        self.span(lines.start.saturating_sub(1), lines.end - 1)
            .lines()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Line `n` (1-based), verbatim.
    pub fn line(&self, n: usize) -> Option<&str> {
        let i = n.checked_sub(1)?;
        if i >= self.starts.len() {
            return None;
        }
        self.span(i, i).lines().next().or(Some(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# T\n\n## Setup\n1. Install\n    ```bash\n    tool install\n    ```\n    You should see:\n    ```bash\n    ok one\n    ok two\n    ```\n> A note\n> on two lines.\n";

    #[test]
    fn inline_markdown_reads_as_its_text() {
        for (markdown, text) in [
            (
                "Run **this** and __that__ with `kubectl`",
                "Run this and that with kubectl",
            ),
            (
                "see [the page](https://x.y/a) and ![img](i.png) now",
                "see the page and img now",
            ),
            (
                "a {{< gloss >}}waypoint{{< /gloss >}} b {{% note %}}c",
                "a waypoint b c",
            ),
            ("open {{< never closed", "open {{< never closed"),
            // A link that never closes keeps its text as written.
            ("an [unclosed](link", "an unclosed](link"),
        ] {
            assert_eq!(inline_text(markdown), text, "{markdown}");
        }
    }

    #[test]
    fn comments_and_front_matter_are_not_prose() {
        let doc = parse(
            "---\ntitle: T\n---\n# H\n<!-- one line -->\nText one.\n\n<!--\nhidden\n-->\nText two.\n",
        );
        let texts: Vec<&str> = doc.prose.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["Text one.", "Text two."]);
        assert_eq!(front_matter_end(&["---", "a: b", "---", "x"]), 3);
        assert_eq!(front_matter_end(&["x", "---", "y", "---"]), 0);
        assert_eq!(front_matter_end(&["---", "a: b"]), 0);
    }

    #[test]
    fn verbatim_lines_and_their_edges() {
        let text = "a\nb\nc\n";
        let source = Source::new(text);
        for (lines, want) in [
            (Lines { start: 2, end: 3 }, "b\nc"),
            (Lines { start: 1, end: 1 }, "a"),
            (Lines { start: 3, end: 2 }, ""),
            (Lines { start: 0, end: 0 }, ""),
            (Lines { start: 4, end: 9 }, ""),
        ] {
            assert_eq!(source.verbatim(lines), want, "{lines:?}");
        }
    }

    #[test]
    fn headings_compare_by_text_and_are_made_from_text() {
        let a = Heading::new("Setup");
        assert_eq!(a, Heading::new("Setup"));
        assert_ne!(a, Heading::new("Set up"));
        assert!(<Heading as PartialEq<str>>::eq(&a, "Setup"));
        assert!(!<Heading as PartialEq<str>>::eq(&a, "Set up"));
        assert!(a == "Setup" && a != "Set up");
        assert_eq!(Heading::from("Setup"), a);
        assert_eq!(Heading::from(String::from("Setup")), a);
        // The same heading, not an equal text.
        assert!(a.is(&a.clone()) && !a.is(&Heading::new("Setup")));
    }

    #[test]
    fn indentation_counts_a_tab_as_four_columns_and_dedent_takes_at_most_those_asked() {
        assert_eq!(indentation("\t  x"), 6);
        assert_eq!(indentation("  x"), 2);
        assert_eq!(indentation("x  "), 0);
        assert_eq!(dedent("\t  x", 4), "  x");
        assert_eq!(dedent("    x", 2), "  x");
        assert_eq!(dedent("  x", 4), "x");
        assert_eq!(dedent("\tx", 2), "x");
        assert_eq!(dedent("   ", 2), " ");
        assert_eq!(dedent(" ", 4), "");
    }

    #[test]
    fn headings_fences_and_their_near_misses() {
        assert_eq!(atx_heading("   ## Title"), Some((2, "Title".to_string())));
        for not_a_heading in ["    ## Title", "     ## Title", "##Title", "####### Seven"] {
            assert_eq!(atx_heading(not_a_heading), None, "{not_a_heading}");
        }
        assert_eq!(fence_open("```bash"), Some(('`', 3, "bash")));
        assert_eq!(fence_open("  ~~~~ a`b"), Some(('~', 4, "a`b")));
        for not_a_fence in ["``x", "``` a`b", "*** x", "--- x"] {
            assert_eq!(fence_open(not_a_fence), None, "{not_a_fence}");
        }
        assert!(fence_closes("  ```  ", '`', 3) && fence_closes("````", '`', 3));
        assert!(!fence_closes("``", '`', 3) && !fence_closes("``` x", '`', 3));
        assert!(!fence_closes("~~~", '`', 3));
    }

    #[test]
    fn blocks_and_prose_know_their_lines() {
        let doc = parse(DOC);
        assert_eq!(doc.headings[1].0, "Setup");
        assert_eq!(doc.blocks.len(), 2);
        assert_eq!(doc.blocks[0].lines, Lines { start: 6, end: 6 });
        assert_eq!(doc.blocks[0].content, "tool install\n");
        assert_eq!(doc.blocks[0].lead, "Install");
        assert_eq!(doc.blocks[1].lines, Lines { start: 10, end: 11 });
        assert_eq!(doc.blocks[1].lead, "You should see:");
        assert_eq!(
            Source::new(DOC).verbatim(doc.blocks[1].lines),
            "    ok one\n    ok two"
        );
        let source = Source::new(DOC);
        assert_eq!(
            source.verbatim(doc.blocks[1].lines),
            "    ok one\n    ok two"
        );
        assert_eq!(source.line(14), Some("> on two lines."));
        assert_eq!(source.line(15), None);
        assert_eq!(source.line(0), None);
        assert_eq!(
            source.verbatim(Lines { start: 14, end: 99 }),
            "> on two lines."
        );
        assert_eq!(
            Source::new("a\r\nb").verbatim(Lines { start: 1, end: 2 }),
            "a\nb"
        );
        let note = doc.prose.last().unwrap();
        assert_eq!(note.text, "A note on two lines.");
        assert_eq!(note.lines, Lines { start: 13, end: 14 });
    }

    #[test]
    fn anything_is_a_document() {
        assert_eq!(parse(""), Document::default());
        let odd = parse("```\nunterminated");
        assert_eq!(odd.blocks.len(), 1);
        assert_eq!(odd.blocks[0].content, "unterminated\n");
        let shortcode = parse("{{< text bash >}}\n$ ls");
        assert_eq!(shortcode.blocks.len(), 1);
    }

    #[test]
    fn hugo_shortcodes_are_blocks_with_their_attributes() {
        let page = "---\ntitle: x\n---\n## Try {#try}\n\nRun it:\n\n    {{< text syntax=bash snip_id=try_it >}}\n    $ kubectl get pods\n    # not a heading\n    {{< /text >}}\n\n{{< text yaml >}}\na: b\n{{</ text >}}\n{{< boilerplate gateway-api-install-crds >}}\n";
        let doc = parse(page);
        assert_eq!(doc.headings, [(Heading::new("Try"), Lines::one(4))]);
        assert_eq!(doc.blocks.len(), 2, "{doc:?}");
        let b = &doc.blocks[0];
        assert_eq!(b.lang, "bash");
        assert_eq!(b.fence, Fence::Shortcode);
        assert_eq!(b.attr("snip_id"), Some("try_it"));
        assert_eq!(b.lead, "Run it:");
        assert_eq!(b.lines, Lines { start: 9, end: 10 });
        assert_eq!(b.content, "$ kubectl get pods\n# not a heading\n");
        assert_eq!(doc.blocks[1].lang, "yaml");
        assert_eq!(doc.blocks[1].content, "a: b\n");
        assert_eq!(doc.shortcodes.len(), 1);
        assert_eq!(doc.shortcodes[0].name, "boilerplate");
        assert_eq!(doc.shortcodes[0].line, 16);
        // The front matter is no prose.
        assert!(doc.prose.iter().all(|p| !p.text.contains("title")));
    }

    #[test]
    fn prose_reads_as_rendered() {
        assert_eq!(
            inline_text(
                "see [the **docs**](https://x/y) and `kubectl` ![img](a.png) {{< gloss >}}mesh{{< /gloss >}}"
            ),
            "see the docs and kubectl img mesh"
        );
        // A quote interrupts a paragraph; a plain line continues a quote (lazily).
        let doc = parse("1. Step one\n   > Note that\n   > this.\n   More.\n");
        let texts: Vec<&str> = doc.prose.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["Step one", "Note that this. More."]);
        assert_eq!(doc.prose[1].lines, Lines { start: 2, end: 4 });
    }

    #[test]
    fn a_fence_closes_only_on_its_own_character_and_length() {
        let doc = parse("````bash\n```\ninside\n````\nafter\n");
        assert_eq!(doc.blocks.len(), 1);
        assert_eq!(doc.blocks[0].content, "```\ninside\n");
        assert_eq!(doc.prose[0].text, "after");
    }
}
