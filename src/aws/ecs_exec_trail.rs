//! The ECS cluster's `executeCommandConfiguration`: the KMS key and log group of
//! ECS Exec sessions (`up` sets it, see src/stack/exec_trail.rs).

use aws_sdk_ecs::types as sdk;

/// Where ECS Exec sessions are encrypted and logged: the cluster's
/// `executeCommandConfiguration`, with logging OVERRIDE to a CloudWatch log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecTrail {
    /// The KMS key's id or ARN (None: sessions use TLS only).
    pub kms_key: Option<String>,
    /// DEFAULT, NONE or OVERRIDE.
    pub logging: String,
    pub log_group: Option<String>,
}

impl ExecTrail {
    pub(crate) fn of(c: &sdk::ExecuteCommandConfiguration) -> ExecTrail {
        ExecTrail {
            kms_key: c.kms_key_id().map(str::to_string),
            logging: c.logging().map_or("DEFAULT", |l| l.as_str()).to_string(),
            log_group: c.log_configuration().and_then(|l| l.cloud_watch_log_group_name()).map(str::to_string),
        }
    }

    pub(crate) fn configuration(&self) -> sdk::ClusterConfiguration {
        let logs = sdk::ExecuteCommandLogConfiguration::builder()
            .set_cloud_watch_log_group_name(self.log_group.clone())
            .cloud_watch_encryption_enabled(false)
            .build();
        let exec = sdk::ExecuteCommandConfiguration::builder()
            .set_kms_key_id(self.kms_key.clone())
            .logging(sdk::ExecuteCommandLogging::from(self.logging.as_str()))
            .log_configuration(logs)
            .build();
        sdk::ClusterConfiguration::builder().execute_command_configuration(exec).build()
    }
}
