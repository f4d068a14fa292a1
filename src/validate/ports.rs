//! Ports. PortMapping: `containerPort` and `hostPort` are 1-65535, and "If you use
//! containers in a task with the awsvpc or host network mode, the hostPort can
//! either be left blank or set to the same value as the containerPort".
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html

use crate::validate::{broken, Check};

pub fn port(value: i64) -> Check {
    if (1..=65535).contains(&value) {
        return Ok(());
    }
    Err(broken(
        format!("{value} is not a port (1-65535)"),
        "use the port the service listens on, 1-65535 (ECS PortMapping)",
    ))
}

pub fn host_port(container: i32, host: i32, network_mode: &str) -> Check {
    port(i64::from(host))?;
    if matches!(network_mode, "awsvpc" | "host") && host != container {
        return Err(broken(
            format!("{host} differs from containerPort {container}, which {network_mode} does not allow"),
            "leave hostPort out, or set it to the containerPort (ECS PortMapping)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_awsvpc() {
        assert!(port(1).is_ok() && port(65535).is_ok());
        assert!(port(0).is_err() && port(65536).is_err() && port(-1).is_err());
        assert!(host_port(80, 80, "awsvpc").is_ok() && host_port(80, 8080, "bridge").is_ok());
        assert!(host_port(80, 8080, "awsvpc").is_err());
    }
}
