//! A patch for the docs: from one build's records, a unified diff against the tutorial file that
//! `git apply` accepts. Each stale block whose new text the suite observed whole (install output,
//! log lines, the waypoint declaration the era uses, the waypoint pod line) is replaced by that
//! text, indented as the block was; stale statements it cannot rewrite are listed in the patch's
//! header (which `git apply` skips).

use std::collections::BTreeMap;

use crate::claims::{Answer, ClaimRecord};
use crate::report::Build;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("the records hold {count} builds ({builds}): choose one with --istio <version>")]
    SeveralBuilds { count: usize, builds: String },
    #[error("no records of Istio {0}")]
    NoSuchBuild(String),
    #[error("no claim records")]
    NoRecords,
}

/// The patch, and what it could not do.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// The unified diff (empty when nothing could be rewritten).
    pub diff: String,
    /// Stale statements left to the maintainer, with why.
    pub notes: Vec<String>,
    pub replaced: usize,
}

/// One block to replace: lines `start..=end` of the file (1-based), with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Replacement {
    start: usize,
    end: usize,
    text: String,
    why: String,
}

/// Chooses the build whose records to use: the one given, or the only one.
pub fn select<'a>(
    records: &'a [ClaimRecord],
    istio: Option<&str>,
) -> Result<Vec<&'a ClaimRecord>, PatchError> {
    let mut builds: BTreeMap<Build, Vec<&ClaimRecord>> = BTreeMap::new();
    for r in records {
        builds
            .entry(Build {
                istio_version: r.istio_version.clone(),
                era: r.era.clone(),
                provider: r.provider.clone(),
            })
            .or_default()
            .push(r);
    }
    let chosen: Vec<(&Build, &Vec<&ClaimRecord>)> = match istio {
        Some(v) => builds
            .iter()
            .filter(|(b, _)| b.istio_version == v)
            .collect(),
        None => builds.iter().collect(),
    };
    match chosen.as_slice() {
        [] if istio.is_some() => Err(PatchError::NoSuchBuild(istio.unwrap_or_default().into())),
        [] => Err(PatchError::NoRecords),
        [(_, records)] => {
            // The newest record per claim.
            let mut newest: BTreeMap<&str, &ClaimRecord> = BTreeMap::new();
            for r in records.iter() {
                match newest.get(r.claim.as_str()) {
                    Some(old) if old.at >= r.at => {}
                    _ => {
                        newest.insert(&r.claim, r);
                    }
                }
            }
            Ok(newest.into_values().collect())
        }
        many => Err(PatchError::SeveralBuilds {
            count: many.len(),
            builds: many
                .iter()
                .map(|(b, _)| b.istio_version.clone())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Builds the patch of `tutorial` (its text; `path` is how the diff names it).
pub fn build(tutorial: &str, path: &str, records: &[&ClaimRecord]) -> Patch {
    let lines: Vec<&str> = tutorial.lines().collect();
    let mut patch = Patch::default();
    let mut replacements: Vec<Replacement> = Vec::new();
    for r in records {
        let Answer::DocStale {
            documented,
            era,
            replacement,
            ..
        } = &r.answer
        else {
            continue;
        };
        let what = format!(
            "{} ({}, {}): {} since {} ({})",
            r.claim, documented.expectation, documented.lines, era.fact, era.since, era.source
        );
        let Some(new) = replacement else {
            patch.notes.push(format!("{what}: rewrite by hand"));
            continue;
        };
        let current = lines
            .get(documented.lines.start.saturating_sub(1)..documented.lines.end.min(lines.len()))
            .map(|l| l.join("\n"));
        if current.as_deref() != Some(documented.text.as_str()) {
            patch.notes.push(format!(
                "{what}: the tutorial's {} no longer hold the text the run saw; run the suite against this copy again",
                documented.lines
            ));
            continue;
        }
        if replacements
            .iter()
            .any(|x| x.start <= documented.lines.end && documented.lines.start <= x.end)
        {
            continue; // several claims read the same block: one replacement is enough
        }
        let indent: String = documented
            .text
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let text = new
            .lines()
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indent}{l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        replacements.push(Replacement {
            start: documented.lines.start,
            end: documented.lines.end,
            text,
            why: what,
        });
    }
    replacements.sort_by_key(|r| r.start);
    patch.replaced = replacements.len();
    patch.diff = unified(&lines, path, &replacements, tutorial.ends_with('\n'));
    patch
}

/// A unified diff of `lines` with `replacements` applied, three lines of context, hunks that
/// touch merged.
fn unified(
    lines: &[&str],
    path: &str,
    replacements: &[Replacement],
    final_newline: bool,
) -> String {
    if replacements.is_empty() {
        return String::new();
    }
    const CONTEXT: usize = 3;
    // Group replacements whose contexts overlap into hunks.
    let mut hunks: Vec<Vec<&Replacement>> = Vec::new();
    for r in replacements {
        match hunks.last_mut() {
            Some(h) if h.last().is_some_and(|p| r.start <= p.end + 2 * CONTEXT + 1) => h.push(r),
            _ => hunks.push(vec![r]),
        }
    }
    let mut out = format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n");
    let mut shift: isize = 0;
    let last_line = lines.len();
    for hunk in hunks {
        let first = hunk[0].start.saturating_sub(CONTEXT).max(1);
        let last = (hunk[hunk.len() - 1].end + CONTEXT).min(last_line);
        let mut body = Vec::new();
        let mut old_count = 0;
        let mut new_count = 0;
        let mut n = first;
        for r in &hunk {
            while n < r.start {
                body.push(format!(" {}", lines[n - 1]));
                old_count += 1;
                new_count += 1;
                n += 1;
            }
            while n <= r.end {
                body.push(format!("-{}", lines[n - 1]));
                old_count += 1;
                n += 1;
            }
            for l in r.text.lines() {
                body.push(format!("+{l}"));
                new_count += 1;
            }
        }
        while n <= last {
            body.push(format!(" {}", lines[n - 1]));
            old_count += 1;
            new_count += 1;
            n += 1;
        }
        let new_start = (first as isize + shift).max(1);
        out.push_str(&format!(
            "@@ -{first},{old_count} +{new_start},{new_count} @@\n"
        ));
        for (i, l) in body.iter().enumerate() {
            out.push_str(l);
            out.push('\n');
            // The file's last line without a newline.
            if !final_newline && last == last_line && i + 1 == body.len() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
        shift += new_count as isize - old_count as isize;
    }
    out
}

impl Patch {
    /// The patch file: a header (what it does and what it leaves to the maintainer), then the
    /// diff.
    pub fn render(&self, build: &str) -> String {
        let mut out = format!(
            "Tutorial update from the suite's records of Istio {build}: {} block(s) replaced by what the suite observed.\n",
            self.replaced
        );
        if !self.notes.is_empty() {
            out.push_str("\nStale statements this patch does not rewrite:\n");
            for n in &self.notes {
                out.push_str(&format!("  - {n}\n"));
            }
        }
        out.push('\n');
        out.push_str(&self.diff);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Patch, Replacement, unified};

    fn replacing(line: usize) -> Replacement {
        Replacement {
            start: line,
            end: line,
            text: format!("new {line}"),
            why: String::new(),
        }
    }

    #[test]
    fn replacements_whose_context_touches_share_a_hunk_and_others_do_not() {
        let text: Vec<String> = (1..=30).map(|n| format!("line {n}")).collect();
        let lines: Vec<&str> = text.iter().map(String::as_str).collect();
        let hunks = |second: usize| {
            let diff = unified(&lines, "t.md", &[replacing(10), replacing(second)], true);
            diff.lines().filter(|l| l.starts_with("@@")).count()
        };
        // Line 10's context ends at 13; line 17's starts at 14: one hunk. Line 18's starts at 15,
        // leaving line 14 out of both: two.
        assert_eq!(hunks(17), 1);
        assert_eq!(hunks(18), 2);
        assert_eq!(hunks(11), 1);
        // The second hunk's new start accounts for the first one's change in length.
        let longer = Replacement {
            text: "new 10\nand\nmore".into(),
            ..replacing(10)
        };
        let diff = unified(&lines, "t.md", &[longer, replacing(25)], true);
        assert!(diff.contains("@@ -7,7 +7,9 @@\n"), "{diff}");
        assert!(diff.contains("@@ -22,7 +24,7 @@\n"), "{diff}");
    }

    #[test]
    fn a_tutorial_without_a_final_newline_keeps_it_that_way() {
        let lines = [
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        ];
        let marker = "\\ No newline at end of file\n";
        // The hunk reaches the last line: the marker follows it, once.
        let at_end = unified(&lines, "t.md", &[replacing(8)], false);
        assert!(at_end.ends_with(&format!(" nine\n{marker}")), "{at_end}");
        assert_eq!(at_end.matches(marker).count(), 1);
        // With the final newline, or a hunk short of the end, no marker.
        assert!(!unified(&lines, "t.md", &[replacing(8)], true).contains(marker));
        assert!(!unified(&lines, "t.md", &[replacing(2)], false).contains(marker));
    }

    #[test]
    fn the_patch_file_lists_what_it_leaves_to_the_maintainer_only_when_there_is_some() {
        let plain = Patch {
            diff: "diff --git a/t.md b/t.md\n".into(),
            replaced: 1,
            notes: vec![],
        };
        let text = plain.render("1.24.2");
        assert!(
            text.starts_with(
                "Tutorial update from the suite's records of Istio 1.24.2: 1 block(s)"
            )
        );
        assert!(!text.contains("does not rewrite"), "{text}");
        assert!(text.ends_with("\ndiff --git a/t.md b/t.md\n"), "{text}");
        let noted = Patch {
            notes: vec!["installation.ztunnel_node_selector: rewrite by hand".into()],
            ..plain
        };
        let text = noted.render("1.24.2");
        assert!(
            text.contains(
                "does not rewrite:\n  - installation.ztunnel_node_selector: rewrite by hand\n"
            ),
            "{text}"
        );
    }
}
