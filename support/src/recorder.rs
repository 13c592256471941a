//! The recorder: appends a run's claim records to `claims.jsonl` and keeps the run's `junit.xml`
//! beside it in step. (Apart from `crate::claims`, which defines the records: the JUnit writer
//! reads records, and the recorder writes both.)

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::claims::{
    Answer, ClaimId, ClaimRecord, RECORD_FORMAT, Section, current_nextest_run_id, of,
};

/// Appends claim records of one run to `<artifacts>/claims.jsonl` and keeps
/// `<artifacts>/junit.xml` in step with them: after every record, the JUnit file is rewritten from
/// the records of this run (this process, or under nextest every process of the nextest run), so
/// it is complete whenever the run ends, however it ends.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub path: PathBuf,
    pub run_id: String,
    /// `NEXTEST_RUN_ID` when the test process runs under nextest.
    pub nextest_run_id: Option<String>,
    pub era: String,
    pub istio_version: String,
    pub provider: String,
    pub tutorial: Option<String>,
    /// `AMBIENT_DOCS=strict`: a stale tutorial is a failing test case in the JUnit file.
    pub strict_docs: bool,
    /// The Istio commit and its date, in every record ([`ClaimRecord::istio_commit`]).
    pub istio_commit: Option<String>,
    pub istio_commit_date: Option<String>,
}

impl Recorder {
    pub fn new(artifacts: &Path, era: &str, istio_version: &str, provider: &str) -> Self {
        let run_id = format!(
            "{}-{}",
            k8s_openapi::jiff::Timestamp::now().as_second(),
            std::process::id()
        );
        Recorder {
            path: artifacts.join("claims.jsonl"),
            run_id,
            nextest_run_id: current_nextest_run_id(),
            era: era.into(),
            istio_version: istio_version.into(),
            provider: provider.into(),
            tutorial: None,
            strict_docs: false,
            istio_commit: None,
            istio_commit_date: None,
        }
    }

    /// Names the Istio commit the build came from (and its date, when known) in every record.
    pub fn with_istio_commit(mut self, commit: &str, date: Option<&str>) -> Self {
        self.istio_commit = Some(commit.into());
        self.istio_commit_date = date.map(Into::into);
        self
    }

    /// Names the tutorial the run reads its expectations from, in every record.
    pub fn with_tutorial(mut self, tutorial: &Path) -> Self {
        self.tutorial = Some(tutorial.display().to_string());
        self
    }

    /// Strict docs mode (`AMBIENT_DOCS=strict`) for the JUnit file.
    pub fn with_strict_docs(mut self, strict: bool) -> Self {
        self.strict_docs = strict;
        self
    }

    /// The JUnit file beside the records.
    pub fn junit_path(&self) -> PathBuf {
        self.path.with_file_name(crate::junit::FILE_NAME)
    }

    /// This run's session (see [`ClaimRecord::session`]).
    pub fn session(&self) -> &str {
        self.nextest_run_id.as_deref().unwrap_or(&self.run_id)
    }

    /// Appends the record, then rewrites the JUnit file from this run's records. Both happen
    /// under an exclusive lock on the records file, so test processes recording at once neither
    /// interleave records nor write a JUnit file that misses one. An error after the record was
    /// appended says so.
    pub fn record(&self, id: ClaimId, answer: &Answer) -> std::io::Result<ClaimRecord> {
        let claim = of(id);
        self.record_as(claim.name(), claim.section, answer)
    }

    /// [`Recorder::record`] for an expectation that is not one of the suite's claims: a step of
    /// a page run as written (`crate::document`'s ids, `doc.l<line>.<section>.<command|output>`).
    pub fn record_as(
        &self,
        claim: &str,
        section: Section,
        answer: &Answer,
    ) -> std::io::Result<ClaimRecord> {
        let record = ClaimRecord {
            format: RECORD_FORMAT,
            run_id: self.run_id.clone(),
            claim: claim.into(),
            section,
            era: self.era.clone(),
            istio_version: self.istio_version.clone(),
            provider: self.provider.clone(),
            at: k8s_openapi::jiff::Timestamp::now().to_string(),
            tutorial: self.tutorial.clone(),
            nextest_run_id: self.nextest_run_id.clone(),
            istio_commit: self.istio_commit.clone(),
            istio_commit_date: self.istio_commit_date.clone(),
            answer: answer.clone(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
        line.push('\n');
        // One write of one line in append mode, under the lock (released when `f` is dropped).
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)?;
        f.lock()?;
        f.write_all(line.as_bytes())?;
        let junit = self.junit_path();
        crate::junit::rewrite_for_session(
            &mut f,
            &self.path,
            self.session(),
            self.strict_docs,
            &junit,
        )
        .map_err(|e| {
            std::io::Error::other(format!(
                "recorded in {}, but {}: {e}",
                self.path.display(),
                junit.display()
            ))
        })?;
        Ok(record)
    }
}
