//! Server-side apply of manifests (the release's `samples/...` files and our fixtures), the
//! suite's `kubectl apply -f`. Only through a [`GuardedClient`].

use std::path::Path;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope, pinned_kind};

use super::wait::{Probe, WaitError, until};
use crate::k8s::GuardedClient;
use crate::manifests::{ManifestError, parse};

/// The field manager our applies are recorded under.
pub const FIELD_MANAGER: &str = "ambient-tutorial-suite";

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{origin}: {kind} {name}: the cluster does not serve {api_version} {kind}: {reason}")]
    UnknownKind {
        origin: String,
        api_version: String,
        kind: String,
        name: String,
        reason: String,
    },
    #[error(transparent)]
    Wait(#[from] WaitError),
    #[error("{origin}: applying {kind} {name}: {source}")]
    Api {
        origin: String,
        kind: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Applies every document of a file, or every `.yaml`/`.yml` file of a directory in name order
/// (what `kubectl apply -f <dir>` does). Objects without a namespace go to `default_ns` when they
/// are namespaced. Returns the applied objects.
pub async fn apply_path(
    client: &GuardedClient,
    path: &Path,
    default_ns: &str,
) -> Result<Vec<DynamicObject>, ApplyError> {
    let files = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| ApplyError::Read {
                path: path.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut applied = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| ApplyError::Read {
            path: file.display().to_string(),
            source,
        })?;
        applied.extend(apply_text(client, &file.display().to_string(), &text, default_ns).await?);
    }
    Ok(applied)
}

/// Applies multi-document YAML text.
pub async fn apply_text(
    client: &GuardedClient,
    origin: &str,
    text: &str,
    default_ns: &str,
) -> Result<Vec<DynamicObject>, ApplyError> {
    let mut applied = Vec::new();
    for object in parse(origin, text)? {
        applied.push(apply_object(client, origin, object, default_ns).await?);
    }
    Ok(applied)
}

async fn resolve(
    client: &GuardedClient,
    gvk: &GroupVersionKind,
) -> Result<(ApiResource, ApiCapabilities), String> {
    // A kind defined by a CRD applied just before needs a moment to be served: retry briefly.
    let client = client.client();
    until(
        &format!(
            "the API to serve {}/{} {}",
            gvk.group, gvk.version, gvk.kind
        ),
        Duration::from_secs(30),
        || {
            let client = client.clone();
            let gvk = gvk.clone();
            async move {
                match pinned_kind(&client, &gvk).await {
                    Ok(found) => Probe::Ready(found),
                    Err(e) => match served_versions(&client, &gvk.group).await {
                        // The group is served, without this version: waiting will not add it
                        // (a `v1alpha2` Gateway on gateway-api v0.8+).
                        Some(versions)
                            if !versions.is_empty() && !versions.contains(&gvk.version) =>
                        {
                            Probe::Hopeless(format!(
                                "{}: the API group serves versions {} only",
                                gvk.group,
                                versions.join(", ")
                            ))
                        }
                        _ => Probe::NotYet(e.to_string()),
                    },
                }
            }
        },
    )
    .await
    .map_err(|e: WaitError| e.to_string())
}

/// The versions the API server serves for `group` (core `""`: `v1`), or `None` if it does not
/// know the group (yet).
async fn served_versions(client: &kube::Client, group: &str) -> Option<Vec<String>> {
    if group.is_empty() {
        return Some(vec!["v1".into()]);
    }
    let groups = client.list_api_groups().await.ok()?;
    let g = groups.groups.into_iter().find(|g| g.name == group)?;
    Some(g.versions.into_iter().map(|v| v.version).collect())
}

/// The API for one object (namespaced objects default to `default_ns`).
pub async fn api_for(
    client: &GuardedClient,
    object: &DynamicObject,
    default_ns: &str,
) -> Result<Api<DynamicObject>, String> {
    let types = object
        .types
        .as_ref()
        .ok_or("object without apiVersion/kind")?;
    let gvk = GroupVersionKind::try_from(types).map_err(|e| e.to_string())?;
    let (resource, caps) = resolve(client, &gvk).await?;
    Ok(match caps.scope {
        Scope::Namespaced => {
            let ns = object.metadata.namespace.as_deref().unwrap_or(default_ns);
            Api::namespaced_with(client.client(), ns, &resource)
        }
        Scope::Cluster => Api::all_with(client.client(), &resource),
    })
}

async fn apply_object(
    client: &GuardedClient,
    origin: &str,
    object: DynamicObject,
    default_ns: &str,
) -> Result<DynamicObject, ApplyError> {
    let types = object.types.clone().unwrap_or_default();
    let name = object.metadata.name.clone().unwrap_or_default();
    let api = api_for(client, &object, default_ns)
        .await
        .map_err(|reason| ApplyError::UnknownKind {
            origin: origin.into(),
            api_version: types.api_version.clone(),
            kind: types.kind.clone(),
            name: name.clone(),
            reason,
        })?;
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(&name, &params, &Patch::Apply(&object))
        .await
        .map_err(|source| ApplyError::Api {
            origin: origin.into(),
            kind: types.kind,
            name,
            source,
        })
}

/// Deletes the objects of a manifest (missing ones are fine) and waits until they are gone.
pub async fn delete_text(
    client: &GuardedClient,
    origin: &str,
    text: &str,
    default_ns: &str,
    timeout: Duration,
) -> Result<(), ApplyError> {
    for object in parse(origin, text)? {
        let types = object.types.clone().unwrap_or_default();
        let name = object.metadata.name.clone().unwrap_or_default();
        let api = match api_for(client, &object, default_ns).await {
            Ok(api) => api,
            Err(_) => continue, // the kind is not served: nothing of it exists
        };
        match api.delete(&name, &DeleteParams::foreground()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(source) => {
                return Err(ApplyError::Api {
                    origin: origin.into(),
                    kind: types.kind,
                    name,
                    source,
                });
            }
        }
        let what = format!("{} {name} to be deleted", types.kind);
        until(&what, timeout, || {
            let api = api.clone();
            let name = name.clone();
            async move {
                match api.get_opt(&name).await {
                    Ok(None) => Probe::Ready(()),
                    Ok(Some(o)) => Probe::NotYet(format!(
                        "still present (deletionTimestamp {:?})",
                        o.metadata.deletion_timestamp.map(|t| t.0.to_string())
                    )),
                    Err(e) => Probe::NotYet(e.to_string()),
                }
            }
        })
        .await?;
    }
    Ok(())
}
