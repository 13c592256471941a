//! istio.io's site shortcodes inside a command, filled in where the suite knows the value the
//! site would print for the release in use.
//!
//! istio.io defines each of these as one field of its `data/args.yml` (istio/istio.io
//! `layouts/shortcodes/istio_full_version.html` is `{{ .Site.Data.args.full_version }}`,
//! `istio_version.html` is `{{ .Site.Data.args.version }}` (the `1.24` of `1.24.2`),
//! `k8s_gateway_api_version.html` is `{{ .Site.Data.args.k8s_gateway_api_version }}`, which the
//! site's Makefile sets from the `sigs.k8s.io/gateway-api` line of the release's go.mod: shared
//! notes istio-eras.md). So for the release the suite runs, the values are: its version, its
//! `major.minor`, and the Gateway API version it needs (sim: the bundle `fixtures/sim/build.sh`
//! took from that go.mod; elsewhere the era table's `gateway_api_crds`). Any other shortcode
//! (`github_file`, `boilerplate`, …) stays unfilled, and its command not applicable with why.

use crate::eras::{EraFacts, GatewayApiCrds, IstioVersion};

/// The values of the shortcodes the suite can fill for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteValues {
    values: Vec<(&'static str, String)>,
}

/// A value that can stand in a command as written, quoted or not: a version.
fn plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

impl SiteValues {
    /// The values for `release_version` (the release in use, as its directory is named) and the
    /// Gateway API version it needs (`None`: not known, the shortcode stays unfilled).
    pub fn of(release_version: &str, gateway_api: Option<&str>) -> Self {
        let mut values = Vec::new();
        if plain(release_version) {
            values.push(("istio_full_version", release_version.to_string()));
        }
        if let Ok(v) = IstioVersion::parse(release_version) {
            values.push(("istio_version", format!("{}.{}", v.major, v.minor)));
        }
        if let Some(g) = gateway_api.filter(|g| plain(g)) {
            values.push(("k8s_gateway_api_version", g.to_string()));
        }
        SiteValues { values }
    }

    /// The Gateway API version the era table names for a release (`None` before the user
    /// installed the CRDs: the 2022 build's istioctl did).
    pub fn era_gateway_api(facts: &EraFacts) -> Option<&'static str> {
        match facts.waypoint.gateway_api_crds {
            GatewayApiCrds::Release(v) => Some(v),
            GatewayApiCrds::InstalledByIstioctl => None,
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `text` with every `{{< name >}}` the values know replaced by its value, or the names of the
/// shortcodes they do not know (a shortcode with arguments is never filled). One pass.
pub fn fill(text: &str, values: &SiteValues) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(text.len());
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{<") {
        let after = &rest[open + 3..];
        let Some(close) = after.find(">}}") else {
            break;
        };
        out.push_str(&rest[..open]);
        let inner: Vec<&str> = after[..close].split_whitespace().collect();
        match inner.as_slice() {
            [name] if values.get(name).is_some() => {
                out.push_str(values.get(name).unwrap_or_default());
            }
            // The text is not returned once a shortcode is unknown: only its name is kept.
            _ => {
                let name = inner.first().copied().unwrap_or("").to_string();
                if !unknown.contains(&name) {
                    unknown.push(name);
                }
            }
        }
        rest = &after[close + 3..];
    }
    out.push_str(rest);
    if unknown.is_empty() {
        Ok(out)
    } else {
        Err(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_and_its_gateway_api_fill_their_shortcodes() {
        let v = SiteValues::of("1.24.2", Some("v1.2.0"));
        assert_eq!(
            fill(
                "curl -L https://x/istio-{{< istio_full_version >}}.tgz # {{<istio_version>}}",
                &v
            ),
            Ok("curl -L https://x/istio-1.24.2.tgz # 1.24".into())
        );
        assert_eq!(
            fill(
                "kubectl kustomize \"g/c?ref={{< k8s_gateway_api_version >}}\"",
                &v
            ),
            Ok("kubectl kustomize \"g/c?ref=v1.2.0\"".into())
        );
        assert_eq!(
            SiteValues::of("1.31-dev", None).get("istio_version"),
            Some("1.31")
        );
        assert_eq!(fill("no shortcode", &v), Ok("no shortcode".into()));
    }

    #[test]
    fn the_gateway_api_version_is_the_release_s_and_none_where_istioctl_installed_the_crds() {
        let of = |v: &str| {
            SiteValues::era_gateway_api(&crate::eras::facts_for(&IstioVersion::parse(v).unwrap()))
        };
        assert_eq!(of("1.24.2"), Some("v1.2.1"));
        assert_eq!(of("1.22.0"), Some("v1.1.0"));
        // The 2022 build's istioctl installed them: nothing for the shortcode.
        assert_eq!(of(crate::eras::TUTORIAL_BUILD), None);
    }

    #[test]
    fn unknown_shortcodes_and_unknown_values_stay_unfilled() {
        let v = SiteValues::of("1.24.2", None);
        assert_eq!(
            fill("kubectl apply -f {{< github_file >}}/a.yaml", &v),
            Err(vec!["github_file".to_string()])
        );
        // No Gateway API version known: the shortcode is not filled with anything.
        assert_eq!(
            fill("x?ref={{< k8s_gateway_api_version >}}", &v),
            Err(vec!["k8s_gateway_api_version".to_string()])
        );
        // Arguments: not the one-word form the suite knows.
        assert_eq!(
            fill("{{< istio_version extra >}}", &v),
            Err(vec!["istio_version".to_string()])
        );
        // A value that is not a plain version is never put in a command.
        assert_eq!(
            SiteValues::of("1.2.3; rm -rf x", Some("$(id)")).get("k8s_gateway_api_version"),
            None
        );
        assert_eq!(
            SiteValues::of("1.2.3; rm -rf x", None).get("istio_full_version"),
            None
        );
    }
}
