//! The shared cluster fixture: idempotent stages (cluster → Istio installed → apps deployed and
//! enrolled), each run once per process and safe to repeat in a new one (the state lives in the
//! cluster). A stage that failed fails every test that needs it, with its error and causes.
//!
//! Sections are plain synchronous code: every method here blocks on the suite's one runtime, and
//! the ones that record a claim are `#[track_caller]`, so a failing claim points at its line in
//! its section.

use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use rstest::fixture;
use support::claims::{Recorder, Verdict, claim};
use support::cluster::{self, Cluster, ClusterError};
use support::eras::{EraFacts, IstioVersion, VersionError, facts};
use support::istio::{AcquireError, Acquirer, InstallError, InstallReport, IstioRelease};
use support::observe::{self, describe};
use support::process::Tools;
use support::settings::{Settings, SettingsError};
use support::steps::{self, StepError};
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
    installed: OnceCell<Result<InstallReport, Arc<SetupError>>>,
    apps: OnceCell<Result<(), Arc<SetupError>>>,
}

static WORLD: OnceCell<Result<Arc<World>, Arc<SetupError>>> = OnceCell::const_new();

async fn build() -> Result<Arc<World>, Arc<SetupError>> {
    async fn build() -> Result<World, SetupError> {
        let settings = Settings::from_env()?;
        let tools = Tools::default();
        // The provider's prerequisites are checked first, before anything slow.
        support::doctor::require(&settings).await?;
        let running = cluster::start(&settings, &tools).await?;
        let release = Acquirer::new(settings.cache_dir.clone(), tools.clone())
            .acquire(&settings.istio)
            .await?;
        let era = IstioVersion::parse(&release.version)
            .map_err(|source| SetupError::Version {
                version: release.version.clone(),
                source,
            })?
            .era();
        support::progress::say(format!(
            "Istio {} (era {era}) on {}",
            release.version,
            settings.provider.id()
        ));
        let recorder = Recorder::new(
            &settings.artifacts_dir,
            era.id(),
            &release.version,
            settings.provider.id(),
        );
        Ok(World {
            cluster: running.cluster.clone(),
            _running: running,
            settings,
            tools,
            release,
            facts: facts(era),
            recorder,
            installed: OnceCell::new(),
            apps: OnceCell::new(),
        })
    }
    build().await.map(Arc::new).map_err(Arc::new)
}

/// The cluster exists and its nodes are Ready.
#[fixture]
pub fn world() -> Arc<World> {
    match block_on(WORLD.get_or_init(build)) {
        Ok(w) => w.clone(),
        Err(e) => setup_failed(e),
    }
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
/// demo apps" steps 1 and 2).
#[fixture]
pub fn apps() -> Arc<World> {
    let w = installed();
    let deploy = || async {
        steps::deploy_apps(&w.cluster.client, &w.release, &w.facts, w.timeout(300))
            .await
            .map_err(|e| Arc::new(e.into()))
    };
    if let Err(e) = block_on(w.apps.get_or_init(deploy)) {
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
        let report = support::istio::install(
            &self.release,
            &self.cluster,
            &self.facts,
            cluster::provider::facts(self.settings.provider).install_flags,
            &self.tools,
            self.timeout(600),
        )
        .await
        .map_err(|e| Arc::new(e.into()))?;
        // The whole output, as evidence beside the claim records.
        let dir = &self.settings.artifacts_dir;
        let _ = std::fs::write(dir.join("istioctl-install.stdout.txt"), &report.stdout);
        let _ = std::fs::write(dir.join("istioctl-install.stderr.txt"), &report.stderr);
        // sim: istiod runs as a local process from here on (elsewhere: nothing to do).
        (self._running.after_install(&self.release).await).map_err(|e| Arc::new(e.into()))?;
        Ok(report)
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

    /// Records a claim's verdict; a drift fails the test at the caller's line, with expected vs
    /// actual and a diagnostics bundle. On `sim`, a claim that needs a data plane is recorded as
    /// not applicable (with what was observed) and never fails. Returns whether the claim held
    /// on a provider that can decide it.
    #[track_caller]
    pub fn check(&self, claim_id: &str, verdict: Verdict) -> bool {
        self.check_at(claim_id, verdict, Location::caller())
    }

    #[track_caller]
    fn check_at(&self, claim_id: &str, verdict: Verdict, at: &Location) -> bool {
        let c = claim(claim_id).unwrap_or_else(|| panic!("unknown claim {claim_id}"));
        let verdict = if c.needs_data_plane && !self.data_plane() {
            Verdict::NotApplicable {
                why: format!(
                    "sim: not a data-plane verdict (observed: {})",
                    describe(&verdict)
                ),
            }
        } else {
            verdict
        };
        if let Err(e) = self.recorder.record(claim_id, &verdict) {
            support::progress::say(format!("could not record claim {claim_id}: {e}"));
        }
        if verdict.is_failure() {
            let bundle = block_on_aside(self.diagnostics(claim_id));
            panic!(
                "claim {claim_id} ({}: {}) does not hold on Istio {} (era {}, {}), checked at {at}:\n{}\ndiagnostics: {}",
                c.section.title(),
                c.statement,
                self.release.version,
                self.facts.era,
                self.settings.provider.id(),
                describe(&verdict),
                bundle.display()
            );
        }
        verdict == Verdict::Holds
    }

    /// Observes until the judge holds or `timeout` passes (`support::observe::until_judged`),
    /// records the judge's last verdict for `claim_id` (failing at the caller's line), and
    /// returns the observation that held (none where the provider cannot decide the claim).
    #[track_caller]
    pub fn until_judged<O, E, F, Fut, J>(
        &self,
        claim_id: &str,
        timeout: Duration,
        observe: F,
        judge: J,
    ) -> Option<O>
    where
        E: std::error::Error + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<O, E>>,
        J: Fn(&O) -> Verdict,
    {
        let at = Location::caller();
        let what = format!("claim {claim_id} to hold");
        let judged = block_on(observe::until_judged(&what, timeout, observe, judge));
        let held = self.check_at(claim_id, judged.verdict, at);
        judged.observed.filter(|_| held)
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

    /// Binds insta's redactions and this era's snapshot suffix around `f`.
    pub fn snapshot(&self, suffix: &str, f: impl FnOnce()) {
        let mut s = support::snapshot::settings();
        s.set_snapshot_suffix(suffix);
        s.set_info(&format!(
            "Istio {} (era {})",
            self.release.version, self.facts.era
        ));
        s.bind(f);
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
