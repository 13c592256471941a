//! The shared cluster fixture: idempotent stages (cluster → Istio installed → apps deployed and
//! enrolled), each run once per process and safe to repeat in a new one (the state lives in the
//! cluster). A stage that failed fails every test that needs it, with its error and causes.
//!
//! Sections are plain synchronous code: every method here blocks on the suite's one runtime, and
//! the ones that record a claim are `#[track_caller]`, so a failing claim points at its line in
//! its section.

use std::future::Future;
use std::panic::Location;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use rstest::fixture;
use support::answers::Decided;
use support::answers::{self, Refs};
use support::claims::{Answer, Claim, ClaimId};
use support::cluster::{self, Cluster, ClusterError};
use support::eras::{EraFacts, IstioVersion, TUTORIAL_BUILD, VersionError, facts_for};
use support::istio::{AcquireError, Acquirer, InstallError, InstallReport, IstioRelease};
use support::observe;
use support::process::Tools;
use support::recorder::Recorder;
use support::registry::{self, Kind, Observation};
use support::settings::{IstioSource, Settings, SettingsError};
use support::snapshot::{Compared, Snapshot};
use support::steps::{self, BOOKINFO, CLIENTS, StepError};
use support::tutorial::{Tutorial, TutorialError};
use tokio::sync::OnceCell;

/// One runtime for every cluster test: kube's connection pool must outlive each test.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

pub fn block_on<F: Future>(f: F) -> F::Output {
    RUNTIME.block_on(f)
}

/// Like [`block_on`], but safe to call while another `block_on` is running on this thread: runs
/// on a thread of its own.
fn block_on_aside<F: Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|s| s.spawn(|| RUNTIME.block_on(f)).join())
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Why the shared fixture could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Prerequisites(#[from] support::doctor::Missing),
    #[error(transparent)]
    Tutorial(#[from] TutorialError),
    #[error("setting up the tutorial cluster")]
    Cluster(#[from] ClusterError),
    #[error("getting istioctl")]
    Acquire(#[from] AcquireError),
    #[error("reading the version of Istio {version}")]
    Version {
        version: String,
        #[source]
        source: VersionError,
    },
    #[error("reading the label of the Istio source")]
    SourceLabel(#[from] support::istio::source::SourceLabelError),
    #[error("installing Istio (Installation step 4)")]
    Install(#[from] InstallError),
    #[error("deploying the demo apps (Deploying the demo apps, steps 1 and 2)")]
    Apps(#[from] StepError),
}

/// Fails the test with the setup error and every cause.
#[track_caller]
fn setup_failed(e: &SetupError) -> ! {
    panic!("{}", support::errors::report(e))
}

pub struct World {
    /// Keeps the cluster alive (sim processes, the k3s container) for the whole test process.
    _running: cluster::Running,
    pub settings: Settings,
    pub tools: Tools,
    pub release: IstioRelease,
    pub facts: EraFacts,
    pub cluster: Cluster,
    pub recorder: Recorder,
    /// The tutorial the documented expectations come from (`AMBIENT_TUTORIAL`).
    pub tutorial: Tutorial,
    installed: OnceCell<Result<InstallReport, Arc<SetupError>>>,
    apps: OnceCell<Result<(), Arc<SetupError>>>,
    /// Answers recorded by this process, for the fixtures' own claims.
    recorded: std::sync::Mutex<Vec<(ClaimId, Answer)>>,
    /// A page other than the reference, run as written (`crate::document`), once per process.
    page: std::sync::OnceLock<crate::document::PageRun>,
}

static WORLD: OnceCell<Result<Arc<World>, Arc<SetupError>>> = OnceCell::const_new();

async fn build() -> Result<Arc<World>, Arc<SetupError>> {
    async fn build() -> Result<World, SetupError> {
        let settings = Settings::from_env()?;
        let tutorial = Tutorial::load(&settings.tutorial)?;
        let tools = Tools::default();
        // The provider's prerequisites are checked first, before anything slow.
        support::doctor::require(&settings).await?;
        let running = cluster::start(&settings, &tools).await?;
        let acquired = Acquirer::new(settings.cache_dir.clone(), tools.clone())
            .acquire(&settings.istio)
            .await;
        let release = match acquired {
            Ok(r) => r,
            Err(e) => {
                record_unacquired(&settings, &tutorial, &e);
                return Err(e.into());
            }
        };
        let version =
            IstioVersion::parse(&release.version).map_err(|source| SetupError::Version {
                version: release.version.clone(),
                source,
            })?;
        let era = version.era();
        support::progress::say(format!(
            "Istio {} (era {era}) on {}, expectations from {}",
            release.version,
            settings.provider.id(),
            tutorial.path.display()
        ));
        let recorder = Recorder::new(
            &settings.artifacts_dir,
            era.id(),
            &release.version,
            settings.provider.id(),
        )
        .with_tutorial(&tutorial.path)
        .with_strict_docs(settings.strict_docs);
        let recorder = match istio_commit(&release, &version)? {
            Some((commit, date)) => recorder.with_istio_commit(&commit, date.as_deref()),
            None => recorder,
        };
        Ok(World {
            cluster: running.cluster.clone(),
            _running: running,
            settings,
            tools,
            release,
            facts: facts_for(&version),
            recorder,
            tutorial,
            installed: OnceCell::new(),
            apps: OnceCell::new(),
            recorded: std::sync::Mutex::new(Vec::new()),
            page: std::sync::OnceLock::new(),
        })
    }
    build().await.map(Arc::new).map_err(Arc::new)
}

/// The Istio commit a build came from, and its date: a source built by fixtures/sim/build.sh
/// says both in its label; a dev build's id names its commit.
fn istio_commit(
    release: &support::istio::IstioRelease,
    version: &IstioVersion,
) -> Result<Option<(String, Option<String>)>, support::istio::source::SourceLabelError> {
    if let Some(label) = support::istio::source::SourceLabel::find(&release.root)? {
        return Ok(Some((label.commit, Some(label.commit_date))));
    }
    Ok(match &version.kind {
        support::eras::VersionKind::DevBuild { sha }
        | support::eras::VersionKind::ExperimentalAmbient { sha } => Some((sha.clone(), None)),
        _ => None,
    })
}

/// "Installation" steps 1–3 failed: the documented step that no longer works is recorded as the
/// claim that failed (the tutorial's archive URL, with the HTTP status), not lost in a set-up
/// panic.
fn record_unacquired(settings: &Settings, tutorial: &Tutorial, e: &AcquireError) {
    let version = match &settings.istio {
        IstioSource::Tutorial => TUTORIAL_BUILD.to_string(),
        IstioSource::Release(v) | IstioSource::DevBuild(v) => v.raw.clone(),
        IstioSource::LatestDev => "latest-dev".into(),
        IstioSource::Local(p) => p.display().to_string(),
    };
    let era = support::eras::era_of(&version).unwrap_or(support::eras::Era::Ga1_24);
    let recorder = Recorder::new(
        &settings.artifacts_dir,
        era.id(),
        &version,
        settings.provider.id(),
    )
    .with_tutorial(&tutorial.path);
    let why = support::errors::chain(e);
    if settings.istio == IstioSource::Tutorial {
        let refs = Refs::new(&tutorial.expectations, &version, era);
        let status = match e {
            AcquireError::Http { status, .. } => Ok(*status),
            other => Err(support::errors::chain(other)),
        };
        let _ = recorder.record(
            ClaimId::InstallationIstioArchiveAvailable,
            &answers::archive_available(&refs, &status),
        );
    }
    let _ = recorder.record(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        &Answer::NotReached {
            why: format!("getting istioctl failed: {why}"),
        },
    );
}

/// The cluster exists and its nodes are Ready; a page other than the reference tutorial has run
/// as written on it (`crate::document`), before any step of the suite's own.
#[fixture]
pub fn world() -> Arc<World> {
    let w = match block_on(WORLD.get_or_init(build)) {
        Ok(w) => w.clone(),
        Err(e) => setup_failed(e),
    };
    if !crate::document::is_reference(&w) {
        w.page_run();
    }
    w
}

/// Istio is installed in ambient mode ("Installation" step 4).
#[fixture]
pub fn installed() -> Arc<World> {
    let w = world();
    if let Err(e) = block_on(w.installed.get_or_init(|| w.install())) {
        setup_failed(e)
    }
    w
}

/// Bookinfo, its gateway, sleep and notsleep run, and `default` is in ambient mode ("Deploying the
/// demo apps" steps 1 and 2). The apps' readiness is recorded as its claims here, before
/// anything depends on it.
#[fixture]
pub fn apps() -> Arc<World> {
    let w = installed();
    if let Err(e) = block_on(w.apps.get_or_init(|| w.deploy_apps())) {
        setup_failed(e)
    }
    w
}

impl World {
    pub fn timeout(&self, secs: u64) -> Duration {
        self.settings.timeout(Duration::from_secs(secs))
    }

    /// Runs one of the suite's async steps or observations to completion.
    pub fn run<F: Future>(&self, f: F) -> F::Output {
        block_on(f)
    }

    /// The value of something the test needs to go on, or a failure at the caller's line with the
    /// error and its causes.
    #[track_caller]
    pub fn expect<T, E: std::error::Error + 'static>(&self, r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{}", support::errors::report(&e)))
    }

    /// The install report (the `installed` fixture ran it).
    pub fn install_report(&self) -> InstallReport {
        match self.installed.get() {
            Some(Ok(report)) => report.clone(),
            Some(Err(e)) => setup_failed(e),
            None => panic!("the installed fixture has not run"),
        }
    }

    async fn install(&self) -> Result<InstallReport, Arc<SetupError>> {
        let installed = support::istio::install(
            &self.release,
            &self.cluster,
            &self.facts,
            cluster::provider::facts(self.settings.provider).install_flags,
            &self.tools,
            self.timeout(600),
        )
        .await;
        let report = match installed {
            Ok(r) => r,
            Err(e) => {
                // The documented step failed (an image that no longer pulls, ...): its claim
                // says so, with the cause.
                let answer = Answer::Drifted {
                    expected: "istioctl install --set profile=ambient -y completes".into(),
                    actual: support::errors::chain(&e),
                    era_expected: None,
                    documented: None,
                };
                self.record(ClaimId::InstallationIstioctlPrintsComponentLines, &answer);
                return Err(Arc::new(e.into()));
            }
        };
        // The whole output, as evidence beside the claim records.
        let dir = &self.settings.artifacts_dir;
        let _ = std::fs::write(dir.join("istioctl-install.stdout.txt"), &report.stdout);
        let _ = std::fs::write(dir.join("istioctl-install.stderr.txt"), &report.stderr);
        // sim: istiod runs as a local process from here on (elsewhere: nothing to do).
        (self._running.after_install(&self.release).await).map_err(|e| Arc::new(e.into()))?;
        Ok(report)
    }

    /// "Deploying the demo apps": apply, wait (recording each group's readiness as its claim),
    /// then label the namespace.
    async fn deploy_apps(&self) -> Result<(), Arc<SetupError>> {
        let c = &self.cluster.client;
        let fail = |e: StepError| Arc::new(SetupError::Apps(e));
        steps::apply_apps(c, &self.release).await.map_err(fail)?;
        let mut first_error = None;
        for (id, group) in [
            (ClaimId::DemoAppsBookinfoAvailable, BOOKINFO),
            (ClaimId::DemoAppsClientsAvailable, CLIENTS),
        ] {
            let waited = steps::wait_available(c, group, self.timeout(300)).await;
            let seen = waited
                .as_ref()
                .map(|_| ())
                .map_err(|e| support::errors::chain(e));
            // Recorded, not checked: a failure fails the fixture below, with its cause.
            let decided = Decided {
                answer: answers::deployments_available(&self.refs(), group, &seen),
                evidence: seen
                    .is_ok()
                    .then(|| format!("the API server reports {} available", group.join(", "))),
            };
            self.record(id, &self.settle(id, decided, None));
            if let Err(e) = waited {
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(fail(e));
        }
        steps::enroll_apps(c, &self.facts).await.map_err(fail)
    }

    /// The page's run as written (run now if it has not run in this process).
    pub fn page_run(&self) -> &crate::document::PageRun {
        self.page.get_or_init(|| crate::document::run_page(self))
    }

    /// The provider's own step after Istio is installed (sim: istiod as a local process; a no-op
    /// elsewhere and when it runs already), for a page whose own `istioctl install` installed it.
    pub fn after_documented_install(&self) -> Result<(), ClusterError> {
        block_on(self._running.after_install(&self.release))
    }

    /// The document and the era, the two references of every claim.
    pub fn refs(&self) -> Refs<'_> {
        Refs::new(
            &self.tutorial.expectations,
            &self.release.version,
            self.facts.era,
        )
    }

    /// The answer the apps fixture recorded for a readiness claim.
    pub fn recorded(&self, id: ClaimId) -> Option<Answer> {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|(_, a)| a.clone())
    }

    fn record(&self, id: ClaimId, answer: &Answer) {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, answer.clone()));
        if let Err(e) = self.recorder.record(id, answer) {
            support::progress::say(format!("could not record claim {}: {e}", id.name()));
        }
    }

    /// Can this provider decide claims that need a data plane? (`sim` cannot.)
    pub fn data_plane(&self) -> bool {
        cluster::provider::facts(self.settings.provider).data_plane
    }

    /// How long to wait for something only a data plane does: `secs` on kind, a moment on sim,
    /// where the same code runs against replayed data only to exercise it.
    pub fn data_plane_timeout(&self, secs: u64) -> Duration {
        if self.data_plane() {
            self.timeout(secs)
        } else {
            Duration::from_secs(3)
        }
    }

    /// How long to wait for something only Istio's control plane does (a waypoint's status and
    /// Deployment): `secs` where istiod acts, a moment elsewhere.
    pub fn istiod_timeout(&self, secs: u64) -> Duration {
        if cluster::provider::facts(self.settings.provider).istiod {
            self.timeout(secs)
        } else {
            Duration::from_secs(3)
        }
    }

    /// Records a claim's answer; a drift (or, with `AMBIENT_DOCS=strict`, a stale tutorial) fails
    /// the test at the caller's line, with what was expected and seen and a diagnostics bundle.
    /// What is recorded is decided in support (`registry::settle`): a claim this provider cannot
    /// decide (sim: no data plane, no network) is not applicable, with what was observed, and
    /// never fails. Returns whether the claim held (as documented, or a known change of this
    /// Istio) on a provider that can decide it.
    #[track_caller]
    pub fn check(&self, id: ClaimId, answer: Answer) -> bool {
        let answer = self.settle(id, Decided::bare(answer), None);
        self.check_at(id, answer, Location::caller())
    }

    /// The answer recorded for a claim (`registry::settle`).
    fn settle(&self, id: ClaimId, decided: Decided, snapshot: Option<&Compared>) -> Answer {
        registry::settle(
            support::claims::of(id),
            &self.provider(),
            &self.tutorial.expectations,
            &self.tutorial.path,
            decided,
            snapshot,
        )
    }

    fn provider(&self) -> cluster::provider::ProviderFacts {
        cluster::provider::facts(self.settings.provider)
    }

    fn check_at(&self, id: ClaimId, answer: Answer, at: &Location) -> bool {
        let (held, failure) = self.record_checked(id, &answer);
        if let Some(failure) = failure {
            panic!("{failure}, checked at {at}:\n{}", answer.describe());
        }
        held
    }

    /// Records a settled answer; returns whether it held, and the failure it is (with its
    /// diagnostics bundle), if it is one.
    fn record_checked(&self, id: ClaimId, answer: &Answer) -> (bool, Option<String>) {
        let c = support::claims::of(id);
        self.record(id, answer);
        let held = matches!(answer, Answer::AsDocumented | Answer::DocStale { .. });
        if !answer.is_failure(self.settings.strict_docs) {
            return (held, None);
        }
        let bundle = block_on_aside(self.diagnostics(c.name()));
        let failure = format!(
            "claim {} ({}: {}) does not hold on Istio {} (era {}, {}); diagnostics: {}",
            c.name(),
            c.section.title(),
            c.statement,
            self.release.version,
            self.facts.era,
            self.settings.provider.id(),
            bundle.display()
        );
        (held, Some(failure))
    }

    /// Observes until the claim's answer settles (as documented, or a known change of this Istio)
    /// or `timeout` passes (`support::observe::until_judged`), records the last answer (failing at
    /// the caller's line), and returns the observation that held (none where the provider cannot
    /// decide the claim).
    #[track_caller]
    pub fn until_judged<O, E, F, Fut, J>(
        &self,
        id: ClaimId,
        timeout: Duration,
        observe: F,
        judge: J,
    ) -> Option<O>
    where
        E: std::error::Error + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<O, E>>,
        J: Fn(&O) -> Answer,
    {
        let at = Location::caller();
        let c = support::claims::of(id);
        if let Some(answer) =
            registry::undocumented(&self.tutorial.expectations, &self.tutorial.path, c)
        {
            self.check_at(id, answer, at);
            return None;
        }
        let what = format!("claim {} to hold", id.name());
        let judged = block_on(observe::until_judged(&what, timeout, observe, judge));
        let answer = self.settle(id, Decided::bare(judged.verdict), None);
        let held = self.check_at(id, answer, at);
        judged.observed.filter(|_| held)
    }

    /// Observes (`observe`, an observation of `kind`) until every claim it decides at the
    /// documented expectation `at` settles (`support::registry`: the claims anchored there whose
    /// kind takes it, each judged once per reference) or `timeout` passes; records each claim's
    /// answer, with its snapshot where its kind keeps one, then fails at the caller's line with
    /// every claim that failed. Returns the observation where every claim that can be decided
    /// here held.
    #[track_caller]
    pub fn until_observed<E, F, Fut>(
        &self,
        kind: Kind,
        at: &str,
        timeout: Duration,
        observe: F,
    ) -> Option<Observation>
    where
        E: std::error::Error + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Observation, E>>,
    {
        let caller = Location::caller();
        let claims: Vec<&Claim> = registry::claims_at(at, kind).collect();
        let doc = &self.tutorial.expectations;
        let refs = self.refs();
        let provider = self.provider();
        let judged = if claims.iter().all(|c| !registry::documents(doc, c)) {
            // The page makes none of these statements: nothing to wait for.
            None
        } else {
            let what = format!("the claims at {at} to hold");
            let decide = |o: &Observation| registry::decide_all(at, o, &refs, &provider);
            Some(block_on(observe::until_judged(
                &what, timeout, observe, decide,
            )))
        };
        let decided = judged.as_ref().map(|j| j.verdict.decided.clone());
        let held = self.record_decided(&claims, decided, caller);
        judged.and_then(|j| j.observed).filter(|_| held)
    }

    /// Records what one observation (of `kind`, or why none could be made: the error and its
    /// causes, a drift of each claim: `registry::not_observed`) decides at the documented
    /// expectation `at` (see [`World::until_observed`]), failing at the caller's line with every
    /// claim that failed.
    #[track_caller]
    pub fn observed(&self, kind: Kind, at: &str, observed: Result<Observation, String>) {
        let claims: Vec<&Claim> = registry::claims_at(at, kind).collect();
        let refs = self.refs();
        let decided = match &observed {
            Ok(o) => registry::decide_all(at, o, &refs, &self.provider()).decided,
            Err(why) => Ok(registry::not_observed(at, kind, &refs, why)),
        };
        self.record_decided(&claims, Some(decided), Location::caller());
    }

    /// Settles and records each claim's answer (none observed: `settle` answers each claim the
    /// page does not make); fails with every claim that failed. Returns whether every claim this
    /// provider decides held.
    fn record_decided(
        &self,
        claims: &[&'static Claim],
        decided: Option<Result<Vec<(&'static Claim, Decided)>, String>>,
        caller: &Location,
    ) -> bool {
        let bare = |why: &str| {
            claims
                .iter()
                .map(|c| (*c, Decided::bare(Answer::NotReached { why: why.into() })))
                .collect()
        };
        let decided: Vec<(&Claim, Decided)> = match decided {
            Some(Ok(all)) => all,
            Some(Err(why)) => bare(&why),
            None => bare(""),
        };
        let (doc, page) = (&self.tutorial.expectations, &self.tutorial.path);
        let provider = self.provider();
        let mut held = true;
        let mut failures = Vec::new();
        for (c, d) in decided {
            let compared = self.compare_snapshot(c, &d, caller);
            let answer = registry::settle(c, &provider, doc, page, d, compared.as_ref());
            let (ok, failure) = self.record_checked(c.id, &answer);
            held &= ok || !provider.decides(c.plane);
            failures.extend(failure.map(|f| format!("{f}:\n{}", answer.describe())));
        }
        if !failures.is_empty() {
            panic!("checked at {caller}:\n{}", failures.join("\n\n"));
        }
        held
    }

    /// The claim's evidence held against its stored snapshot, where its kind keeps one and the
    /// provider decides it (`registry::compares_snapshot`).
    fn compare_snapshot(&self, c: &Claim, d: &Decided, caller: &Location) -> Option<Compared> {
        let name = c.decide.snapshot()?;
        let observed = d.evidence.as_deref()?;
        if !registry::compares_snapshot(c, &self.provider()) {
            return None;
        }
        let section = c.name().split('.').next().unwrap_or_default();
        let snapshot = Snapshot::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tutorial/snapshots"),
            &format!("tutorial__{section}"),
            name,
            self.facts.access_log.snapshot_suffix(),
            caller.file(),
        );
        Some(self.compared(c.id, &snapshot, observed))
    }

    async fn diagnostics(&self, label: &str) -> std::path::PathBuf {
        let istioctl = self
            .tools
            .command(self.release.istioctl.display().to_string())
            .args(["version", "--remote=false"])
            .run()
            .await
            .map(|o| o.stdout)
            .unwrap_or_else(|e| e.to_string());
        let context = [
            ("claim", label.to_string()),
            ("istio", self.release.version.clone()),
            ("era", self.facts.era.to_string()),
            ("istioctl version", istioctl.trim().to_string()),
            ("settings", format!("{:?}", self.settings)),
        ];
        support::diagnostics::collect(
            &self.cluster.client,
            &self.settings.artifacts_dir,
            label,
            &context,
        )
        .await
    }

    /// Undoes a section's changes to shared state when the returned guard is dropped: at the
    /// section's end, or while a failing claim unwinds. (`undo` is a future: it does nothing
    /// until then.)
    pub fn teardown<'w>(
        &'w self,
        what: &'static str,
        undo: impl Future<Output = Result<(), StepError>> + 'w,
    ) -> Teardown<'w> {
        Teardown {
            what,
            undo: Some(Box::pin(undo)),
        }
    }

    /// The stored snapshot `name` of `section` (`tests/tutorial/snapshots/tutorial__<section>__
    /// <name>@<suffix>.snap`), taken by the caller's file.
    #[track_caller]
    pub fn snapshot(&self, section: &str, name: &str, suffix: &str) -> Snapshot {
        Snapshot::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tutorial/snapshots"),
            &format!("tutorial__{section}"),
            name,
            suffix,
            Location::caller().file(),
        )
    }

    /// Records a claim's answer with its snapshot as part of the verdict: an answer that holds but
    /// whose observation (`observed`, redacted as the snapshot is) differs from the stored
    /// snapshot is a drift with both texts. A new or changed snapshot is left as `.snap.new` for
    /// `cargo insta review` (not under `CI`). Where the provider cannot decide the claim, its
    /// replayed observation is never compared nor written.
    #[track_caller]
    pub fn check_with_snapshot(
        &self,
        id: ClaimId,
        answer: Answer,
        snapshot: &Snapshot,
        observed: Option<String>,
    ) -> bool {
        let c = support::claims::of(id);
        let compared = observed
            .filter(|_| registry::compares_snapshot(c, &self.provider()))
            .map(|o| self.compared(id, snapshot, &o));
        let answer = self.settle(id, Decided::bare(answer), compared.as_ref());
        self.check_at(id, answer, Location::caller())
    }

    /// The observation held against the stored snapshot; a new or changed one is left as
    /// `.snap.new` for `cargo insta review` (not under `CI`), and said.
    fn compared(&self, id: ClaimId, snapshot: &Snapshot, observed: &str) -> Compared {
        let compared = match snapshot.compare(observed) {
            Ok(c) => c,
            Err(e) => {
                return Compared::Unreadable {
                    why: support::errors::chain(&e),
                };
            }
        };
        if let Compared::Missing { path, .. } | Compared::Differs { path, .. } = &compared {
            let left = match snapshot.write_pending(observed, support::snapshot::on_ci()) {
                Ok(Some(p)) => format!("left {} for `cargo insta review`", p.display()),
                Ok(None) => "CI is set: nothing written".to_string(),
                Err(e) => format!("could not write the pending snapshot: {e}"),
            };
            let state = if matches!(compared, Compared::Missing { .. }) {
                "no snapshot stored yet (the claim is decided by its judge alone)"
            } else {
                "differs from the stored snapshot (a drift)"
            };
            support::progress::say(format!("{}: {} {state}; {left}", id.name(), path.display()));
        }
        compared
    }
}

/// Runs a section's teardown when dropped; a teardown that fails is reported, not raised (the
/// section's own failure, if any, is the one that matters).
pub struct Teardown<'w> {
    what: &'static str,
    undo: Option<Undo<'w>>,
}

type Undo<'w> = std::pin::Pin<Box<dyn Future<Output = Result<(), StepError>> + 'w>>;

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        // Sections never run inside the runtime, so blocking here (even while a failing claim
        // unwinds) nests nothing.
        if let Some(undo) = self.undo.take()
            && let Err(e) = block_on(undo)
        {
            support::progress::say(format!(
                "teardown ({}) failed: {}",
                self.what,
                support::errors::chain(&e)
            ));
        }
    }
}
