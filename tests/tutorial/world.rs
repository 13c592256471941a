//! The shared cluster fixture: idempotent "ensure" stages (cluster → Istio installed → apps
//! deployed and enrolled), each run once per process and safe to repeat in a new one (the state
//! lives in the cluster). A stage that failed fails every test that needs it, with its error.

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};
use rstest::fixture;
use support::claims::{Recorder, Verdict, claim};
use support::cluster::{self, Cluster};
use support::eras::{EraFacts, IstioVersion, facts};
use support::istio::{Acquirer, InstallReport, IstioRelease};
use support::judge::{HTTP_CODE_MARKER, Traffic};
use support::k8s::{apply, pods};
use support::logs::{AccessRecord, parse_access};
use support::process::Tools;
use support::settings::Settings;
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

/// Like [`block_on`], but safe to call from inside a future that is itself being blocked on (a
/// failing check inside a section): runs on a thread of its own.
pub fn block_on_aside<F: Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|s| s.spawn(|| RUNTIME.block_on(f)).join())
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

pub struct World {
    /// Keeps the cluster alive (sim processes, the k3s container) for the whole test process.
    _running: support::cluster::Running,
    pub settings: Settings,
    pub tools: Tools,
    pub release: IstioRelease,
    pub facts: EraFacts,
    pub cluster: Cluster,
    pub recorder: Recorder,
    installed: OnceCell<Result<InstallReport, String>>,
    apps: OnceCell<Result<(), String>>,
}

static WORLD: OnceCell<Result<Arc<World>, String>> = OnceCell::const_new();

async fn build() -> Result<Arc<World>, String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let tools = Tools::default();
    // The provider's prerequisites are checked first, before any download.
    let running = cluster::start(&settings, &tools)
        .await
        .map_err(|e| e.to_string())?;
    let acquirer = Acquirer::new(settings.cache_dir.clone(), tools.clone());
    let release = acquirer
        .acquire(&settings.istio)
        .await
        .map_err(|e| e.to_string())?;
    let era = IstioVersion::parse(&release.version)
        .map_err(|e| e.to_string())?
        .era();
    let facts = facts(era);
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
    Ok(Arc::new(World {
        cluster: running.cluster.clone(),
        _running: running,
        settings,
        tools,
        release,
        facts,
        recorder,
        installed: OnceCell::new(),
        apps: OnceCell::new(),
    }))
}

/// The cluster exists and its nodes are Ready.
#[fixture]
pub fn world() -> Arc<World> {
    block_on(WORLD.get_or_init(build))
        .clone()
        .unwrap_or_else(|e| panic!("setting up the tutorial cluster failed: {e}"))
}

/// Istio is installed in ambient mode ("Installation" step 4).
#[fixture]
pub fn installed() -> Arc<World> {
    let w = world();
    block_on(w.installed.get_or_init(|| w.install()))
        .clone()
        .unwrap_or_else(|e| panic!("installing Istio failed: {e}"));
    w
}

/// Bookinfo, its gateway, sleep and notsleep run, and `default` is in ambient mode ("Deploying the
/// demo apps" steps 1 and 2).
#[fixture]
pub fn apps() -> Arc<World> {
    let w = installed();
    block_on(w.apps.get_or_init(|| w.deploy_apps()))
        .clone()
        .unwrap_or_else(|e| panic!("deploying the demo apps failed: {e}"));
    w
}

/// Deployments the tutorial's apps create.
pub const BOOKINFO: &[&str] = &[
    "details-v1",
    "ratings-v1",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "productpage-v1",
];
pub const CLIENTS: &[&str] = &["sleep", "notsleep"];

impl World {
    pub fn timeout(&self, secs: u64) -> Duration {
        self.settings.timeout(Duration::from_secs(secs))
    }

    /// The install report (the `installed` fixture ran it).
    pub fn install_report(&self) -> InstallReport {
        self.installed
            .get()
            .cloned()
            .and_then(Result::ok)
            .expect("the installed fixture ran")
    }

    async fn install(&self) -> Result<InstallReport, String> {
        let timeout = self.timeout(600);
        let report = support::istio::install(
            &self.release,
            &self.cluster,
            &self.facts,
            support::cluster::provider::facts(self.settings.provider).install_flags,
            &self.tools,
            timeout,
        )
        .await
        .map_err(|e| e.to_string())?;
        // The whole output, as evidence beside the claim records.
        let dir = &self.settings.artifacts_dir;
        let _ = std::fs::write(dir.join("istioctl-install.stdout.txt"), &report.stdout);
        let _ = std::fs::write(dir.join("istioctl-install.stderr.txt"), &report.stderr);
        Ok(report)
    }

    async fn deploy_apps(&self) -> Result<(), String> {
        let c = &self.cluster.client;
        let sample = |p: &str| self.release.sample(p).map_err(|e| e.to_string());
        for file in [
            sample("bookinfo/platform/kube/bookinfo.yaml")?,
            sample("bookinfo/networking/bookinfo-gateway.yaml")?,
        ] {
            apply::apply_path(c, &file, "default")
                .await
                .map_err(|e| e.to_string())?;
        }
        for fixture in ["apps/sleep.yaml", "apps/notsleep.yaml"] {
            apply::apply_path(c, &support::fixtures::path(fixture), "default")
                .await
                .map_err(|e| e.to_string())?;
        }
        // The tutorial waits for every pod before labelling the namespace.
        for d in BOOKINFO.iter().chain(CLIENTS) {
            pods::wait_deployment(c, "default", d, self.timeout(300))
                .await
                .map_err(|e| e.to_string())?;
        }
        self.label_namespace("default", self.facts.enrollment_label)
            .await
    }

    /// `kubectl label namespace <ns> k=v` (a merge patch of the label).
    pub async fn label_namespace(&self, ns: &str, (k, v): (&str, &str)) -> Result<(), String> {
        let api: Api<Namespace> = Api::all(self.cluster.client.client());
        let patch = serde_json::json!({ "metadata": { "labels": { k: v } } });
        api.patch(ns, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Can this provider decide claims that need a data plane? (`sim` cannot.)
    pub fn data_plane(&self) -> bool {
        support::cluster::provider::facts(self.settings.provider).data_plane
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

    /// Records a claim's verdict; a drift fails the test with expected vs actual and a
    /// diagnostics bundle. On `sim`, a claim that needs a data plane is recorded as not applicable
    /// (with what was observed) and never fails. Returns whether the claim held on a provider that
    /// can decide it.
    pub fn check(&self, claim_id: &str, verdict: Verdict) -> bool {
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
                "claim {claim_id} ({}: {}) does not hold on Istio {} (era {}, {}):\n{}\ndiagnostics: {}",
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

    pub async fn diagnostics(&self, label: &str) -> std::path::PathBuf {
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

    /// Runs the steps of a section that changes shared state, then its teardown, even when a step
    /// fails; the failure is re-raised after the teardown.
    pub fn section<S, T>(&self, steps: S, teardown: T)
    where
        S: Future<Output = ()>,
        T: Future<Output = ()>,
    {
        let outcome = block_on(std::panic::AssertUnwindSafe(steps).catch_unwind());
        block_on(teardown);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    /// The one running pod of a deployment in `default`.
    pub async fn pod_of(&self, deployment: &str) -> k8s_openapi::api::core::v1::Pod {
        let found = pods::of_deployment(&self.cluster.client, "default", deployment)
            .await
            .expect("listing pods");
        pods::pick_running(found)
            .unwrap_or_else(|| panic!("no running pod of deployment {deployment}"))
    }

    /// The tutorial's `kubectl exec deploy/sleep -- curl -s http://productpage:9080/`, with `-w`
    /// appended so the HTTP status is visible.
    pub async fn curl_productpage(&self) -> String {
        let sleep = self.pod_of("sleep").await;
        let argv = [
            "curl",
            "-s",
            "http://productpage:9080/",
            "-w",
            "\n[http_code=%{http_code}]",
        ];
        debug_assert!(argv[4].contains(HTTP_CODE_MARKER));
        match pods::exec(
            &self.cluster.client,
            "default",
            pods::name_of(&sleep),
            None,
            &argv,
            self.timeout(60),
        )
        .await
        {
            Ok(out) => out.stdout,
            Err(e) => format!("(exec failed: {e})"),
        }
    }

    /// The connection the tutorial makes, with the pods of this cluster.
    pub async fn traffic(&self, waypoint: Option<support::judge::WaypointExpectation>) -> Traffic {
        let productpage = self.pod_of("productpage-v1").await;
        Traffic {
            client_sa: "sleep".into(),
            service_host: "productpage.default.svc.cluster.local".into(),
            server_ips: pods::ips_of(&productpage),
            waypoint,
        }
    }

    /// Curls the product page, then reads the log of the ztunnel on the node of `deployment`'s
    /// pod from just before the curl. Returns the raw lines and their records.
    pub async fn curl_and_read_ztunnel(&self, deployment: &str) -> Vec<(String, AccessRecord)> {
        let start = Timestamp::now() - Duration::from_secs(2);
        let _ = self.curl_productpage().await;
        self.ztunnel_lines_since(deployment, start).await
    }

    pub async fn ztunnel_lines_since(
        &self,
        deployment: &str,
        start: Timestamp,
    ) -> Vec<(String, AccessRecord)> {
        let pod = self.pod_of(deployment).await;
        let node = pods::node_of(&pod).expect("a scheduled pod").to_string();
        let (k, v) = self.facts.ztunnel_label;
        let ns = self.facts.istio_namespace;
        let ztunnel = pods::on_node(&self.cluster.client, ns, &format!("{k}={v}"), &node)
            .await
            .expect("the ztunnel on the node");
        let log = pods::logs_since(
            &self.cluster.client,
            ns,
            pods::name_of(&ztunnel),
            self.facts.ztunnel_container,
            start,
        )
        .await
        .unwrap_or_default();
        log.lines()
            .filter_map(|l| parse_access(l).ok().map(|r| (l.to_string(), r)))
            .collect()
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

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Holds => "holds".into(),
        Verdict::Drifted { expected, actual } => {
            format!("expected: {expected}\nactual:   {actual}")
        }
        Verdict::NotReached { why } => format!("not reached: {why}"),
        other => format!("{other:?}"),
    }
}
