//! Fargate task sizes. RegisterTaskDefinition, `cpu` and `memory` ("Task CPU and
//! memory"): a task on Fargate needs both, and only these pairs run:
//! 256: 512, 1024, 2048 · 512: 1024-4096 · 1024: 2048-8192 · 2048: 4096-16384 (all in
//! 1024 steps) · 4096: 8192-30720 (1024 steps) · 8192: 16384-61440 (4096 steps) ·
//! 16384: 32768-122880 (8192 steps). Either may be written in units ("1 vCPU", "2 GB").
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
//! The containers' own `cpu` and `memory`/`memoryReservation` must fit in the task's
//! (ContainerDefinition, `cpu` and `memory`).
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html

use crate::validate::{broken, quoted, Broken, Check};

pub const CPU: &[i64] = &[256, 512, 1024, 2048, 4096, 8192, 16384];

const HINT: &str = "use a Fargate task size, e.g. cpu \"256\" with memory \"512\" (see RegisterTaskDefinition, \"Task CPU and memory\")";

/// CPU units: "256", or "0.25 vCPU" / "1vCPU".
pub fn cpu_units(value: &str) -> Option<i64> {
    units(value, &["vcpu"])
}

/// MiB: "512", or "0.5 GB" / "2GB".
pub fn memory_mib(value: &str) -> Option<i64> {
    units(value, &["gb"])
}

fn units(value: &str, suffixes: &[&str]) -> Option<i64> {
    let v = value.trim().to_ascii_lowercase();
    if let Ok(n) = v.parse::<i64>() {
        return Some(n);
    }
    let number = suffixes.iter().find_map(|s| v.strip_suffix(s))?.trim();
    let n: f64 = number.parse().ok()?;
    let scaled = n * 1024.0;
    (scaled.fract() == 0.0 && scaled > 0.0).then_some(scaled as i64)
}

/// The memory values Fargate runs with this many CPU units.
pub fn memory_choices(cpu: i64) -> Vec<i64> {
    let (from, to, step) = match cpu {
        256 => return vec![512, 1024, 2048],
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return Vec::new(),
    };
    (from..=to).step_by(step).collect()
}

pub fn cpu(value: &str) -> Result<i64, Broken> {
    match cpu_units(value) {
        Some(n) if CPU.contains(&n) => Ok(n),
        _ => {
            let list: Vec<String> = CPU.iter().map(ToString::to_string).collect();
            Err(broken(format!("{} is not a Fargate CPU value ({})", quoted(value), list.join(", ")), HINT))
        }
    }
}

/// Task-level memory for the CPU value `cpu` (already checked).
pub fn memory(cpu: i64, value: &str) -> Check {
    let choices = memory_choices(cpu);
    match memory_mib(value) {
        Some(m) if choices.contains(&m) => Ok(()),
        _ => {
            let (first, last) = (choices.first().copied().unwrap_or(0), choices.last().copied().unwrap_or(0));
            let allowed = if choices.len() <= 3 {
                choices.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            } else {
                format!("{first}-{last} in steps of {}", choices[1] - choices[0])
            };
            Err(broken(format!("{} is not a Fargate memory size for cpu {cpu} (MiB: {allowed})", quoted(value)), HINT))
        }
    }
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
