//! Cloud Map: the HTTP namespace that Service Connect uses.

use aws_sdk_servicediscovery::types::{NamespaceFilter, NamespaceFilterName, Tag};

use std::time::Duration;

use crate::aws::retry::{is_aws, until_done, until_ok, Wait};
use crate::aws::{call_error, Tags};
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct CloudMap {
    client: aws_sdk_servicediscovery::Client,
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub id: String,
    pub arn: String,
    pub tags: Tags,
}

impl CloudMap {
    pub fn new(client: aws_sdk_servicediscovery::Client) -> Self {
        CloudMap { client }
    }

    /// The HTTP namespace with this name. Several (moto lets duplicates through):
    /// the oldest, so every run picks the same one.
    pub async fn namespace(&self, name: &str) -> Result<Option<Namespace>> {
        let filter = NamespaceFilter::builder()
            .name(NamespaceFilterName::Type)
            .values("HTTP")
            .build()
            .expect("name and values are set");
        let mut pages = self.client.list_namespaces().filters(filter).into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("servicediscovery:ListNamespaces", name, e))?;
            for ns in page.namespaces().iter().filter(|n| n.name() == Some(name)) {
                let (id, arn) = (ns.id().unwrap_or_default().to_string(), ns.arn().unwrap_or_default().to_string());
                found.push((ns.create_date().map(|d| d.secs()), id, arn));
            }
        }
        found.sort();
        let Some((_, id, arn)) = found.first() else { return Ok(None) };
        let tags = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("servicediscovery:ListTagsForResource", name, e))?
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        Ok(Some(Namespace { id: id.to_string(), arn: arn.to_string(), tags }))
    }

    /// Creates the namespace and waits for the operation (seconds on AWS).
    pub async fn create_namespace(&self, name: &str, tags: &Tags) -> Result<()> {
        let out = self
            .client
            .create_http_namespace()
            .name(name)
            // Same request id on a rerun: Cloud Map answers with the first operation.
            .creator_request_id(format!("cruddur-{name}"))
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("servicediscovery:CreateHttpNamespace", name, e))?;
        match out.operation_id() {
            Some(op) => self.operation(op, "servicediscovery:CreateHttpNamespace", name).await,
            None => Ok(()),
        }
    }

    /// Polls an asynchronous Cloud Map operation until SUCCESS (an error on FAIL).
    async fn operation(&self, op: &str, operation: &str, name: &str) -> Result<()> {
        let wait = Wait::new(
            format!("Cloud Map to finish {operation} on {name}"),
            Duration::from_secs(300),
            format!("`aws servicediscovery get-operation --operation-id {op}` shows where it is"),
        );
        until_done(&wait, || async {
            let status = self
                .client
                .get_operation()
                .operation_id(op)
                .send()
                .await
                .map_err(|e| call_error("servicediscovery:GetOperation", name, e))?;
            match status.operation().and_then(|o| o.status()).map(|s| s.as_str().to_string()) {
                Some(s) if s == "SUCCESS" => Ok((true, s)),
                Some(s) if s == "FAIL" => {
                    let why = status.operation().and_then(|o| o.error_message()).unwrap_or("no reason given");
                    Err(Error::Aws {
                        operation: operation.into(),
                        resource: name.into(),
                        code: "OperationFailed".into(),
                        message: why.into(),
                    })
                }
                other => Ok((false, other.unwrap_or_else(|| "no status yet".into()))),
            }
        })
        .await
    }

    pub async fn tag(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("servicediscovery:TagResource", arn, e))?;
        Ok(())
    }

    /// Refused (ResourceInUse) while Service Connect's services in it are still
    /// being removed: retried for up to 10 minutes; then the deletion's operation
    /// is polled until it has finished.
    pub async fn delete_namespace(&self, id: &str) -> Result<()> {
        let wait = Wait::new(
            format!("the Cloud Map services in namespace {id} to be removed"),
            Duration::from_secs(600),
            format!("`aws servicediscovery list-services --filters Name=NAMESPACE_ID,Values={id}` shows what is left"),
        );
        let op = until_ok(
            &wait,
            |e| is_aws(e, "ResourceInUse", &[]),
            || async {
                match self.client.delete_namespace().id(id).send().await {
                    Ok(out) => Ok(out.operation_id().map(str::to_string)),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_namespace_not_found()) => Ok(None),
                    Err(e) => Err(call_error("servicediscovery:DeleteNamespace", id, e)),
                }
            },
        )
        .await?;
        match op {
            Some(op) => self.operation(&op, "servicediscovery:DeleteNamespace", id).await,
            None => Ok(()),
        }
    }
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}
