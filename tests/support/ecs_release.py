"""A behaviour of the proxy: an ECS service's release settings, which moto 5.2.5
takes in CreateService/UpdateService and forgets (its DescribeServices shows no
`deploymentConfiguration` strategy, no `deploymentController` it was given, no
`loadBalancers[].advancedConfiguration`; ../shared/reference/ecs-deployment-
strategies.md, "What moto 5.2.5 does with them").

Enabled by an entry {"behaviour": "ecs-release"} in the rules file. What real AWS
does, and the sources:
  - the Service data type carries `deploymentConfiguration` (with `strategy`,
    `canaryConfiguration`, `linearConfiguration`, `bakeTimeInMinutes`,
    `lifecycleHooks`), `deploymentController` and `loadBalancers` with their
    `advancedConfiguration` (ECS API Reference: Service, DeploymentConfiguration,
    LoadBalancer, AdvancedConfiguration);
  - UpdateService with `deploymentConfiguration` or `loadBalancers` replaces them
    (API Reference, UpdateService);
  - "advancedConfiguration field is required for all loadBalancers when using a
    non-ROLLING deployment strategy" (ECS developer guide, "Troubleshooting
    Amazon ECS blue/green deployments"), an InvalidParameterException;
  - a PAUSE hook needs `lifecycleStages` and cannot be at TEST_TRAFFIC_SHIFT or
    PRODUCTION_TRAFFIC_SHIFT (API Reference, DeploymentLifecycleHook).
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecs_answers import key_of, service_key, services_in  # noqa: E402

NEEDS_ADVANCED = "advancedConfiguration field is required for all loadBalancers when using a non-ROLLING deployment strategy"
PAUSE_STAGES = "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages"


class EcsRelease:
    def __init__(self):
        self.lock = threading.Lock()
        self.kept = {}  # (cluster, service) -> {"deploymentConfiguration", "deploymentController", "loadBalancers"}

    def configure(self, entry):
        pass

    def before(self, service, operation, text):
        """An AWS error (status, code, message) that answers this call, or None."""
        if service != "ecs" or operation not in ("CreateService", "UpdateService"):
            return None
        request = json.loads(text or "{}")
        config = request.get("deploymentConfiguration") or {}
        strategy = config.get("strategy", "ROLLING")
        lbs = request.get("loadBalancers")
        if lbs is None and operation == "UpdateService":
            with self.lock:
                lbs = (self.kept.get(service_key(operation, request)) or {}).get("loadBalancers")
        if strategy != "ROLLING" and any("advancedConfiguration" not in lb for lb in lbs or []):
            return (400, "InvalidParameterException", NEEDS_ADVANCED)
        for hook in config.get("lifecycleHooks") or []:
            stages = hook.get("lifecycleStages") or []
            if hook.get("targetType") == "PAUSE" and (
                not stages or {"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"} & set(stages)
            ):
                return (400, "InvalidParameterException", PAUSE_STAGES)
        return None

    def after(self, service, operation, text, status, data):
        """moto's answer, with the settings AWS would show."""
        if service != "ecs" or status != 200:
            return data
        request = json.loads(text or "{}")
        fields = ("deploymentConfiguration", "deploymentController", "loadBalancers")
        with self.lock:
            if operation in ("CreateService", "UpdateService"):
                kept = self.kept.setdefault(service_key(operation, request), {})
                if operation == "CreateService":
                    kept.clear()
                kept.update({k: request[k] for k in fields if k in request})
            elif operation != "DescribeServices":
                return data
            body = json.loads(data)
            for svc in services_in(body):
                kept = self.kept.get(key_of(svc))
                for field, value in (kept or {}).items():
                    svc[field] = value
            return json.dumps(body).encode()
