#!/usr/bin/env python3
"""The whole stack as an independent client (boto3) reads it back, for the up/plan/
down tests. Every kind is a sorted list, so a duplicate shows up as a second entry.
IDs and ARNs are replaced by names, so two stacks built separately compare equal.

usage: inventory.py   (reads AWS_ENDPOINT_URL and AWS_DEFAULT_REGION)"""
import json

import boto3


def c(name):
    return boto3.client(name)


def tags_of(pairs, key="Key", value="Value"):
    return {t[key]: t.get(value, "") for t in pairs or []}


def main():
    inv = {}
    logs = c("logs")
    inv["log_groups"] = sorted(
        [
            {
                "name": g["logGroupName"],
                "retention": g.get("retentionInDays"),
                "tags": logs.list_tags_for_resource(resourceArn=g["arn"].rstrip("*").rstrip(":"))["tags"],
            }
            for g in logs.describe_log_groups()["logGroups"]
        ],
        key=lambda g: g["name"],
    )
    sd = c("servicediscovery")
    inv["namespaces"] = sorted(
        [
            {"name": n["Name"], "type": n["Type"], "tags": tags_of(sd.list_tags_for_resource(ResourceARN=n["Arn"])["Tags"])}
            for n in sd.list_namespaces()["Namespaces"]
        ],
        key=lambda n: n["name"],
    )
    ec2 = c("ec2")
    groups = ec2.describe_security_groups()["SecurityGroups"]
    sg_name = {g["GroupId"]: g["GroupName"] for g in groups}

    def rules(g):
        out = []
        for p in g["IpPermissions"]:
            port = p.get("FromPort") if p.get("FromPort") == p.get("ToPort") else f'{p.get("FromPort")}-{p.get("ToPort")}'
            proto = p.get("IpProtocol")
            out += [f"{proto} {port} from {r['CidrIp']}" for r in p.get("IpRanges", [])]
            out += [f"{proto} {port} from sg:{sg_name.get(r['GroupId'], r['GroupId'])}" for r in p.get("UserIdGroupPairs", [])]
        return sorted(out)

    inv["security_groups"] = sorted(
        [{"name": g["GroupName"], "ingress": rules(g), "tags": tags_of(g.get("Tags"))} for g in groups if g["GroupName"] != "default"],
        key=lambda g: g["name"],
    )
    elb = c("elbv2")
    tgs = elb.describe_target_groups()["TargetGroups"]
    tg_name = {t["TargetGroupArn"]: t["TargetGroupName"] for t in tgs}

    def elb_tags(arn):
        return tags_of(elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"])

    def tg_attribute(arn, key):
        attrs = elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        return next((int(a["Value"]) for a in attrs if a["Key"] == key), None)

    inv["target_groups"] = sorted(
        [
            {
                "name": t["TargetGroupName"],
                "port": t["Port"],
                "protocol": t["Protocol"],
                "type": t["TargetType"],
                "health_path": t["HealthCheckPath"],
                "healthy_threshold": t["HealthyThresholdCount"],
                "unhealthy_threshold": t["UnhealthyThresholdCount"],
                "interval": t["HealthCheckIntervalSeconds"],
                "timeout": t["HealthCheckTimeoutSeconds"],
                "deregistration_delay": tg_attribute(t["TargetGroupArn"], "deregistration_delay.timeout_seconds"),
                "tags": elb_tags(t["TargetGroupArn"]),
            }
            for t in tgs
        ],
        key=lambda t: t["name"],
    )
    acm = c("acm")
    certs = []
    cert_arns = {}
    for s in acm.list_certificates()["CertificateSummaryList"]:
        d = acm.describe_certificate(CertificateArn=s["CertificateArn"])["Certificate"]
        cert_arns[s["CertificateArn"]] = d["DomainName"]
        certs.append(
            {
                "domain": d["DomainName"],
                "names": sorted(d["SubjectAlternativeNames"]),
                "status": d["Status"],
                "tags": tags_of(acm.list_tags_for_certificate(CertificateArn=s["CertificateArn"])["Tags"]),
            }
        )
    inv["certificates"] = sorted(certs, key=lambda x: x["domain"])

    def action(actions):
        a = actions[0]
        if a["Type"] == "forward":
            arn = a.get("TargetGroupArn") or a["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"]
            return f"forward:{tg_name.get(arn, arn)}"
        if a["Type"] == "redirect":
            r = a["RedirectConfig"]
            return f"redirect:{r['Protocol']}:{r['Port']}:{r['StatusCode']}"
        return a["Type"]

    lbs = []
    lb_dns = {}
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        lb_dns[lb["DNSName"].rstrip(".").lower()] = (lb["LoadBalancerName"], lb["CanonicalHostedZoneId"])
        listeners = []
        for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            rules_ = []
            for r in elb.describe_rules(ListenerArn=l["ListenerArn"])["Rules"]:
                if r["IsDefault"]:
                    continue
                hosts = [v for cnd in r["Conditions"] if cnd["Field"] == "host-header" for v in cnd.get("HostHeaderConfig", {}).get("Values", cnd.get("Values", []))]
                paths = [v for cnd in r["Conditions"] if cnd["Field"] == "path-pattern" for v in cnd.get("PathPatternConfig", {}).get("Values", cnd.get("Values", []))]
                rules_.append(
                    {"priority": int(r["Priority"]), "hosts": hosts, "paths": paths, "action": action(r["Actions"]), "tags": elb_tags(r["RuleArn"])}
                )
            listeners.append(
                {
                    "port": l["Port"],
                    "protocol": l["Protocol"],
                    "certificates": [cert_arns.get(x["CertificateArn"], "unknown") for x in l.get("Certificates", [])],
                    "default": action(l["DefaultActions"]),
                    "rules": sorted(rules_, key=lambda r: r["priority"]),
                    "tags": elb_tags(l["ListenerArn"]),
                }
            )
        lbs.append(
            {
                "name": lb["LoadBalancerName"],
                "scheme": lb["Scheme"],
                "type": lb["Type"],
                "security_groups": sorted(sg_name.get(g, g) for g in lb.get("SecurityGroups", [])),
                "subnets": len(lb.get("AvailabilityZones", [])),
                "listeners": sorted(listeners, key=lambda l: l["port"]),
                "tags": elb_tags(lb["LoadBalancerArn"]),
            }
        )
    inv["load_balancers"] = sorted(lbs, key=lambda l: l["name"])
    r53 = c("route53")
    records = []
    for z in r53.list_hosted_zones()["HostedZones"]:
        for r in r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]:
            if r["Type"] in ("NS", "SOA"):
                continue
            if "AliasTarget" in r:
                name, zone = lb_dns.get(r["AliasTarget"]["DNSName"].rstrip(".").lower(), ("unknown", None))
                target = f"alias:{name}:zone-matches-alb={zone == r['AliasTarget']['HostedZoneId']}"
            else:
                target = "values"
            records.append({"name": r["Name"].lower(), "type": r["Type"], "target": target})
    inv["records"] = sorted(records, key=lambda r: (r["name"], r["type"], r["target"]))
    ecr = c("ecr")
    inv["repositories"] = sorted(
        [
            {
                "name": r["repositoryName"],
                "mutability": r["imageTagMutability"],
                "scan_on_push": r["imageScanningConfiguration"]["scanOnPush"],
                "tags": tags_of(ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]),
            }
            for r in ecr.describe_repositories()["repositories"]
        ],
        key=lambda r: r["name"],
    )
    iam = c("iam")
    roles = []
    for r in iam.list_roles()["Roles"]:
        if r["RoleName"].startswith("AWSServiceRole"):
            continue
        name = r["RoleName"]
        inline = {
            p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        roles.append(
            {
                "name": name,
                "trust": iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"],
                "inline": inline,
                "tags": tags_of(iam.list_role_tags(RoleName=name)["Tags"]),
            }
        )
    inv["roles"] = sorted(roles, key=lambda r: r["name"])
    ssm = c("ssm")
    params = []
    for p in ssm.describe_parameters()["Parameters"]:
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=p["Name"])["TagList"]
        params.append({"name": p["Name"], "type": p["Type"], "tags": tags_of(tags)})
    inv["parameters"] = sorted(params, key=lambda p: p["name"])
    ecs = c("ecs")
    clusters, services = [], []
    for arn in ecs.list_clusters()["clusterArns"]:
        cl = ecs.describe_clusters(clusters=[arn], include=["TAGS"])["clusters"][0]
        clusters.append(
            {
                "name": cl["clusterName"],
                "status": cl["status"],
                "namespace": bool(cl.get("serviceConnectDefaults", {}).get("namespace")),
                "tags": tags_of(cl.get("tags"), "key", "value"),
            }
        )
        arns = ecs.list_services(cluster=arn)["serviceArns"]
        if arns:
            for s in ecs.describe_services(cluster=arn, services=arns, include=["TAGS"])["services"]:
                net = s.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
                services.append(
                    {
                        "cluster": cl["clusterName"],
                        "name": s["serviceName"],
                        "status": s["status"],
                        "desired": s["desiredCount"],
                        "grace_period": s.get("healthCheckGracePeriodSeconds"),
                        "launch_type": s.get("launchType"),
                        "task_definition": s["taskDefinition"].split("/")[-1].split(":")[0],
                        "load_balancers": [
                            {"target_group": tg_name.get(lb["targetGroupArn"], lb["targetGroupArn"]), "container": lb["containerName"], "port": lb["containerPort"]}
                            for lb in s.get("loadBalancers", [])
                        ],
                        "security_groups": sorted(sg_name.get(g, g) for g in net.get("securityGroups", [])),
                        "assign_public_ip": net.get("assignPublicIp"),
                        "subnets": len(net.get("subnets", [])),
                        "tags": tags_of(s.get("tags"), "key", "value"),
                    }
                )
    inv["clusters"] = sorted(clusters, key=lambda x: x["name"])
    inv["services"] = sorted(services, key=lambda x: (x["cluster"], x["name"]))
    print(json.dumps(inv, sort_keys=True))


if __name__ == "__main__":
    main()
