//! Timing for the linearity tests: processor time of the calling thread, which bounds the work
//! done and holds on a machine busy with other builds (wall time there can be many times longer).
//!
//! A linearity test runs its subject on an input and on a few times that input: linear work costs
//! that many times as much, quadratic work that many times squared once its quadratic part
//! dominates. With sizes where it does (each test says what a quadratic variant measured), the
//! ratio tells them apart in a fraction of the time an absolute bound on a huge input needs, and
//! on a busy machine.

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

/// Asserts that `large` (the subject on `times` times the input of `small`) costs less than twice
/// `times` times as much processor time as `small`: see [`linear`]. Returns `small`'s result.
pub fn assert_linear<T>(what: &str, times: u32, small: impl Fn() -> T, large: impl Fn() -> T) -> T {
    linear(what, 2 * times, small, large).unwrap_or_else(|e| panic!("{e}"))
}

/// `small`'s result if `large` (the subject on a few times the input of `small`) costs less than
/// `max_ratio` times as much processor time as `small`, each the best of three runs; otherwise
/// what was measured. Linear work measures about as many times as the input is larger (a little
/// more with caches and the allocator), quadratic work that squared once its quadratic part
/// dominates; a bound of twice the size ratio tells them apart.
///
/// `large` runs again only while it is over the bound: the least of three runs is under the
/// bound exactly when one of them is, so stopping at the first one under it decides the same.
pub fn linear<T>(
    what: &str,
    max_ratio: u32,
    small: impl Fn() -> T,
    large: impl Fn() -> T,
) -> Result<T, String> {
    let mut out = None;
    let mut small_cost = Duration::MAX;
    for _ in 0..3 {
        let (t, took) = cpu_time(&small);
        small_cost = small_cost.min(took);
        out = Some(t);
    }
    let bound = small_cost * max_ratio;
    let mut costs = Vec::new();
    for _ in 0..3 {
        let ((), took) = cpu_time(|| drop(large()));
        costs.push(took);
        if took < bound {
            return Ok(out.expect("three runs"));
        }
    }
    Err(format!(
        "{what}: {small_cost:?}, on the larger input {costs:?} (at most {bound:?}): not linear"
    ))
}

#[test]
fn a_quadratic_subject_fails_the_linearity_bound_and_a_linear_one_holds() {
    use std::hint::black_box;
    // Sums over `n` numbers, and over every pair of them.
    let linear_sum = |n: usize| (0..n).map(black_box).fold(0usize, usize::wrapping_add);
    let quadratic_sum = |n: usize| {
        (0..n)
            .flat_map(|i| (0..n).map(move |j| black_box(i ^ j)))
            .fold(0usize, usize::wrapping_add)
    };
    assert_linear("a sum", 8, || linear_sum(10_000), || linear_sum(80_000));
    let refused = linear(
        "a sum over pairs",
        8,
        || quadratic_sum(50),
        || quadratic_sum(400),
    )
    .expect_err("a quadratic subject passed");
    assert!(
        refused.starts_with("a sum over pairs: ") && refused.ends_with("not linear"),
        "{refused}"
    );
}
