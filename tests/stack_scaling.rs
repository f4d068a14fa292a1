//! Autoscaling (issue 31), black-box against moto (which implements Application
//! Auto Scaling's scalable targets and target-tracking policies), read back with the
//! aws CLI: `plan` and `up` make the scalable target and one policy per metric;
//! a second `up` writes nothing; a desired count the scaler changed survives `up`
//! and `deploy`; `scale` keeps within the range and `--max` changes it; `status`
//! shows it; a changed range is an update; removing `scaling` deregisters; `down`
//! deregisters too.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::Value;

const RESOURCE: &str = "service/cruddur/backend-flask";
const SCALING: &str =
    "[services.backend.scaling]\nmin = 1\nmax = 4\ncpu = 60\nrequests = 500\nscale_in_cooldown = \"5m\"\n\n";

fn targets(moto: &Moto) -> Vec<Value> {
    let out = aws_json(moto, &["application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs"]);
    out["ScalableTargets"].as_array().unwrap().clone()
}

fn policies(moto: &Moto) -> Vec<Value> {
    let args = ["application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs"];
    let out = aws_json(moto, &[&args[..], &["--resource-id", RESOURCE]].concat());
    let mut list = out["ScalingPolicies"].as_array().unwrap().clone();
    list.sort_by_key(|p| p["PolicyName"].as_str().unwrap().to_string());
    list
}

fn desired(moto: &Moto) -> i64 {
    let out = aws_json(moto, &["ecs", "describe-services", "--cluster", "cruddur", "--services", "backend-flask"]);
    out["services"][0]["desiredCount"].as_i64().unwrap()
}

#[test]
fn up_makes_the_scaler_deploys_leave_its_count_and_removing_it_deregisters() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    edit_toml(dir.path(), "[services.backend.environment]\n", &format!("{SCALING}[services.backend.environment]\n"));

    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    let (action, what) = details(&plan, "scaling", "backend-flask");
    assert_eq!(action, "create");
    assert!(what.contains("1..4 tasks (ECSServiceAverageCPUUtilization target 60%"), "{what}");

    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(details(&up, "scaling", "backend-flask").0, "create");
    let found = targets(&moto);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["ResourceId"], RESOURCE);
    assert_eq!(found[0]["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!((found[0]["MinCapacity"].as_i64(), found[0]["MaxCapacity"].as_i64()), (Some(1), Some(4)));
    let made = policies(&moto);
    let names: Vec<&str> = made.iter().map(|p| p["PolicyName"].as_str().unwrap()).collect();
    assert_eq!(names, ["cruddur-backend-flask-cpu", "cruddur-backend-flask-requests"]);
    let cpu = &made[0]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(cpu["TargetValue"], 60.0);
    assert_eq!(cpu["PredefinedMetricSpecification"]["PredefinedMetricType"], "ECSServiceAverageCPUUtilization");
    assert_eq!(cpu["ScaleInCooldown"], 300);
    let requests = &made[1]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"];
    assert_eq!(requests["PredefinedMetricType"], "ALBRequestCountPerTarget");
    let label = requests["ResourceLabel"].as_str().unwrap();
    let alb = aws_json(&moto, &["elbv2", "describe-load-balancers", "--names", "cruddur-alb"]);
    let alb_arn = alb["LoadBalancers"][0]["LoadBalancerArn"].as_str().unwrap();
    let tg = aws_json(&moto, &["elbv2", "describe-target-groups", "--names", "cruddur-backend-flask-tg"]);
    let tg_arn = tg["TargetGroups"][0]["TargetGroupArn"].as_str().unwrap();
    let expected =
        format!("{}/{}", alb_arn.split_once(":loadbalancer/").unwrap().1, tg_arn.rsplit_once(':').unwrap().1);
    assert_eq!(label, expected);
    // No image in ECR yet: the service waits at 0, and the first deploy starts it at min.
    assert_eq!(desired(&moto), 0);
    cruddur(&moto, dir.path(), &["deploy", "backend", "--image", "img:1", "--no-wait"]).ok();
    assert_eq!(desired(&moto), 1, "a new service starts at min");

    // The scaler moved the count (as it does under load): up and deploy leave it.
    aws_json(
        &moto,
        &["ecs", "update-service", "--cluster", "cruddur", "--service", "backend-flask", "--desired-count", "3"],
    );
    let mark = moto.mark();
    let again = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(moto.writes_since(mark), Vec::<String>::new(), "a second up writes nothing");
    assert_eq!(details(&again, "scaling", "backend-flask").0, "keep");
    assert_eq!(desired(&moto), 3);
    cruddur(&moto, dir.path(), &["deploy", "backend", "--image", "img:2", "--no-wait"]).ok();
    assert_eq!(desired(&moto), 3, "deploy leaves the scaler's count");

    // scale: within the range only; --max widens it (and says the file sets it back).
    let refused = cruddur(&moto, dir.path(), &["scale", "backend", "6", "--no-wait"]);
    assert_eq!(
        refused.one_line_error(2),
        "error: invalid argument: backend scales itself within 1..4 tasks: 6 is outside that range"
    );
    assert!(
        refused.stderr.contains("hint: change the range first: `cruddur scale backend 6 --max 6`"),
        "{}",
        refused.stderr
    );
    let widened = cruddur(&moto, dir.path(), &["scale", "backend", "6", "--max", "6", "--no-wait"]).ok();
    assert!(widened.stderr.contains("scaler range 1..4 -> 1..6 tasks"), "{}", widened.stderr);
    assert!(widened.stderr.contains("the next `cruddur up` sets it back"), "{}", widened.stderr);
    assert_eq!(targets(&moto)[0]["MaxCapacity"], 6);
    assert_eq!(desired(&moto), 6);
    let status = cruddur(&moto, dir.path(), &["status", "backend"]).ok();
    assert!(status.stdout.contains("scaling 1..6 tasks on cpu 60%, requests 500 per task"), "{}", status.stdout);
    let status = cruddur(&moto, dir.path(), &["status", "backend", "--output", "json"]).ok();
    assert_eq!(status.json()[0]["scaling"]["max"], 6);

    // The file's range wins on the next up; a changed target is an update.
    edit_toml(dir.path(), "cpu = 60\n", "cpu = 70\n");
    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    let (action, what) = details(&up, "scaling", "backend-flask");
    assert_eq!(action, "update");
    assert!(what.contains("1..6 -> 1..4 tasks"), "{what}");
    assert!(what.contains("policy cruddur-backend-flask-cpu: ECSServiceAverageCPUUtilization target 60% -> ECSServiceAverageCPUUtilization target 70%"), "{what}");
    assert_eq!(targets(&moto)[0]["MaxCapacity"], 4);
    assert_eq!(policies(&moto)[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"], 70.0);
    assert_eq!(desired(&moto), 6, "up sets the range, not the count");

    // No [scaling] any more: the target and its policies go.
    edit_toml(
        dir.path(),
        "[services.backend.scaling]\nmin = 1\nmax = 4\ncpu = 70\nrequests = 500\nscale_in_cooldown = \"5m\"\n\n",
        "",
    );
    let up = cruddur(&moto, dir.path(), &["up", "--output", "json"]).ok();
    assert_eq!(details(&up, "scaling", "backend-flask").0, "delete");
    assert!(targets(&moto).is_empty());
    assert!(policies(&moto).is_empty());
}

#[test]
fn down_deregisters_the_scaler_with_the_service() {
    let moto = Moto::start();
    let dir = workspace(None);
    edit_toml(dir.path(), "[services.backend.environment]\n", &format!("{SCALING}[services.backend.environment]\n"));
    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!(targets(&moto).len(), 1);
    let down = cruddur(&moto, dir.path(), &["down", "--yes", "--output", "json"]).ok();
    assert!(down.stdout.contains("its scaler deregistered"), "{}", down.stdout);
    assert!(targets(&moto).is_empty());
    assert!(policies(&moto).is_empty());
}
