//! Bad input: one error line and one hint on stderr, a non-zero exit (2 for usage
//! and validation, 1 for AWS), no panic, no hang, and nothing changed in AWS: zero
//! write calls in moto's request recording. The table below is the suite; a new
//! case is one line. The tests after it check exact messages.

mod bad_input {
    pub mod harness;
}
mod common;

use bad_input::harness::{case, closed_endpoint, env, run_all, sd, td, toml, usage, Case, Edit};
use common::{project_copy, repo, Moto};

fn long(n: usize) -> String {
    "a".repeat(n)
}

#[rustfmt::skip]
fn table() -> Vec<Case> {
    let no_secrets = || toml("secrets = [\"CONNECTION_URL\", \"ROLLBAR_ACCESS_TOKEN\", \"OTEL_EXPORTER_OTLP_HEADERS\"]", "secrets = []");
    let dead_docker = || env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    vec![
        // Usage (clap's own message and usage text).
        usage(&["scale", "backend", "-1"], "'-1'"),
        usage(&["scale", "backend", "--", "-1"], "0..=5000"),
        usage(&["scale", "backend"], "required"),
        usage(&["deploy", "backend", "--timeout", "soon"], "--timeout"),
        usage(&["logs", "backend", "--since", "yesterday"], "--since"),
        usage(&["deploy"], "required"),
        usage(&["deploy", "backend", "--poll-interval", "0s"], "at least 100ms"),
        usage(&["logs", "backend", "--follow", "--poll-interval", "10ms"], "at least 100ms"),
        usage(&["frobnicate"], "unrecognized subcommand"),
        usage(&["init", "--service", "web:http"], "`web:http`: the port must be a number from 1 to 65535"),
        usage(&["init", "--from-service", "c/s", "--service", "web:80"], "cannot be used with"),
        case(&["down", "nope", "--yes"], vec![], 2, "unknown service `nope`"),
        case(&["down", "backend", "--all", "--yes"], vec![], 2, "--all deletes the whole stack's data: leave out the service names"),
        case(&["--env", "qa", "plan"], vec![], 2, "environment `qa` is selected (--env or CRUDDUR_ENV) but the file has no [env.NAME] tables"),
        usage(&["--output", "yaml", "status"], "yaml"),
        // The project file.
        case(&["deploy", "backend"], vec![Edit::NoProject], 2, "no cruddur.toml in"),
        case(&["deploy", "db"], vec![], 2, "unknown service `db` (cruddur.toml defines: backend, frontend)"),
        case(&["status", "db"], vec![], 2, "unknown service `db`"),
        case(&["logs", "db"], vec![], 2, "unknown service `db`"),
        case(&["render", "db"], vec![], 2, "unknown service `db`"),
        case(&["connect", "abc", "--service", "backend"], vec![], 2, "`abc` is not a task id"),
        case(&["register", "backend"], vec![toml("port = 4567", "port = \"x\"")], 2, "cruddur.toml: "),
        case(&["register", "backend"], vec![toml("port = 4567", "port = 4567\nprot = 1")], 2, "prot"),
        case(&["render", "backend"], vec![toml("port = 4567", "port = 0")], 2, "cruddur.toml: services.backend.port: 0 is not a port (1-65535)"),
        case(&["up"], vec![toml("port = 4567", "port = 70000")], 2, "cruddur.toml: "),
        case(&["up"], vec![toml("health_path = \"/api/health-check\"", "health_path = \"api/health-check\"")], 2, "cruddur.toml: services.backend.health_path: \"api/health-check\" must start with \"/\""),
        case(&["plan"], vec![toml("[project]\n", "[project]\nlog_retention_days = 2\n")], 2, "cruddur.toml: project.log_retention_days: 2 is not a CloudWatch Logs retention"),
        case(&["up"], vec![toml("ecs_name = \"frontend-react-js\"", "ecs_name = \"backend-flask\"")], 2, "services.frontend.ecs_name: \"backend-flask\" is also the ecs_name of services.backend"),
        case(&["deploy", "backend", "--no-build"], vec![toml("ecs_name = \"frontend-react-js\"", "ecs_name = \"backend\"")], 2, "services.frontend.ecs_name: \"backend\" is also the name of services.backend"),
        // Autoscaling (issue 31).
        case(&["plan"], vec![toml("[services.backend.environment]\n", "[services.backend.scaling]\nmin = 3\nmax = 2\ncpu = 50\n\n[services.backend.environment]\n")], 2, "cruddur.toml: services.backend.scaling: min = 3 is more than max = 2"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.scaling]\nmax = 4\n\n[services.backend.environment]\n")], 2, "services.backend.scaling has no target: set cpu, memory or requests"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.scaling]\nmax = 4\ncpu = 150\n\n[services.backend.environment]\n")], 2, "services.backend.scaling.cpu = 150: the target must be more than 0 and at most 100 (percent)"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.scaling]\nmax = 4\ncpu = 50\nscale_in_cooldown = \"soon\"\n\n[services.backend.environment]\n")], 2, "services.backend.scaling.scale_in_cooldown = \"soon\""),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.scaling]\nmax = 4\ncpu = 50\ntarget = 3\n\n[services.backend.environment]\n")], 2, "unknown field `target`"),
        case(&["up"], vec![toml("port = 4567", "port = 4567\ndesired_count = 9"), toml("[services.backend.environment]\n", "[services.backend.scaling]\nmax = 4\ncpu = 50\n\n[services.backend.environment]\n")], 2, "services.backend.desired_count = 9 is outside scaling's 1..4"),
        case(&["scale", "backend", "--max", "3"], vec![], 2, "backend has no scaler: --min and --max change an autoscaling range"),
        case(&["plan"], vec![toml("port = 4567", "port = 4567\ncapacity = \"ec2\"")], 2, "cruddur.toml: services.backend.capacity = \"ec2\": use \"fargate\", \"spot\""),
        case(&["up"], vec![toml("port = 4567", "port = 4567\ncapacity = { spot = 3, base = 1 }")], 2, "services.backend.capacity.base runs tasks on FARGATE"),
        case(&["scale", "backend", "2", "--min", "3", "--max", "2"], vec![toml("[services.backend.environment]\n", "[services.backend.scaling]\nmax = 4\ncpu = 50\n\n[services.backend.environment]\n")], 2, "--min 3 is more than the most tasks, 2"),
        // Release strategies (issue 26): the ECS API's ranges, before any call.
        case(&["plan"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"canary\"\ncanary_percent = 0.05\n\n[services.backend.environment]\n")], 2, "cruddur.toml: services.backend.deploy.canary_percent = 0.05: a multiple of 0.1 from 0.1 to 100 (ECS API)"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"linear\"\nstep_percent = 2\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.step_percent = 2: a multiple of 0.1 from 3.0 to 100"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"canary\"\ncanary_bake = \"2d\"\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.canary_bake = \"2d\": whole minutes from 0 to 24h"),
        case(&["deploy", "backend", "--no-build"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"red-black\"\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.strategy = \"red-black\": use \"rolling\", \"blue-green\", \"canary\" or \"linear\""),
        case(&["plan"], vec![toml("port = 3000\ndefault = true", "default = false"), toml("[services.frontend.environment]\n", "[services.frontend.deploy]\nstrategy = \"canary\"\n\n[services.frontend.environment]\n")], 2, "services.frontend.deploy.strategy = \"canary\" needs a port"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\n[[services.backend.deploy.checks]]\npath = \"/api/health-check\"\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.checks run while ECS holds a new version on test traffic"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"canary\"\n[[services.backend.deploy.checks]]\npath = \"api\"\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.checks[0].path = \"api\" must start with /"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"canary\"\nearly_success = true\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.early_success is for rolling updates only"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstratgy = \"canary\"\n\n[services.backend.environment]\n")], 2, "unknown field `stratgy`"),
        case(&["--env", "qa", "plan"], vec![toml("[services.backend]\n", "[env.qa.services.backend.deploy]\nstrategy = \"canary\"\ncanary_percent = 101\n\n[services.backend]\n")], 2, "services.backend.deploy.canary_percent = 101: a multiple of 0.1 from 0.1 to 100"),
        case(&["up"], vec![toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"canary\"\n\n[services.backend.environment]\n")], 2, "services.backend.deploy.strategy = \"canary\" needs project.domain: ECS shifts traffic between two target groups on an HTTPS listener rule"),
        case(&["plan"], vec![toml("# domain = \"example.com\"", "domain = \"example.com\""), toml("port = 3000\ndefault = true", "port = 3000\ndefault = true\npaths = [\"/app/*\"]"), toml("[services.frontend.environment]\n", "[services.frontend.deploy]\nstrategy = \"blue-green\"\n\n[services.frontend.environment]\n")], 2, "services.frontend: the default service of a blue-green, canary or linear release takes no host or paths"),
        case(&["plan"], vec![toml("# domain = \"example.com\"", "domain = \"example.com\""), toml("host = \"api.{{ domain }}\"", "host = \"api.{{ domain }}\"\npaths = [\"/a\", \"/b\", \"/c\", \"/d\"]"), toml("[services.backend.environment]\n", "[services.backend.deploy]\nstrategy = \"linear\"\n\n[services.backend.environment]\n")], 2, "services.backend: a blue-green, canary or linear service takes at most 4 host and path values"),
        case(&["deploy", "backend", "--no-build", "--wait-until", "BAKE_TIME"], vec![], 2, "--wait-until BAKE_TIME: backend has rolling updates, which have no lifecycle stages"),
        usage(&["deploy", "backend", "--wait-until", "soon"], "`soon` is not a lifecycle stage"),
        // No operator credentials in the app (issue 25).
        case(&["plan"], vec![toml("secrets = [\"CONNECTION_URL\"", "secrets = [\"AWS_ACCESS_KEY_ID\", \"CONNECTION_URL\"")], 2, "services.backend.secrets[0]: \"AWS_ACCESS_KEY_ID\" would put AWS credentials into the app's container"),
        case(&["deploy", "backend", "--no-build"], vec![toml("[services.backend.environment]\n", "[services.backend.environment]\nAWS_SESSION_TOKEN = \"x\"\n")], 2, "services.backend.environment.AWS_SESSION_TOKEN: \"AWS_SESSION_TOKEN\" would put AWS credentials"),
        // ECS Exec's key, the TLS policy (issue 25).
        case(&["up"], vec![toml("[project]\n", "[project]\nexec_kms_key = \"my key\"\n")], 2, "cruddur.toml: project.exec_kms_key: \"my key\" is not a KMS key id, key ARN or alias"),
        case(&["plan"], vec![toml("[project]\n", "[project]\nexec_kms_key = \"alias/aws/ecs\"\n")], 2, "project.exec_kms_key: \"alias/aws/ecs\" is not a KMS key id"),
        case(&["plan"], vec![toml("[project]\n", "[project]\ntls_policy = \"TLSv1.2_2021\"\n")], 2, "cruddur.toml: project.tls_policy: \"TLSv1.2_2021\" is not a security policy of Application Load Balancers"),
        case(&["up"], vec![toml("[project]\n", "[project]\ntls_policy = \"elbsecuritypolicy-2016-08\"\n")], 2, "project.tls_policy: \"elbsecuritypolicy-2016-08\" is not a security policy"),
        case(&["plan"], vec![toml("[project]\n", "[project]\nexec_log_group = \"/cruddur/exec sessions\"\n")], 2, "project.exec_log_group"),
        case(&["connect", "--service", "frontend"], vec![toml("port = 3000", "port = 3000\nexec = false")], 1, "ECS Exec is not enabled for service frontend (exec = false in cruddur.toml)"),
        // Routes: what the ALB could not do as written (issue 24).
        case(&["plan"], vec![toml("# domain = \"example.com\"", "domain = \"example.com\""), toml("host = \"api.{{ domain }}\"", "host = \"api.{{ domain }}\"\npriority = 7"), toml("default = true", "default = true\npaths = [\"/app/*\"]\npriority = 7")], 2, "services.backend and services.frontend both have priority = 7"),
        case(&["up"], vec![toml("port = 3000", "port = 4567")], 2, "services.backend and services.frontend both listen on port 4567 and there is no project.domain"),
        case(&["plan"], vec![toml("# domain = \"example.com\"", "domain = \"example.com\""), toml("health_path = \"/api/health-check\"", "health_path = \"/api/health-check\"\npaths = [\"/a*/*/*\", \"/b?/*/*\"]")], 2, "services.backend: its host and paths have 6 wildcards (* or ?); an ALB rule takes at most 5"),
        case(&["plan"], vec![toml("# domain = \"example.com\"", "domain = \"example.com\""), toml("health_path = \"/api/health-check\"", "health_path = \"/api/health-check\"\npaths = [\"/1\", \"/2\", \"/3\", \"/4\", \"/5\"]")], 2, "services.backend: an ALB rule takes at most 5 host and path values"),
        case(&["--env", "a", "plan"], vec![toml("[services.backend]\n", "[env.a]\ndomain = \"x.example.com\"\n[env.b]\ndomain = \"x.example.com\"\n\n[services.backend]\n")], 2, "environments a and b both point x.example.com at their load balancer"),
        case(&["up"], vec![toml("\"CONNECTION_URL\"", "\"CONNECTION-URL\"")], 2, "services.backend.secrets[0]: \"CONNECTION-URL\" is not a valid environment variable name"),
        case(&["secrets", "push"], vec![toml("\"CONNECTION_URL\"", "\"1CONNECTION\"")], 2, "is not a valid environment variable name"),
        case(&["render", "backend"], vec![toml("OTEL_SERVICE_NAME =", "\"OTEL SERVICE\" =")], 2, "services.backend.environment.OTEL SERVICE: \"OTEL SERVICE\" is not a valid environment variable name"),
        case(&["up"], vec![toml("port = 4567", "port = 4567\ntarget_group = \"cruddur-backend-flask-target-grps\"")], 2, "services.backend.target_group: \"cruddur-backend-flask-target-grps\" is 33 characters"),
        case(&["up"], vec![toml("port = 4567", "port = 4567\ntarget_group = \"cruddur-backend-flask-target-group\"")], 2, "a target group name has at most 32"),
        case(&["up"], vec![toml("port = 4567", "port = 4567\ntarget_group = \"backend_tg\"")], 2, "services.backend.target_group: \"backend_tg\" has '_'"),
        case(&["up"], vec![toml("port = 4567", "port = 4567\ntarget_group = \"backend-tg-\"")], 2, "begins or ends with a hyphen"),
        case(&["plan"], vec![toml("[project]\n", "[project]\nload_balancer = \"internal-web\"\n")], 2, "project.load_balancer: \"internal-web\" begins with internal-"),
        case(&["plan"], vec![toml("[project]\n", &format!("[project]\nload_balancer = \"{}\"\n", long(33)))], 2, "project.load_balancer: "),
        case(&["up"], vec![toml("security_group = \"crud-srv-sg\"", "security_group = \"sg-services\"")], 2, "network.security_group: \"sg-services\" begins with sg-"),
        case(&["up"], vec![toml("[project]\n", &format!("[project]\nexecution_role = \"{}\"\n", long(65)))], 2, "project.execution_role: "),
        case(&["up"], vec![toml("[project]\n", "[project]\ntask_role = \"Cruddur Task Role\"\n")], 2, "project.task_role: \"Cruddur Task Role\" has ' '"),
        case(&["status"], vec![toml("[project]\n", "[project]\ncluster = \"my.cluster\"\n")], 2, "project.cluster: \"my.cluster\" has '.'"),
        case(&["status"], vec![toml("name = \"cruddur\"", "name = \"crud dur\"")], 2, "project.name `crud dur` must be letters, digits, - or _"),
        case(&["up"], vec![toml("\"CONNECTION_URL\"", &format!("\"{}\"", long(1000)))], 2, "an SSM parameter name has at most"),
        case(&["scale", "backend", "2"], vec![toml("port = 4567", "port = 4567\ndesired_count = -1")], 2, "services.backend.desired_count: -1 is not between 0 and"),
        // Task definitions, as rendered (register, deploy, diff, render, up, plan).
        case(&["register", "backend"], vec![td("\"cpu\": \"{{ cpu }}\"", "\"cpu\": \"lots\"")], 2, "task-definitions/backend-flask.json: cpu: \"lots\" is not a Fargate CPU value (256, 512, 1024, 2048, 4096, 8192, 16384)"),
        case(&["up"], vec![toml("port = 4567\n", "port = 4567\ncpu = 256\nmemory = 4096\n")], 2, "services.backend: cpu = 256, memory = 4096: \"4096\" is not a Fargate memory size for cpu 256"),
        case(&["deploy", "backend", "--no-build"], vec![td("\"memory\": \"{{ memory }}\"", "\"memory\": \"4096\"")], 2, "task-definitions/backend-flask.json: memory: \"4096\" is not a Fargate memory size for cpu 256"),
        case(&["plan"], vec![td("\"stopTimeout\": {{ stop_timeout }},", "\"stopTimeout\": {{ stop_timeout }}, \"cpu\": 512,")], 2, "containerDefinitions[*].cpu: the containers' cpu add up to 512, more than the task's 256"),
        case(&["register", "backend", "--image", "backend flask:latest"], vec![], 2, "containerDefinitions[0].image: \"backend flask:latest\" is not a valid image reference"),
        case(&["deploy", "backend", "--image", "Backend-Flask:latest"], vec![], 2, "has upper-case letters"),
        case(&["deploy", "backend", "--image", "backend-flask@sha256:abc"], vec![], 2, "the digest `sha256:abc` is not algorithm:hex"),
        case(&["render", "backend"], vec![toml("port = 4567", "port = 4567\nimage = \"repo:bad tag\"")], 2, "the tag `bad tag`"),
        case(&["diff", "backend"], vec![td("\"containerPort\": {{ port }}", "\"containerPort\": 0")], 2, "containerDefinitions[0].portMappings[0].containerPort: 0 is not a port"),
        case(&["register", "backend"], vec![td("\"containerPort\": {{ port }},", "\"containerPort\": {{ port }}, \"hostPort\": 2001,")], 2, "containerDefinitions[0].portMappings[0].hostPort: 2001 differs from containerPort 4567"),
        case(&["register", "backend"], vec![td("\"interval\": 30", "\"interval\": 400")], 2, "containerDefinitions[0].healthCheck.interval: 400 is not between 5 and 300"),
        case(&["register", "backend"], vec![td("\"timeout\": 5", "\"timeout\": 61")], 2, "healthCheck.timeout: 61 is not between 2 and 60"),
        case(&["register", "backend"], vec![td("\"retries\": 3", "\"retries\": 0")], 2, "healthCheck.retries: 0 is not between 1 and 10"),
        case(&["up"], vec![td("\"startPeriod\": 60", "\"startPeriod\": 301")], 2, "healthCheck.startPeriod: 301 is not between 0 and 300"),
        case(&["register", "backend"], vec![td("\"family\": \"{{ family }}\"", "\"family\": \"backend.flask\"")], 2, "task-definitions/backend-flask.json: family: \"backend.flask\" has '.'"),
        case(&["register", "backend"], vec![td("\"containerDefinitions\": [", "\"containerDefinitions\": [{ \"name\": \"{{ container_name }}\", \"image\": \"busybox\", \"essential\": false },")], 2, "two containers are named `backend-flask`"),
        case(&["register", "backend"], vec![td("\"requiresCompatibilities\": [\"FARGATE\"],", "\"requiresCompatibilities\": [\"FARGATE\"], \"tags\": [{\"key\": \"aws:owner\", \"value\": \"me\"}],")], 2, "tags[0].key: the tag key \"aws:owner\" begins with aws:"),
        case(&["register", "backend"], vec![td("\"requiresCompatibilities\": [\"FARGATE\"],", &format!("\"requiresCompatibilities\": [\"FARGATE\"], \"tags\": [{{\"key\": \"k\", \"value\": \"{}\"}}],", long(257)))], 2, "not a valid task definition: field `tags[0].value`: length 257 is outside 0..=256"),
        case(&["register", "backend"], vec![td("\"{{ image }}\"", "\"{{ image }\"")], 2, "task-definitions/backend-flask.json:13:"),
        case(&["deploy", "backend", "--no-build"], vec![td("\"{{ image }}\"", "\"{{ imgae }}\"")], 2, "variable `imgae` is not defined"),
        case(&["register", "backend"], vec![td("\"networkMode\": \"awsvpc\"", "\"networkMode\": \"awsvcp\"")], 2, "task-definitions/backend-flask.json: not a valid task definition: field `networkMode`: `awsvcp` is not one of bridge, host, awsvpc, none; did you mean `awsvpc`?"),
        // Any member of the ECS API model (issue 32): a typo gets the nearest name; what Fargate refuses is named.
        case(&["render", "backend"], vec![td("\"stopTimeout\": {{ stop_timeout }},", "\"stopTimeout\": {{ stop_timeout }}, \"usr\": \"1337\",")], 2, "task-definitions/backend-flask.json: not a valid task definition: unknown field `usr` in containerDefinitions[0]; did you mean `user`?"),
        case(&["register", "backend"], vec![td("\"stopTimeout\": {{ stop_timeout }},", "\"stopTimeout\": {{ stop_timeout }}, \"privileged\": true,")], 2, "task-definitions/backend-flask.json: containerDefinitions[0].privileged: an EC2-only member; Fargate does not support it"),
        case(&["register", "backend"], vec![td("\"stopTimeout\": {{ stop_timeout }},", "\"stopTimeout\": {{ stop_timeout }}, \"linuxParameters\": {\"capabilities\": {\"add\": [\"NET_ADMIN\"]}},")], 2, "containerDefinitions[0].linuxParameters.capabilities.add: \"NET_ADMIN\": Fargate adds only SYS_PTRACE"),
        case(&["plan"], vec![sd("\"launchType\": \"FARGATE\",", "\"launchType\": \"FARGATE\", \"placementStrategy\": [{\"type\": \"spread\", \"field\": \"attribute:ecs.availability-zone\"}],")], 2, "services/backend-flask.json: placementStrategy: task placement strategies; Fargate does not support it"),
        case(&["plan"], vec![sd("\"launchType\": \"FARGATE\",", "\"launchType\": \"FARGATE\", \"availabilityZoneRebalancing\": \"ON\",")], 2, "services/backend-flask.json: not a valid service definition: field `availabilityZoneRebalancing`: `ON` is not one of ENABLED, DISABLED"),
        // Service definitions (rendered with placeholders by up and plan).
        case(&["plan"], vec![sd("\"serviceName\": \"{{ ecs_name }}\"", "\"serviceName\": \"backend flask\"")], 2, "services/backend-flask.json: serviceName: \"backend flask\" has ' '"),
        case(&["up"], vec![sd("{ \"key\": \"managed-by\", \"value\": \"cruddur\" }", "{ \"key\": \"AWS:managed-by\", \"value\": \"cruddur\" }")], 2, "services/backend-flask.json: tags[1].key"),
        // Subnets, checked in the read-only preflight.
        case(&["plan"], vec![no_secrets(), toml("subnets = []", "subnets = [\"subnet-0000000f\", \"subnet-0000001f\"]")], 2, "cruddur.toml: network.subnets[0]: subnet `subnet-0000000f` does not exist"),
        case(&["up"], vec![no_secrets(), toml("subnets = []", "subnets = [\"{default_subnet}\", \"{other_subnet}\"]")], 2, "network.subnets[1]: subnet `{other_subnet}` is in"),
        // Profiles.
        case(&["--profile", "nosuch-profile", "plan"], vec![], 2, "profile `nosuch-profile` is not in /nonexistent/aws-config and /nonexistent/aws-credentials"),
        case(&["status"], vec![env("AWS_PROFILE", "nosuch-profile")], 2, "profile `nosuch-profile` is not in"),
        // AWS and the Docker Engine.
        case(&["register", "backend"], vec![Edit::Unset("AWS_ACCESS_KEY_ID"), Edit::Unset("AWS_SECRET_ACCESS_KEY")], 1, "no AWS credentials found"),
        case(&["register", "backend"], vec![Edit::Unset("AWS_REGION"), Edit::Unset("AWS_DEFAULT_REGION")], 1, "no AWS region configured"),
        case(&["status", "--endpoint-url", &closed_endpoint()], vec![], 1, "cannot reach the AWS endpoint for ecs:DescribeServices"),
        case(&["deploy", "backend", "--no-build"], vec![], 1, "cluster `cruddur` does not exist"),
        case(&["scale", "backend", "2"], vec![], 1, "does not exist"),
        case(&["build", "backend"], vec![dead_docker()], 1, "cannot reach the Docker Engine at unix:///nonexistent/docker.sock"),
        case(&["deploy", "backend"], vec![dead_docker()], 1, "cannot reach the Docker Engine"),
        case(&["local", "up", "backend"], vec![dead_docker()], 1, "cannot reach the Docker Engine"),
        case(&["generate-env", "backend"], vec![Edit::Unset("ROLLBAR_ACCESS_TOKEN")], 2, "variables not set"),
        // Secrets never in output (issue 25): a value no quoting carries is refused by its key alone.
        case(&["generate-env", "backend"], vec![env("ROLLBAR_ACCESS_TOKEN", "it's $5")], 2, "backend-flask.env: ROLLBAR_ACCESS_TOKEN: the value holds a ' or \\ together with $"),
        case(&["generate-env", "backend"], vec![env("ROLLBAR_ACCESS_TOKEN", "ends in \\")], 2, "ROLLBAR_ACCESS_TOKEN: the value holds a ' or \\"),
        case(&["generate-env", "backend"], vec![env("ROLLBAR_ACCESS_TOKEN", "a\rb")], 2, "ROLLBAR_ACCESS_TOKEN: the value holds a carriage return"),
        case(&["generate-env", "backend"], vec![Edit::File(ENV_TERA, "FRONTEND_URL=".into(), "{% if true %}\nFRONTEND_URL=".into())], 2, "templates/backend-flask.env.tera: not a valid env file: line 4 is not KEY=value"),
        case(&["generate-env", "backend"], vec![Edit::File(ENV_TERA, "BACKEND_URL=".into(), "BACKEND-URL=".into())], 2, "line 5: `BACKEND-URL` is not a variable name"),
        // Every wait bounded (issue 25): the bounds' variables are checked before any call.
        case(&["connect", TASK, "--service", "backend"], vec![env("CRUDDUR_EXEC_CONNECT_TIMEOUT", "soon")], 2, "CRUDDUR_EXEC_CONNECT_TIMEOUT=\"soon\" is not a duration"),
        case(&["connect", TASK, "--service", "backend"], vec![env("CRUDDUR_EXEC_PING_INTERVAL", "0s")], 2, "CRUDDUR_EXEC_PING_INTERVAL=\"0s\" is not a duration"),
        case(&["push", "backend"], vec![env("CRUDDUR_PUSH_STALL_TIMEOUT", "forever")], 2, "CRUDDUR_PUSH_STALL_TIMEOUT=\"forever\" is not a duration"),
        case(&["deploy", "backend"], vec![env("CRUDDUR_PUSH_STALL_TIMEOUT", "48h")], 2, "CRUDDUR_PUSH_STALL_TIMEOUT=\"48h\" is not a duration between 1ms and 24h"),
        // Flags clap refuses.
        usage(&["prune", "backend", "--keep", "0"], "--keep"),
        usage(&["run", "backend", "--timeout", "soon"], "--timeout"),
        usage(&["run", "backend", "--poll-interval", "10ms"], "at least 100ms"),
        usage(&["run", "backend", "-e", "NOEQUALS"], "NOEQUALS"),
        usage(&["generate-env", "--all", "--out", "x.env"], "cannot be used with"),
        usage(&["local", "up", "--health-interval", "soon"], "--health-interval"),
        // db allow-ip.
        case(&["db", "allow-ip", "--ip", "1.2.3.4"], vec![], 2, "cruddur.toml has no [database] table"),
        case(&["db", "allow-ip", "--ip", "999.1.1.1"], vec![toml("# [database]\n", "[database]\nsecurity_group = \"db-sg\"\n")], 2, "`999.1.1.1` is not an IPv4 address"),
        case(&["db", "allow-ip"], vec![toml("# [database]\n", "[database]\nsecurity_group = \"db-sg\"\n")], 2, "no address to allow: neither --ip nor GITPOD_IP is set"),
    ]
}

const ENV_TERA: &str = "templates/backend-flask.env.tera";
const TASK: &str = "5a6b7c8d9e0f11223344556677889900";

#[test]
fn bad_input_table() {
    let moto = Moto::start_recording();
    let vars = setup(&moto);
    let cases = table();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    eprintln!("bad-input table: {} cases", cases.len());
    let failures = run_all(&moto, &cases, &vars);
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// A second VPC with a subnet (the stack uses the default VPC), made before the
/// cases run, so that writes during the cases can be counted from zero.
fn setup(moto: &Moto) -> Vec<(&'static str, String)> {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = moto.aws(args);
        assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let vpc = json(&["ec2", "create-vpc", "--cidr-block", "10.9.0.0/16", "--output", "json"]);
    let vpc = vpc["Vpc"]["VpcId"].as_str().unwrap().to_string();
    let subnet = json(&["ec2", "create-subnet", "--vpc-id", &vpc, "--cidr-block", "10.9.1.0/24", "--output", "json"]);
    let other = subnet["Subnet"]["SubnetId"].as_str().unwrap().to_string();
    let default =
        json(&["ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true", "--output", "json"]);
    let default = default["Subnets"][0]["SubnetId"].as_str().unwrap().to_string();
    vec![("other_subnet", other), ("default_subnet", default)]
}

fn edit(dir: &std::path::Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn missing_variable_is_named_never_blank() {
    let moto = Moto::start();
    let dir = project_copy();
    edit(dir.path(), "task-definitions/backend-flask.json", "\"{{ image }}\"", "\"{{ imgae }}\"");
    let run = moto.cruddur(dir.path(), &["deploy", "backend"]);
    assert_eq!(run.one_line_error(2), "error: task-definitions/backend-flask.json: variable `imgae` is not defined");
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn missing_live_stack_variable_says_where_it_comes_from() {
    let moto = Moto::start();
    let run = moto.cruddur(&repo(), &["render", "backend", "service"]);
    assert_eq!(run.one_line_error(2), "error: services/backend-flask.json: variable `target_group_arn` is not defined");
    assert!(run.stderr.contains("hint: target group `cruddur-backend-flask-tg` was not found"), "{}", run.stderr);
}

#[test]
fn invalid_task_definition_names_the_field() {
    let moto = Moto::start();
    let dir = project_copy();
    edit(
        dir.path(),
        "task-definitions/backend-flask.json",
        "\"containerPort\": {{ port }}",
        "\"containerPort\": \"{{ port }}\"",
    );
    let run = moto.cruddur(dir.path(), &["register", "backend"]);
    let line = run.one_line_error(2);
    assert!(
        line.contains("not a valid task definition: field `containerDefinitions[0].portMappings[0].containerPort`"),
        "{line}"
    );

    let dir = project_copy();
    edit(
        dir.path(),
        "task-definitions/backend-flask.json",
        "\"networkMode\": \"awsvpc\"",
        "\"networkMode\": \"awsvcp\"",
    );
    let line = moto.cruddur(dir.path(), &["register", "backend"]).one_line_error(2);
    assert!(line.contains("task-definitions/backend-flask.json: not a valid task definition: field `networkMode`: `awsvcp` is not one of bridge, host, awsvpc, none; did you mean `awsvpc`?"), "{line}");

    let dir = project_copy();
    edit(
        dir.path(),
        "task-definitions/backend-flask.json",
        "\"essential\": true,\n      \"stopTimeout\": {{ stop_timeout }},\n      \"healthCheck\"",
        "\"essental\": true,\n      \"stopTimeout\": {{ stop_timeout }},\n      \"healthCheck\"",
    );
    let line = moto.cruddur(dir.path(), &["register", "backend"]).one_line_error(2);
    assert!(line.contains("unknown field `essental` in containerDefinitions[0]; did you mean `essential`?"), "{line}");
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn cluster_that_does_not_exist() {
    let moto = Moto::start();
    let run = moto.cruddur(&repo(), &["deploy", "backend"]);
    assert_eq!(run.one_line_error(1), "error: cluster `cruddur` does not exist");
    // Validation came first: nothing was registered.
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn service_that_does_not_exist() {
    let moto = Moto::start();
    moto.stack(&["seed"]);
    // (`deploy` creates a missing service: tests/stack.rs.)
    for args in [&["status", "backend"][..], &["scale", "backend", "2"], &["rollback", "backend"]] {
        let run = moto.cruddur(&repo(), args);
        assert_eq!(
            run.one_line_error(1),
            "error: service `backend-flask` does not exist in cluster `cruddur`",
            "{args:?}"
        );
    }
    assert_eq!(moto.state()["families"], serde_json::json!({}));
}

#[test]
fn rollback_with_no_earlier_revision() {
    let moto = Moto::start();
    moto.with_backend_service();
    let run = moto.cruddur(&repo(), &["rollback", "backend"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: no ACTIVE revision of backend-flask older than the running backend-flask:1"),
        "{}",
        run.stderr
    );
}
