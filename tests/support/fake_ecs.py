#!/usr/bin/env python3
"""A stand-in ECS endpoint (awsJson1.1) for ECS Exec, which moto does not
implement: DescribeServices, ListTasks, DescribeTasks, DescribeTaskDefinition and
ExecuteCommand, answered in the shapes real ECS returns; and, for `cruddur
forward` (tests set AWS_ENDPOINT_URL_SSM here too), SSM's StartSession with the
port-forwarding document on an ECS target and TerminateSession, which moto does not
implement either: a target that is not a running task's container is refused with
TargetNotConnected, as SSM does ("<target> is not connected."). The scenario is re-read
from a JSON file on every request, so a test can change it between runs. With a
"dataChannel" scenario, ExecuteCommand's streamUrl is a ws:// URL of the
agent-like data-channel peer (ssm_peer.py) in this process, which runs the command.

usage: fake_ecs.py PORT SCENARIO_FILE"""
import itertools
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, SCENARIO = int(sys.argv[1]), sys.argv[2]
ACCOUNT, REGION, CLUSTER = "123456789012", "us-east-1", "cruddur"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"


def task_arn(tid):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{tid}"


def td_arn(family, rev=1):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{rev}"


PEER, PEER_LOCK, SESSIONS = None, threading.Lock(), itertools.count(1)


def peer():
    """The in-process data-channel peer, started on first use."""
    global PEER
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ssm_peer
    with PEER_LOCK:
        if PEER is None:
            PEER = ssm_peer.Peer(SCENARIO + ".events.jsonl")
        return PEER


def data_channel(tid, body, sc):
    """Registers a session with the in-process peer; returns ECS's session object."""
    sid = f"ecs-execute-command-{next(SESSIONS):017x}"
    names = sc.get("tasks", {}).get(tid, {}).get("containers", ["xray", "backend-flask"])
    runtime = f"{tid}-{names.index(body['container']) + 1000}" if body["container"] in names else tid
    token = f"token-{sid}"
    url = peer().register(sid, token, body["command"], f"ecs:{CLUSTER}_{tid}_{runtime}", sc["dataChannel"])
    return {"sessionId": sid, "streamUrl": url, "tokenValue": token}


def start_session(body, sc):
    """SSM StartSession on `ecs:<cluster>_<task>_<runtime-id>`: (status, answer)."""
    with open(SCENARIO + ".ssm_calls", "a") as f:
        f.write(json.dumps({"op": "StartSession", **body}) + "\n")
    if body.get("DocumentName") != "AWS-StartPortForwardingSessionToRemoteHost":
        return 400, {"__type": "InvalidDocument", "message": f"Document {body.get('DocumentName')} does not exist"}
    target = body.get("Target", "")
    parts = target[len("ecs:"):].split("_") if target.startswith("ecs:") else []
    t = sc.get("tasks", {}).get(parts[1]) if len(parts) == 3 and parts[0] == CLUSTER else None
    names = (t or {}).get("containers", ["xray", "backend-flask"])
    if not t or t["lastStatus"] != "RUNNING" or parts[2] not in [f"{parts[1]}-{i + 1000}" for i in range(len(names))]:
        return 400, {"__type": "TargetNotConnected", "message": f"{target} is not connected."}
    params = body.get("Parameters", {})
    sid = f"cruddur-deployer-{next(SESSIONS):017x}"
    token = f"token-{sid}"
    port = {"host": params["host"][0], "portNumber": params["portNumber"][0]}
    url = peer().register(sid, token, None, target, sc.get("dataChannel", {}), port=port)
    return 200, {"SessionId": sid, "StreamUrl": url, "TokenValue": token}


def task(tid, t):
    return {
        "taskArn": task_arn(tid), "clusterArn": CLUSTER_ARN, "lastStatus": t["lastStatus"],
        "desiredStatus": "RUNNING", "taskDefinitionArn": td_arn(t.get("family", "backend-flask")),
        "enableExecuteCommand": t.get("enableExecuteCommand", True), "launchType": "FARGATE",
        "containers": [
            {"name": name, "runtimeId": f"{tid}-{i + 1000}", "lastStatus": t["lastStatus"],
             "managedAgents": [{"name": "ExecuteCommandAgent", "lastStatus": t.get("agent", "RUNNING")}]}
            for i, name in enumerate(t.get("containers", ["xray", "backend-flask"]))
        ],
    }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        op = self.headers.get("X-Amz-Target", "").split(".")[-1]
        with open(SCENARIO) as f:
            sc = json.load(f)
        tasks = sc.get("tasks", {})
        if op == "StartSession":
            return self.reply(*start_session(body, sc))
        if op == "TerminateSession":
            with open(SCENARIO + ".ssm_calls", "a") as f:
                f.write(json.dumps({"op": "TerminateSession", **body}) + "\n")
            return self.reply(200, {"SessionId": body.get("SessionId")})
        if op == "DescribeServices":
            svc = {"serviceName": body["services"][0], "status": "ACTIVE", "desiredCount": 1, "runningCount": 1,
                   "pendingCount": 0, "taskDefinition": td_arn("backend-flask"),
                   "enableExecuteCommand": sc.get("serviceExec", True), "deployments": [], "events": []}
            return self.reply(200, {"services": [svc], "failures": []})
        if op == "ListTasks":
            running = [task_arn(t) for t, v in tasks.items() if v["lastStatus"] == "RUNNING"]
            if sc.get("pageSize"):
                # Pages as the behaviour proxy makes them (paging.py; ListTasks API reference).
                sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
                import paging
                try:
                    page, token = paging.page_of(running, body.get("nextToken"), sc["pageSize"])
                except paging.PagingError as e:
                    return self.reply(e.status, {"__type": e.code, "message": e.message})
                return self.reply(200, {"taskArns": page, **({"nextToken": token} if token else {})})
            return self.reply(200, {"taskArns": running})
        if op == "DescribeTasks":
            found = [task(t.split("/")[-1], tasks[t.split("/")[-1]]) for t in body["tasks"] if t.split("/")[-1] in tasks]
            missing = [{"arn": t, "reason": "MISSING"} for t in body["tasks"] if t.split("/")[-1] not in tasks]
            return self.reply(200, {"tasks": found, "failures": missing})
        if op == "DescribeTaskDefinition":
            role = sc.get("taskRoleArn")
            td = {"taskDefinitionArn": td_arn("backend-flask"), "family": "backend-flask", "revision": 1,
                  "networkMode": "awsvpc", "containerDefinitions": [{"name": "backend-flask", "image": "x"}]}
            if role:
                td["taskRoleArn"] = role
            return self.reply(200, {"taskDefinition": td})
        if op == "ExecuteCommand":
            tid = body["task"].split("/")[-1]
            with open(SCENARIO + ".calls", "a") as f:
                f.write(json.dumps(body) + "\n")
            session = data_channel(tid, body, sc) if "dataChannel" in sc else None
            return self.reply(200, {
                "clusterArn": CLUSTER_ARN, "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{tid}/c1",
                "containerName": body["container"], "interactive": True, "taskArn": task_arn(tid),
                "session": session or {"sessionId": "ecs-execute-command-0f1e2d3c4b5a69788",
                            "streamUrl": "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command-0f1e2d3c4b5a69788?role=publish_subscribe&cell-number=AAEAAQ",
                            "tokenValue": "AAEAAb+Zq/token+with/slashes=="},
            })
        return self.reply(400, {"__type": "UnknownOperationException", "message": op})


# Port 0: the OS picks one, and it is printed as {"port": N} once the socket listens.
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(json.dumps({"port": server.server_address[1]}), flush=True)
server.serve_forever()
