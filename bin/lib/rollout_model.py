"""The shortest possible rollout of one task, from ECS's and ELBv2's documented
timing rules, with AWS's defaults and with the settings cruddur renders.
usage: rollout_model.py DIR (plan.json, <service>.task-definition.json, <service>.service.json)

The model (README "Rollout timings" lists the sources):
  new task healthy   = max(target group: healthy threshold x interval,
                           container health check: first check after `interval`)
                       ELBv2 needs HealthyThresholdCount consecutive passing checks,
                       one per interval; Docker runs a container's first check one
                       interval after it starts and one pass makes it healthy.
  old task draining  = the target group's deregistration delay (ECS stops the old
                       task only after its target has drained).
  old task stopping  = 0 when every container exits on SIGTERM (shortest), else the
                       container stopTimeout before SIGKILL (shown separately).
  Task provisioning, image pull and start are the same with both settings and are
  left out (each adds the same seconds to both columns, lowering the ratio).
  minimumHealthyPercent 100 / maximumPercent 200, one task: one new task starts
  before the old one is stopped, so the phases add up."""
import json
import re
import sys
from pathlib import Path

# AWS defaults: ELBv2 CreateTargetGroup (HTTP target groups), the target group
# attribute deregistration_delay.timeout_seconds, the ECS container definition's
# stopTimeout on Fargate.
AWS = {"interval": 30, "timeout": 5, "healthy": 5, "unhealthy": 2, "drain": 300, "stop": 30}

HC = re.compile(r"health check (\S+) every (\d+) s \(timeout (\d+) s, healthy (\d+), unhealthy (\d+)\), deregistration delay (\d+) s")


def settings(d, service, ecs_name):
    plan = json.loads((d / "plan.json").read_text())
    tg = next(c for c in plan["changes"] if c["resource"] == "target-group" and ecs_name in c["name"])
    m = HC.search(" ".join(tg["details"]))
    if not m:
        sys.exit(f"cannot read the target group settings from the plan: {tg['details']}")
    td = json.loads((d / f"{service}.task-definition.json").read_text())
    sd = json.loads((d / f"{service}.service.json").read_text())
    main = next(c for c in td["containerDefinitions"] if c["name"] == ecs_name)
    stops = [c.get("stopTimeout", AWS["stop"]) for c in td["containerDefinitions"]]
    return {
        "interval": int(m.group(2)), "timeout": int(m.group(3)), "healthy": int(m.group(4)),
        "unhealthy": int(m.group(5)), "drain": int(m.group(6)), "stop": max(stops),
        "container_interval": main.get("healthCheck", {}).get("interval", 0) if main.get("healthCheck") else 0,
        "grace": sd.get("healthCheckGracePeriodSeconds"),
    }


def rollout(s):
    healthy = max(s["healthy"] * s["interval"], s["container_interval"])
    return {"target healthy": s["healthy"] * s["interval"], "container healthy": s["container_interval"],
            "new task healthy": healthy, "old task draining": s["drain"],
            "shortest total": healthy + s["drain"], "if SIGTERM is ignored": healthy + s["drain"] + s["stop"]}


def main():
    d = Path(sys.argv[1])
    for service, ecs_name in (("backend", "backend-flask"), ("frontend", "frontend-react-js")):
        ours = settings(d, service, ecs_name)
        aws = dict(AWS, container_interval=ours["container_interval"], grace=None)
        a, c = rollout(aws), rollout(ours)
        print(f"{service} ({ecs_name}): one-task rollout, shortest possible, seconds")
        print(f"  settings: AWS defaults {aws['interval']} s x healthy {aws['healthy']}, drain {aws['drain']} s, "
              f"stop {aws['stop']} s | cruddur {ours['interval']} s x healthy {ours['healthy']}, drain {ours['drain']} s, "
              f"stop {ours['stop']} s, grace {ours['grace']} s")
        print(f"  {'phase':<24} {'AWS defaults':>12} {'cruddur':>8}")
        for k in a:
            print(f"  {k:<24} {a[k]:>12} {c[k]:>8}")
        print(f"  ratio (shortest): {a['shortest total'] / c['shortest total']:.1f}x; "
              f"(SIGTERM ignored): {a['if SIGTERM is ignored'] / c['if SIGTERM is ignored']:.1f}x")


if __name__ == "__main__":
    main()
