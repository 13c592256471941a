//! Timing for the linearity tests: processor time of the calling thread, which bounds the work
//! done and holds on a machine busy with other builds (wall time there can be many times longer).

use std::time::Duration;

/// What `f` returns and the processor time this thread spent on it.
pub fn cpu_time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    fn now() -> Duration {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to fill.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }
    let start = now();
    let out = f();
    (out, now() - start)
}

/// The least processor time of three runs of `f(n)`.
pub fn best_of_three(n: usize, f: &dyn Fn(usize)) -> Duration {
    (0..3)
        .map(|_| cpu_time(|| f(n)).1)
        .min()
        .unwrap_or_default()
}
