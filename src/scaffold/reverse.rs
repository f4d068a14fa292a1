//! A live task definition turned back into a template: the account, region,
//! partition, family, roles, image, log group, port, task size and stop timeout
//! become the variables cruddur renders them from, and the main container's
//! environment and secrets become `[services.X]` keys with the loops that render them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::task_definition::TaskDefinitionSpec;

/// Where the task runs and what cruddur would name things there.
pub struct Names<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub partition: &'a str,
    pub dns_suffix: &'a str,
    /// The family cruddur derives for the service.
    pub family: &'a str,
    pub ecs_name: &'a str,
    /// The service's SSM prefix (`/<project>/<ecs-name>/`).
    pub ssm_prefix: &'a str,
}

/// What the task definition says that cruddur.toml holds.
#[derive(Debug, Default)]
pub struct Taken {
    pub execution_role: Option<String>,
    pub task_role: Option<String>,
    pub log_group: Option<String>,
    pub container: String,
    pub image: String,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub stop_timeout: Option<i32>,
    pub start_period: Option<i32>,
    pub environment: BTreeMap<String, String>,
    pub secrets: Vec<String>,
}

const ENVIRONMENT_LOOP: &str = r#"[{% for name, value in environment %}{ "name": {{ name | json_encode() }}, "value": {{ value | json_encode() }} }{% if not loop.last %}, {% endif %}{% endfor %}]"#;
const SECRETS_LOOP: &str = r#"[{% for s in secrets %}{ "name": "{{ s.name }}", "valueFrom": "{{ s.value_from }}" }{% if not loop.last %}, {% endif %}{% endfor %}]"#;

/// A marker replaced by raw template text after the JSON is printed.
fn raw(name: &str) -> Value {
    Value::String(format!("@@{name}@@"))
}

/// The role's name, when the ARN is `arn:<partition>:iam::<account>:role/<name>` (no path).
fn role_name(arn: &str, n: &Names<'_>) -> Option<String> {
    let name = arn.strip_prefix(&format!("arn:{}:iam::{}:role/", n.partition, n.account_id))?;
    (!name.contains('/')).then(|| name.to_string())
}

/// The template text and the values it took out. `container`: the main container
/// (the load balancer's, else the first essential one).
pub fn template(
    spec: &TaskDefinitionSpec,
    container: Option<&str>,
    port: Option<i32>,
    n: &Names<'_>,
) -> (String, Taken) {
    let mut taken = Taken::default();
    let mut v = serde_json::to_value(spec).expect("a task definition serialises");
    if spec.family == n.family {
        v["family"] = Value::String("{{ family }}".into());
    }
    for (key, var, slot) in [
        ("executionRoleArn", "execution_role_arn", &mut taken.execution_role),
        ("taskRoleArn", "task_role_arn", &mut taken.task_role),
    ] {
        if let Some(name) = v[key].as_str().and_then(|arn| role_name(arn, n)) {
            *slot = Some(name);
            v[key] = Value::String(format!("{{{{ {var} }}}}"));
        }
    }
    for (key, slot) in [("cpu", &mut taken.cpu), ("memory", &mut taken.memory)] {
        if let Some(size) = v[key].as_str().and_then(|s| s.parse().ok()) {
            *slot = Some(size);
            v[key] = Value::String(format!("{{{{ {key} }}}}"));
        }
    }
    let main = spec
        .container_definitions
        .iter()
        .position(|c| Some(c.name.as_str()) == container)
        .or_else(|| spec.container_definitions.iter().position(|c| c.essential != Some(false)))
        .unwrap_or(0);
    if let Some(c) = spec.container_definitions.get(main) {
        let slot = &mut v["containerDefinitions"][main];
        taken.container = c.name.clone();
        taken.image = c.image.clone();
        slot["name"] = Value::String("{{ container_name }}".into());
        slot["image"] = Value::String("{{ image }}".into());
        if let Some(stop) = c.stop_timeout {
            taken.stop_timeout = Some(stop);
            slot["stopTimeout"] = raw("stop_timeout");
        }
        taken.start_period = c.health_check.as_ref().and_then(|h| h.start_period);
        for (i, m) in c.port_mappings.iter().flatten().enumerate() {
            if m.container_port.is_some() && m.container_port == port {
                slot["portMappings"][i]["containerPort"] = raw("port");
            }
            if m.name.as_deref() == Some(n.ecs_name) {
                slot["portMappings"][i]["name"] = Value::String("{{ ecs_name }}".into());
            }
        }
        let options = &mut slot["logConfiguration"]["options"];
        if let Some(group) = options.get("awslogs-group").and_then(Value::as_str) {
            taken.log_group = Some(group.to_string());
            options["awslogs-group"] = Value::String("{{ log_group }}".into());
        }
        taken.environment = c.environment.iter().flatten().map(|e| (e.name.clone(), e.value.clone())).collect();
        slot["environment"] = raw("environment");
        let prefix = format!("arn:{}:ssm:{}:{}:parameter{}", n.partition, n.region, n.account_id, n.ssm_prefix);
        // The loop, when every secret is the service's own parameter of the same name.
        let secrets: Option<Vec<String>> = c
            .secrets
            .iter()
            .flatten()
            .map(|s| (s.value_from == format!("{prefix}{}", s.name)).then(|| s.name.clone()))
            .collect();
        if let Some(names) = secrets {
            taken.secrets = names;
            slot["secrets"] = raw("secrets");
        }
    }
    generalise(&mut v, n);
    let mut text = serde_json::to_string_pretty(&v).expect("JSON prints");
    for (marker, with) in [
        ("\"@@stop_timeout@@\"", "{{ stop_timeout }}"),
        ("\"@@port@@\"", "{{ port }}"),
        ("\"@@environment@@\"", ENVIRONMENT_LOOP),
        ("\"@@secrets@@\"", SECRETS_LOOP),
    ] {
        text = text.replace(marker, with);
    }
    text.push('\n');
    (text, taken)
}

/// Account, region and partition in every other string become variables.
fn generalise(v: &mut Value, n: &Names<'_>) {
    match v {
        Value::String(s) => {
            let ecr = format!("{}.dkr.ecr.{}.{}", n.account_id, n.region, n.dns_suffix);
            *s = s
                .replace(&ecr, "{{ account_id }}.dkr.ecr.{{ region }}.{{ dns_suffix }}")
                .replace(&format!("arn:{}:", n.partition), "arn:{{ partition }}:")
                .replace(&format!(":{}:", n.region), ":{{ region }}:")
                .replace(&format!(":{}:", n.account_id), ":{{ account_id }}:");
            if s == n.region {
                *s = "{{ region }}".into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| generalise(i, n)),
        Value::Object(map) => map.values_mut().for_each(|i| generalise(i, n)),
        _ => {}
    }
}

/// The `image` key cruddur.toml needs: none when the image is the service's ECR
/// repository at `latest` (the default), else the image with account and region as
/// variables.
pub fn image_key(image: &str, repository: &str, n: &Names<'_>) -> Option<String> {
    let ecr = format!("{}.dkr.ecr.{}.{}/", n.account_id, n.region, n.dns_suffix);
    match image.strip_prefix(&ecr) {
        Some(rest) if rest == format!("{repository}:latest") || rest == repository => None,
        Some(rest) => match rest.strip_prefix(repository).and_then(|t| t.strip_prefix(':')) {
            Some(tag) => Some(format!("{{{{ ecr_repository }}}}:{tag}")),
            None => Some(format!("{{{{ account_id }}}}.dkr.ecr.{{{{ region }}}}.{{{{ dns_suffix }}}}/{rest}")),
        },
        None => Some(image.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names<'static> {
        Names {
            account_id: "123456789012",
            region: "eu-west-1",
            partition: "aws",
            dns_suffix: "amazonaws.com",
            family: "web",
            ecs_name: "web",
            ssm_prefix: "/shop/web/",
        }
    }

    #[test]
    fn a_live_task_definition_becomes_the_template_it_renders_from() {
        let live = r#"{
          "family": "web", "networkMode": "awsvpc", "cpu": "512", "memory": "1024",
          "executionRoleArn": "arn:aws:iam::123456789012:role/shop-execution-role",
          "taskRoleArn": "arn:aws:iam::123456789012:role/team/path-role",
          "containerDefinitions": [
            { "name": "xray", "image": "public.ecr.aws/xray/aws-xray-daemon", "essential": true },
            { "name": "web", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v7", "stopTimeout": 10,
              "portMappings": [{ "name": "web", "containerPort": 8080, "protocol": "tcp" }],
              "environment": [{ "name": "MODE", "value": "live" }],
              "secrets": [{ "name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/web/DB" }],
              "logConfiguration": { "logDriver": "awslogs",
                "options": { "awslogs-group": "shop", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web" } } }
          ]
        }"#;
        let spec: TaskDefinitionSpec = serde_json::from_str(live).unwrap();
        let (text, taken) = template(&spec, Some("web"), Some(8080), &names());
        for expected in [
            r#""family": "{{ family }}""#,
            r#""cpu": "{{ cpu }}""#,
            r#""executionRoleArn": "{{ execution_role_arn }}""#,
            r#""taskRoleArn": "arn:{{ partition }}:iam::{{ account_id }}:role/team/path-role""#,
            r#""name": "{{ container_name }}""#,
            r#""containerPort": {{ port }}"#,
            r#""stopTimeout": {{ stop_timeout }}"#,
            r#""awslogs-group": "{{ log_group }}""#,
            r#""awslogs-region": "{{ region }}""#,
            r#""environment": [{% for name, value in environment %}"#,
            r#""secrets": [{% for s in secrets %}"#,
            r#""name": "xray""#,
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
        assert!(!text.contains("123456789012") && !text.contains("eu-west-1"), "{text}");
        assert_eq!(taken.execution_role.as_deref(), Some("shop-execution-role"));
        assert_eq!(taken.task_role, None, "a role with a path stays an ARN");
        assert_eq!((taken.cpu, taken.memory, taken.stop_timeout), (Some(512), Some(1024), Some(10)));
        assert_eq!(taken.secrets, ["DB"]);
        assert_eq!(image_key(&taken.image, "web", &names()).as_deref(), Some("{{ ecr_repository }}:v7"));
        assert_eq!(image_key("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:latest", "web", &names()), None);
    }
}
