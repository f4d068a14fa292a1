//! What `up` makes for blue-green, canary and linear releases (issue 26), so far:
//! the test-route secret and the ECS infrastructure role for load balancers.
//! Black-box against moto, read back with the aws CLI: `plan` and `up` make the
//! secret once for a canary service and never show its value, the role trusts
//! ecs.amazonaws.com and its policy names only this stack's ALB and target group
//! in moto's account and region, a second `up` writes nothing, `deploy` of the
//! canary service refuses before UpdateService (ECS does not say it releases it
//! that way), and `down --all` deletes the secret and the role.

mod common;

use common::stack::*;
use common::Moto;

const SECRET: &str = "/cruddur/cruddur-test-route-secret";
const ROLE: &str = "cruddur-ecs-infrastructure-role";
const CANARY: &str = "[services.backend.deploy]\nstrategy = \"canary\"\ncanary_percent = 10\ncanary_bake = \"2m\"\n\
                      [[services.backend.deploy.checks]]\npath = \"/api/health-check\"\ncontains = \"success\"\n\n";

fn secret(moto: &Moto) -> Option<serde_json::Value> {
    let out = moto.aws(&["ssm", "get-parameter", "--name", SECRET, "--with-decryption"]);
    out.status.success().then(|| serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["Parameter"].clone())
}

#[test]
fn up_makes_the_test_route_secret_once_and_never_shows_it() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    // Without a non-rolling service there is no secret.
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert!(secret(&moto).is_none());

    edit_toml(dir.path(), "[services.backend.environment]\n", &format!("{CANARY}[services.backend.environment]\n"));
    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let (action, what) = details(&plan, "ssm-parameter", SECRET);
    assert_eq!(action, "create");
    assert!(what.contains("a random test-route secret") && what.contains("never shown"), "{what}");
    assert!(secret(&moto).is_none(), "plan writes nothing");

    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(details(&up, "ssm-parameter", SECRET).0, "create");
    let made = secret(&moto).expect("the secret exists");
    assert_eq!(made["Type"], "SecureString");
    let value = made["Value"].as_str().unwrap().to_string();
    assert_eq!(value.len(), 64, "{value:?}");
    assert!(!up.stdout.contains(&value) && !up.stderr.contains(&value), "the secret was printed");
    assert_eq!(details(&up, "iam-role", ROLE).0, "create");
    let role = aws_json(&moto, &["iam", "get-role", "--role-name", ROLE]);
    let trust = &role["Role"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "ecs.amazonaws.com");
    assert_eq!(trust["Action"], "sts:AssumeRole");
    let doc = aws_json(
        &moto,
        &["iam", "get-role-policy", "--role-name", ROLE, "--policy-name", "cruddur-ecs-infrastructure"],
    );
    let statements = doc["PolicyDocument"]["Statement"].as_array().unwrap().clone();
    let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("{sid}")).clone();
    assert_eq!(
        by_sid("TargetGroupOperations")["Resource"],
        serde_json::json!([
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cruddur-backend-flask-tg/*"
        ])
    );
    assert_eq!(
        by_sid("ALBModifyListeners")["Resource"],
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/cruddur-alb/*/*"
    );
    assert_eq!(
        by_sid("ALBModifyRules")["Resource"],
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/cruddur-alb/*/*/*"
    );
    assert_eq!(by_sid("ELBReadOperations")["Resource"], "*");
    let tags = moto.aws(&["ssm", "list-tags-for-resource", "--resource-type", "Parameter", "--resource-id", SECRET]);
    let tags = String::from_utf8_lossy(&tags.stdout).to_string();
    assert!(tags.contains("managed-by") && tags.contains("cruddur"), "{tags}");

    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "a second up writes nothing");
    assert_eq!(details(&again, "ssm-parameter", SECRET).0, "keep");
    assert_eq!(secret(&moto).unwrap()["Value"], value.as_str(), "the secret is made once");

    // `up` does not switch the service's strategy yet (and moto reports none): deploy
    // refuses before UpdateService, so the checks are never skipped silently.
    let mark = moto.mark();
    let deploy = cruddur(&moto, dir.path(), &["deploy", "backend", "--image", "img:1"]);
    assert_eq!(deploy.code, 2, "{}", deploy.stderr);
    assert!(
        deploy.stderr.contains("backend is set to strategy = \"canary\" in cruddur.toml, but ECS releases it with no strategy it reports: its checks would not run"),
        "{}",
        deploy.stderr
    );
    assert!(deploy.stderr.contains("hint: "), "{}", deploy.stderr);
    assert!(!deploy.stderr.contains(&value), "the secret was printed");
    let writes = moto.writes_since(mark);
    assert!(writes.iter().all(|w| w != "UpdateService"), "{writes:?}");

    let down = cruddur(&moto, dir.path(), &["down", "--all", "--yes", "--output", "json"]).ok();
    assert_eq!(details(&down, "ssm-parameter", SECRET).0, "delete");
    assert!(secret(&moto).is_none(), "down --all deletes the secret");
    assert_eq!(details(&down, "iam-role", ROLE).0, "delete");
    assert!(!moto.aws(&["iam", "get-role", "--role-name", ROLE]).status.success(), "down deletes the role");
}
