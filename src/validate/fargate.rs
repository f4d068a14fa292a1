//! Fargate task sizes, checked: the table of CPU and memory pairs is the model's
//! (crate::model::fargate); the rules here give its answers a hint.
//! The containers' own `cpu` and `memory`/`memoryReservation` must fit in the task's
//! (ContainerDefinition, `cpu` and `memory`).
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html

use crate::model::fargate as table;
use crate::validate::{broken, Broken, Check};

const HINT: &str = "use a Fargate task size, e.g. cpu \"256\" with memory \"512\" (see RegisterTaskDefinition, \"Task CPU and memory\")";

pub fn cpu(value: &str) -> Result<i64, Broken> {
    table::cpu(value).map_err(|m| broken(m, HINT))
}

/// Task-level memory for the CPU value `cpu` (already checked).
pub fn memory(cpu: i64, value: &str) -> Check {
    table::memory(cpu, value).map_err(|m| broken(m, HINT))
}

/// Sum of the containers' reservations against the task's size.
pub fn fits(sum: i64, task: i64, what: &str) -> Check {
    if sum <= task {
        return Ok(());
    }
    Err(broken(
        format!("the containers' {what} add up to {sum}, more than the task's {task}"),
        format!("lower the containers' {what}, or raise the task's (ContainerDefinition: they must fit in the task)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fargate_table() {
        assert_eq!(cpu("256"), Ok(256));
        assert_eq!(cpu("1 vCPU"), Ok(1024));
        assert_eq!(cpu(".25 vCPU"), Ok(256));
        assert!(cpu("lots").unwrap_err().message.contains("\"lots\" is not a Fargate CPU value (256, 512"));
        assert!(cpu("300").is_err() && cpu("0").is_err());
        assert!(memory(256, "512").is_ok() && memory(256, "2 GB").is_ok());
        assert!(memory(256, "4096").is_err());
        assert!(memory(4096, "30720").is_ok() && memory(4096, "31744").is_err());
        assert!(memory(8192, "20480").is_ok() && memory(8192, "17408").is_err());
        assert!(memory(16384, "122880").is_ok() && memory(16384, "36864").is_err());
        assert!(memory(512, "lots").unwrap_err().message.contains("1024-4096 in steps of 1024"));
    }

    #[test]
    fn containers_fit_in_the_task() {
        assert!(fits(256, 256, "cpu").is_ok());
        assert!(fits(257, 256, "cpu").is_err());
    }
}
