//! ECS: every service of a cluster, described ten at a time (DescribeServices takes
//! at most 10 names: ECS API reference), and the wait for deleted ones to go.

use std::time::Duration;

use aws_sdk_ecs::types as sdk;

use crate::aws::call_error;
use crate::aws::ecs::Ecs;
use crate::aws::ecs_cluster::{summary, ServiceSummary};
use crate::aws::fanout::{bounded, ECS_CALLS_IN_FLIGHT};
use crate::aws::retry::{until_done, Wait};
use crate::error::Result;

/// How long deleted services may take to go INACTIVE: ECS stops their tasks, which
/// waits for the target groups' deregistration delay (cruddur's default 30 s, up to
/// AWS's 300 s) and for the containers' stop timeout.
const INACTIVE_BUDGET: Duration = Duration::from_secs(20 * 60);

impl Ecs {
    /// The named services that are ACTIVE or DRAINING (INACTIVE and missing ones are
    /// left out), with their tags: ten names a call, a few calls at a time.
    pub async fn services(&self, cluster: &str, names: &[String]) -> Result<Vec<ServiceSummary>> {
        let chunks: Vec<&[String]> = names.chunks(10).collect();
        let pages = bounded(chunks, ECS_CALLS_IN_FLIGHT, |chunk| self.described(cluster, chunk)).await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// One DescribeServices of at most ten names (none without a cluster).
    async fn described(&self, cluster: &str, chunk: &[String]) -> Result<Vec<ServiceSummary>> {
        let page = self
            .client()
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(sdk::ServiceField::Tags)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) => return Ok(Vec::new()),
            Err(e) => return Err(call_error("ecs:DescribeServices", &format!("{cluster}/{}", chunk.join(",")), e)),
        };
        let live = page.services().iter().filter(|s| matches!(s.status(), Some("ACTIVE") | Some("DRAINING")));
        Ok(live.map(summary).collect())
    }

    /// Every ACTIVE or DRAINING service of the cluster (none without a cluster).
    pub async fn all_services(&self, cluster: &str) -> Result<Vec<ServiceSummary>> {
        let names = self.service_names(cluster).await?;
        self.services(cluster, &names).await
    }

    /// Waits until none of the named services is ACTIVE or DRAINING: until then
    /// their tasks hold network interfaces in the security groups, and the cluster
    /// cannot be deleted.
    pub async fn wait_inactive(&self, cluster: &str, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let wait = Wait::new(
            format!("the deleted services {} of cluster {cluster} to become INACTIVE", names.join(", ")),
            INACTIVE_BUDGET,
            format!("`cruddur status` shows what still runs in {cluster}; run `cruddur down --yes` again once it has stopped"),
        );
        until_done(&wait, || async {
            let left = self.services(cluster, names).await?;
            let state: Vec<String> = left.iter().map(|s| format!("{} {}", s.name, s.status)).collect();
            Ok((left.is_empty(), state.join(", ")))
        })
        .await
    }
}
