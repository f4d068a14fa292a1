//! ECR: the services' image repositories and the registry login.

use base64::Engine as _;

use crate::aws::call_error;
use crate::docker::push::Credentials;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Ecr {
    client: aws_sdk_ecr::Client,
}

/// A repository, and whether this call created it.
#[derive(Debug, Clone)]
pub struct Repository {
    pub uri: String,
    pub created: bool,
}

impl Ecr {
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        Ecr { client }
    }

    /// The repository's URI, or None when it does not exist.
    pub async fn find_repository(&self, name: &str) -> Result<Option<String>> {
        match self.client.describe_repositories().repository_names(name).send().await {
            Ok(out) => Ok(out.repositories().first().and_then(|r| r.repository_uri()).map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("ecr:DescribeRepositories", name, e)),
        }
    }

    /// The repository's URI, creating it (MUTABLE, scan on push, tagged) when missing.
    pub async fn ensure_repository(&self, name: &str, tags: &[(&str, &str)]) -> Result<Repository> {
        if let Some(uri) = self.find_repository(name).await? {
            return Ok(Repository { uri, created: false });
        }
        let mut create = self
            .client
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Mutable)
            .image_scanning_configuration(
                aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(true).build(),
            );
        for (key, value) in tags {
            let tag =
                aws_sdk_ecr::types::Tag::builder().key(*key).value(*value).build().expect("key and value are set");
            create = create.tags(tag);
        }
        let out = create.send().await.map_err(|e| call_error("ecr:CreateRepository", name, e))?;
        let uri = out.repository().and_then(|r| r.repository_uri()).unwrap_or_default().to_string();
        Ok(Repository { uri, created: true })
    }

    /// Registry credentials from GetAuthorizationToken (`AWS:<password>`, base64).
    pub async fn credentials(&self) -> Result<Credentials> {
        let out = self
            .client
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| call_error("ecr:GetAuthorizationToken", "registry", e))?;
        let data = out.authorization_data().first().ok_or_else(|| Error::Aws {
            operation: "ecr:GetAuthorizationToken".into(),
            resource: "registry".into(),
            code: "NoAuthorizationData".into(),
            message: "the answer held no authorization data".into(),
        })?;
        let token = data.authorization_token().unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (username, password) = decoded.split_once(':').unwrap_or(("AWS", decoded.as_str()));
        let server = data.proxy_endpoint().unwrap_or_default().to_string();
        Ok(Credentials { username: username.to_string(), password: password.to_string(), server })
    }
}
