//! ECR: the settings of the project's repositories, read together (`up`, `plan`,
//! `down`): one DescribeRepositories for up to 100 names (its most), then each
//! found repository's tags.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::types::Repository;
use futures_util::future::try_join_all;

use crate::aws::call_error;
use crate::aws::ecr::Ecr;
use crate::aws::Tags;
use crate::error::Result;

/// A repository's settings, as `up` compares them.
#[derive(Debug, Clone)]
pub struct RepositorySettings {
    pub arn: String,
    pub mutable: bool,
    pub scan_on_push: bool,
    pub tags: Tags,
}

impl Ecr {
    /// The named repositories that exist, by name (a name given twice is read once).
    /// A name that does not exist fails a DescribeRepositories of several names as a
    /// whole (RepositoryNotFoundException), so only then are that call's names read
    /// one by one.
    pub async fn repositories_settings(&self, names: &[String]) -> Result<BTreeMap<String, RepositorySettings>> {
        let names: Vec<String> = names.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let mut found = Vec::new();
        for chunk in names.chunks(100) {
            match self.described(chunk).await? {
                Some(repos) => found.extend(repos),
                None if chunk.len() == 1 => {}
                None => {
                    let one_by_one = try_join_all(chunk.iter().map(|n| self.described(std::slice::from_ref(n))));
                    found.extend(one_by_one.await?.into_iter().flatten().flatten());
                }
            }
        }
        let settings = try_join_all(found.iter().map(|r| self.settings(r))).await?;
        Ok(settings.into_iter().collect())
    }

    /// One DescribeRepositories of these names; None when one of them does not exist.
    async fn described(&self, names: &[String]) -> Result<Option<Vec<Repository>>> {
        match self.client().describe_repositories().set_repository_names(Some(names.to_vec())).send().await {
            Ok(out) => Ok(Some(out.repositories().to_vec())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("ecr:DescribeRepositories", &names.join(","), e)),
        }
    }

    /// The repository's settings with its tags (ListTagsForResource).
    async fn settings(&self, repo: &Repository) -> Result<(String, RepositorySettings)> {
        let name = repo.repository_name().unwrap_or_default().to_string();
        let arn = repo.repository_arn().unwrap_or_default().to_string();
        let out = self.client().list_tags_for_resource().resource_arn(&arn).send().await;
        let out = out.map_err(|e| call_error("ecr:ListTagsForResource", &name, e))?;
        let tags = out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        let settings = RepositorySettings {
            mutable: repo.image_tag_mutability().is_none_or(|m| m.as_str() == "MUTABLE"),
            scan_on_push: repo.image_scanning_configuration().is_some_and(|c| c.scan_on_push()),
            arn,
            tags,
        };
        Ok((name, settings))
    }
}
