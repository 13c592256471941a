//! The tutorial's Markdown as the suite reads it: headings, fenced code blocks and prose, each with
//! the lines it occupies in the file (1-based, inclusive), so every expectation drawn from it can
//! name its lines.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

/// Lines of the tutorial file, 1-based and inclusive.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
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

/// A fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The nearest heading above it.
    pub heading: String,
    /// Its info string's first word (`bash`, `yaml`, ...).
    pub lang: String,
    /// The lines of its content (between the fences).
    pub lines: Lines,
    /// Its content with the list indentation removed, as Markdown renders it.
    pub content: String,
    /// The prose just before it (the last paragraph or quote since the previous block).
    pub lead: String,
}

/// A paragraph or a quoted paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prose {
    pub heading: String,
    pub lines: Lines,
    /// Its text on one line (soft breaks as spaces), as a reader sees it.
    pub text: String,
}

/// The parts of the document the suite reads, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub headings: Vec<(String, Lines)>,
    pub blocks: Vec<Block>,
    pub prose: Vec<Prose>,
}

/// Maps byte offsets to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// Prose being read: a paragraph, or the loose text of a tight list item.
struct OpenProse {
    text: String,
    start: usize,
    end: usize,
}

/// The parser's state between events.
struct Reader {
    index: LineIndex,
    doc: Document,
    heading: String,
    open_heading: Option<(String, usize)>,
    open_block: Option<(String, usize, String)>,
    prose: Option<OpenProse>,
    lead: String,
}

impl Reader {
    fn close_prose(&mut self) {
        let Some(p) = self.prose.take() else { return };
        let text = p.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return;
        }
        self.lead = text.clone();
        self.doc.prose.push(Prose {
            heading: self.heading.clone(),
            lines: Lines {
                start: self.index.line(p.start),
                end: self.index.line(p.end.saturating_sub(1)),
            },
            text,
        });
    }

    fn event(&mut self, event: Event<'_>, range: std::ops::Range<usize>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) if level <= HeadingLevel::H4 => {
                self.close_prose();
                self.open_heading = Some((String::new(), range.start));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((h, start)) = self.open_heading.take() {
                    self.heading = h.trim().to_string();
                    let line = self.index.line(start);
                    let lines = Lines {
                        start: line,
                        end: line,
                    };
                    self.doc.headings.push((self.heading.clone(), lines));
                    self.lead.clear();
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                self.close_prose();
                let lang = info
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                self.open_block = Some((lang, range.start, String::new()));
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((lang, start, content)) = self.open_block.take() {
                    // The fences are the first and last lines of the range.
                    let first = self.index.line(start) + 1;
                    let last = self
                        .index
                        .line(range.end.saturating_sub(1))
                        .saturating_sub(1);
                    self.doc.blocks.push(Block {
                        heading: self.heading.clone(),
                        lang,
                        lines: Lines {
                            start: first,
                            end: last.max(first),
                        },
                        content,
                        lead: std::mem::take(&mut self.lead),
                    });
                }
            }
            Event::Start(Tag::Paragraph) | Event::Start(Tag::Item) => self.close_prose(),
            Event::End(TagEnd::Paragraph) | Event::End(TagEnd::Item) => self.close_prose(),
            Event::Text(t) | Event::Code(t) => {
                if let Some((h, _)) = self.open_heading.as_mut() {
                    h.push_str(&t);
                } else if let Some((_, _, b)) = self.open_block.as_mut() {
                    b.push_str(&t);
                } else {
                    let p = self.prose.get_or_insert(OpenProse {
                        text: String::new(),
                        start: range.start,
                        end: range.end,
                    });
                    p.text.push_str(&t);
                    p.end = p.end.max(range.end);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(p) = self.prose.as_mut() {
                    p.text.push(' ');
                }
            }
            _ => {}
        }
    }
}

/// Reads a Markdown document. Never fails: what Markdown cannot parse is prose.
pub fn parse(text: &str) -> Document {
    let mut reader = Reader {
        index: LineIndex::new(text),
        doc: Document::default(),
        heading: String::new(),
        open_heading: None,
        open_block: None,
        prose: None,
        lead: String::new(),
    };
    for (event, range) in Parser::new(text).into_offset_iter() {
        reader.event(event, range);
    }
    reader.close_prose();
    reader.doc
}

/// The file's own lines `lines` (with their indentation), joined by newlines: the verbatim text.
pub fn verbatim(text: &str, lines: Lines) -> String {
    text.lines()
        .skip(lines.start.saturating_sub(1))
        .take(lines.end + 1 - lines.start)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# T\n\n## Setup\n1. Install\n    ```bash\n    tool install\n    ```\n    You should see:\n    ```bash\n    ok one\n    ok two\n    ```\n> A note\n> on two lines.\n";

    #[test]
    fn blocks_and_prose_know_their_lines() {
        let doc = parse(DOC);
        assert_eq!(doc.headings[1].0, "Setup");
        assert_eq!(doc.blocks.len(), 2);
        assert_eq!(doc.blocks[0].lines, Lines { start: 6, end: 6 });
        assert_eq!(doc.blocks[0].content, "tool install\n");
        assert_eq!(doc.blocks[1].lines, Lines { start: 10, end: 11 });
        assert_eq!(doc.blocks[1].lead, "You should see:");
        assert_eq!(verbatim(DOC, doc.blocks[1].lines), "    ok one\n    ok two");
        let note = doc.prose.last().unwrap();
        assert_eq!(note.text, "A note on two lines.");
        assert_eq!(note.lines, Lines { start: 13, end: 14 });
    }

    #[test]
    fn anything_is_a_document() {
        assert_eq!(parse(""), Document::default());
        let odd = parse("```\nunterminated");
        assert_eq!(odd.blocks.len(), 1);
    }
}
