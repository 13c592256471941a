//! A patch for the docs: from one build's records, a unified diff against the tutorial file that
//! `git apply` accepts. Each stale block whose new text the suite observed whole (install output,
//! log lines, the waypoint pod line) is replaced by that text, indented as the block was; stale
//! statements it cannot rewrite are listed in the patch's header (which `git apply` skips).
//!
//! The patched page runs as written: it needs no step the page does not show. So a stale waypoint
//! declaration becomes the era's whole recipe as commands (its Gateway API CRDs, its Gateway, and
//! on 1.22+ the `istio.io/use-waypoint` label that sends the Service's traffic through it), built
//! from the suite's own era table, never the suite's fixture comments or a record's text.
//!
//! Records are read from files anyone can hand over, so nothing they say reaches the header
//! verbatim: the header names only the suite's own claims and expectations, lines checked against
//! the tutorial, and era facts from the suite's own table (`crate::eras`); a record whose era fact
//! is not in that table, or whose claim this suite does not define, is counted, not quoted. The
//! observed text goes only into `+` lines of the diff, one per line it holds.

use std::collections::BTreeMap;

use crate::claims::{Answer, ClaimRecord, EraFact};
use crate::eras::{Era, EraFacts, Fact, IstioVersion, facts, facts_for, provenance};
use crate::report::Build;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("the records hold {count} builds ({builds}): choose one with --istio <version>")]
    SeveralBuilds { count: usize, builds: String },
    #[error("no records of Istio {0}")]
    NoSuchBuild(String),
    #[error("no claim records")]
    NoRecords,
    #[error(
        "the record of {claim} (Istio {istio}, at {at}) points at {lines} of a tutorial of {total} \
         lines: it was recorded against another copy of the tutorial; give that copy with \
         --tutorial, or run the suite against this one again"
    )]
    LinesOutOfRange {
        claim: String,
        istio: String,
        at: String,
        lines: String,
        total: usize,
    },
}

/// Every fact of the era table, for telling the suite's own era facts from others.
const FACTS: [Fact; 9] = [
    Fact::InstallLines,
    Fact::IngressGateway,
    Fact::ZtunnelNodeSelector,
    Fact::CniNodeSelector,
    Fact::EnrollmentLog,
    Fact::AccessLog,
    Fact::WaypointDeclaration,
    Fact::WaypointDeployment,
    Fact::WaypointIdentity,
];

/// Where `fact` is in [`FACTS`]: a new fact fails to compile here until it is listed there.
#[cfg(test)]
fn fact_index(fact: Fact) -> usize {
    match fact {
        Fact::InstallLines => 0,
        Fact::IngressGateway => 1,
        Fact::ZtunnelNodeSelector => 2,
        Fact::CniNodeSelector => 3,
        Fact::EnrollmentLog => 4,
        Fact::AccessLog => 5,
        Fact::WaypointDeclaration => 6,
        Fact::WaypointDeployment => 7,
        Fact::WaypointIdentity => 8,
    }
}

/// The suite's own era fact equal to `claimed`, for a record of `istio_version` on era `era`:
/// from the version's facts where it parses, else from the era's; with the table it is from and
/// which fact it is.
fn era_fact_of_table(
    istio_version: &str,
    era: &str,
    claimed: &EraFact,
) -> Option<(EraFacts, Fact, EraFact)> {
    let mut tables = Vec::new();
    if let Ok(v) = IstioVersion::parse(istio_version) {
        tables.push(facts_for(&v));
    }
    tables.extend(Era::ALL.iter().filter(|e| e.id() == era).map(|e| facts(*e)));
    tables.into_iter().find_map(|t| {
        FACTS.iter().find_map(|f| {
            let ours = provenance(&t, *f);
            (ours == *claimed).then(|| (t.clone(), *f, ours))
        })
    })
}

/// The suite's own name for the expectation a record names: one of the claim's anchors, or the
/// table its anchors are parts of (`installation.get_all (istio-ingressgateway)`: rows across
/// `installation.get_all.*`), as the suite writes it, never the record's text.
fn own_expectation(anchors: &[&'static str], named: &str) -> Option<&'static str> {
    if let Some(a) = anchors.iter().find(|a| **a == named) {
        return Some(a);
    }
    let stem = named.split_once(" (").map_or(named, |(stem, _)| stem);
    anchors.iter().find_map(|a| {
        a.strip_prefix(stem)
            .filter(|rest| rest.starts_with('.'))
            .map(|_| &a[..stem.len()])
    })
}

/// The prose just before a rewritten declaration (back to the previous block or heading) that
/// still names the old Gateway class, which the new block no longer has: the patch rewrites
/// blocks only, so that sentence is left to the maintainer, by its lines. The class is read from
/// the tutorial's own lines (`gatewayClassName: <class>`).
fn prose_naming_the_old_class(
    lines: &[&str],
    block_start: usize,
    old_block: &str,
    new_block: &str,
) -> Option<String> {
    let class = old_block
        .lines()
        .find_map(|l| l.trim().strip_prefix("gatewayClassName:"))
        .map(|c| c.trim().trim_matches(['"', '\'']))
        .filter(|c| !c.is_empty() && !new_block.contains(*c))?;
    // Line numbers are 1-based; the fence that opens the block is the line before it.
    let opening_fence = block_start.checked_sub(1)?;
    let mut naming = Vec::new();
    for n in (1..opening_fence).rev() {
        let line = lines[n - 1].trim_start();
        if line.starts_with("```") || line.starts_with("~~~") || line.starts_with('#') {
            break;
        }
        if line.contains(class) {
            naming.push(n);
        }
    }
    let (first, last) = (naming.iter().min()?, naming.iter().max()?);
    let at = if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    };
    Some(format!(
        "the prose before it ({at}) still names the Gateway class `{}`: rewrite by hand",
        one_line(class)
    ))
}

/// The Service the tutorial's waypoint serves: the seed's L7 section sends `sleep`'s calls to
/// `productpage` through it.
const WAYPOINT_SERVICE: &str = "productpage";

/// The block a reader runs to declare the era's waypoint *and* send traffic through it, in the
/// seed's shape (one command a line, a heredoc for the manifest), so the patched page does on its
/// own what the suite does in its L7 section (`steps::declare_waypoint`):
/// - the Gateway API CRDs, where the release does not install them: istio.io's check-then-install
///   (`kubectl get crd gateways.gateway.networking.k8s.io || …`, istio/istio.io
///   content/en/boilerplates/gateway-api-install-crds.md) with the era's `standard-install.yaml`
///   ([`crate::eras::GatewayApiCrds`]), so a cluster that serves them is left alone;
/// - the era's Gateway (its fixture, without the fixture's own comments, which speak of the suite);
/// - on 1.22+, the label that routes the Service's traffic through it (`kubectl label service
///   <svc> istio.io/use-waypoint=<gateway>`: istio/istio.io content/en/docs/ambient/usage/waypoint,
///   "Configure a service to use a specific waypoint", 1.22; a waypoint nothing is labelled to use
///   carries no traffic).
fn waypoint_block(table: &EraFacts) -> std::io::Result<String> {
    let w = &table.waypoint;
    let manifest = crate::fixtures::read(w.fixture)?;
    let mut out = String::new();
    if let Some(url) = w.gateway_api_crds.url() {
        out.push_str(&format!(
            "kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || kubectl apply -f {url}\n"
        ));
    }
    out.push_str("kubectl apply -f - <<EOF\n");
    for line in manifest
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
    {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("EOF\n");
    if let Some((key, value)) = w.service_label {
        out.push_str(&format!(
            "kubectl label service {WAYPOINT_SERVICE} {key}={value}\n"
        ));
    }
    Ok(out)
}

/// One header line: whatever it holds, on one line, without control characters, and no workflow
/// command when printed.
fn one_line(s: &str) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::workflow_commands::neutralize(&line).into_owned()
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

/// Builds the patch of `tutorial` (its text; `path` is how the diff names it). A record whose
/// lines are not in the tutorial is an error naming it.
pub fn build(tutorial: &str, path: &str, records: &[&ClaimRecord]) -> Result<Patch, PatchError> {
    let lines: Vec<&str> = tutorial.lines().collect();
    let mut patch = Patch::default();
    let mut replacements: Vec<Replacement> = Vec::new();
    let mut unknown_claims = 0usize;
    let mut foreign_facts = 0usize;
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
        let span = documented.lines;
        if span.start == 0 || span.start > span.end || span.end > lines.len() {
            return Err(PatchError::LinesOutOfRange {
                claim: one_line(&r.claim),
                istio: one_line(&r.istio_version),
                at: one_line(&r.at),
                lines: format!("{}..={}", span.start, span.end),
                total: lines.len(),
            });
        }
        // Only the suite's own claim, one of its expectations, and a fact of its era table.
        let Some(claim) = crate::claims::claim(&r.claim) else {
            unknown_claims += 1;
            continue;
        };
        let Some(expectation) = own_expectation(claim.anchors, &documented.expectation) else {
            unknown_claims += 1;
            continue;
        };
        let Some((table, kind, fact)) = era_fact_of_table(&r.istio_version, &r.era, era) else {
            foreign_facts += 1;
            continue;
        };
        let what = one_line(&format!(
            "{} ({expectation}, {span}): {} since {} ({})",
            claim.name(),
            fact.fact,
            fact.since,
            fact.source
        ));
        // The declaration is rewritten from the suite's own era table, never from the record:
        // the observed manifest alone is a waypoint no traffic goes through.
        let new = match (kind, replacement) {
            (Fact::WaypointDeclaration, _) => match waypoint_block(&table) {
                Ok(block) => block,
                Err(e) => {
                    patch
                        .notes
                        .push(format!("{what}: rewrite by hand (the era's manifest: {e})"));
                    continue;
                }
            },
            (_, Some(new)) => new.clone(),
            (_, None) => {
                patch.notes.push(format!("{what}: rewrite by hand"));
                continue;
            }
        };
        if lines[span.start - 1..span.end].join("\n") != documented.text {
            patch.notes.push(format!(
                "{what}: the tutorial's {span} no longer hold the text the run saw; run the suite against this copy again"
            ));
            continue;
        }
        if replacements
            .iter()
            .any(|x| x.start <= span.end && span.start <= x.end)
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
        if kind == Fact::WaypointDeclaration
            && let Some(note) =
                prose_naming_the_old_class(&lines, span.start, &documented.text, &text)
        {
            patch.notes.push(format!("{what}: {note}"));
        }
        replacements.push(Replacement {
            start: span.start,
            end: span.end,
            text,
            why: what,
        });
    }
    if unknown_claims > 0 {
        patch.notes.push(format!(
            "{unknown_claims} stale record(s) of claims or expectations this suite does not define: not used (records of another version of the suite?)"
        ));
    }
    if foreign_facts > 0 {
        patch.notes.push(format!(
            "{foreign_facts} stale record(s) whose era fact is not in this suite's era table for their Istio: not used (records of another version of the suite?)"
        ));
    }
    replacements.sort_by_key(|r| r.start);
    patch.replaced = replacements.len();
    patch.diff = unified(&lines, path, &replacements, tutorial.ends_with('\n'));
    Ok(patch)
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
    /// `build` is the records' Istio version: named only if it is one (a record says what it
    /// likes there).
    pub fn render(&self, build: &str) -> String {
        let build = IstioVersion::parse(build)
            .map(|v| v.raw)
            .unwrap_or_else(|_| "(a version this suite cannot read)".into());
        let mut out = format!(
            "Tutorial update from the suite's records of Istio {build}: {} block(s) replaced by what the suite observed.\n",
            self.replaced
        );
        if !self.notes.is_empty() {
            out.push_str("\nStale statements this patch does not rewrite:\n");
            for n in &self.notes {
                out.push_str(&format!("  - {}\n", one_line(n)));
            }
        }
        out.push('\n');
        out.push_str(&self.diff);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{FACTS, Patch, Replacement, fact_index, unified, waypoint_block};
    use crate::eras::{Era, facts};

    #[test]
    fn a_records_era_fact_is_looked_up_in_its_own_eras_table_only() {
        use super::era_fact_of_table;
        use crate::eras::provenance;
        // A version that does not parse (a build name): the record's era decides the table.
        let mut refused = 0;
        for era in Era::ALL {
            let table = facts(era);
            for fact in FACTS {
                let claimed = provenance(&table, fact);
                let found = era_fact_of_table("a-build-name", era.id(), &claimed);
                assert!(
                    found.is_some_and(|(_, _, ours)| ours == claimed),
                    "{era:?} {fact:?}"
                );
                // Near miss: the same fact claimed for another era whose table has no such fact.
                for other in Era::ALL.iter().filter(|o| **o != era) {
                    let theirs = facts(*other);
                    if FACTS.iter().all(|f| provenance(&theirs, *f) != claimed) {
                        assert!(
                            era_fact_of_table("a-build-name", other.id(), &claimed).is_none(),
                            "{fact:?} of {era:?} claimed for {other:?}"
                        );
                        refused += 1;
                    }
                }
            }
        }
        assert!(refused > 20, "{refused}");
    }

    #[test]
    fn a_records_expectation_is_named_by_the_claims_own_anchors_or_their_table() {
        use super::own_expectation;
        let anchors = &["installation.get_all.pod", "installation.get_all.service"];
        assert_eq!(
            own_expectation(anchors, "installation.get_all.service"),
            Some("installation.get_all.service")
        );
        assert_eq!(
            own_expectation(anchors, "installation.get_all (istio-ingressgateway)"),
            Some("installation.get_all")
        );
        // Near misses: a word that only starts an anchor, a part below one, another table.
        for named in [
            "installation.get (istio-ingressgateway)",
            "installation.get_all.pod.extra",
            "installation.get_all.daemonset",
            "l7.get_all (istio-ingressgateway)",
            "",
        ] {
            assert_eq!(own_expectation(anchors, named), None, "{named}");
        }
    }

    #[test]
    fn prose_that_still_names_the_old_gateway_class_is_left_to_the_maintainer() {
        use super::prose_naming_the_old_class;
        let page = [
            "### L7",                                      // 1
            "1. Deploy a gateway:",                        // 2
            "   > the gatewayClassName must be set",       // 3
            "   > to 'istio-mesh', otherwise no waypoint", // 4
            "   ```bash",                                  // 5
            "   kubectl apply -f - <<EOF",                 // 6
            "    gatewayClassName: istio-mesh",            // 7
            "   EOF",                                      // 8
            "   ```",                                      // 9
        ];
        let old = "kubectl apply -f - <<EOF\n gatewayClassName: istio-mesh\nEOF";
        let new = "kubectl apply -f - <<EOF\n  gatewayClassName: istio-waypoint\nEOF";
        assert_eq!(
            prose_naming_the_old_class(&page, 6, old, new).as_deref(),
            Some(
                "the prose before it (line 4) still names the Gateway class `istio-mesh`: rewrite by hand"
            )
        );
        // Near misses: the new block keeps the class; the prose does not name it; a block (or a
        // heading) between them ends the search.
        assert_eq!(prose_naming_the_old_class(&page, 6, old, old), None);
        let plain: Vec<&str> = page
            .iter()
            .map(|l| {
                if l.contains("istio-mesh'") {
                    "   > plain words"
                } else {
                    l
                }
            })
            .collect();
        assert_eq!(prose_naming_the_old_class(&plain, 6, old, new), None);
        let mut fenced = page.to_vec();
        fenced[2] = "   ```";
        fenced.insert(3, "   ```");
        assert!(prose_naming_the_old_class(&fenced, 7, old, new).is_some());
        fenced[4] = "   ```";
        assert_eq!(prose_naming_the_old_class(&fenced, 7, old, new), None);
        // A tilde fence or a heading between them ends it too; a line of prose does not.
        for (between, found) in [
            ("   ~~~", false),
            ("#### Waypoints", false),
            ("   and", true),
        ] {
            let mut page = page.to_vec();
            page.insert(4, between);
            assert_eq!(
                prose_naming_the_old_class(&page, 7, old, new).is_some(),
                found,
                "{between}"
            );
        }
        // A block without a class names none.
        assert_eq!(
            prose_naming_the_old_class(&page, 6, "kubectl get pod", new),
            None
        );
    }

    #[test]
    fn the_waypoint_block_is_the_eras_whole_recipe_and_only_that() {
        // 1.22+: the CRDs (check, then the era's release), the Gateway, then the label that sends
        // productpage's traffic through it, in that order; none of the fixture's comments.
        let block = waypoint_block(&facts(Era::Ga1_24)).unwrap();
        let lines: Vec<&str> = block.lines().collect();
        assert!(
            lines[0].starts_with("kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.0/standard-install.yaml"),
            "{block}"
        );
        assert_eq!(lines[1], "kubectl apply -f - <<EOF");
        assert_eq!(
            lines.last(),
            Some(&"kubectl label service productpage istio.io/use-waypoint=productpage-waypoint")
        );
        assert_eq!(lines[lines.len() - 2], "EOF");
        assert!(lines.contains(&"  name: productpage-waypoint"), "{block}");
        assert!(!block.contains('#'), "{block}");
        // The 2022 build: istioctl installed the CRDs and no label existed; its own Gateway only.
        let block = waypoint_block(&facts(Era::Experimental2022)).unwrap();
        assert!(block.starts_with("kubectl apply -f - <<EOF\n"), "{block}");
        assert!(block.ends_with("EOF\n"), "{block}");
        assert!(block.contains("gatewayClassName: istio-mesh"), "{block}");
        assert!(
            !block.contains("kubectl label") && !block.contains("get crd"),
            "{block}"
        );
    }

    #[test]
    fn every_fact_of_the_era_table_is_listed_once() {
        for (i, f) in FACTS.iter().enumerate() {
            assert_eq!(fact_index(*f), i, "{f:?}");
        }
    }

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
