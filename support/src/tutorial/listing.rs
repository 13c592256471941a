//! kubectl's tables as the tutorial shows them (`kubectl -n istio-system get all`, `kubectl get
//! pod`): columns are separated by two or more spaces (a header such as `NODE SELECTOR` keeps its
//! single space), objects are named `<kind>/<name>`, tables are separated by blank lines.

use std::collections::BTreeMap;

use super::markdown::Lines;

/// One row: the object and its columns by header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// `pod`, `service`, `daemonset.apps`, ... (empty when the table shows no kind).
    pub kind: String,
    pub name: String,
    pub columns: BTreeMap<String, String>,
    /// The row's line in the file.
    pub line: usize,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns.get(column).map(String::as_str)
    }

    /// The name without what Kubernetes generated: `istiod-6f9c757686-kw5z4` → `istiod`,
    /// `ztunnel-5qpn7` → `ztunnel`, `istiod-6f9c757686` (a ReplicaSet) → `istiod`.
    pub fn base_name(&self) -> &str {
        base_name(&self.name)
    }
}

/// A table: its header and rows, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
    pub lines: Lines,
}

impl Table {
    /// The kind of the objects it lists (the first row's), e.g. `service`.
    pub fn kind(&self) -> &str {
        self.rows.first().map_or("", |r| r.kind.as_str())
    }

    /// Rows whose generated suffixes stripped give `base`.
    pub fn named(&self, base: &str) -> Vec<&Row> {
        self.rows.iter().filter(|r| r.base_name() == base).collect()
    }
}

/// A table line's cells: two or more spaces, or a tab, end a cell; one space is inside it
/// (`NODE SELECTOR`).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut spaces = 0;
    let mut tab = false;
    for c in line.trim().chars() {
        if c.is_whitespace() {
            spaces += 1;
            tab |= c == '\t';
            continue;
        }
        if spaces >= 2 || tab {
            out.push(std::mem::take(&mut cell));
        } else if spaces == 1 {
            cell.push(' ');
        }
        spaces = 0;
        tab = false;
        cell.push(c);
    }
    if !cell.is_empty() {
        out.push(cell);
    }
    out
}

/// Reads tables from `text`, whose first line is line `first_line` of the file. A table starts at
/// a line whose first cell is `NAME` (a header); without one, rows are read against `headers`
/// (for `kubectl get pod | grep ...`, which prints no header).
pub fn parse(text: &str, first_line: usize, headers: Option<&[&str]>) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut current: Option<Table> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = first_line + i;
        let row = cells(raw);
        if row.is_empty() {
            tables.extend(current.take().filter(|t| !t.rows.is_empty()));
            continue;
        }
        if row[0] == "NAME" {
            tables.extend(current.take().filter(|t| !t.rows.is_empty()));
            current = Some(Table {
                headers: row,
                rows: Vec::new(),
                lines: Lines {
                    start: line,
                    end: line,
                },
            });
            continue;
        }
        let table = current.get_or_insert_with(|| Table {
            headers: headers
                .unwrap_or(&[])
                .iter()
                .map(|h| h.to_string())
                .collect(),
            rows: Vec::new(),
            lines: Lines {
                start: line,
                end: line,
            },
        });
        let (kind, name) = match row[0].rsplit_once('/') {
            Some((k, n)) => (k.to_string(), n.to_string()),
            None => (String::new(), row[0].clone()),
        };
        let columns = table
            .headers
            .iter()
            .cloned()
            .zip(row.iter().cloned())
            .skip(1)
            .collect();
        table.rows.push(Row {
            kind,
            name,
            columns,
            line,
        });
        table.lines.end = line;
    }
    tables.extend(current.filter(|t| !t.rows.is_empty()));
    tables
}

/// Whether `s` is made only of the characters Kubernetes draws generated names from
/// (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0, 1, 3).
fn generated(s: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&s.len())
        && s.bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
}

/// A generated object name without its generated parts.
pub fn base_name(name: &str) -> &str {
    let mut base = name;
    // A pod's random suffix (5), then a ReplicaSet's pod-template hash (6-10).
    if let Some((rest, suffix)) = base.rsplit_once('-')
        && generated(suffix, 5..=5)
    {
        base = rest;
    }
    if let Some((rest, hash)) = base.rsplit_once('-')
        && generated(hash, 6..=10)
    {
        base = rest;
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_parts_are_stripped_words_are_not() {
        assert_eq!(
            base_name("istio-ingressgateway-dd667dbb7-z64jh"),
            "istio-ingressgateway"
        );
        assert_eq!(base_name("istiod-6f9c757686"), "istiod");
        assert_eq!(base_name("ztunnel-5qpn7"), "ztunnel");
        assert_eq!(base_name("istio-cni-node-tc8fn"), "istio-cni-node");
        assert_eq!(
            base_name("bookinfo-productpage-waypoint-proxy-fcf74c55d-j9zm5"),
            "bookinfo-productpage-waypoint-proxy"
        );
        assert_eq!(base_name("istiod"), "istiod");
        assert_eq!(base_name("reviews-v1"), "reviews-v1");
        // Near misses: five letters not all of the generator's; the generator's letters, four.
        assert_eq!(base_name("istio-proxy"), "istio-proxy");
        assert_eq!(base_name("app-bcdf"), "app-bcdf");
    }

    #[test]
    fn a_header_starts_a_new_table_and_a_header_with_no_rows_is_no_table() {
        let t = parse(
            "NAME  READY\npod/a  1/1\nNAME  TYPE\nservice/b  ClusterIP\n",
            1,
            None,
        );
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].kind(), t[1].kind()), ("pod", "service"));
        let t = parse("NAME  READY\nNAME  TYPE\nservice/b  ClusterIP\n", 1, None);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].kind(), "service");
    }

    #[test]
    fn a_tab_or_two_spaces_end_a_cell_and_one_space_does_not() {
        assert_eq!(
            cells("NAME\tREADY\tNODE SELECTOR"),
            ["NAME", "READY", "NODE SELECTOR"]
        );
        assert_eq!(
            cells("  NODE SELECTOR  AGE \t X"),
            ["NODE SELECTOR", "AGE", "X"]
        );
        assert_eq!(cells("a b"), ["a b"]);
        assert!(cells("   ").is_empty());
    }

    #[test]
    fn tables_split_on_blank_lines_and_keep_two_word_headers() {
        let text = "NAME   READY   NODE SELECTOR   AGE\ndaemonset.apps/ztunnel   3   <none>   14m\n\nNAME  TYPE\nservice/istiod   ClusterIP\n";
        let t = parse(text, 10, None);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].headers, ["NAME", "READY", "NODE SELECTOR", "AGE"]);
        assert_eq!(t[0].rows[0].get("NODE SELECTOR"), Some("<none>"));
        assert_eq!(t[0].lines, Lines { start: 10, end: 11 });
        assert_eq!(t[1].kind(), "service");
        assert_eq!(t[1].rows[0].line, 14);
        let grep = parse(
            "bookinfo-productpage-waypoint-proxy-fcf74c55d-j9zm5   1/1     Running   0   27s",
            201,
            Some(&["NAME", "READY", "STATUS", "RESTARTS", "AGE"]),
        );
        assert_eq!(grep[0].rows[0].get("STATUS"), Some("Running"));
        assert_eq!(grep[0].rows[0].kind, "");
    }
}
