//! Bounded polling: wait for a condition with a deadline, never with a fixed sleep.
//!
//! [`assert_eventually!`](crate::assert_eventually) is the tool for tests; [`eventually`] is
//! the same loop as a function taking an async closure; [`Poller`] is the loop's state for
//! helpers that need their own shape. Each attempt is itself bounded by the time left, so a
//! probe that hangs (a read that never answers) cannot stretch the deadline.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long a condition may take before the test fails, unless the call says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait between two attempts.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// What one attempt of a polled condition produced: success with a value, or a failure
/// with the observation to show if the deadline passes.
///
/// Implemented for `bool` (`false` is a failure), `Option<T>` (`None` is a failure) and
/// `Result<T, E>` with `E: Debug` (`Err(e)` is a failure and `e` is the last observed value,
/// so return `Err(what_you_saw)` to get a useful panic message).
pub trait Outcome {
    /// What a successful attempt yields.
    type Value;

    /// Success, or the failure's observation already rendered for a message.
    ///
    /// # Errors
    ///
    /// Returns the rendered observation when the attempt did not succeed.
    fn into_result(self) -> Result<Self::Value, String>;
}

impl Outcome for bool {
    type Value = ();

    fn into_result(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("false".to_owned())
        }
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;

    fn into_result(self) -> Result<T, String> {
        self.ok_or_else(|| "None".to_owned())
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Value = T;

    fn into_result(self) -> Result<T, String> {
        self.map_err(|e| format!("{e:#?}"))
    }
}

/// State of one bounded polling loop: deadline, attempt count and the last observation.
///
/// Used by [`assert_eventually!`](crate::assert_eventually) and [`eventually`]; use it
/// directly when a helper needs a loop of its own shape.
#[derive(Debug)]
pub struct Poller {
    started: Instant,
    deadline: Instant,
    timeout: Duration,
    interval: Duration,
    attempts: u32,
    last: Option<String>,
}

impl Poller {
    /// Starts the clock: the condition has `timeout` from now.
    pub fn new(timeout: Duration, interval: Duration) -> Self {
        let started = Instant::now();
        Self {
            started,
            deadline: started + timeout,
            timeout,
            interval,
            attempts: 0,
            last: None,
        }
    }

    /// Runs one attempt, bounded by the time left (at least one poll interval), and
    /// returns its value on success. A failure or an attempt that had to be cancelled is
    /// remembered as the last observation.
    pub async fn attempt<O: Outcome>(
        &mut self,
        probe: impl Future<Output = O>,
    ) -> Option<O::Value> {
        self.attempts += 1;
        let budget = self
            .deadline
            .saturating_duration_since(Instant::now())
            .max(self.interval);
        match tokio::time::timeout(budget, probe).await {
            Ok(outcome) => match outcome.into_result() {
                Ok(value) => Some(value),
                Err(seen) => {
                    self.last = Some(seen);
                    None
                }
            },
            Err(_) => {
                self.last = Some(format!(
                    "<the attempt had not finished after {budget:?} and was cancelled>"
                ));
                None
            }
        }
    }

    /// Panics if the deadline has passed, naming `what` and the last observation.
    ///
    /// # Panics
    ///
    /// When the deadline has passed; the panic points at the caller.
    #[track_caller]
    pub fn check_deadline(&self, what: &str) {
        if Instant::now() >= self.deadline {
            self.fail(what);
        }
    }

    /// Waits one poll interval, or less if the deadline comes first.
    pub async fn pause(&self) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(self.interval.min(left)).await;
    }

    /// Number of attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last failed attempt's observation, if any.
    pub fn last_observed(&self) -> Option<&str> {
        self.last.as_deref()
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        panic!(
            "condition not met within {:?} ({} attempts over {:?}): {what}\n  last observed: {}",
            self.timeout,
            self.attempts,
            self.started.elapsed(),
            self.last.as_deref().unwrap_or("<no attempt finished>"),
        )
    }
}

/// Polls `probe` every `poll_interval` until it succeeds, and returns its value.
///
/// The probe is an async closure returning an [`Outcome`]: `bool`, `Option<T>` or
/// `Result<T, E: Debug>`. Use [`DEFAULT_TIMEOUT`] and [`DEFAULT_POLL_INTERVAL`] unless a
/// test has a reason to differ.
///
/// # Panics
///
/// When `timeout` passes without a success, with the last observed value in the message.
pub async fn eventually<O: Outcome>(
    timeout: Duration,
    poll_interval: Duration,
    mut probe: impl AsyncFnMut() -> O,
) -> O::Value {
    let mut poller = Poller::new(timeout, poll_interval);
    loop {
        if let Some(value) = poller.attempt(probe()).await {
            return value;
        }
        poller.check_deadline("the probe passed to `eventually`");
        poller.pause().await;
    }
}

/// Polls a condition until it holds, with bounded patience, and evaluates to its value.
///
/// Must be used in async code. The condition is re-evaluated inside an `async` block at
/// every attempt, so it may `.await` (but not use `?`). Forms:
///
/// ```ignore
/// // An Outcome: bool, Option<T> (yields T) or Result<T, E: Debug> (yields T).
/// assert_eventually!(daemon.http_get("/v1/health").await.0 == StatusCode::OK);
/// // A value and a predicate on a reference to it; yields the value, shows the last one.
/// let sessions = assert_eventually!(
///     daemon.http_get("/v1/sessions").await.1,
///     |v: &Value| v.as_array().is_some_and(|a| a.len() == 2),
/// );
/// // Either form takes a timeout instead of DEFAULT_TIMEOUT (10 s).
/// assert_eventually!(redis_is_up().await, timeout = Duration::from_secs(20));
/// ```
///
/// On timeout it panics at the call site with the condition's text, the number of
/// attempts and the last observed value.
#[macro_export]
macro_rules! assert_eventually {
    ($probe:expr $(,)?) => {
        $crate::assert_eventually!($probe, timeout = $crate::eventually::DEFAULT_TIMEOUT)
    };
    ($probe:expr, timeout = $timeout:expr $(,)?) => {{
        let mut __poller = $crate::eventually::Poller::new(
            $timeout,
            $crate::eventually::DEFAULT_POLL_INTERVAL,
        );
        loop {
            if let ::core::option::Option::Some(__value) =
                __poller.attempt(async { $probe }).await
            {
                break __value;
            }
            __poller.check_deadline(::core::stringify!($probe));
            __poller.pause().await;
        }
    }};
    ($value:expr, |$v:ident $(: $ty:ty)?| $pred:expr $(,)?) => {
        $crate::assert_eventually!(
            $value,
            |$v $(: $ty)?| $pred,
            timeout = $crate::eventually::DEFAULT_TIMEOUT
        )
    };
    ($value:expr, |$v:ident $(: $ty:ty)?| $pred:expr, timeout = $timeout:expr $(,)?) => {{
        let mut __poller = $crate::eventually::Poller::new(
            $timeout,
            $crate::eventually::DEFAULT_POLL_INTERVAL,
        );
        loop {
            if let ::core::option::Option::Some(__value) = __poller
                .attempt(async {
                    let __value = $value;
                    let __holds: bool = {
                        let $v $(: $ty)? = &__value;
                        $pred
                    };
                    if __holds {
                        ::core::result::Result::Ok(__value)
                    } else {
                        ::core::result::Result::Err(__value)
                    }
                })
                .await
            {
                break __value;
            }
            __poller.check_deadline(::core::concat!(
                ::core::stringify!($value),
                " satisfying |",
                ::core::stringify!($v),
                "| ",
                ::core::stringify!($pred)
            ));
            __poller.pause().await;
        }
    }};
}
