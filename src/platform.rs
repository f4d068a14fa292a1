//! The image platform a service runs on, as its task definition says
//! (`runtimePlatform`; Fargate runs X86_64 LINUX when it is absent). `build` passes
//! it to the engine and `deploy` checks the pushed image against it before anything
//! is registered, so an image built on an arm64 laptop never reaches an X86_64 task.

use std::fmt;

use crate::error::{Error, Result};
use crate::model::task_definition::{RuntimePlatform, TaskDefinitionSpec};

/// A platform in Docker's terms (`linux/amd64`), with the ECS name of its architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)
    }
}

impl Platform {
    /// From a task definition's runtimePlatform; `shown` names the file in errors.
    pub fn from_runtime_platform(rp: Option<&RuntimePlatform>, shown: &str) -> Result<Platform> {
        let cpu = rp.and_then(|r| r.cpu_architecture.as_deref()).unwrap_or("X86_64");
        let family = rp.and_then(|r| r.operating_system_family.as_deref()).unwrap_or("LINUX");
        let architecture = match cpu {
            "X86_64" => "amd64",
            "ARM64" => "arm64",
            other => {
                return Err(Error::usage(
                    format!("{shown}: runtimePlatform.cpuArchitecture `{other}` is not X86_64 or ARM64"),
                    format!("set runtimePlatform.cpuArchitecture in {shown} to X86_64 or ARM64"),
                ))
            }
        };
        if family != "LINUX" {
            return Err(Error::usage(
                format!("{shown}: runtimePlatform.operatingSystemFamily `{family}`: cruddur builds LINUX images only"),
                format!("set runtimePlatform.operatingSystemFamily in {shown} to LINUX"),
            ));
        }
        Ok(Platform { os: "linux".into(), architecture: architecture.into() })
    }

    /// The task definition's platform.
    pub fn of(spec: &TaskDefinitionSpec, shown: &str) -> Result<Platform> {
        Platform::from_runtime_platform(spec.runtime_platform.as_ref(), shown)
    }

    /// ECS's name for the architecture (`X86_64`, `ARM64`).
    pub fn ecs_architecture(&self) -> &'static str {
        if self.architecture == "arm64" {
            "ARM64"
        } else {
            "X86_64"
        }
    }
}

/// The pushed image's platforms, read from the registry (`os/arch`, comma-separated
/// for an index), must include the task definition's.
pub fn check_pushed(image: &str, wanted: &Platform, found: &str) -> Result<()> {
    let wanted_text = wanted.to_string();
    if found.split(',').any(|p| p == wanted_text) {
        return Ok(());
    }
    Err(Error::PlatformMismatch {
        image: image.to_string(),
        found: if found.is_empty() { "of no platform the registry names".into() } else { found.to_string() },
        wanted: wanted.to_string(),
        cpu: wanted.ecs_architecture(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(cpu: &str, os: &str) -> RuntimePlatform {
        RuntimePlatform { cpu_architecture: Some(cpu.into()), operating_system_family: Some(os.into()) }
    }

    #[test]
    fn task_definition_architectures_map_to_docker_platforms() {
        assert_eq!(Platform::from_runtime_platform(None, "t").unwrap().to_string(), "linux/amd64");
        let arm = Platform::from_runtime_platform(Some(&rp("ARM64", "LINUX")), "t").unwrap();
        assert_eq!((arm.to_string().as_str(), arm.ecs_architecture()), ("linux/arm64", "ARM64"));
        let x86 = Platform::from_runtime_platform(Some(&rp("X86_64", "LINUX")), "t").unwrap();
        assert_eq!(x86.to_string(), "linux/amd64");
        let err = Platform::from_runtime_platform(Some(&rp("ARM64", "WINDOWS_SERVER_2022_CORE")), "t").unwrap_err();
        assert!(err.to_string().contains("LINUX images only"), "{err}");
        assert!(Platform::from_runtime_platform(Some(&rp("MIPS", "LINUX")), "t").is_err());
    }

    #[test]
    fn a_pushed_image_of_another_architecture_is_refused() {
        let x86 = Platform::from_runtime_platform(None, "t").unwrap();
        assert!(check_pushed("r/i@sha256:1", &x86, "linux/amd64").is_ok());
        assert!(check_pushed("r/i@sha256:1", &x86, "linux/arm64,linux/amd64").is_ok());
        let err = check_pushed("r/i@sha256:1", &x86, "linux/arm64").unwrap_err();
        assert!(err.to_string().contains("linux/arm64"), "{err}");
        assert!(err.hint().unwrap().contains("X86_64"), "{:?}", err.hint());
    }
}
