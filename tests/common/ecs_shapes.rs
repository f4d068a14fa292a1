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
