//! Small tokenizers shared by the log readers.

/// Splits `key=value key="quoted value" ...` into pairs. Quoted values may contain spaces and
/// `\"`; a token without `=` is skipped. Never panics.
pub fn key_values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            continue; // a bare word: not a field
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => break,
                    _ => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(c);
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
}

/// Splits an Envoy text access log body into tokens: `"quoted strings"` stay whole (without
/// their quotes), everything else splits on whitespace. Never panics.
pub fn envoy_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            None => return out,
            Some('"') => {
                chars.next();
                let mut token = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    token.push(c);
                }
                out.push(token);
            }
            Some(_) => {
                let mut token = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    token.push(c);
                }
                out.push(token);
            }
        }
    }
}

/// `true` if `s` starts with an RFC 3339 UTC timestamp such as `2024-07-23T14:21:03.450051Z`.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && s.ends_with('Z')
        && s.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_handle_quotes_and_escapes() {
        let kv = key_values(r#"a=1 b="two words" c="say \"hi\"" bare d= e"#);
        let pairs: Vec<(&str, &str)> = kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("a", "1"),
                ("b", "two words"),
                ("c", "say \"hi\""),
                ("d", "")
            ]
        );
    }

    #[test]
    fn envoy_tokens_keep_quoted_fields_whole() {
        assert_eq!(
            envoy_tokens(r#""- - HTTP/2" 0 "-" x"#),
            ["- - HTTP/2", "0", "-", "x"]
        );
        assert_eq!(envoy_tokens(r#""unterminated"#), ["unterminated"]);
    }

    #[test]
    fn timestamps() {
        assert!(is_timestamp("2024-07-23T14:21:03.450051Z"));
        assert!(!is_timestamp("2024-07-23 14:21:03"));
        assert!(!is_timestamp("é"));
    }
}
