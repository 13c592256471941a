//! The nightly's evidence check (`ambient-spec secret-scan`): each form a credential takes in
//! what the suite's tools write is found, in plain and gzipped files, at any length of line; a
//! clean directory of the same shapes passes.

use std::io::Write;
use std::path::Path;

use support::secret_scan::{PIECE, scan_dir};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn forms_in(dir: &Path) -> Vec<(String, usize, &'static str)> {
    scan_dir(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            (
                f.path.file_name().unwrap().to_string_lossy().into_owned(),
                f.line,
                f.form,
            )
        })
        .collect()
}

/// Text of the shapes the evidence holds, with nothing secret in it: the near miss of every form.
const CLEAN: &str = r#"apiVersion: v1
kind: Pod
spec:
  volumes:
  - name: kube-api-access
    projected:
      sources:
      - serviceAccountToken:
          expirationSeconds: 3607
          path: token
data:
  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
{"serviceAccountToken": {"path": "token"}, "tokens": 3, "msg": "token rotated"}
2026-12-06T03:17:00Z info ztunnel fetched a Bearer token for the workload
the public key is in ca.crt; client-certificate is named in the kubeconfig
"#;

#[test]
fn every_form_of_credential_is_found_and_clean_evidence_passes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    write("clean.yaml", CLEAN.as_bytes());
    write("clean.yaml.gz", &gzip(CLEAN.as_bytes()));
    assert_eq!(forms_in(dir.path()), vec![], "the near misses pass");

    let cases: [(&str, &str, &str); 11] = [
        (
            "pem.txt",
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n",
            "a PEM private key",
        ),
        (
            "kubeconfig",
            "users:\n- user:\n    client-key-data: LS0tLS1C\n",
            "kubeconfig client-key-data",
        ),
        (
            "cert.kubeconfig.txt",
            "    client-certificate-data: LS0tLS1C\n",
            "kubeconfig client-certificate-data",
        ),
        (
            "yaml-token.yaml",
            "users:\n- name: admin\n  user:\n    token: abcdef0123456789\n",
            "a YAML token: field",
        ),
        (
            "list-token.yaml",
            "- token: abcdef0123456789\n",
            "a YAML token: field",
        ),
        (
            "secret.json",
            "{\"kind\":\"Config\",\"token\": \"eyJhbGciOiJSUzI1NiJ9.x.y\"}\n",
            "a JSON \"token\" field",
        ),
        (
            "secret.yaml",
            "kind: Secret\ndata:\n  tls.key: LS0tLS1CRUdJTiBSU0Eg\n",
            "a Secret's tls.key",
        ),
        (
            "secret-data.json",
            "{\"data\":{\"tls.key\":\"LS0tLS1CRUdJTiBSU0Eg\"}}\n",
            "a Secret's tls.key",
        ),
        (
            "gcp.yaml",
            "      config:\n        access-token: ya29.a0AfH6SMB\n",
            "an auth provider's access-token",
        ),
        (
            "curl.log",
            "> Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ\n",
            "an HTTP Bearer credential",
        ),
        (
            "oauth.json",
            "{\"access_token\": \"ya29.a0AfH6SMB\"}\n",
            "an auth provider's access-token",
        ),
    ];
    for (name, text, form) in cases {
        let one = tempfile::tempdir().unwrap();
        std::fs::write(one.path().join(name), text).unwrap();
        let found = forms_in(one.path());
        assert!(
            found.iter().any(|(n, _, f)| n == name && *f == form),
            "{name}: {form} not found in {found:?}"
        );
        // The same file gzipped, and gzipped twice.
        std::fs::remove_file(one.path().join(name)).unwrap();
        std::fs::write(one.path().join("evidence.gz"), gzip(text.as_bytes())).unwrap();
        std::fs::write(
            one.path().join("evidence.tar.gz.gz"),
            gzip(&gzip(text.as_bytes())),
        )
        .unwrap();
        let found = forms_in(one.path());
        for gz in ["evidence.gz", "evidence.tar.gz.gz"] {
            assert!(
                found.iter().any(|(n, _, f)| n == gz && *f == form),
                "{name} as {gz}: {form} not found in {found:?}"
            );
        }
    }

    // Line numbers are the file's; the text itself is never part of a finding.
    write(
        "late.yaml",
        format!("{CLEAN}  token: s3cr3t-value\n").as_bytes(),
    );
    let found = scan_dir(dir.path()).unwrap();
    let lines = CLEAN.lines().count() + 1;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, lines);
    assert!(!found[0].to_string().contains("s3cr3t"), "{}", found[0]);
}

#[test]
fn a_credential_across_the_pieces_of_a_huge_line_is_found() {
    let dir = tempfile::tempdir().unwrap();
    // A JSON line of three pieces, the key's PEM header straddling the first boundary.
    let header = "-----BEGIN PRIVATE KEY-----";
    let mut line = "x".repeat(PIECE - 10);
    line.push_str(header);
    line.push_str(&"y".repeat(2 * PIECE));
    line.push('\n');
    std::fs::write(dir.path().join("huge.json"), &line).unwrap();
    assert_eq!(
        forms_in(dir.path()),
        vec![("huge.json".to_string(), 1, "a PEM private key")]
    );
    // A `token:` that only looks like a line start because a piece begins there is not one.
    let mut not_start = "x".repeat(PIECE);
    not_start.push_str("token: value-in-the-middle-of-a-line\n");
    std::fs::write(dir.path().join("huge.json"), &not_start).unwrap();
    assert_eq!(forms_in(dir.path()), vec![]);
}

#[test]
fn a_link_is_a_finding_and_an_unreadable_file_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
    let found = forms_in(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].2.contains("symbolic link"));
    assert!(scan_dir(&dir.path().join("missing")).is_err());
}
