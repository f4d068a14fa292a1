//! ECS: every service of a cluster, described ten at a time (DescribeServices takes
//! at most 10 names: ECS API reference), and the wait for deleted ones to go.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_ecs::types as sdk;

use crate::aws::call_error;
use crate::aws::ecs::{service_state, Ecs};
use crate::aws::ecs_cluster::{summary, ServiceSummary};
use crate::aws::fanout::{bounded, ECS_CALLS_IN_FLIGHT};
use crate::aws::retry::{until_done, Wait};
use crate::error::{Error, Result};
use crate::model::service_state::ServiceState;

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

    /// The named services as they run, by name: each one's state to roll out from
    /// and its summary (tags, load balancers), ten names a DescribeServices and a few
    /// calls at once (`deploy --all`). Missing and INACTIVE services are not in the
    /// map; a missing cluster is ClusterNotFound, as for `Ecs::service`.
    pub async fn running(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<HashMap<String, (ServiceState, ServiceSummary)>> {
        let chunks: Vec<&[String]> = names.chunks(10).collect();
        let pages = bounded(chunks, ECS_CALLS_IN_FLIGHT, |chunk| self.describe_chunk(cluster, chunk, true)).await?;
        let found: HashMap<String, (ServiceState, ServiceSummary)> = pages
            .into_iter()
            .flatten()
            .filter(|s| s.status() != Some("INACTIVE"))
            .map(|s| (s.service_name().unwrap_or_default().to_string(), (service_state(&s), summary(&s))))
            .collect();
        // DescribeServices may answer a missing cluster with MISSING services only.
        if names.iter().any(|n| !found.contains_key(n)) {
            self.ensure_cluster(cluster).await?;
        }
        Ok(found)
    }

    /// One DescribeServices of at most ten names (none without a cluster).
    async fn described(&self, cluster: &str, chunk: &[String]) -> Result<Vec<ServiceSummary>> {
        let page = match self.describe_chunk(cluster, chunk, true).await {
            Ok(page) => page,
            Err(Error::ClusterNotFound(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let live = page.iter().filter(|s| matches!(s.status(), Some("ACTIVE") | Some("DRAINING")));
        Ok(live.map(summary).collect())
    }

    /// One DescribeServices of at most ten names (with their tags when `tags`);
    /// ClusterNotFound when ECS says the cluster is missing (by its exception or a
    /// MISSING failure).
    pub(crate) async fn describe_chunk(
        &self,
        cluster: &str,
        chunk: &[String],
        tags: bool,
    ) -> Result<Vec<sdk::Service>> {
        let mut req = self.client().describe_services().cluster(cluster).set_services(Some(chunk.to_vec()));
        if tags {
            req = req.include(sdk::ServiceField::Tags);
        }
        let page = req.send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_cluster_not_found_exception()) {
                Error::ClusterNotFound(cluster.to_string())
            } else {
                call_error("ecs:DescribeServices", &format!("{cluster}/{}", chunk.join(",")), e)
            }
        })?;
        let cluster_missing =
            |f: &sdk::Failure| f.reason() == Some("MISSING") && f.arn().is_some_and(|a| a.contains(":cluster/"));
        if page.failures().iter().any(cluster_missing) {
            return Err(Error::ClusterNotFound(cluster.to_string()));
        }
        Ok(page.services().to_vec())
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
