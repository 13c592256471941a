//! Progress lines for long steps (downloads, cluster creation, installs).
//!
//! Written straight to the process's stderr, not through `eprintln!`, so libtest's output capture
//! does not hide them while a slow cluster test runs.

use std::io::Write;
use std::time::Instant;

/// Prints one progress line: `[ambient +12.3s] message`.
pub fn say(message: impl AsRef<str>) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    let line = format!(
        "[ambient +{:.1}s] {}\n",
        start.elapsed().as_secs_f64(),
        message.as_ref()
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
