"""The shortest possible rollout of one task, from ECS's and ELBv2's documented
timing rules, with AWS's defaults and with the settings cruddur renders.
usage: rollout_model.py DIR [CRUDDUR_TOML] (DIR: plan.json, <service>.task-definition.json, <service>.service.json)

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
  before the old one is stopped, so the phases add up.

Release strategies ([services.X.deploy] in CRUDDUR_TOML; README "Releases"), from
the ECS API reference's CanaryConfiguration, LinearConfiguration and
DeploymentEarlySuccessCriteria:
  rolling            full traffic once the new task is healthy; done after the old
                     one drains.
  rolling + early    earlySuccessCriteria with sourceServiceRevisionCleanup DEFERRED:
                     done once the new task is healthy (the old one drains after).
  blue-green         the new tasks scale up in the alternate target group (healthy as
                     above); test traffic, the checks (not modelled: they take what
                     they take), all production traffic at once; done after `bake`.
  canary             canary_percent, canary_bake minutes, then the rest; done after `bake`.
  linear             step_percent every step_bake minutes up to 100% (no bake after the
                     last step); done after `bake`.
  A strategy's keys that cruddur.toml leaves out take ECS's defaults (canary 5% for
  10 min, linear 10% every 6 min); an unset `bake` counts as 0."""
import json
import math
import re
import sys
import tomllib
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


def minutes(text, default):
    """ "2m", "1h", "90m" as cruddur.toml writes bake times: whole minutes."""
    if text is None:
        return default
    m = re.fullmatch(r"\s*(\d+)\s*(m|min|h)\s*", text)
    if not m:
        sys.exit(f"cannot read the bake time {text!r} (the model reads m and h)")
    return int(m.group(1)) * (60 if m.group(2) == "h" else 1)


def strategies(healthy, drain, deploy):
    """(strategy, seconds to full production traffic, seconds to completion)."""
    bake = minutes(deploy.get("bake"), 0) * 60
    canary_pct = deploy.get("canary_percent", 5)
    canary_bake = minutes(deploy.get("canary_bake"), 10) * 60
    step = deploy.get("step_percent", 10)
    step_bake = minutes(deploy.get("step_bake"), 6) * 60
    steps = math.ceil(100 / step)
    return [
        ("rolling", healthy, healthy + drain),
        ("rolling + early_success", healthy, healthy),
        ("blue-green", healthy, healthy + bake),
        (f"canary {canary_pct}% for {canary_bake // 60} min", healthy + canary_bake, healthy + canary_bake + bake),
        (f"linear {step}% every {step_bake // 60} min ({steps} steps)", healthy + (steps - 1) * step_bake,
         healthy + (steps - 1) * step_bake + bake),
    ]


def print_strategies(service, c, toml):
    deploy = toml.get("services", {}).get(service, {}).get("deploy", {})
    chosen = deploy.get("strategy", "rolling")
    print(f"  release strategies (cruddur's settings; strategy = {chosen!r}, bake {deploy.get('bake', '0m')}), seconds:")
    print(f"  {'strategy':<40} {'full traffic':>12} {'completed':>10}")
    for name, full, done in strategies(c["new task healthy"], c["old task draining"], deploy):
        print(f"  {name:<40} {full:>12} {done:>10}")


def main():
    d = Path(sys.argv[1])
    toml = tomllib.loads(Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else {}
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
        print_strategies(service, c, toml)


if __name__ == "__main__":
    main()
