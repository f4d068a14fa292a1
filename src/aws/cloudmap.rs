//! Cloud Map: the HTTP namespace that Service Connect uses.

use aws_sdk_servicediscovery::types::{NamespaceFilter, NamespaceFilterName, Tag};

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
        let Some(op) = out.operation_id() else { return Ok(()) };
        for _ in 0..120 {
            let status = self
                .client
                .get_operation()
                .operation_id(op)
                .send()
                .await
                .map_err(|e| call_error("servicediscovery:GetOperation", name, e))?;
            match status.operation().and_then(|o| o.status()).map(|s| s.as_str().to_string()).as_deref() {
                Some("SUCCESS") => return Ok(()),
                Some("FAIL") => {
                    let why = status.operation().and_then(|o| o.error_message()).unwrap_or("no reason given");
                    return Err(Error::Aws {
                        operation: "servicediscovery:CreateHttpNamespace".into(),
                        resource: name.into(),
                        code: "OperationFailed".into(),
                        message: why.into(),
                    });
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            }
        }
        Ok(())
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

    pub async fn delete_namespace(&self, id: &str) -> Result<()> {
        match self.client.delete_namespace().id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_namespace_not_found()) => Ok(()),
            Err(e) => Err(call_error("servicediscovery:DeleteNamespace", id, e)),
        }
    }
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}
