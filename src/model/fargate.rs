//! Fargate task sizes. RegisterTaskDefinition, `cpu` and `memory` ("Task CPU and
//! memory"): a task on Fargate needs both, and only these pairs run:
//! 256: 512, 1024, 2048 · 512: 1024-4096 · 1024: 2048-8192 · 2048: 4096-16384 (all in
//! 1024 steps) · 4096: 8192-30720 (1024 steps) · 8192: 16384-61440 (4096 steps) ·
//! 16384: 32768-122880 (8192 steps). Either may be written in units ("1 vCPU", "2 GB").
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html

pub const CPU: &[i64] = &[256, 512, 1024, 2048, 4096, 8192, 16384];

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

/// A Fargate CPU value, or what is wrong with it.
pub fn cpu(value: &str) -> Result<i64, String> {
    match cpu_units(value) {
        Some(n) if CPU.contains(&n) => Ok(n),
        _ => {
            let list: Vec<String> = CPU.iter().map(ToString::to_string).collect();
            Err(format!("{} is not a Fargate CPU value ({})", quoted(value), list.join(", ")))
        }
    }
}

/// Task-level memory for the CPU value `cpu` (already checked), or what is wrong with it.
pub fn memory(cpu: i64, value: &str) -> Result<(), String> {
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
            Err(format!("{} is not a Fargate memory size for cpu {cpu} (MiB: {allowed})", quoted(value)))
        }
    }
}

fn quoted(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
}
