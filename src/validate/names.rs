//! Names AWS gives its resources, with the lengths and characters each API
//! reference allows.

use crate::validate::{broken, quoted, Broken, Check};

fn too_long(value: &str, max: usize, what: &str) -> Option<Broken> {
    (value.chars().count() > max).then(|| {
        broken(
            format!("{} is {} characters; {what} has at most {max}", quoted(value), value.chars().count()),
            format!("shorten it ({what}: at most {max} characters)"),
        )
    })
}

fn charset(value: &str, what: &str, allowed: &str, ok: impl Fn(char) -> bool) -> Check {
    if value.is_empty() {
        return Err(broken(format!("{what} must not be empty"), format!("give it a name of {allowed}")));
    }
    match value.chars().find(|c| !ok(*c)) {
        None => Ok(()),
        Some(c) => Err(broken(
            format!("{} has {:?}; {what} may hold only {allowed}", quoted(value), c),
            format!("rename it: {allowed}"),
        )),
    }
}

fn ecs_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// ECS cluster, service, task-definition family and container names: "Up to 255
/// letters (uppercase and lowercase), numbers, underscores, and hyphens"
/// (CreateCluster `clusterName`, CreateService `serviceName`, RegisterTaskDefinition
/// `family`, ContainerDefinition `name`).
/// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
pub fn ecs(value: &str, what: &str) -> Check {
    if let Some(b) = too_long(value, 255, what) {
        return Err(b);
    }
    charset(value, what, "letters, digits, - and _", ecs_char)
}

/// Target group and load balancer names: "a maximum of 32 characters, must contain
/// only alphanumeric characters or hyphens, and must not begin or end with a hyphen";
/// a load balancer's "must not begin with internal-" (CreateTargetGroup `Name`,
/// CreateLoadBalancer `Name`).
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
pub fn elb(value: &str, load_balancer: bool) -> Check {
    let what = if load_balancer { "a load balancer name" } else { "a target group name" };
    if let Some(b) = too_long(value, 32, what) {
        return Err(b);
    }
    charset(value, what, "letters, digits and -", |c| c.is_ascii_alphanumeric() || c == '-')?;
    if value.starts_with('-') || value.ends_with('-') {
        return Err(broken(
            format!("{} begins or ends with a hyphen", quoted(value)),
            format!("{what} must not begin or end with -"),
        ));
    }
    if load_balancer && value.starts_with("internal-") {
        return Err(broken(
            format!("{} begins with internal-", quoted(value)),
            "AWS reserves the internal- prefix: rename it",
        ));
    }
    Ok(())
}

/// Security group names: "Constraints: Up to 255 characters in length. Cannot start
/// with sg-. ... Constraints for EC2-VPC: a-z, A-Z, 0-9, spaces, and
/// ._-:/()#,@[]+=&;{}!$*" (CreateSecurityGroup `GroupName`).
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
pub fn security_group(value: &str) -> Check {
    let what = "a security group name";
    if let Some(b) = too_long(value, 255, what) {
        return Err(b);
    }
    if value.to_ascii_lowercase().starts_with("sg-") {
        return Err(broken(
            format!("{} begins with sg-", quoted(value)),
            "security group names cannot start with sg- (that is how ids look)",
        ));
    }
    charset(value, what, "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*", |c| {
        c.is_ascii_alphanumeric() || c == ' ' || "._-:/()#,@[]+=&;{}!$*".contains(c)
    })
}

/// IAM role names: 1-64 characters of `[\w+=,.@-]` (CreateRole `RoleName`).
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
pub fn iam_role(value: &str) -> Check {
    let what = "an IAM role name";
    if let Some(b) = too_long(value, 64, what) {
        return Err(b);
    }
    charset(value, what, "letters, digits and _+=,.@-", |c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Log group names: 1-512 characters of `[\.\-_/#A-Za-z0-9]` (CreateLogGroup
/// `logGroupName`).
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
pub fn log_group(value: &str) -> Check {
    let what = "a log group name";
    if let Some(b) = too_long(value, 512, what) {
        return Err(b);
    }
    charset(value, what, "letters, digits and ._-/#", |c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
}

/// The longest prefix an SSM parameter's ARN has before the name, which counts
/// toward the 1011 characters (`arn:aws-us-gov:ssm:<14-character region>:<account>:parameter`).
const SSM_ARN_PREFIX: usize = "arn:aws-us-gov:ssm:ap-southeast-1:123456789012:parameter".len();

/// SSM parameter names: `a-zA-Z0-9_.-` and `/` for the hierarchy, at most 15 levels,
/// not beginning with `aws` or `ssm`, and "The maximum length for a parameter name,
/// including the full length of the parameter Amazon Resource Name (ARN), is 1011
/// characters" (PutParameter `Name`).
/// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
pub fn ssm_parameter(value: &str) -> Check {
    let what = "an SSM parameter name";
    if let Some(b) = too_long(value, 1011 - SSM_ARN_PREFIX, what) {
        return Err(b);
    }
    charset(value, what, "letters, digits, _.- and /", |c| c.is_ascii_alphanumeric() || "_.-/".contains(c))?;
    let levels = value.trim_start_matches('/').split('/').count();
    if levels > 15 {
        return Err(broken(
            format!("{} has {levels} levels; at most 15", quoted(value)),
            "use a shallower path (PutParameter: 15 levels)",
        ));
    }
    if value.contains("//") {
        return Err(broken(format!("{} has an empty level (//)", quoted(value)), "remove the doubled /"));
    }
    let first = value.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(broken(
            format!("{} begins with aws or ssm", quoted(value)),
            "AWS reserves those prefixes: rename the project or service",
        ));
    }
    Ok(())
}

/// Cloud Map namespace names (CreateHttpNamespace `Name`: 1-1024 of `[!-~]`).
/// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
pub fn namespace(value: &str) -> Check {
    let what = "a Cloud Map namespace name";
    if let Some(b) = too_long(value, 1024, what) {
        return Err(b);
    }
    charset(value, what, "printable ASCII without spaces", |c| ('!'..='~').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_names() {
        assert!(ecs("backend-flask", "a service name").is_ok());
        assert!(ecs("backend.flask", "a service name").unwrap_err().message.contains("'.'"));
        assert!(ecs(&"a".repeat(256), "x").unwrap_err().message.contains("256 characters"));
        assert!(ecs("", "a family").is_err());
    }

    #[test]
    fn load_balancer_and_target_group_names() {
        assert!(elb("cruddur-backend-flask-tg", false).is_ok());
        assert!(elb(&"a".repeat(33), false).unwrap_err().message.contains("at most 32"));
        assert!(elb("-tg", false).is_err() && elb("tg-", false).is_err() && elb("my_tg", false).is_err());
        assert!(elb("internal-alb", true).is_err() && elb("internal-tg", false).is_ok());
    }

    #[test]
    fn other_names() {
        assert!(security_group("crud-srv-sg").is_ok() && security_group("sg-web").is_err());
        assert!(security_group("a%b").is_err());
        assert!(iam_role("CruddurTaskRole").is_ok() && iam_role(&"R".repeat(65)).is_err() && iam_role("a b").is_err());
        assert!(log_group("cruddur").is_ok() && log_group("a b").is_err());
        assert!(ssm_parameter("/cruddur/backend-flask/CONNECTION_URL").is_ok());
        assert!(ssm_parameter("/cruddur/x y").is_err());
        assert!(ssm_parameter(&"/a".repeat(16)).unwrap_err().message.contains("16 levels"));
        assert!(ssm_parameter("/aws/x").is_err() && ssm_parameter("/SSM-x/y").is_err());
        assert!(ssm_parameter(&format!("/{}", "a".repeat(1000))).is_err());
        assert!(namespace("cruddur").is_ok() && namespace("a b").is_err());
    }
}
