//! Small tokenizers shared by the log readers. They borrow from the line: a value is copied only
//! when it has escapes to undo. Whitespace is `char::is_whitespace` throughout (what the regexes'
//! `\s` matched); ASCII text is scanned eight bytes at a time, other chars one by one.

use std::borrow::Cow;

/// Looks at eight bytes at once (the usual bit tricks on a `u64`, little-endian). A mask flags
/// bytes by their high bit; its lowest flag is exact, flags above it may be spurious, which is
/// all [`swar::skip`] needs.
pub mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// Bytes below `n`, for `n` up to 0x80.
    #[inline]
    pub fn below(word: u64, n: u8) -> u64 {
        word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH
    }

    #[inline]
    pub fn equal(word: u64, byte: u8) -> u64 {
        below(word ^ (ONES * u64::from(byte)), 1)
    }

    /// Bytes that are not ASCII (exact).
    #[inline]
    pub fn high(word: u64) -> u64 {
        word & HIGH
    }

    /// The first position at or after `at` whose byte `flags` flags, or the length of `b`. The
    /// last, partial word is padded with `a`, which `flags` must not flag.
    #[inline]
    pub fn find(b: &[u8], mut at: usize, flags: impl Fn(u64) -> u64) -> usize {
        let first = |at: usize, word: [u8; 8]| {
            let m = flags(u64::from_le_bytes(word));
            (m != 0).then(|| at + (m.trailing_zeros() / 8) as usize)
        };
        while let Some(word) = b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
            if let Some(found) = first(at, *word) {
                return found;
            }
            at += 8;
        }
        let mut word = [b'a'; 8];
        for (w, &c) in word.iter_mut().zip(b.get(at..).unwrap_or_default()) {
            *w = c;
        }
        first(at, word).map_or(b.len(), |found| found.min(b.len()))
    }
}

/// The width of the whitespace char starting at byte `at`, or `None` if it is not whitespace (or
/// `at` is the end).
#[inline]
fn whitespace_at(s: &str, at: usize) -> Option<usize> {
    match *s.as_bytes().get(at)? {
        b' ' | b'\t'..=b'\r' => Some(1),
        b if b < 0x80 => None,
        _ => s[at..]
            .chars()
            .next()
            .filter(|c| c.is_whitespace())
            .map(char::len_utf8),
    }
}

/// The first byte at or after `at` that does not start a whitespace char.
#[inline]
pub fn skip_whitespace(s: &str, mut at: usize) -> usize {
    while let Some(w) = whitespace_at(s, at) {
        at += w;
    }
    at
}

/// The first byte at or after `at` that starts a whitespace char, or `s.len()`.
#[inline]
pub fn skip_word(s: &str, at: usize) -> usize {
    // A space is whitespace already: no extra stop.
    skip_word_until(s, at, b' ')
}

/// Like [`skip_word`], but also stops at the ASCII byte `stop`.
#[inline]
pub fn skip_word_until(s: &str, mut at: usize, stop: u8) -> usize {
    let b = s.as_bytes();
    loop {
        // Printable ASCII other than `stop` goes by in words; ASCII whitespace is below 0x21.
        at = swar::find(b, at, |w| {
            swar::below(w, 0x21) | swar::high(w) | swar::equal(w, stop)
        });
        let Some(&c) = b.get(at) else {
            return at;
        };
        if c < 0x80 {
            if c == stop || matches!(c, b' ' | b'\t'..=b'\r') {
                return at;
            }
            at += 1;
        } else if whitespace_at(s, at).is_some() {
            return at;
        } else {
            at += s[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
}

/// The next whitespace-separated word at or after `at`, and the byte after it.
pub fn next_word(s: &str, at: usize) -> Option<(&str, usize)> {
    let start = skip_whitespace(s, at);
    let end = skip_word(s, start);
    (end > start).then(|| (&s[start..end], end))
}

/// `key=value key="quoted value" ...` as pairs, in order. Quoted values may contain spaces and
/// `\"`; a token without `=` is skipped. Never panics.
pub fn key_values(text: &str) -> KeyValues<'_> {
    KeyValues {
        text,
        at: 0,
        quoted: false,
    }
}

pub struct KeyValues<'a> {
    text: &'a str,
    at: usize,
    quoted: bool,
}

impl KeyValues<'_> {
    /// Whether the value last returned was written in quotes.
    pub fn quoted(&self) -> bool {
        self.quoted
    }
}

impl<'a> Iterator for KeyValues<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let (text, b) = (self.text, self.text.as_bytes());
        loop {
            let start = skip_whitespace(text, self.at);
            if start == b.len() {
                self.at = start;
                return None;
            }
            let end = skip_word_until(text, start, b'=');
            let key = &text[start..end];
            if b.get(end) != Some(&b'=') {
                self.at = end; // a bare word: not a field
                continue;
            }
            let value;
            self.quoted = b.get(end + 1) == Some(&b'"');
            (value, self.at) = if self.quoted {
                quoted(text, end + 2)
            } else {
                let from = end + 1;
                let stop = skip_word(text, from);
                (Cow::Borrowed(&text[from..stop]), stop)
            };
            if !key.is_empty() {
                return Some((key, value));
            }
        }
    }
}

/// A quoted value whose text starts at `at`: up to the next unescaped `"` (or the end), with
/// `\x` read as `x`. Returns the value and the byte after it.
fn quoted(text: &str, at: usize) -> (Cow<'_, str>, usize) {
    let b = text.as_bytes();
    let special = |from: usize| {
        let found = swar::find(b, from, |w| swar::equal(w, b'"') | swar::equal(w, b'\\'));
        (found < b.len()).then_some(found)
    };
    let Some(first) = special(at) else {
        return (Cow::Borrowed(&text[at..]), b.len());
    };
    if b[first] == b'"' {
        return (Cow::Borrowed(&text[at..first]), first + 1);
    }
    let mut value = String::new();
    let mut from = at;
    let mut next = Some(first);
    while let Some(i) = next {
        value.push_str(&text[from..i]);
        if b[i] == b'"' {
            return (Cow::Owned(value), i + 1);
        }
        // A backslash keeps the char after it, whatever it is; at the end it keeps nothing.
        match text[i + 1..].chars().next() {
            Some(c) => {
                value.push(c);
                from = i + 1 + c.len_utf8();
            }
            None => return (Cow::Owned(value), b.len()),
        }
        next = special(from);
    }
    value.push_str(&text[from..]);
    (Cow::Owned(value), b.len())
}

/// One token of an Envoy text access log body.
#[derive(Debug, Clone, Copy)]
pub struct EnvoyToken<'a> {
    pub text: &'a str,
    /// Written as `"..."` (the quotes are not in `text`).
    pub quoted: bool,
    /// Where the token, quotes included, starts and ends in the tokenized text.
    pub start: usize,
    pub end: usize,
}

/// An Envoy text access log body as tokens: `"quoted strings"` stay whole (without their quotes),
/// everything else splits on whitespace. Never panics.
pub fn envoy_tokens(text: &str) -> EnvoyTokens<'_> {
    EnvoyTokens { text, at: 0 }
}

#[derive(Clone)]
pub struct EnvoyTokens<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> EnvoyTokens<'a> {
    /// The whole text being tokenized.
    pub fn text(&self) -> &'a str {
        self.text
    }
}

impl<'a> Iterator for EnvoyTokens<'a> {
    type Item = EnvoyToken<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let (text, b) = (self.text, self.text.as_bytes());
        let start = skip_whitespace(text, self.at);
        let (inner, end) = match b.get(start) {
            None => {
                self.at = start;
                return None;
            }
            Some(b'"') => {
                let close = swar::find(b, start + 1, |w| swar::equal(w, b'"'));
                (&text[start + 1..close], (close + 1).min(b.len()))
            }
            Some(_) => {
                let end = skip_word(text, start);
                (&text[start..end], end)
            }
        };
        self.at = end;
        Some(EnvoyToken {
            text: inner,
            quoted: b[start] == b'"',
            start,
            end,
        })
    }
}

/// `haystack.find(needle)` for a short haystack, where preparing a substring search costs more
/// than looking at each byte.
pub fn find_short(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return Some(0);
    };
    // A match of a whole UTF-8 needle starts and ends on char boundaries.
    (0..h.len()).find(|&i| h[i] == first && h.get(i + 1..i + n.len()) == Some(rest))
}

/// `haystack.contains(needle)`, as [`find_short`].
pub fn contains_short(haystack: &str, needle: &str) -> bool {
    find_short(haystack, needle).is_some()
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

    fn pairs(text: &str) -> Vec<(String, String)> {
        key_values(text)
            .map(|(k, v)| (k.to_string(), v.into_owned()))
            .collect()
    }

    #[test]
    fn key_values_handle_quotes_and_escapes() {
        let kv = pairs(r#"a=1 b="two words" c="say \"hi\"" bare d= e"#);
        let kv: Vec<(&str, &str)> = kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            kv,
            [
                ("a", "1"),
                ("b", "two words"),
                ("c", "say \"hi\""),
                ("d", "")
            ]
        );
    }

    #[test]
    fn a_quoted_value_ends_at_its_closing_quote() {
        // The next key starts right after the quote, with or without escapes in the value.
        assert_eq!(
            pairs(r#"a="x"b=1"#),
            [("a".into(), "x".into()), ("b".into(), "1".into())]
        );
        assert_eq!(
            pairs(r#"a="x\"y"b=1"#),
            [("a".into(), "x\"y".into()), ("b".into(), "1".into())]
        );
    }

    #[test]
    fn key_values_borrow_unless_unescaping() {
        let kv: Vec<_> = key_values(r#"a="plain" b="x\\y" c=bare"#).collect();
        assert!(matches!(kv[0].1, Cow::Borrowed("plain")));
        assert!(matches!(&kv[1].1, Cow::Owned(v) if v == "x\\y"));
        assert!(matches!(kv[2].1, Cow::Borrowed("bare")));
    }

    #[test]
    fn key_values_at_the_edges() {
        assert_eq!(pairs(r#"a="open"#), [("a".into(), "open".into())]);
        assert_eq!(pairs(r#"a="end\"#), [("a".into(), "end".into())]);
        assert_eq!(pairs(r#"a="\é" =x b"#), [("a".into(), "é".into())]);
        assert_eq!(pairs("k\u{a0}=v k=\u{3000}v"), [("k".into(), "".into())]);
    }

    #[test]
    fn envoy_tokens_keep_quoted_fields_whole() {
        let texts =
            |s: &str| -> Vec<String> { envoy_tokens(s).map(|t| t.text.to_string()).collect() };
        assert_eq!(
            texts(r#""- - HTTP/2" 0 "-" x"#),
            ["- - HTTP/2", "0", "-", "x"]
        );
        assert_eq!(texts(r#""unterminated"#), ["unterminated"]);
        assert_eq!(texts("a\u{2003}b"), ["a", "b"]);
    }

    #[test]
    fn words_split_on_unicode_whitespace() {
        assert_eq!(next_word("\u{85}ab\u{a0}c", 0), Some(("ab", 4)));
        assert_eq!(next_word("  ", 0), None);
        assert_eq!(skip_word("é x", 0), 2);
    }

    proptest::proptest! {
        #[test]
        fn swar_finds_what_a_byte_loop_finds(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            from in 0usize..48,
            n in 0u8..=0x80,
            byte in proptest::prelude::any::<u8>(),
        ) {
            let flagged = |c: u8| c < n || c == byte || c >= 0x80;
            // The padding must not be flagged.
            proptest::prop_assume!(!flagged(b'a'));
            let flags = |w| swar::below(w, n) | swar::equal(w, byte) | swar::high(w);
            let expected = bytes
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, c)| flagged(**c))
                .map_or(bytes.len(), |(i, _)| i);
            proptest::prop_assert_eq!(swar::find(&bytes, from, flags), expected);
        }
    }

    #[test]
    fn swar_edges() {
        let word = u64::from_le_bytes(*b"ab\"cd\x7f\x80 ");
        assert_eq!(swar::equal(word, b'"').trailing_zeros() / 8, 2);
        assert_eq!(swar::high(word).trailing_zeros() / 8, 6);
        assert_eq!(swar::below(word, 0x20), 0);
        assert_eq!(swar::below(word, 0x21).trailing_zeros() / 8, 7);
        // A borrow out of a matching byte may flag the next one: only the lowest flag counts.
        let zero = |w| swar::below(w, 1);
        assert_eq!(swar::find(b"abcdefgh\x00\x01cdefgh", 0, zero), 8);
        assert_eq!(swar::find(b"abc", 0, zero), 3);
        assert_eq!(swar::find(b"abc\x00", 1, zero), 3);
        assert_eq!(swar::find(b"abc", 7, zero), 3);
    }

    #[test]
    fn short_contains_is_contains() {
        for (h, n) in [
            ("capture outbound (no waypoint proxy)", "outbound"),
            (
                "capture outbound (no waypoint proxy)",
                "(no waypoint proxy)",
            ),
            ("capture outbound (no waypoint proxy", "waypoint proxy)"),
            ("inbound hcm", "inbound"),
            ("inboun", "inbound"),
            ("", "x"),
            ("x", ""),
            ("ééx", "éx"),
            ("a_to_b_to_c", "_to_"),
        ] {
            assert_eq!(contains_short(h, n), h.contains(n), "{h:?} {n:?}");
            assert_eq!(find_short(h, n), h.find(n), "{h:?} {n:?}");
        }
    }

    #[test]
    fn timestamps() {
        assert!(is_timestamp("2024-07-23T14:21:03.450051Z"));
        assert!(!is_timestamp("2024-07-23 14:21:03"));
        assert!(!is_timestamp("é"));
        // Near misses: an offset for the zone, a Z after anything else, a char that is not ASCII.
        assert!(!is_timestamp("2024-07-23T14:21:03.450051+00:00"));
        assert!(!is_timestamp("2024-07-23 at 14 o'clock, UTC: Z"));
        assert!(!is_timestamp("2024-07-23T14:21:03.4é0051Z"));
    }
}
