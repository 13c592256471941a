//! What may differ between two runs in a token: generated name suffixes, ages, addresses,
//! NodePorts. Shared by every comparator so each normalizes the same way.

/// The characters Kubernetes draws a generated 5-character suffix from
/// (`k8s.io/apimachinery/pkg/util/rand`: `alphanums = "bcdfghjklmnpqrstvwxz2456789"`).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// A pod-template-hash is the decimal of a uint32 passed through `rand.SafeEncodeString`, which
/// maps each digit byte to `alphanums[b % 27]`: only these ten characters appear.
const HASH_ALPHABET: &[u8] = b"456789bcdf";

/// A name split into what a controller chose and what it generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedName<'a> {
    /// `pod/istiod` of `pod/istiod-6f9c757686-kw5z4`.
    pub base: &'a str,
    /// It ended with a pod-template-hash (`-6f9c757686`).
    pub hash: bool,
    /// It ended with a generated 5-character suffix (`-kw5z4`).
    pub suffix: bool,
}

impl GeneratedName<'_> {
    /// Same base and same shape of generated parts: `istiod-6f9c757686-kw5z4` is like
    /// `istiod-5d4f6b9c8d-x7q2z`, not like `istiod-x7q2z` nor `istiod`.
    pub fn like(&self, other: &GeneratedName<'_>) -> bool {
        self == other
    }
}

fn last_segment(name: &str) -> Option<(&str, &str)> {
    let (head, tail) = name.rsplit_once('-')?;
    (!head.is_empty() && !head.ends_with('/')).then_some((head, tail))
}

/// Splits the generated parts off `name`.
pub fn generated(name: &str) -> GeneratedName<'_> {
    let mut out = GeneratedName {
        base: name,
        hash: false,
        suffix: false,
    };
    if let Some((head, tail)) = last_segment(out.base)
        && tail.len() == 5
        && tail.bytes().all(|b| SUFFIX_ALPHABET.contains(&b))
    {
        out.base = head;
        out.suffix = true;
    }
    if let Some((head, tail)) = last_segment(out.base)
        && (6..=10).contains(&tail.len())
        && tail.bytes().all(|b| HASH_ALPHABET.contains(&b))
    {
        out.base = head;
        out.hash = true;
    }
    out
}

/// An age or elapsed time as kubectl prints it: `12m`, `2d3h`, `27s`, `5m30s`, `<unknown>`.
pub fn is_age(token: &str) -> bool {
    if matches!(token, "<unknown>" | "<invalid>") {
        return true;
    }
    let b = token.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut digits = 0;
    for &c in b {
        if c.is_ascii_digit() {
            digits += 1;
        } else if matches!(c, b's' | b'm' | b'h' | b'd' | b'y') && digits > 0 {
            digits = 0;
        } else {
            return false;
        }
    }
    digits == 0
}

/// `10.96.15.172` or an IPv6 address.
pub fn is_ip(token: &str) -> bool {
    token.parse::<std::net::IpAddr>().is_ok()
}

/// Every IPv4 address in `text` (with an optional `:port` kept) replaced by `<ip>`.
pub fn mask_ipv4(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'.')
            && let Some(len) = ipv4_len(&b[i..])
        {
            out.push_str("<ip>");
            i += len;
            continue;
        }
        let ch = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + ch]);
        i += ch;
    }
    out
}

/// The length of a dotted quad at the start of `b`, if one is there.
fn ipv4_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            i += 1;
        }
        if i == start {
            return None;
        }
        if part < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    if b.get(i).is_some_and(|c| {
        c.is_ascii_digit() || *c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    }) {
        return None;
    }
    Some(i)
}

/// `15021:32651/TCP,80:32654/TCP` → `15021:<nodeport>/TCP,80:<nodeport>/TCP`: the NodePort the
/// API server chose is not the document's to promise; the service port and protocol are.
pub fn mask_node_ports(ports: &str) -> String {
    ports
        .split(',')
        .map(|p| match p.split_once(':') {
            Some((port, rest)) => match rest.split_once('/') {
                Some((node, proto))
                    if node.bytes().all(|b| b.is_ascii_digit()) && !node.is_empty() =>
                {
                    format!("{port}:<nodeport>/{proto}")
                }
                _ => p.to_string(),
            },
            None => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Strips ANSI color sequences (`ESC [ … m`), which istioctl writes on a terminal.
pub fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.clone().next() == Some('[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}
