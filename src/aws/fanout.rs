//! Calls made one per service or resource (DescribeServices, DeleteService,
//! DescribeTargetGroupAttributes), a few at a time.

use std::future::Future;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::error::Result;

/// At most this many ECS calls in flight when cruddur makes one per service. ECS
/// throttles every account's API calls per Region with token buckets, and a call over
/// the bucket is refused with `ThrottlingException` ("Request throttling for the Amazon
/// ECS API", ECS API reference). One DescribeServices per service of a large cluster,
/// all at once, spends the bucket that the console, CI and other tools of the same
/// account share; five at a time keeps cruddur's burst small, and the SDK's standard
/// retry absorbs what is left.
pub const ECS_CALLS_IN_FLIGHT: usize = 5;

/// The same for Elastic Load Balancing calls made one per target group or rule
/// (DescribeTargetGroupAttributes): ELB throttles each account's calls per Region
/// with token buckets (40 tokens for the Describe* calls, refilled at 10 a second,
/// shared with everything else of the account) and refuses with
/// `ThrottlingException`, "Rate exceeded" ("Request throttling for the Elastic Load
/// Balancing API", ELB user guide). What spends the bucket is how many calls a
/// command makes, not how many are in flight: five at a time at 50 ms a call is
/// already ten times the refill rate. Ten at a time halves the rounds of a 40-service
/// project's 30 DescribeTargetGroupAttributes (`bin/bench scale`); a `plan` of it
/// makes 38 ELB Describe calls, within a full bucket, and the SDK's standard retry
/// absorbs what an emptier bucket refuses.
pub const ELBV2_CALLS_IN_FLIGHT: usize = 10;

/// `call` for each item, at most `limit` at once; the results in the items' order. The
/// first error is returned and the calls not started yet are not made.
pub async fn bounded<I, T, F, Fut>(items: I, limit: usize, call: F) -> Result<Vec<T>>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    stream::iter(items).map(call).buffered(limit).try_collect().await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn never_more_than_the_limit_in_flight_and_results_in_order() {
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let out = bounded(0..20, 5, |i| {
            let (now, most) = (&now, &most);
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                tokio::task::yield_now().await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(i * 2)
            }
        })
        .await
        .unwrap();
        assert_eq!(out, (0..20).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 5, "five in flight at once, never more");
    }
}
