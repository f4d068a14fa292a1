"""A stateful behaviour of the proxy: what ECS services do to their security groups
and cluster while they exist and after they are deleted. moto 5 marks a deleted
service INACTIVE at once, keeps listing it, runs no task (so no network interface
holds a security group) and deletes a cluster that still has services.

Enabled by an entry {"behaviour": "ecs-lifecycle", "drain_seconds": S} in the rules
file. What real AWS does, and the sources:
  - DeleteService returns the service DRAINING; it becomes INACTIVE once its tasks
    have stopped, and INACTIVE services are no longer returned by ListServices
    (ECS API reference, DeleteService: "the service status moves from ACTIVE to
    DRAINING ... after all tasks have transitioned to STOPPED, the service status
    moves from DRAINING to INACTIVE ... Services in the DRAINING or INACTIVE status
    can still be viewed with DescribeServices"; ListServices lists ACTIVE and
    DRAINING services; terraform-provider-aws#2283).
  - A service's tasks (awsvpc) each hold a network interface in its security
    groups until they stop: DeleteSecurityGroup answers DependencyViolation
    ("resource sg-... has a dependent object") meanwhile (EC2 API reference,
    DeleteSecurityGroup; terraform-provider-aws ec2 security group delete retries
    DependencyViolation).
  - DeleteCluster answers ClusterContainsServicesException while the cluster has
    an ACTIVE or DRAINING service (ECS API reference, DeleteCluster; tf
    internal/service/ecs/cluster.go retries it for 10 minutes).
"""

import json
import threading
import time
import urllib.parse


def _name(value):
    return (value or "").rsplit("/", 1)[-1]


class EcsLifecycle:
    def __init__(self):
        self.lock = threading.Lock()
        # (cluster, service) -> {"groups": [...], "deleted": time or None}
        self.services = {}
        self.drain = 0.0

    def configure(self, entry):
        self.drain = float(entry.get("drain_seconds", 2))

    def _state(self, key):
        svc = self.services.get(key)
        if svc is None:
            return None
        if svc["deleted"] is None:
            return "ACTIVE"
        return "DRAINING" if time.monotonic() - svc["deleted"] < self.drain else "INACTIVE"

    def before(self, service, operation, text):
        """An AWS error (code, message, status) that answers this call, or None."""
        with self.lock:
            if service == "ec2" and operation == "DeleteSecurityGroup":
                form = urllib.parse.parse_qs(text)
                group = (form.get("GroupId") or form.get("GroupName") or [""])[0]
                for key, svc in self.services.items():
                    if group in svc["groups"] and self._state(key) in ("ACTIVE", "DRAINING"):
                        return 400, "DependencyViolation", f"resource {group} has a dependent object"
            if service == "ecs" and operation == "DeleteCluster":
                cluster = _name(json.loads(text or "{}").get("cluster"))
                for key in self.services:
                    if key[0] == cluster and self._state(key) in ("ACTIVE", "DRAINING"):
                        return 400, "ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active."
        return None

    def after(self, service, operation, text, status, data):
        """moto's answer to this call, rewritten as real AWS would give it."""
        if service != "ecs" or status != 200:
            return data
        request = json.loads(text or "{}")
        cluster = _name(request.get("cluster")) or "default"
        with self.lock:
            if operation == "CreateService":
                net = (request.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
                self.services[(cluster, request.get("serviceName"))] = {
                    "groups": list(net.get("securityGroups") or []), "deleted": None}
            elif operation == "DeleteService":
                key = (cluster, _name(request.get("service")))
                if key in self.services and self.services[key]["deleted"] is None:
                    self.services[key]["deleted"] = time.monotonic()
                return self._rewrite_services(data, cluster)
            elif operation == "DescribeServices":
                return self._rewrite_services(data, cluster)
            elif operation == "ListServices":
                body = json.loads(data)
                body["serviceArns"] = [
                    arn for arn in body.get("serviceArns", [])
                    if self._state((cluster, _name(arn))) != "INACTIVE"
                ]
                return json.dumps(body).encode()
        return data

    def _rewrite_services(self, data, cluster):
        body = json.loads(data)
        for svc in ([body["service"]] if "service" in body else body.get("services", [])):
            state = self._state((cluster, svc.get("serviceName")))
            if state in ("DRAINING", "INACTIVE"):
                svc["status"] = state
        return json.dumps(body).encode()
