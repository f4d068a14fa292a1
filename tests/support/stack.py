#!/usr/bin/env python3
"""An independent client (boto3) for the tests: seeds moto with the stack the old
bash scripts made by hand, creates services from rendered JSON, and reads state
back so the tests never trust cruddur's own view of what it did.

usage: stack.py seed | create-service FILE | state | put-logs GROUP STREAM OFFSET_MS|LINE... |
       put-params PREFIX NAME=VALUE... | put-image IMAGE-URI...
Reads AWS_ENDPOINT_URL and AWS_DEFAULT_REGION from the environment."""
import json
import sys

import boto3


def client(name):
    return boto3.client(name)


def seed():
    logs = client("logs")
    logs.create_log_group(logGroupName="cruddur")
    logs.put_retention_policy(logGroupName="cruddur", retentionInDays=1)
    client("ecs").create_cluster(clusterName="cruddur")
    ec2 = client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    alb_sg = ec2.create_security_group(GroupName="cruddur-alb-sg", Description="alb", VpcId=vpc)["GroupId"]
    srv_sg = ec2.create_security_group(GroupName="crud-srv-sg", Description="services", VpcId=vpc)["GroupId"]
    elb = client("elbv2")
    tgs = {}
    for name, port, path in [("backend-flask", 4567, "/api/health-check"), ("frontend-react-js", 3000, "/")]:
        tg = elb.create_target_group(
            Name=f"cruddur-{name}-tg", Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip",
            HealthCheckPath=path, HealthyThresholdCount=3,
        )["TargetGroups"][0]["TargetGroupArn"]
        tgs[name] = tg
    print(json.dumps({"vpc": vpc, "alb_sg": alb_sg, "srv_sg": srv_sg, "target_groups": tgs}))


def create_service(path):
    with open(path) as f:
        definition = json.load(f)
    out = client("ecs").create_service(**definition)["service"]
    print(json.dumps({"serviceArn": out["serviceArn"], "taskDefinition": out["taskDefinition"]}))


def state():
    ecs = client("ecs")
    families = {}
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]:
            fam, rev = arn.split("/")[-1].rsplit(":", 1)
            families.setdefault(fam, []).append({"revision": int(rev), "status": status})
    services = {}
    clusters = ecs.list_clusters()["clusterArns"]
    for cluster in clusters:
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if arns:
            for s in ecs.describe_services(cluster=cluster, services=arns)["services"]:
                services[s["serviceName"]] = {
                    "status": s["status"],
                    "taskDefinition": s["taskDefinition"].split("/")[-1],
                    "desiredCount": s["desiredCount"],
                }
    for fam in families.values():
        fam.sort(key=lambda r: r["revision"])
    ecr = client("ecr")
    repositories = {}
    for r in ecr.describe_repositories()["repositories"]:
        tags = ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]
        repositories[r["repositoryName"]] = {
            "imageTagMutability": r["imageTagMutability"],
            "scanOnPush": r["imageScanningConfiguration"]["scanOnPush"],
            "tags": {t["Key"]: t["Value"] for t in tags},
        }
    print(json.dumps({"families": families, "services": services, "clusters": len(clusters), "repositories": repositories}, sort_keys=True))


def put_logs(group, stream, lines):
    """Each line is OFFSET_MS|message, the offset relative to now (negative: past),
    or @EPOCH_MS|message, an absolute time (so several calls can share one clock)."""
    import time
    logs = client("logs")
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int(time.time() * 1000)
    events = []
    for line in lines:
        offset, message = line.split("|", 1)
        at = int(offset[1:]) if offset.startswith("@") else now + int(offset)
        events.append({"timestamp": at, "message": message})
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def put_params(prefix, pairs):
    ssm = client("ssm")
    for pair in pairs:
        name, value = pair.split("=", 1)
        ssm.put_parameter(Name=prefix + name, Value=value, Type="SecureString", Overwrite=True)


def put_image(uris):
    """An image in moto's ECR, as a push would leave it (the repository made if
    missing): what a service created with that image may pull."""
    ecr = client("ecr")
    for uri in uris:
        path = uri.split("/", 1)[1]
        repo, tag = path.split(":", 1) if ":" in path else (path, "latest")
        try:
            ecr.create_repository(repositoryName=repo)
        except ecr.exceptions.RepositoryAlreadyExistsException:
            pass
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                       "digest": "sha256:" + "0" * 64},
            "layers": [],
            "annotations": {"tag": tag},
        }
        ecr.put_image(repositoryName=repo, imageManifest=json.dumps(manifest), imageTag=tag)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "seed":
        seed()
    elif cmd == "create-service":
        create_service(args[0])
    elif cmd == "state":
        state()
    elif cmd == "put-logs":
        put_logs(args[0], args[1], args[2:])
    elif cmd == "put-params":
        put_params(args[0], args[1:])
    elif cmd == "put-image":
        put_image(args)
    else:
        sys.exit(f"unknown command {cmd}")
