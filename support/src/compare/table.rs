//! kubectl tables, compared by column.
//!
//! Reading: a table starts at a header line (upper-case column names such as `NAME`, `READY`,
//! `NODE SELECTOR`, `PORT(S)`, separated by two or more spaces) and runs until a blank line or the
//! next header, so `kubectl get all`'s several tables are read apart. Cells are split at runs of
//! two or more spaces (kubectl's tabwriter pads with at least three, and a cell such as
//! `1 (5m ago)` or `cpu: <unknown>/80%` holds single spaces); a row that does not split into as
//! many cells as the header has columns is cut at the header's column positions instead.
//!
//! Comparing: tables are paired by their kind (the `pod/` of `pod/istiod-…` in `kubectl get all`)
//! and header; rows by `NAMESPACE` and `NAME`, where names are equal when they are the same
//! generated name ([`super::names::generated`]: ReplicaSet and pod suffixes may differ, the base
//! and the shape may not). Then every cell of every column is compared, with these
//! normalizations only:
//! - `AGE`, `LAST SEEN`, `DURATION`: any age equals any age;
//! - `CLUSTER-IP`, `IP`, `INTERNAL-IP`: any address equals any address (`None` only `None`);
//! - `EXTERNAL-IP`, `ADDRESS`: an address, a host name or `<pending>` are equal (the load balancer
//!   is the provider's); `<none>` only `<none>`;
//! - `PORT(S)`, `PORTS`: NodePorts masked (`15021:32651/TCP` is `15021:<nodeport>/TCP`);
//! - `ENDPOINTS`: IPv4 addresses masked.
//!
//! `READY`, `STATUS`, `RESTARTS`, `TYPE` and every other column are compared as written. A
//! documented row missing, an extra row in a documented table, a changed cell or a changed
//! header all differ. [`Extent`] decides about whole tables the document does not show.
//!
//! Rows without a header (an excerpt such as three `pod/istio-cni-node-…` lines) are an excerpt:
//! each must be a row of a seen table with as many columns, compared cell by cell as above;
//! other seen rows are allowed. Seen rows without a header (`kubectl get pod | grep waypoint`)
//! are read with `NAME` first and the other columns unnamed: an unnamed cell is compared
//! exactly, except an age against an age and an address against an address.

use std::collections::{HashMap, VecDeque};

use super::names::{generated, is_age, is_ip, mask_ipv4, mask_node_ports};
use super::{Comparison, Difference, Side};

/// What the document's tables promise about tables it does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// "You should see": a seen table the document does not show differs.
    Exact,
    /// "Output along the line of": every documented table is compared as exactly as with
    /// [`Extent::Exact`] (its rows and cells), but a whole table of a kind the document does not
    /// show (a newer release adding a kind of object) is allowed.
    AlongTheLines,
}

/// A row: its cells in header order, its line number (1-based) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub cells: Vec<String>,
    pub line: usize,
    pub text: String,
}

/// One table of an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column names; empty for headerless rows (an excerpt).
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The resource kind of the rows (`pod` of `pod/x`), if the names carry one.
    pub fn kind(&self) -> Option<&str> {
        let name = self.column("NAME").unwrap_or(0);
        let first = self.rows.first()?.cells.get(name)?;
        first.split_once('/').map(|(kind, _)| kind)
    }
}

/// Splits at runs of two or more blanks (a tab counts as a run); returns each cell's text and its
/// starting column (in characters).
fn split_cells(line: &str) -> Vec<(usize, String)> {
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut blanks = 0;
    for (col, c) in line.chars().enumerate() {
        if c == ' ' || c == '\t' {
            blanks += if c == '\t' { 2 } else { 1 };
            continue;
        }
        if blanks >= 2 && !current.is_empty() {
            cells.push((start, std::mem::take(&mut current)));
        } else if blanks == 1 && !current.is_empty() {
            current.push(' ');
        }
        if current.is_empty() {
            start = col;
        }
        blanks = 0;
        current.push(c);
    }
    if !current.is_empty() {
        cells.push((start, current));
    }
    cells
}

fn is_header_cell(cell: &str) -> bool {
    cell.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && cell.chars().all(|c| {
            c.is_ascii_uppercase()
                || c.is_ascii_digit()
                || matches!(c, ' ' | '(' | ')' | '-' | '_' | '.' | '/' | '%')
        })
}

fn header_of(line: &str) -> Option<Vec<(usize, String)>> {
    let cells = split_cells(line);
    let first = cells.first()?;
    let plausible = cells.len() >= 2 || first.1 == "NAME";
    (plausible && cells.iter().all(|(_, c)| is_header_cell(c))).then_some(cells)
}

/// Cuts `line` at the header's column positions.
fn cut_at(line: &str, starts: &[usize]) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let to = starts.get(i + 1).copied().unwrap_or(chars.len());
            let from = from.min(chars.len());
            let to = to.clamp(from, chars.len());
            chars[from..to]
                .iter()
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect()
}

/// Reads every table of `text`; lines before the first header form a headerless table.
pub fn parse(text: &str) -> Vec<Table> {
    let mut tables: Vec<Table> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut open = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            open = false;
            continue;
        }
        if let Some(header) = header_of(line) {
            starts = header.iter().map(|(s, _)| *s).collect();
            tables.push(Table {
                header: header.into_iter().map(|(_, c)| c).collect(),
                rows: Vec::new(),
            });
            open = true;
            continue;
        }
        let cells = split_cells(line);
        if !open {
            tables.push(Table {
                header: Vec::new(),
                rows: Vec::new(),
            });
            starts.clear();
            open = true;
        }
        let Some(table) = tables.last_mut() else {
            continue;
        };
        let cells = if table.header.is_empty() || cells.len() == table.header.len() {
            cells.into_iter().map(|(_, c)| c).collect()
        } else {
            cut_at(line, &starts)
        };
        table.rows.push(Row {
            cells,
            line: n + 1,
            text: line.trim().to_string(),
        });
    }
    tables
}

/// Whether two cells of column `column` are equal, after that column's normalization.
pub fn cell_equal(column: &str, expected: &str, seen: &str) -> bool {
    if expected == seen {
        return true;
    }
    match column {
        "NAME" => {
            let (e, s) = (generated(expected), generated(seen));
            e.like(&s)
        }
        "AGE" | "LAST SEEN" | "DURATION" => is_age(expected) && is_age(seen),
        "CLUSTER-IP" | "IP" | "INTERNAL-IP" => is_ip(expected) && is_ip(seen),
        "EXTERNAL-IP" | "ADDRESS" => {
            let assigned = |v: &str| v == "<pending>" || is_ip(v) || is_host(v);
            assigned(expected) && assigned(seen)
        }
        "PORT(S)" | "PORTS" => mask_node_ports(expected) == mask_node_ports(seen),
        "ENDPOINTS" => mask_ipv4(expected) == mask_ipv4(seen),
        // A column without a header (rows cut out of a table by grep): only what verify.sh
        // allows any token, an age for an age, an address for an address.
        "" => (is_age(expected) && is_age(seen)) || (is_ip(expected) && is_ip(seen)),
        _ => false,
    }
}

fn is_host(v: &str) -> bool {
    v.contains('.')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

type Key = (String, String, bool, bool);

fn row_key(table: &Table, row: &Row) -> Key {
    let name_col = table.column("NAME").unwrap_or(0);
    let ns = table
        .column("NAMESPACE")
        .and_then(|i| row.cells.get(i))
        .cloned()
        .unwrap_or_default();
    let name = row.cells.get(name_col).map(String::as_str).unwrap_or("");
    let g = generated(name);
    (ns, g.base.to_string(), g.hash, g.suffix)
}

fn row_name(table: &Table, row: &Row) -> String {
    let name_col = table.column("NAME").unwrap_or(0);
    row.cells.get(name_col).cloned().unwrap_or_default()
}

/// Compares the rows of one documented table with one seen table of the same header.
fn compare_rows(expected: &Table, seen: &Table, excerpt: bool, out: &mut Vec<Difference>) {
    // Rows are paired by their exact name first (the same run), then by generated name.
    let mut by_name: HashMap<(String, String), VecDeque<usize>> = HashMap::new();
    let mut by_key: HashMap<Key, VecDeque<usize>> = HashMap::new();
    for (i, row) in seen.rows.iter().enumerate() {
        let key = row_key(seen, row);
        by_name
            .entry((key.0.clone(), row_name(seen, row)))
            .or_default()
            .push_back(i);
        by_key.entry(key).or_default().push_back(i);
    }
    let mut used = vec![false; seen.rows.len()];
    let take = |queue: Option<&mut VecDeque<usize>>, used: &[bool]| {
        let queue = queue?;
        while let Some(i) = queue.pop_front() {
            if !used[i] {
                return Some(i);
            }
        }
        None
    };
    for row in &expected.rows {
        let key = row_key(seen, row);
        let exact = take(
            by_name.get_mut(&(key.0.clone(), row_name(seen, row))),
            &used,
        );
        let Some(i) = exact.or_else(|| take(by_key.get_mut(&key), &used)) else {
            out.push(Difference::new("row missing", &row.text, ""));
            continue;
        };
        used[i] = true;
        let other = &seen.rows[i];
        let name = row_name(seen, other);
        if row.cells.len() != other.cells.len() {
            out.push(Difference::new(
                format!("cells of {name}"),
                &row.text,
                &other.text,
            ));
            continue;
        }
        for (col, (e, s)) in seen.header.iter().zip(row.cells.iter().zip(&other.cells)) {
            if !cell_equal(col, e, s) {
                out.push(Difference::new(format!("{col} of {name}"), e, s));
            }
        }
    }
    if !excerpt {
        for (row, _) in seen.rows.iter().zip(&used).filter(|(_, u)| !**u) {
            out.push(Difference::new("extra row", "", &row.text));
        }
    }
}

/// Compares the tables `expected` shows with those `seen` printed (see the module comment).
pub fn compare(expected: &str, seen: &str, extent: Extent) -> Comparison {
    let expected_tables = parse(expected);
    let seen_tables = parse(seen);
    if expected_tables.is_empty() {
        return Comparison::unreadable(Side::Expected, "no table rows in the documented output");
    }
    let mut out = Vec::new();
    let mut used = vec![false; seen_tables.len()];
    // Seen tables by header and kind, and by kind alone: one lookup per documented table.
    type Index<K> = HashMap<K, VecDeque<usize>>;
    let mut by_header: Index<(Vec<String>, Option<String>)> = HashMap::new();
    let mut by_kind: Index<Option<String>> = HashMap::new();
    for (i, t) in seen_tables
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.header.is_empty())
    {
        let kind = t.kind().map(str::to_string);
        by_header
            .entry((t.header.clone(), kind.clone()))
            .or_default()
            .push_back(i);
        by_kind.entry(kind).or_default().push_back(i);
    }
    for table in &expected_tables {
        if table.header.is_empty() {
            excerpt(table, &seen_tables, &mut out);
            continue;
        }
        let exact = by_header
            .get_mut(&(table.header.clone(), table.kind().map(str::to_string)))
            .and_then(|q| {
                while let Some(i) = q.pop_front() {
                    if !used[i] {
                        return Some(i);
                    }
                }
                None
            });
        let candidate = exact.or_else(|| {
            by_kind
                .get_mut(&table.kind().map(str::to_string))
                .and_then(|q| {
                    while let Some(i) = q.pop_front() {
                        if !used[i] {
                            return Some(i);
                        }
                    }
                    None
                })
        });
        match candidate.map(|i| (i, &seen_tables[i])) {
            Some((i, t)) if t.header == table.header => {
                used[i] = true;
                compare_rows(table, t, false, &mut out);
            }
            Some((i, t)) => {
                used[i] = true;
                out.push(Difference::new(
                    "header",
                    table.header.join("  "),
                    t.header.join("  "),
                ));
            }
            None => out.push(Difference::new(
                "table missing",
                table.header.join("  "),
                "",
            )),
        }
    }
    let only_excerpts = expected_tables.iter().all(|t| t.header.is_empty());
    if extent == Extent::Exact && !only_excerpts {
        for (t, _) in seen_tables.iter().zip(&used).filter(|(_, u)| !**u) {
            if !t.header.is_empty() {
                out.push(Difference::new("extra table", "", t.header.join("  ")));
            }
        }
    }
    Comparison::from_differences(out)
}

/// Headerless documented rows: each must be a row of some seen table with as many columns (rows
/// with the same name are matched one to one, so three documented rows need three seen ones).
fn excerpt(rows: &Table, seen: &[Table], out: &mut Vec<Difference>) {
    // (columns, key) → the first seen table holding such a row: one lookup per documented row.
    let mut homes: HashMap<(usize, Key), usize> = HashMap::new();
    // Seen rows without a header (`kubectl get pod | grep waypoint`) get one: NAME first, the
    // other columns unnamed.
    let seen: Vec<Table> = seen
        .iter()
        .map(|t| {
            if t.header.is_empty() {
                let width = t.rows.first().map_or(0, |r| r.cells.len());
                let mut header = vec![String::new(); width];
                if let Some(first) = header.first_mut() {
                    *first = "NAME".to_string();
                }
                Table {
                    header,
                    rows: t.rows.clone(),
                }
            } else {
                t.clone()
            }
        })
        .collect();
    for (i, t) in seen
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.header.is_empty())
    {
        for r in &t.rows {
            homes.entry((t.header.len(), row_key(t, r))).or_insert(i);
        }
    }
    let mut groups: Vec<Vec<Row>> = vec![Vec::new(); seen.len()];
    for row in &rows.rows {
        let n = row.cells.len();
        // kubectl puts NAME first, or NAMESPACE then NAME (`-A`).
        let cell = |i: usize| row.cells.get(i).map(String::as_str).unwrap_or("");
        let key = |ns: &str, name: &str| {
            let g = generated(name);
            (ns.to_string(), g.base.to_string(), g.hash, g.suffix)
        };
        let home = homes
            .get(&(n, key("", cell(0))))
            .or_else(|| homes.get(&(n, key(cell(0), cell(1)))));
        match home {
            Some(&i) => groups[i].push(row.clone()),
            None => out.push(Difference::new("row missing", &row.text, "")),
        }
    }
    for (group, table) in groups.into_iter().zip(&seen) {
        if !group.is_empty() {
            let documented = Table {
                header: table.header.clone(),
                rows: group,
            };
            compare_rows(&documented, table, true, out);
        }
    }
}
