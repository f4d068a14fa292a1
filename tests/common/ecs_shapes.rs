//! ECS responses shaped like real AWS output, for the rollout sequences.

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::types as sdk;

pub const ACCOUNT: &str = "arn:aws:ecs:us-east-1:123456789012";

pub fn td(rev: i32) -> String {
    format!("{ACCOUNT}:task-definition/backend-flask:{rev}")
}

#[allow(clippy::too_many_arguments)]
pub fn deployment(
    id: &str,
    status: &str,
    rev: i32,
    rollout: &str,
    running: i32,
    desired: i32,
    pending: i32,
    failed: i32,
) -> sdk::Deployment {
    let mut d = sdk::Deployment::builder()
        .id(id)
        .status(status)
        .task_definition(td(rev))
        .rollout_state(sdk::DeploymentRolloutState::from(rollout))
        .running_count(running)
        .desired_count(desired)
        .pending_count(pending)
        .failed_tasks(failed);
    if rollout == "FAILED" {
        d = d.rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.");
    } else if rollout == "COMPLETED" {
        d = d.rollout_state_reason(format!("ECS deployment {id} completed."));
    }
    d.build()
}

pub fn event(id: &str, message: &str) -> sdk::ServiceEvent {
    sdk::ServiceEvent::builder().id(id).message(message).build()
}

pub fn service(
    rev: i32,
    running: i32,
    desired: i32,
    deployments: Vec<sdk::Deployment>,
    events: Vec<sdk::ServiceEvent>,
) -> sdk::Service {
    sdk::Service::builder()
        .service_name("backend-flask")
        .status("ACTIVE")
        .task_definition(td(rev))
        .running_count(running)
        .desired_count(desired)
        .pending_count(0)
        .set_deployments(Some(deployments))
        .set_events(Some(events))
        .build()
}

pub fn described(s: sdk::Service) -> DescribeServicesOutput {
    DescribeServicesOutput::builder().services(s).build()
}

pub fn stopped_task(id: &str, rev: i32, exit: i32) -> sdk::Task {
    sdk::Task::builder()
        .task_arn(format!("{ACCOUNT}:task/cruddur/{id}"))
        .task_definition_arn(td(rev))
        .last_status("STOPPED")
        .desired_status("STOPPED")
        .stopped_reason("Essential container in task exited")
        .containers(sdk::Container::builder().name("backend-flask").exit_code(exit).last_status("STOPPED").build())
        .containers(sdk::Container::builder().name("xray").exit_code(0).last_status("STOPPED").build())
        .build()
}

/// A service's task as DescribeTasks returns it on Fargate: started by the
/// deployment, its ENI attachment carrying the private address the target group
/// registers, and the lifecycle timestamps (Unix seconds) that are known.
pub struct TaskTimes {
    pub created: f64,
    pub pull_started: Option<f64>,
    pub pull_stopped: Option<f64>,
    pub started: Option<f64>,
    pub stopping: Option<f64>,
    pub stopped: Option<f64>,
}

pub fn task_with_times(id: &str, rev: i32, deployment: &str, ip: &str, t: TaskTimes) -> sdk::Task {
    use aws_smithy_types::DateTime;
    let at = |s: Option<f64>| s.map(DateTime::from_secs_f64);
    let eni = sdk::Attachment::builder()
        .id("a1b2c3d4-eni")
        .r#type("ElasticNetworkInterface")
        .status(if t.stopped.is_some() { "DELETED" } else { "ATTACHED" })
        .details(sdk::KeyValuePair::builder().name("subnetId").value("subnet-0a1b2c3d").build())
        .details(sdk::KeyValuePair::builder().name("networkInterfaceId").value("eni-0f1e2d3c4b5a").build())
        .details(sdk::KeyValuePair::builder().name("privateIPv4Address").value(ip).build())
        .build();
    let stopped = t.stopped.is_some();
    let status = if stopped { "STOPPED" } else { "RUNNING" };
    let desired = if t.stopping.is_some() { "STOPPED" } else { "RUNNING" };
    let mut task = sdk::Task::builder()
        .task_arn(format!("{ACCOUNT}:task/cruddur/{id}"))
        .task_definition_arn(td(rev))
        .cluster_arn(format!("{ACCOUNT}:cluster/cruddur"))
        .group("service:backend-flask")
        .started_by(deployment)
        .launch_type(sdk::LaunchType::Fargate)
        .last_status(status)
        .desired_status(desired)
        .attachments(eni)
        .created_at(DateTime::from_secs_f64(t.created))
        .set_pull_started_at(at(t.pull_started))
        .set_pull_stopped_at(at(t.pull_stopped))
        .set_started_at(at(t.started))
        .set_stopping_at(at(t.stopping))
        .set_stopped_at(at(t.stopped))
        .containers(sdk::Container::builder().name("backend-flask").last_status(status).build());
    if stopped {
        task = task
            .stop_code(sdk::TaskStopCode::ServiceSchedulerInitiated)
            .stopped_reason("Scaling activity initiated by (deployment ecs-svc/old)");
    }
    task.build()
}
