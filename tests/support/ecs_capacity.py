"""A behaviour of the proxy: an ECS service's capacity-provider strategy, which
moto 5 takes in CreateService/UpdateService and forgets (its DescribeServices has
no `capacityProviderStrategy`).

Enabled by an entry {"behaviour": "ecs-capacity"} in the rules file. What real AWS
does, and the sources:
  - the Service data type carries `capacityProviderStrategy` (ECS API Reference,
    Service), and a service created with a strategy has no `launchType`;
  - "If a capacityProviderStrategy is specified, the launchType parameter must be
    omitted" (API Reference, CreateService); AWS answers both with
    InvalidParameterException "Specifying both a launch type and capacity provider
    strategy is not supported. Remove one and try again." (quoted in
    terraform-linters/tflint-ruleset-aws#349 and pulumi/pulumi-awsx#599);
  - UpdateService with `capacityProviderStrategy` replaces the service's strategy
    (API Reference, UpdateService).
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecs_answers import key_of, service_key, services_in  # noqa: E402

BOTH = "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."


class EcsCapacity:
    def __init__(self):
        self.lock = threading.Lock()
        self.strategies = {}  # (cluster, service) -> strategy

    def configure(self, entry):
        pass

    def before(self, service, operation, text):
        """An AWS error (status, code, message) that answers this call, or None."""
        if service != "ecs" or operation != "CreateService":
            return None
        request = json.loads(text or "{}")
        if request.get("launchType") and request.get("capacityProviderStrategy"):
            return (400, "InvalidParameterException", BOTH)
        return None

    def after(self, service, operation, text, status, data):
        """moto's answer, with the strategies AWS would show."""
        if service != "ecs" or status != 200:
            return data
        request = json.loads(text or "{}")
        with self.lock:
            if operation == "CreateService" or (operation == "UpdateService" and "capacityProviderStrategy" in request):
                items = request.get("capacityProviderStrategy") or []
                self.strategies[service_key(operation, request)] = [self._item(i) for i in items]
            elif operation not in ("DescribeServices",):
                return data
            body = json.loads(data)
            for svc in services_in(body):
                strategy = self.strategies.get(key_of(svc))
                if strategy:
                    svc["capacityProviderStrategy"] = strategy
                    svc.pop("launchType", None)
            return json.dumps(body).encode()

    @staticmethod
    def _item(item):
        return {"capacityProvider": item["capacityProvider"], "weight": item.get("weight", 0), "base": item.get("base", 0)}
