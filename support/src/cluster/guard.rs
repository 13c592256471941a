//! The context guard: the only way to obtain a client the suite may change a cluster with.
//!
//! A cluster may be changed when it is a cluster this run manages on this machine (kind, k3s,
//! sim: its own context, API server on a loopback address) or when its context is named
//! explicitly in `AMBIENT_KUBE_CONTEXT`. Anything else is refused before the first write, so
//! labelling `default` on somebody's production cluster cannot happen by accident.
//!
//! Kubeconfigs hold credentials: errors about them name the file, line and column, never a line
//! of their content.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

pub use crate::k8s::GuardedClient;
use crate::settings::{CLUSTER_NAME, KUBE_CONTEXT};

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "refusing to change the cluster of kube context {context:?}: {reason}. The suite only \
         changes the kind cluster it manages (context kind-${CLUSTER_NAME}) or a context named \
         explicitly in {KUBE_CONTEXT}"
    )]
    Refused { context: String, reason: String },
    /// A kubeconfig that cannot be read; the message never quotes its content.
    #[error("kubeconfig {origin}: {reason}")]
    Kubeconfig { origin: String, reason: String },
    #[error("connecting to kube context {context:?}: {reason}")]
    Connect { context: String, reason: String },
}

fn kubeconfig_error(origin: &str, reason: impl Into<String>) -> GuardError {
    GuardError::Kubeconfig {
        origin: origin.to_string(),
        reason: reason.into(),
    }
}

/// A kubeconfig and context that passed the guard.
#[derive(Debug, Clone)]
pub struct Approved {
    kubeconfig: Kubeconfig,
    context: String,
    server: String,
}

impl Approved {
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The server URL as configured. Print [`redacted_server`] of it, never this.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn kubeconfig(&self) -> &Kubeconfig {
        &self.kubeconfig
    }

    pub async fn connect(self) -> Result<GuardedClient, GuardError> {
        let options = KubeConfigOptions {
            context: Some(self.context.clone()),
            ..KubeConfigOptions::default()
        };
        let connect = |e: &(dyn std::error::Error + 'static)| GuardError::Connect {
            context: self.context.clone(),
            reason: without_password(
                &format!("{}: {}", self.server, crate::errors::chain(e)),
                &self.server,
            ),
        };
        crate::tls::install_crypto_provider();
        let config = kube::Config::from_custom_kubeconfig(self.kubeconfig.clone(), &options)
            .await
            .map_err(|e| connect(&e))?;
        let client = kube::Client::try_from(config).map_err(|e| connect(&e))?;
        Ok(GuardedClient::new(
            client,
            self.context,
            redacted_server(&self.server),
        ))
    }
}

/// Reads kubeconfig text. `origin` names where it came from (a file, a command's output). A YAML
/// error names the line and column; a schema error names what is wrong with the quoted values
/// removed. The text itself is never part of an error.
pub fn parse_kubeconfig(origin: &str, text: &str) -> Result<Kubeconfig, GuardError> {
    use serde::Deserialize;
    let mut merged: Option<Kubeconfig> = None;
    for document in serde_norway::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize(document).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!("line {}, column {}", l.line(), l.column()))
                .unwrap_or_else(|| "an unknown position".into());
            kubeconfig_error(origin, format!("not valid YAML at {at}"))
        })?;
        if value.is_null() {
            continue;
        }
        let config: Kubeconfig = serde_json::from_value(value).map_err(|e| {
            kubeconfig_error(
                origin,
                format!("not a kubeconfig: {}", without_values(&e.to_string())),
            )
        })?;
        merged = Some(match merged {
            None => config,
            Some(m) => m
                .merge(config)
                .map_err(|e| kubeconfig_error(origin, without_values(&e.to_string())))?,
        });
    }
    Ok(merged.unwrap_or_default())
}

/// A deserializer's message with every quoted value replaced by `…` (serde quotes the offending
/// value, which may be a token).
pub fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' | '\'' => {
                // Skip to the matching close; an unterminated quote hides the rest.
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                }
                out.push('…');
            }
            _ => out.push(c),
        }
    }
    out
}

/// Reads a kubeconfig file with [`parse_kubeconfig`], resolving relative certificate and key
/// paths against its directory as kubectl does.
pub fn read_kubeconfig_file(path: &Path) -> Result<Kubeconfig, GuardError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| kubeconfig_error(&origin, format!("cannot be read: {e}")))?;
    let mut config = parse_kubeconfig(&origin, &text)?;
    if let Some(dir) = path.parent() {
        let absolute = |p: &mut Option<String>| {
            if let Some(rel) = p.as_ref().filter(|s| !Path::new(s.as_str()).is_absolute()) {
                *p = Some(dir.join(rel).display().to_string());
            }
        };
        for c in config
            .clusters
            .iter_mut()
            .filter_map(|c| c.cluster.as_mut())
        {
            absolute(&mut c.certificate_authority);
        }
        for a in config
            .auth_infos
            .iter_mut()
            .filter_map(|a| a.auth_info.as_mut())
        {
            absolute(&mut a.client_certificate);
            absolute(&mut a.client_key);
            absolute(&mut a.token_file);
        }
    }
    Ok(config)
}

/// The files kubectl reads: every entry of `KUBECONFIG` (merged, first wins, missing files
/// skipped as kubectl skips them), else `~/.kube/config`.
pub fn kubeconfig_paths(
    kubeconfig_env: Option<&std::ffi::OsStr>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(list) = kubeconfig_env.filter(|v| !v.is_empty()) {
        return std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    home.map(|h| vec![h.join(".kube").join("config")])
        .unwrap_or_default()
}

/// Reads and merges the kubeconfig files kubectl would read.
pub fn read_merged(paths: &[PathBuf]) -> Result<Kubeconfig, GuardError> {
    let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
    if existing.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(kubeconfig_error(
            &shown.join(":"),
            "no such file (set KUBECONFIG, or create ~/.kube/config)",
        ));
    }
    let mut merged: Option<Kubeconfig> = None;
    for path in existing {
        let config = read_kubeconfig_file(path)?;
        merged = Some(match merged {
            None => config,
            Some(m) => m.merge(config).map_err(|e| {
                kubeconfig_error(&path.display().to_string(), without_values(&e.to_string()))
            })?,
        });
    }
    Ok(merged.unwrap_or_default())
}

struct Target {
    server: String,
    proxied: bool,
}

fn target_of(kubeconfig: &Kubeconfig, context: &str) -> Option<Target> {
    let ctx = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?;
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)?
        .cluster
        .as_ref()?;
    Some(Target {
        server: cluster.server.clone()?,
        proxied: cluster.proxy_url.is_some(),
    })
}

/// Whether the client would connect to this machine. The server URL is parsed as the client
/// parses it (`http::Uri`, what kube-rs connects with), so the host checked is the host dialled:
/// userinfo (`https://127.0.0.1:6443@10.1.2.3`) is refused outright, only `https` is accepted,
/// and the host must be a loopback IP literal or `localhost` whose every address is loopback.
/// DNS names (`localhost.`, `127.0.0.1.nip.io`) are refused: what they resolve to can change.
pub fn loopback_server(server: &str) -> Result<(), String> {
    let shown = redacted_server(server);
    loopback_server_shown(server, &shown).map_err(|reason| without_password(&reason, server))
}

fn loopback_server_shown(server: &str, shown: &str) -> Result<(), String> {
    let uri: http::Uri = server
        .parse()
        .map_err(|e| format!("its server {shown:?} is not a URL ({e})"))?;
    if uri.scheme_str() != Some("https") {
        return Err(format!("its server {shown} does not use https"));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("its server {shown} names no host"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "its server {shown} carries userinfo, which hides the host it connects to"
        ));
    }
    let host = authority.host();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return if is_loopback(ip) {
            Ok(())
        } else {
            Err(format!("its API server {shown} is not on this machine"))
        };
    }
    if host.eq_ignore_ascii_case("localhost") {
        use std::net::ToSocketAddrs;
        let addrs: Vec<IpAddr> = ("localhost", 0)
            .to_socket_addrs()
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default();
        return if !addrs.is_empty() && addrs.iter().all(|ip| is_loopback(*ip)) {
            Ok(())
        } else {
            Err(format!(
                "its server {shown} names localhost, which resolves to {addrs:?} here"
            ))
        };
    }
    Err(format!(
        "its server {shown} names host {host:?}; only a loopback address or `localhost` is \
         accepted for a cluster on this machine (a DNS name may resolve anywhere)"
    ))
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `server` with the password of its userinfo, if any, replaced by `…`
/// (`https://admin:…@127.0.0.1:1`): the form every message prints.
pub fn redacted_server(server: &str) -> String {
    match password_span(server) {
        Some((from, to)) => format!("{}…{}", &server[..from], &server[to..]),
        None => server.to_string(),
    }
}

/// `message` with every occurrence of `server`'s password (as written, and percent-decoded)
/// replaced by `…`: an error of the HTTP client may quote the URL it was given.
pub fn without_password(message: &str, server: &str) -> String {
    let Some((from, to)) = password_span(server) else {
        return message.to_string();
    };
    let password = &server[from..to];
    let mut out = message.replace(password, "…");
    let decoded = percent_decoded(password);
    if !decoded.is_empty() && decoded != password {
        out = out.replace(&decoded, "…");
    }
    out
}

/// Where the password of `server`'s userinfo is (`scheme://user:password@host`), if it has one.
fn password_span(server: &str) -> Option<(usize, usize)> {
    let authority_start = server.find("://")? + 3;
    let authority_len = server[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(server.len() - authority_start);
    let authority = &server[authority_start..authority_start + authority_len];
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    let (from, to) = (authority_start + colon + 1, authority_start + at);
    (from < to).then_some((from, to))
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `true` when [`loopback_server`] accepts `server`.
pub fn is_loopback_server(server: &str) -> bool {
    loopback_server(server).is_ok()
}

fn approve_on_this_machine(
    kubeconfig: Kubeconfig,
    origin: &str,
    expected: &str,
) -> Result<Approved, GuardError> {
    let current = kubeconfig.current_context.clone().unwrap_or_default();
    if current != expected {
        return Err(GuardError::Refused {
            context: current,
            reason: format!("this run manages {expected}"),
        });
    }
    let target = target_of(&kubeconfig, &current).ok_or_else(|| {
        kubeconfig_error(origin, format!("context {current:?} has no cluster server"))
    })?;
    if target.proxied {
        return Err(GuardError::Refused {
            context: current,
            reason: "its cluster sets proxy-url, so connections go elsewhere".into(),
        });
    }
    loopback_server(&target.server).map_err(|reason| GuardError::Refused {
        context: current.clone(),
        reason,
    })?;
    Ok(Approved {
        kubeconfig,
        context: current,
        server: target.server,
    })
}

/// Approves the kubeconfig `kind get kubeconfig --name <cluster>` printed: its current context
/// must be `kind-<cluster>` and its API server on this machine.
pub fn approve_kind(kubeconfig_yaml: &str, cluster: &str) -> Result<Approved, GuardError> {
    let origin = format!("printed by `kind get kubeconfig --name {cluster}`");
    let kubeconfig = parse_kubeconfig(&origin, kubeconfig_yaml)?;
    approve_on_this_machine(kubeconfig, &origin, &format!("kind-{cluster}"))
}

/// Approves the kubeconfig of a cluster this run started on this machine (sim, k3s): its current
/// context must be `expected` and its API server on this machine.
pub fn approve_local(
    origin: &str,
    kubeconfig_yaml: &str,
    expected: &str,
) -> Result<Approved, GuardError> {
    let kubeconfig = parse_kubeconfig(origin, kubeconfig_yaml)?;
    approve_on_this_machine(kubeconfig, origin, expected)
}

/// Approves `context` of a user's kubeconfig only when it is the one named in
/// `AMBIENT_KUBE_CONTEXT` (`allowed`).
pub fn approve_named(
    kubeconfig: Kubeconfig,
    origin: &str,
    context: &str,
    allowed: Option<&str>,
) -> Result<Approved, GuardError> {
    if allowed != Some(context) {
        return Err(GuardError::Refused {
            context: context.to_string(),
            reason: match allowed {
                None => format!("{KUBE_CONTEXT} is not set"),
                Some(a) => format!("{KUBE_CONTEXT} names {a:?}, not this context"),
            },
        });
    }
    let target = target_of(&kubeconfig, context).ok_or_else(|| {
        kubeconfig_error(
            origin,
            format!("no context named {context:?} with a cluster server"),
        )
    })?;
    Ok(Approved {
        kubeconfig,
        context: context.to_string(),
        server: target.server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_literals_and_localhost_are_this_machine() {
        for ok in [
            "https://127.0.0.1:36265",
            "https://127.9.9.9:6443",
            "https://localhost:6443",
            "https://LOCALHOST:6443",
            "https://[::1]:6443",
            "https://[::ffff:127.0.0.1]:6443",
        ] {
            assert_eq!(loopback_server(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_password_in_the_server_url_is_never_printed() {
        let server = "https://admin:s3cr%40t@127.0.0.1:1/path@x";
        assert_eq!(
            redacted_server(server),
            "https://admin:…@127.0.0.1:1/path@x"
        );
        let err = loopback_server(server).unwrap_err();
        assert!(err.contains("admin:…@127.0.0.1"), "{err}");
        assert!(!err.contains("s3cr"), "{err}");
        // The decoded form too, wherever a client quotes it.
        assert_eq!(
            without_password("dial admin:s3cr@t@127.0.0.1 failed (s3cr%40t)", server),
            "dial admin:…@127.0.0.1 failed (…)"
        );
        // Near misses: a user without a password, an `@` only after the authority, no userinfo.
        for kept in [
            "https://admin@127.0.0.1:1",
            "https://127.0.0.1:1/a:b@c",
            "https://127.0.0.1:1",
            "not a url",
        ] {
            assert_eq!(redacted_server(kept), kept);
            assert_eq!(without_password("admin b@c", kept), "admin b@c");
        }
    }

    #[test]
    fn tricky_servers_are_refused() {
        for (bad, why) in [
            ("https://127.0.0.1:6443@10.1.2.3:6443", "userinfo"),
            ("https://user@127.0.0.1:6443", "userinfo"),
            ("https://10.0.0.1:6443", "not on this machine"),
            ("https://[fe80::1]:6443", "not on this machine"),
            ("https://0.0.0.0:6443", "not on this machine"),
            ("https://localhost.:6443", "DNS name"),
            ("https://localhost.evil.example:6443", "DNS name"),
            ("https://127.0.0.1.nip.io:6443", "DNS name"),
            ("https://prod.example.com", "DNS name"),
            ("http://127.0.0.1:8080", "https"),
            ("", "not a URL"),
            ("127.0.0.1:6443", "https"),
        ] {
            let err = loopback_server(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn quoted_values_never_reach_an_error() {
        assert_eq!(
            without_values("invalid type: string \"s3cr3t\", expected a map"),
            "invalid type: string …, expected a map"
        );
        assert_eq!(
            without_values("unknown variant `tok`, x"),
            "unknown variant …, x"
        );
        assert_eq!(without_values("cut \"off"), "cut …");
    }

    #[test]
    fn a_yaml_error_names_line_and_column_not_the_token() {
        let text = "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: s3cr3t-t0ken: [\n";
        let err = parse_kubeconfig("/home/x/.kube/config", text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("kubeconfig /home/x/.kube/config: not valid YAML at line 5"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
        let wrong_type = "users:\n- name: u\n  user:\n    token: [\"s3cr3t\"]\n";
        let err = parse_kubeconfig("f", wrong_type).unwrap_err().to_string();
        assert!(err.contains("not a kubeconfig"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
