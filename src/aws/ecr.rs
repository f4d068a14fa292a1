//! ECR: the services' image repositories and the registry login.

use base64::Engine as _;

use crate::aws::{call_error, Tags};
use crate::docker::push::Credentials;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Ecr {
    client: aws_sdk_ecr::Client,
}

impl Ecr {
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        Ecr { client }
    }

    pub(crate) fn client(&self) -> &aws_sdk_ecr::Client {
        &self.client
    }

    /// The repository's URI, or None when it does not exist.
    pub async fn find_repository(&self, name: &str) -> Result<Option<String>> {
        match self.client.describe_repositories().repository_names(name).send().await {
            Ok(out) => Ok(out.repositories().first().and_then(|r| r.repository_uri()).map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("ecr:DescribeRepositories", name, e)),
        }
    }

    /// Whether the repository holds this tag (or `sha256:` digest); false when
    /// the repository or the image does not exist.
    pub async fn image_exists(&self, repository: &str, reference: &str) -> Result<bool> {
        let id = if reference.starts_with("sha256:") {
            aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(reference).build()
        } else {
            aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(reference).build()
        };
        match self.client.describe_images().repository_name(repository).image_ids(id).send().await {
            Ok(out) => Ok(!out.image_details().is_empty()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_image_not_found_exception() || s.is_repository_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(call_error("ecr:DescribeImages", &format!("{repository}:{reference}"), e)),
        }
    }

    /// CreateRepository: MUTABLE, scan on push, tagged. Returns the URI.
    pub async fn create_repository(&self, name: &str, tags: &Tags) -> Result<String> {
        let mut create = self
            .client
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Mutable)
            .image_scanning_configuration(
                aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(true).build(),
            );
        for tag in sdk_tags(tags) {
            create = create.tags(tag);
        }
        match create.send().await {
            Ok(out) => Ok(out.repository().and_then(|r| r.repository_uri()).unwrap_or_default().to_string()),
            // Made between our read and this call (a concurrent or interrupted run).
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_already_exists_exception()) => {
                Ok(self.find_repository(name).await?.unwrap_or_default())
            }
            Err(e) => Err(call_error("ecr:CreateRepository", name, e)),
        }
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

fn sdk_tags(tags: &Tags) -> Vec<aws_sdk_ecr::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ecr::types::Tag::builder().key(k).value(v).build().expect("key and value are set"))
        .collect()
}

impl Ecr {
    pub async fn set_scan_on_push(&self, name: &str) -> Result<()> {
        let conf = aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(true).build();
        self.client
            .put_image_scanning_configuration()
            .repository_name(name)
            .image_scanning_configuration(conf)
            .send()
            .await
            .map_err(|e| call_error("ecr:PutImageScanningConfiguration", name, e))?;
        Ok(())
    }

    pub async fn set_mutable(&self, name: &str) -> Result<()> {
        self.client
            .put_image_tag_mutability()
            .repository_name(name)
            .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Mutable)
            .send()
            .await
            .map_err(|e| call_error("ecr:PutImageTagMutability", name, e))?;
        Ok(())
    }

    pub async fn tag(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| call_error("ecr:TagResource", arn, e))?;
        Ok(())
    }

    /// Deletes the repository and its images.
    pub async fn delete_repository(&self, name: &str) -> Result<()> {
        match self.client.delete_repository().repository_name(name).force(true).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("ecr:DeleteRepository", name, e)),
        }
    }
}
