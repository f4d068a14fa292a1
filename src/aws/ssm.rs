//! SSM Parameter Store: SecureStrings under /<project>/<ecs-name>/. Values are
//! returned to the caller and never printed or logged here.

use std::collections::BTreeMap;

use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};

use crate::aws::{call_error, Tags};
use crate::error::Result;

#[derive(Clone)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
}

impl Ssm {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Ssm { client }
    }

    /// Every parameter directly under `prefix`, decrypted, keyed by its last path part.
    pub async fn by_path(&self, prefix: &str) -> Result<BTreeMap<String, String>> {
        let mut pages = self.client.get_parameters_by_path().path(prefix).with_decryption(true).into_paginator().send();
        let mut out = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("ssm:GetParametersByPath", prefix, e))?;
            for p in page.parameters() {
                if let (Some(name), Some(value)) = (p.name(), p.value()) {
                    out.insert(name.rsplit('/').next().unwrap_or(name).to_string(), value.to_string());
                }
            }
        }
        Ok(out)
    }
}

impl Ssm {
    /// The full names of the parameters directly under `prefix` (not decrypted).
    pub async fn names_under(&self, prefix: &str) -> Result<Vec<String>> {
        self.names(prefix, false).await
    }

    /// The full names of every parameter under `prefix`, at any depth (not decrypted).
    pub async fn names_within(&self, prefix: &str) -> Result<Vec<String>> {
        self.names(prefix, true).await
    }

    /// One paged listing, ten a page (GetParametersByPath's most).
    async fn names(&self, prefix: &str, recursive: bool) -> Result<Vec<String>> {
        let req = self.client.get_parameters_by_path().path(prefix).recursive(recursive).max_results(10);
        let mut pages = req.into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("ssm:GetParametersByPath", prefix, e))?;
            out.extend(page.parameters().iter().filter_map(|p| p.name()).map(str::to_string));
        }
        Ok(out)
    }
}

/// A parameter's state. The value is compared, never shown.
#[derive(Clone)]
pub struct Parameter {
    pub value: String,
    pub secure: bool,
}

impl Ssm {
    /// The named parameters that exist, decrypted, by full name.
    pub async fn parameters(&self, names: &[String]) -> Result<BTreeMap<String, Parameter>> {
        let mut out = BTreeMap::new();
        // GetParameters takes at most 10 names.
        for chunk in names.chunks(10) {
            let page = self
                .client
                .get_parameters()
                .set_names(Some(chunk.to_vec()))
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| call_error("ssm:GetParameters", &chunk.join(","), e))?;
            for p in page.parameters() {
                if let (Some(name), Some(value)) = (p.name(), p.value()) {
                    let secure = p.r#type() == Some(&ParameterType::SecureString);
                    out.insert(name.to_string(), Parameter { value: value.to_string(), secure });
                }
            }
        }
        Ok(out)
    }

    pub async fn tags(&self, name: &str) -> Result<Tags> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
            .map_err(|e| call_error("ssm:ListTagsForResource", name, e))?;
        Ok(out.tag_list().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
    }

    /// Creates a SecureString (tagged), or overwrites the value of an existing one.
    pub async fn put_secure(&self, name: &str, value: &str, create_with: Option<&Tags>) -> Result<()> {
        let mut req = self.client.put_parameter().name(name).value(value).r#type(ParameterType::SecureString);
        match create_with {
            Some(tags) => req = req.set_tags(Some(sdk_tags(tags))),
            None => req = req.overwrite(true),
        }
        match req.send().await {
            Ok(_) => Ok(()),
            // Created between our read and this call: set the value over it.
            Err(e)
                if create_with.is_some() && e.as_service_error().is_some_and(|s| s.is_parameter_already_exists()) =>
            {
                Box::pin(self.put_secure(name, value, None)).await
            }
            Err(e) => Err(call_error("ssm:PutParameter", name, e)),
        }
    }

    pub async fn tag(&self, name: &str, tags: &Tags) -> Result<()> {
        self.client
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("ssm:AddTagsToResource", name, e))?;
        Ok(())
    }

    pub async fn delete(&self, names: &[String]) -> Result<()> {
        for chunk in names.chunks(10) {
            self.client
                .delete_parameters()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| call_error("ssm:DeleteParameters", &chunk.join(","), e))?;
        }
        Ok(())
    }
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}

/// A Session Manager session StartSession opened: what the data channel needs.
pub struct StartedSession {
    pub session_id: String,
    pub stream_url: String,
    pub token_value: String,
}

/// The document that forwards a local port to HOST:PORT as the target sees it.
pub const PORT_FORWARD_DOCUMENT: &str = "AWS-StartPortForwardingSessionToRemoteHost";

impl Ssm {
    /// StartSession with the port-forwarding document on an ECS task's agent
    /// (`target` = `ecs:<cluster>_<task-id>_<runtime-id>`). The token is a secret of
    /// the session: it goes to the data channel and nowhere else.
    pub async fn start_port_forward(&self, target: &str, host: &str, port: u16) -> Result<StartedSession> {
        let out = self
            .client
            .start_session()
            .target(target)
            .document_name(PORT_FORWARD_DOCUMENT)
            .parameters("host", vec![host.to_string()])
            .parameters("portNumber", vec![port.to_string()])
            .parameters("localPortNumber", vec!["0".to_string()])
            .reason("cruddur forward")
            .send()
            .await
            .map_err(|e| call_error("ssm:StartSession", target, e))?;
        let field = |v: Option<&str>| v.unwrap_or_default().to_string();
        Ok(StartedSession {
            session_id: field(out.session_id()),
            stream_url: field(out.stream_url()),
            token_value: field(out.token_value()),
        })
    }

    pub async fn terminate_session(&self, session_id: &str) -> Result<()> {
        self.client
            .terminate_session()
            .session_id(session_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| call_error("ssm:TerminateSession", session_id, e))
    }
}
