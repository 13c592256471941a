//! The drift timeline: claims (rows, in tutorial order) × Istio builds (columns, ordered by Istio
//! version, then by the commit's date), each cell the answer the claim got on that build, and the
//! build where a claim's answer changed marked. Drawn as an SVG (no script: it shows as an image
//! in a job summary and as a file) and as a text table for terminals.
//!
//! A build is an Istio version, the commit it came from (when the records name one) and the
//! provider: two sources of the same label (`1.31-dev`) are two columns. When several runs
//! answered a claim on one build, the newest record is the answer. A claim a build has no record
//! of is shown as such ("no record"), distinct from "not reached". A change is a decided answer
//! (as documented, doc stale, drifted) that differs from the claim's previous decided answer, to
//! its left: not applicable, not reached and no record neither start nor end one.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::claims::{Answer, CLAIMS, ClaimRecord};
use crate::eras::{IstioVersion, VersionKind};

/// What a cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    AsDocumented,
    DocStale,
    Drifted,
    NotApplicable,
    NotReached,
    /// The build has no record of the claim.
    NoRecord,
}

impl Mark {
    pub const ALL: [Mark; 6] = [
        Mark::AsDocumented,
        Mark::DocStale,
        Mark::Drifted,
        Mark::NotApplicable,
        Mark::NotReached,
        Mark::NoRecord,
    ];

    pub fn of(answer: &Answer) -> Mark {
        match answer {
            // A format 1 record's `holds`: it matched its one reference, the document then.
            Answer::AsDocumented | Answer::Holds => Mark::AsDocumented,
            Answer::DocStale { .. } => Mark::DocStale,
            Answer::Drifted { .. } => Mark::Drifted,
            Answer::NotApplicable { .. } => Mark::NotApplicable,
            Answer::NotReached { .. } => Mark::NotReached,
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Mark::AsDocumented => "as documented",
            Mark::DocStale => "doc stale",
            Mark::Drifted => "drifted",
            Mark::NotApplicable => "n/a",
            Mark::NotReached => "not reached",
            Mark::NoRecord => "no record",
        }
    }

    /// One character for the text table.
    pub fn symbol(self) -> char {
        match self {
            Mark::AsDocumented => '=',
            Mark::DocStale => 'S',
            Mark::Drifted => 'D',
            Mark::NotApplicable => '-',
            Mark::NotReached => '?',
            Mark::NoRecord => '.',
        }
    }

    /// Fill colour in the SVG (also told apart by the cell's letter, for colour-blind readers).
    fn colour(self) -> &'static str {
        match self {
            Mark::AsDocumented => "#2da44e",
            Mark::DocStale => "#e3b341",
            Mark::Drifted => "#cf222e",
            Mark::NotApplicable => "#d0d7de",
            Mark::NotReached => "#8250df",
            Mark::NoRecord => "#ffffff",
        }
    }

    /// Whether the answer says something about the document (a change is counted between these).
    pub fn is_decided(self) -> bool {
        matches!(self, Mark::AsDocumented | Mark::DocStale | Mark::Drifted)
    }
}

/// One column: an Istio build on a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub istio_version: String,
    pub istio_commit: Option<String>,
    pub istio_commit_date: Option<String>,
    pub era: String,
    pub provider: String,
}

impl Build {
    /// `1.31-dev b01690e6db7d 2026-04-23 (1.24, sim)`
    pub fn label(&self) -> String {
        let mut s = short_version(&self.istio_version);
        if let Some(c) = &self.istio_commit {
            let commit: String = c.chars().take(12).collect();
            if !s.contains(&commit) {
                s.push(' ');
                s.push_str(&commit);
            }
        }
        if let Some(d) = &self.istio_commit_date {
            s.push(' ');
            s.push_str(d.get(..10).unwrap_or(d));
        }
        format!("{s} ({}, {})", self.era, self.provider)
    }

    /// The column order: version (releases after the dev builds and sources of their minor),
    /// then the commit's date, provider and commit; a version this suite cannot read goes last.
    fn order_key(&self) -> impl Ord + use<> {
        let version = match IstioVersion::parse(&self.istio_version) {
            Ok(v) => {
                let (kind, patch, pre) = match &v.kind {
                    VersionKind::ExperimentalAmbient { .. } => (0u8, 0, None),
                    VersionKind::DevBuild { .. } | VersionKind::Source => (0, 0, None),
                    VersionKind::Release { patch, pre } => (1, *patch, pre.clone()),
                };
                // A pre-release before its release.
                Ok((v.major, v.minor, kind, patch, pre.is_none(), pre))
            }
            Err(_) => Err(self.istio_version.clone()),
        };
        (
            version,
            self.istio_commit_date.clone(),
            self.provider.clone(),
            self.istio_commit.clone(),
        )
    }
}

/// A 40-hex build id cut to 12 characters, like git's short ids.
fn short_version(v: &str) -> String {
    match v.rsplit_once('.') {
        Some((head, sha)) if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{head}.{}", &sha[..12])
        }
        _ => v.to_string(),
    }
}

/// One row: a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub claim: String,
    /// Whether this suite knows the claim (records may name claims of another version).
    pub known: bool,
}

/// One cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub mark: Mark,
    /// The claim's decided answer differs from its previous one, to the left.
    pub changed: bool,
}

/// Rows × columns of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub rows: Vec<Row>,
    pub builds: Vec<Build>,
    /// `cells[row][column]`
    pub cells: Vec<Vec<Cell>>,
}

impl Timeline {
    /// Builds the timeline from records of any number of runs: one pass over the records, one
    /// over the cells (the columns are sorted once).
    pub fn from_records(records: &[ClaimRecord]) -> Timeline {
        let mut rows: Vec<Row> = CLAIMS
            .iter()
            .map(|c| Row {
                claim: c.name().to_string(),
                known: true,
            })
            .collect();
        // Every claim the suite knows is a row, even one no build recorded ("no record").
        let mut row_of: HashMap<String, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.claim.clone(), i))
            .collect();
        type Key = (String, Option<String>, String);
        let mut column_of: HashMap<Key, usize> = HashMap::new();
        let mut builds: Vec<Build> = Vec::new();
        // (row, column) -> index of the newest record.
        let mut newest: HashMap<(usize, usize), usize> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            let key = (
                r.istio_version.clone(),
                r.istio_commit.clone(),
                r.provider.clone(),
            );
            let column = *column_of.entry(key).or_insert_with(|| {
                builds.push(Build {
                    istio_version: r.istio_version.clone(),
                    istio_commit: r.istio_commit.clone(),
                    istio_commit_date: r.istio_commit_date.clone(),
                    era: r.era.clone(),
                    provider: r.provider.clone(),
                });
                builds.len() - 1
            });
            let build = &mut builds[column];
            if build.istio_commit_date.is_none() {
                build.istio_commit_date = r.istio_commit_date.clone();
            }
            let row = *row_of.entry(r.claim.clone()).or_insert_with(|| {
                rows.push(Row {
                    claim: r.claim.clone(),
                    known: false,
                });
                rows.len() - 1
            });
            newest
                .entry((row, column))
                .and_modify(|j| {
                    if records[*j].at <= r.at {
                        *j = i;
                    }
                })
                .or_insert(i);
        }
        // Columns in build order; `position[old] = new`.
        let mut order: Vec<usize> = (0..builds.len()).collect();
        order.sort_by_cached_key(|&c| builds[c].order_key());
        let mut position = vec![0; builds.len()];
        for (new, &old) in order.iter().enumerate() {
            position[old] = new;
        }
        let mut cells = vec![
            vec![
                Cell {
                    mark: Mark::NoRecord,
                    changed: false,
                };
                builds.len()
            ];
            rows.len()
        ];
        for ((row, column), i) in newest {
            cells[row][position[column]].mark = Mark::of(&records[i].answer);
        }
        for row in &mut cells {
            let mut previous: Option<Mark> = None;
            for cell in row.iter_mut().filter(|c| c.mark.is_decided()) {
                cell.changed = previous.is_some_and(|p| p != cell.mark);
                previous = Some(cell.mark);
            }
        }
        let builds = order.into_iter().map(|c| builds[c].clone()).collect();
        Timeline {
            rows,
            builds,
            cells,
        }
    }

    /// The text table: a numbered list of builds, then one line per claim.
    pub fn text(&self) -> String {
        let mut out = format!(
            "drift timeline: {} claims x {} builds (oldest left)\n",
            self.rows.len(),
            self.builds.len()
        );
        for (i, b) in self.builds.iter().enumerate() {
            let _ = writeln!(out, "  {:>3}  {}", i + 1, b.label());
        }
        out.push_str("legend:");
        for m in Mark::ALL {
            let _ = write!(out, "  {} {}", m.symbol(), m.words());
        }
        out.push_str("  * changed here\n");
        let width = self
            .rows
            .iter()
            .map(|r| r.claim.chars().count() + usize::from(!r.known) * 2)
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = write!(out, "{:<width$}", "claim");
        for i in 0..self.builds.len() {
            let _ = write!(out, " {:>3}", i + 1);
        }
        out.push('\n');
        for (row, cells) in self.rows.iter().zip(&self.cells) {
            let name = if row.known {
                row.claim.clone()
            } else {
                format!("{} ?", row.claim)
            };
            let _ = write!(out, "{name:<width$}");
            for c in cells {
                let _ = write!(
                    out,
                    "  {}{}",
                    c.mark.symbol(),
                    if c.changed { '*' } else { ' ' }
                );
            }
            out.push('\n');
        }
        if self.rows.iter().any(|r| !r.known) {
            out.push_str(
                "(a claim marked ? is not one this suite checks: records of another version)\n",
            );
        }
        out
    }

    /// The SVG: a grid with the claims on the left, the builds' labels on top (slanted), a letter
    /// in each cell, a black corner on a "changed here" cell, and a legend below.
    pub fn svg(&self) -> String {
        const CELL: usize = 24;
        const CHAR: usize = 8; // a 12 px monospace character is 7.2 px wide, with room to spare
        let name_width = self
            .rows
            .iter()
            .map(|r| r.claim.chars().count() + usize::from(!r.known) * 2)
            .max()
            .unwrap_or(5)
            * CHAR
            + 16;
        let label_width = self
            .builds
            .iter()
            .map(|b| b.label().chars().count())
            .max()
            .unwrap_or(0)
            * 7;
        // Labels slant up-right at 45°: they need this much height, and width past the last column.
        let header = label_width * 71 / 100 + 40;
        let grid_w = self.builds.len() * CELL;
        let grid_h = self.rows.len() * CELL;
        let legend_y = header + grid_h + 40;
        let legend_h = 3 * 22 + 10;
        let width = (name_width + grid_w + label_width * 71 / 100 + 20).max(name_width + 560);
        let height = legend_y + legend_h;
        let mut s = String::with_capacity(256 + self.rows.len() * self.builds.len() * 160);
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">"#
        );
        let _ = writeln!(
            s,
            r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="8" y="20" font-size="14" font-weight="bold">Drift timeline: {} claims × {} builds (oldest left)</text>"#,
            self.rows.len(),
            self.builds.len()
        );
        for (i, b) in self.builds.iter().enumerate() {
            let x = name_width + i * CELL + CELL / 2;
            let y = header - 6;
            let _ = writeln!(
                s,
                r#"<text x="{x}" y="{y}" font-size="11" transform="rotate(-45 {x} {y})">{}</text>"#,
                xml(&b.label())
            );
        }
        for (r, (row, cells)) in self.rows.iter().zip(&self.cells).enumerate() {
            let y = header + r * CELL;
            if r % 2 == 1 {
                let _ = writeln!(
                    s,
                    r##"<rect x="0" y="{y}" width="{}" height="{CELL}" fill="#f6f8fa"/>"##,
                    name_width
                );
            }
            // A rule between the tutorial's sections.
            let section = row.claim.split('.').next();
            if r > 0 && section != self.rows[r - 1].claim.split('.').next() {
                let _ = writeln!(
                    s,
                    r##"<line x1="0" y1="{y}" x2="{}" y2="{y}" stroke="#57606a" stroke-width="1"/>"##,
                    name_width + grid_w
                );
            }
            let name = if row.known {
                row.claim.clone()
            } else {
                format!("{} ?", row.claim)
            };
            let _ = writeln!(
                s,
                r#"<text x="8" y="{}">{}</text>"#,
                y + CELL / 2 + 4,
                xml(&name)
            );
            for (c, cell) in cells.iter().enumerate() {
                let x = name_width + c * CELL;
                let _ = write!(
                    s,
                    r##"<g><title>{} on {}: {}{}</title><rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#57606a" stroke-width="0.5"{}/>"##,
                    xml(&row.claim),
                    xml(&self.builds[c].label()),
                    cell.mark.words(),
                    if cell.changed { " (changed here)" } else { "" },
                    x + 1,
                    y + 1,
                    CELL - 2,
                    CELL - 2,
                    cell.mark.colour(),
                    if cell.mark == Mark::NoRecord {
                        r#" stroke-dasharray="2 2""#
                    } else {
                        ""
                    }
                );
                let ink = match cell.mark {
                    Mark::Drifted | Mark::NotReached | Mark::AsDocumented => "#ffffff",
                    _ => "#24292f",
                };
                let _ = write!(
                    s,
                    r#"<text x="{}" y="{}" text-anchor="middle" fill="{ink}" font-size="11">{}</text>"#,
                    x + CELL / 2,
                    y + CELL / 2 + 4,
                    xml(&cell.mark.symbol().to_string())
                );
                if cell.changed {
                    let _ = write!(
                        s,
                        r##"<path d="M{} {} h-9 l9 9 z" fill="#000000"/>"##,
                        x + CELL - 1,
                        y + 1
                    );
                }
                s.push_str("</g>\n");
            }
        }
        // Column numbers under the grid: the text table's numbering.
        for c in 0..self.builds.len() {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="#57606a">{}</text>"##,
                name_width + c * CELL + CELL / 2,
                header + grid_h + 14,
                c + 1
            );
        }
        // Legend: three per line.
        for (i, m) in Mark::ALL.iter().enumerate() {
            let x = 8 + (i % 3) * 180;
            let y = legend_y + (i / 3) * 22;
            let _ = writeln!(
                s,
                r##"<rect x="{x}" y="{y}" width="16" height="16" fill="{}" stroke="#57606a" stroke-width="0.5"{}/><text x="{}" y="{}" text-anchor="middle" font-size="10" fill="{}">{}</text><text x="{}" y="{}">{}</text>"##,
                m.colour(),
                if *m == Mark::NoRecord {
                    r#" stroke-dasharray="2 2""#
                } else {
                    ""
                },
                x + 8,
                y + 12,
                match m {
                    Mark::Drifted | Mark::NotReached | Mark::AsDocumented => "#ffffff",
                    _ => "#24292f",
                },
                xml(&m.symbol().to_string()),
                x + 22,
                y + 12,
                m.words()
            );
        }
        let y = legend_y + 2 * 22;
        let _ = writeln!(
            s,
            r##"<rect x="8" y="{y}" width="16" height="16" fill="#ffffff" stroke="#57606a" stroke-width="0.5"/><path d="M23 {} h-9 l9 9 z" fill="#000000"/><text x="30" y="{}">changed here: the first build where the claim's answer differs from the build before</text>"##,
            y + 1,
            y + 12
        );
        s.push_str("</svg>\n");
        s
    }
}

/// Text for SVG: the five XML specials escaped, control characters dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_specials_cannot_open_markup() {
        assert_eq!(
            xml("<a href=\"x\">&'\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
