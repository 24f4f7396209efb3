#!/usr/bin/env python3
"""A fake Gitea/Forgejo Actions server for end-to-end tests of nixjail-runner.

Speaks the runner protocol (Connect unary, JSON codec) under /api/actions/ with the real
servers' behaviour as described in shared/spec/forge-protocol.md §3-§4, in either the
Forgejo dialect (proper Connect codes) or the Gitea one (every handler error is HTTP 500
"unknown" with the gRPC text). Tests drive it through JSON endpoints under /_admin/.

Usage: fake_forge.py [--port N] [--dialect forgejo|gitea] [--state FILE]
                     [--registration-token T]
Prints "LISTENING <port>" on stdout once the socket accepts connections. With --state the
whole state is saved after every change and loaded at start, so a test can kill the server
and start it again on the same port to simulate a forge restart.

API: GET /api/v1/user answers {"login": "task-<id>"} for a running task's token (sent as
"Authorization: token T", "Bearer T" or Basic auth with T as the password), else 401, like the
forge's API for a job's github.token.
POST /twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts answers {"artifacts": []}
for "Authorization: Bearer R" where R is a running task's runtime token, else 401. As on Forgejo,
the runtime token (context gitea_runtime_token) is a JWT (HS256 with the server's key) whose "scp"
claim holds "Actions.Results:<run id>:<job id>", the ids the artifact v4 client reads from it.

Admin endpoints (POST /_admin/<name>, JSON in and out; tests/support/fake_forge_server.h wraps them):
  registration-token {token}            new registration token; the old one becomes "invalidated"
  runners {uuid, token, name, labels}   create a runner directly
  offline-register {secret, name}       as `forgejo-cli actions register --secret`
  delete-runner {uuid}                  next call by that runner: unregistered runner
  jobs {payload, runs_on, context, secrets, vars, needs} -> {job_id}
                                        queue a single-job workflow (payload is the YAML text)
  cancel {task_id}                      the task becomes cancelled; UpdateTask replies say so
  reap-zombies {older_than}             running tasks silent for that many seconds fail
  fault {procedure|"*", count, status, code, message, html, drop}
                                        the next `count` calls answer this error; html: a proxy
                                        page without a Connect body; drop: do the work, then
                                        close the connection without an answer
  set {declare: false}                  Declare answers 404 like a forge older than 1.21
  wait {task_id|job_id, final, sealed, timeout}
                                        blocks until the task exists / is final / log sealed;
                                        408 on timeout
  state {}                              everything: runners, jobs, tasks (steps, log rows,
                                        outputs, every UpdateTask received), calls
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESULTS = ["RESULT_UNSPECIFIED", "RESULT_SUCCESS", "RESULT_FAILURE", "RESULT_CANCELLED",
           "RESULT_SKIPPED"]
CONNECT_STATUS = {"canceled": 499, "unknown": 500, "invalid_argument": 400,
                  "deadline_exceeded": 504, "not_found": 404, "already_exists": 409,
                  "permission_denied": 403, "resource_exhausted": 429,
                  "failed_precondition": 400, "aborted": 409, "out_of_range": 400,
                  "unimplemented": 501, "internal": 500, "unavailable": 503,
                  "data_loss": 500, "unauthenticated": 401}
GRPC_NAME = {"unauthenticated": "Unauthenticated", "invalid_argument": "InvalidArgument",
             "internal": "Internal", "not_found": "NotFound", "already_exists": "AlreadyExists",
             "unavailable": "Unavailable", "permission_denied": "PermissionDenied"}


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def result_value(v):
    if isinstance(v, int):
        return RESULTS[v]
    if v in RESULTS:
        return v
    raise RpcError("invalid_argument", "unknown result %r" % (v,))


def int64(v):
    return int(v) if v not in (None, "") else 0


def field(msg, camel, snake=None):
    if camel in msg:
        return msg[camel]
    return msg.get(snake) if snake else None


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class Forge:
    """All state, guarded by one lock; `changed` wakes /_admin/wait callers."""

    def __init__(self, dialect, state_file):
        self.dialect = dialect
        self.state_file = state_file
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.s = {"registration_token": None, "old_registration_tokens": [], "runners": {},
                  "jobs": [], "tasks": {}, "next_runner_id": 1, "next_job_id": 1,
                  "next_task_id": 1, "tasks_version": 1, "calls": [],
                  "jwt_key": secrets.token_hex(32)}
        self.faults = []  # [{procedure, count, status, code, message, html, drop}]
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                self.s = json.load(f)

    def save(self):
        self.changed.notify_all()
        if self.state_file:
            tmp = self.state_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.s, f)
            os.replace(tmp, self.state_file)

    # ---- authentication ----
    def runner_for(self, headers):
        rid = headers.get("x-runner-uuid", "")
        tok = headers.get("x-runner-token", "")
        r = self.s["runners"].get(rid)
        if r is None or not secrets.compare_digest(r["token_hash"], token_hash(tok)):
            raise RpcError("unauthenticated", "unregistered runner")
        r["last_online"] = time.time()
        return r

    # ---- RPCs ----
    def ping(self, req, headers):
        return {"data": "Hello, %s!" % req.get("data", "")}

    def register(self, req, headers):
        name, token = req.get("name", ""), req.get("token", "")
        if not name or not token:
            raise RpcError("invalid_argument", "missing runner token, name")
        if token in self.s["old_registration_tokens"]:
            raise RpcError("invalid_argument", "runner registration token has been invalidated, "
                           "please use the latest one")
        if token != self.s["registration_token"]:
            raise RpcError("invalid_argument", "runner registration token not found")
        labels = field(req, "labels") or field(req, "agentLabels", "agent_labels") or []
        runner_token = secrets.token_hex(20)
        r = {"id": self.s["next_runner_id"], "uuid": str(uuid.uuid4()), "name": name[:255],
             "version": req.get("version", ""), "labels": labels,
             "ephemeral": bool(req.get("ephemeral", False)),
             "token_hash": token_hash(runner_token)}
        self.s["next_runner_id"] += 1
        self.s["runners"][r["uuid"]] = r
        self.save()
        return {"runner": self.runner_json(r, runner_token)}

    def declare(self, req, headers):
        r = self.runner_for(headers)
        r["labels"] = req.get("labels", [])
        r["version"] = req.get("version", "")
        self.save()
        return {"runner": self.runner_json(r, None)}

    def fetch_task(self, req, headers):
        r = self.runner_for(headers)
        version = int64(field(req, "tasksVersion", "tasks_version"))
        current = self.s["tasks_version"]
        mine = [t for t in self.s["tasks"].values() if t["runner_uuid"] == r["uuid"]]
        if r["ephemeral"] and self.dialect == "gitea" and mine:
            if any(t["result"] != "RESULT_UNSPECIFIED" for t in mine):
                del self.s["runners"][r["uuid"]]
                self.save()
                raise RpcError("internal", "runner has been removed")
            return {"tasksVersion": str(current)}
        # Forgejo: a retried request key gets the tasks assigned under it again, with a fresh
        # task token (only a hash of the old one was kept) and tasks_version 0.
        key = headers.get("x-runner-request-key", "") if self.dialect == "forgejo" else ""
        keys = self.s.setdefault("request_keys", {})
        if key and (r["uuid"] + "/" + key) in keys:
            tid = keys[r["uuid"] + "/" + key]
            task = self.s["tasks"][str(tid)]
            token = secrets.token_hex(20)
            task["token_hash"] = token_hash(token)
            task["resent"] = task.get("resent", 0) + 1
            self.save()
            return {"task": self.task_json(self.job(task["job_id"]), tid, token), "tasksVersion": "0"}
        if version == current:
            return {"tasksVersion": str(current)}
        for job in self.s["jobs"]:
            if job["status"] != "waiting" or not self.labels_match(job["runs_on"], r["labels"]):
                continue
            task = self.assign(job, r)
            if key:
                keys[r["uuid"] + "/" + key] = int(task["id"])
                self.save()
            return {"task": task, "tasksVersion": str(current)}
        return {"tasksVersion": str(current)}

    def update_task(self, req, headers):
        r = self.runner_for(headers)
        state = req.get("state")
        if state is None:
            raise RpcError("invalid_argument", "missing state")
        task = self.task_of(r, int64(state.get("id")))
        result = result_value(state.get("result", "RESULT_UNSPECIFIED"))
        task["updates"].append(state)
        task["last_update"] = time.time()
        if task["result"] == "RESULT_UNSPECIFIED":
            for st in state.get("steps", []):
                task["steps"][str(int64(st.get("id")))] = {
                    "result": result_value(st.get("result", "RESULT_UNSPECIFIED")),
                    "startedAt": field(st, "startedAt", "started_at"),
                    "stoppedAt": field(st, "stoppedAt", "stopped_at"),
                    "logIndex": int64(field(st, "logIndex", "log_index")),
                    "logLength": int64(field(st, "logLength", "log_length"))}
            if result != "RESULT_UNSPECIFIED":
                stopped = field(state, "stoppedAt", "stopped_at")
                if not stopped:
                    raise RpcError("invalid_argument", "stopped_at is required with a result")
                self.finish(task, result, stopped)
                if r["ephemeral"] and self.dialect == "forgejo":
                    del self.s["runners"][r["uuid"]]
        for k, v in (req.get("outputs") or {}).items():
            if len(k.encode()) > 255 or len(v.encode()) > 1024 * 1024:
                continue
            task["outputs"].setdefault(k, v)
        self.save()
        return {"state": {"id": str(task["id"]), "result": task["result"]},
                "sentOutputs": sorted(task["outputs"].keys())}

    def update_log(self, req, headers):
        r = self.runner_for(headers)
        task = self.task_of(r, int64(field(req, "taskId", "task_id")))
        rows = req.get("rows") or []
        index = int64(req.get("index"))
        ack = len(task["log"])
        if task["log_sealed"] and rows:
            raise RpcError("already_exists", "log file has been archived")
        if rows and index <= ack < index + len(rows):
            for row in rows[ack - index:]:
                task["log"].append({"time": row.get("time"), "content": row.get("content", "")})
        # Forgejo and older Gitea ignore no_more on an empty batch (spec §3.10).
        if field(req, "noMore", "no_more") and rows:
            task["log_sealed"] = True
        self.save()
        return {"ackIndex": str(len(task["log"]))}

    # ---- helpers ----
    def labels_match(self, runs_on, labels):
        if not runs_on:
            return self.dialect == "gitea"
        if not labels:
            return False
        names = {l.split(":", 1)[0] for l in labels}
        return all(x in names for x in runs_on)

    def task_for_token(self, authorization):
        """The id of the running task whose token the Authorization header carries, or None."""
        scheme, _, value = authorization.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                value = base64.b64decode(value).decode().partition(":")[2]
            except ValueError:
                return None
        elif scheme not in ("token", "bearer"):
            return None
        if not value:
            return None
        wanted = token_hash(value)
        for tid, task in self.s["tasks"].items():
            if task["result"] == "RESULT_UNSPECIFIED" and \
                    secrets.compare_digest(task["token_hash"], wanted):
                return int(tid)
        return None

    def assign(self, job, r):
        task_token = secrets.token_hex(20)
        tid = self.s["next_task_id"]
        self.s["next_task_id"] += 1
        job["status"] = "running"
        job["task_id"] = tid
        task = {"id": tid, "job_id": job["id"], "runner_uuid": r["uuid"],
                "result": "RESULT_UNSPECIFIED", "started": time.time(), "stopped_at": None,
                "steps": {}, "log": [], "log_sealed": False, "outputs": {}, "updates": [],
                "token_hash": token_hash(task_token), "last_update": time.time()}
        self.s["tasks"][str(tid)] = task
        self.save()
        return self.task_json(job, tid, task_token)

    def runtime_token(self, job, tid):
        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        run = str((job.get("context") or {}).get("run_id", job["id"]))
        claims = {"scp": "Actions.Results:%s:%d Actions.UploadArtifacts:%s:%d" %
                         (run, job["id"], run, job["id"]),
                  "TaskID": tid, "exp": int(time.time()) + 3 * 3600}
        signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + \
            b64(json.dumps(claims).encode())
        key = bytes.fromhex(self.s["jwt_key"])
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64(signature)

    def task_for_runtime_token(self, authorization):
        """The id of the running task whose runtime token the Bearer header carries, or None."""
        scheme, _, value = authorization.partition(" ")
        parts = value.split(".")
        if scheme.lower() != "bearer" or len(parts) != 3:
            return None
        key = bytes.fromhex(self.s["jwt_key"])
        wanted = hmac.new(key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        try:
            got = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return None
        if not hmac.compare_digest(got, wanted) or claims.get("exp", 0) < time.time():
            return None
        task = self.s["tasks"].get(str(claims.get("TaskID")))
        if task is None or task["result"] != "RESULT_UNSPECIFIED":
            return None
        return task["id"]

    def task_json(self, job, tid, task_token):
        context = dict(job.get("context") or {})
        context["token"] = task_token
        context["gitea_runtime_token"] = self.runtime_token(job, tid)
        context.setdefault("gitea_default_actions_url", "https://github.com")
        secrets_map = dict(job.get("secrets") or {})
        secrets_map["GITHUB_TOKEN"] = task_token
        secrets_map["GITEA_TOKEN"] = task_token
        if self.dialect == "forgejo":
            secrets_map["FORGEJO_TOKEN"] = task_token
        out = {"id": str(tid),
               "workflowPayload": base64.b64encode(job["payload"].encode()).decode(),
               "context": context, "secrets": secrets_map}
        if job.get("vars"):
            out["vars"] = job["vars"]
        if job.get("needs"):
            out["needs"] = job["needs"]
        return out

    def task_of(self, r, tid):
        task = self.s["tasks"].get(str(tid))
        if task is None:
            raise RpcError("internal", "update task: task with id %d does not exist" % tid)
        if task["runner_uuid"] != r["uuid"]:
            raise RpcError("internal", "update task: invalid runner for task")
        return task

    def finish(self, task, result, stopped_at):
        task["result"] = result
        task["stopped_at"] = stopped_at
        job = self.job(task["job_id"])
        job["status"] = "done"
        job["result"] = result

    def job(self, jid):
        return next(j for j in self.s["jobs"] if j["id"] == jid)

    def runner_json(self, r, token):
        out = {"id": str(r["id"]), "uuid": r["uuid"], "name": r["name"],
               "version": r["version"], "labels": r["labels"]}
        if token:
            out["token"] = token
        if r["ephemeral"] and self.dialect == "forgejo":
            out["ephemeral"] = True
        return out

    # ---- admin side channel ----
    def admin(self, path, req):
        if path == "registration-token":
            if self.s["registration_token"]:
                self.s["old_registration_tokens"].append(self.s["registration_token"])
            self.s["registration_token"] = req["token"]
        elif path == "runners":  # offline registration (create-runner-file)
            r = {"id": self.s["next_runner_id"], "uuid": req["uuid"], "name": req.get("name", "runner"),
                 "version": "", "labels": req.get("labels", []), "ephemeral": False,
                 "token_hash": token_hash(req["token"])}
            self.s["next_runner_id"] += 1
            self.s["runners"][r["uuid"]] = r
        elif path == "offline-register":  # forgejo-cli actions register --secret
            secret = req["secret"]
            rid = str(uuid.UUID(bytes=secret[:16].encode()))
            r = {"id": self.s["next_runner_id"], "uuid": rid, "name": req.get("name", "runner"),
                 "version": "", "labels": req.get("labels", []), "ephemeral": False,
                 "token_hash": token_hash(secret)}
            self.s["next_runner_id"] += 1
            self.s["runners"][rid] = r
        elif path == "reap-zombies":  # the stop_zombie_tasks cron, with a test-chosen timeout
            now = time.time()
            for task in self.s["tasks"].values():
                if (task["result"] == "RESULT_UNSPECIFIED" and
                        now - task["last_update"] >= float(req.get("older_than", 600))):
                    self.finish(task, "RESULT_FAILURE",
                                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        elif path == "delete-runner":
            self.s["runners"].pop(req["uuid"], None)
        elif path == "jobs":
            job = {"id": self.s["next_job_id"], "payload": req["payload"],
                   "runs_on": req.get("runs_on", []), "context": req.get("context", {}),
                   "secrets": req.get("secrets", {}), "vars": req.get("vars", {}),
                   "needs": req.get("needs", {}), "status": "waiting", "task_id": None,
                   "result": None}
            self.s["next_job_id"] += 1
            self.s["jobs"].append(job)
            self.s["tasks_version"] += 1
            self.save()
            return {"job_id": job["id"]}
        elif path == "cancel":
            task = self.s["tasks"][str(req["task_id"])]
            if task["result"] == "RESULT_UNSPECIFIED":
                self.finish(task, "RESULT_CANCELLED",
                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        elif path == "set":
            self.s.setdefault("options", {}).update(req)
        elif path == "fault":
            self.faults.append({"procedure": req.get("procedure", "*"),
                                "count": req.get("count", 1), "status": req.get("status", 503),
                                "code": req.get("code"), "message": req.get("message", "injected"),
                                "html": req.get("html", False), "drop": req.get("drop", False)})
            return {}
        elif path == "state":
            return self.s
        else:
            raise KeyError(path)
        self.save()
        return {}

    def wait(self, req):
        """Blocks until the task (task_id) or the job's task (job_id) exists, and with
        final=true has a final result (and with sealed=true a sealed log), or until timeout."""
        deadline = time.time() + float(req.get("timeout", 30))
        while True:
            if "job_id" in req:
                job = next((j for j in self.s["jobs"] if j["id"] == req["job_id"]), None)
                key = str(job["task_id"]) if job and job["task_id"] else None
            else:
                key = str(req["task_id"])
            task = self.s["tasks"].get(key) if key else None
            if task and (not req.get("final") or (task["result"] != "RESULT_UNSPECIFIED" and
                                                   (not req.get("sealed") or task["log_sealed"]))):
                return task
            left = deadline - time.time()
            if left <= 0:
                return None
            self.changed.wait(left)

    def take_fault(self, procedure):
        for f in self.faults:
            if f["procedure"] in ("*", procedure) and f["count"] > 0:
                f["count"] -= 1
                return f
        return None


ROUTES = {"ping.v1.PingService/Ping": "ping",
          "runner.v1.RunnerService/Register": "register",
          "runner.v1.RunnerService/Declare": "declare",
          "runner.v1.RunnerService/FetchTask": "fetch_task",
          "runner.v1.RunnerService/UpdateTask": "update_task",
          "runner.v1.RunnerService/UpdateLog": "update_log"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body of every keep-alive reply
    # waited for the client's delayed ACK (40 ms), which the daemon bench then counted as the
    # runner's. A real forge (Go's net/http) sets TCP_NODELAY too.
    disable_nagle_algorithm = True
    forge = None

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def reply(self, status, obj, content_type="application/json", extra=None):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, message):
        if self.forge.dialect == "gitea" and code not in ("unimplemented",):
            message = "rpc error: code = %s desc = %s" % (GRPC_NAME.get(code, "Unknown"), message)
            code = "unknown"
        self.reply(CONNECT_STATUS[code], {"code": code, "message": message})

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path.startswith("/api/actions/"):
            self.reply(405, {"code": "unknown", "message": "method not allowed"},
                       extra={"Allow": "POST"})
        elif self.path.split("?")[0] == "/api/v1/user":
            with self.forge.lock:
                tid = self.forge.task_for_token(self.headers.get("Authorization", ""))
            if tid is None:
                self.reply(401, {"message": "token is required"})
            else:
                self.reply(200, {"login": "task-%d" % tid})
        else:
            self.reply(404, b"not found", "text/plain")

    def do_POST(self):
        body = self.read_body()
        if self.path.startswith("/_admin/"):
            return self.do_admin(self.path[len("/_admin/"):], body)
        if self.path == "/twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts":
            with self.forge.lock:
                tid = self.forge.task_for_runtime_token(self.headers.get("Authorization", ""))
            if tid is None:
                return self.reply(401, {"code": "unauthenticated", "msg": "invalid runtime token"})
            return self.reply(200, {"artifacts": []})
        if not self.path.startswith("/api/actions/"):
            return self.reply(404, b"404 page not found", "text/plain")
        procedure = self.path[len("/api/actions/"):]
        method = ROUTES.get(procedure)
        if method == "declare" and not self.forge.s.get("options", {}).get("declare", True):
            method = None
        if method is None:
            return self.reply(404, b"404 page not found", "text/plain")
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip() != "application/json":
            return self.reply(415, b"", "text/plain",
                              {"Accept-Post": "application/json, application/proto"})
        if not body:
            return self.error("invalid_argument",
                              "unmarshal into %s: zero-length payload is not a valid JSON object"
                              % procedure)
        try:
            req = json.loads(body)
        except ValueError as e:
            return self.error("invalid_argument", "unmarshal message: %s" % e)
        with self.forge.lock:
            self.forge.s["calls"].append({"procedure": procedure, "time": time.time()})
            fault = self.forge.take_fault(procedure)
            if fault and not fault["drop"]:
                if fault["html"]:
                    return self.reply(fault["status"], b"<html><body>502 Bad Gateway</body></html>",
                                      "text/html")
                return self.reply(fault["status"], {"code": fault["code"] or "unavailable",
                                                    "message": fault["message"]})
            try:
                resp = getattr(self.forge, method)(req, self.headers)
            except RpcError as e:
                return self.error(e.code, e.message)
            if fault and fault["drop"]:  # the work is done but the answer is lost
                self.close_connection = True
                return
        self.reply(200, resp)

    def do_admin(self, path, body):
        req = json.loads(body) if body else {}
        with self.forge.lock:
            if path == "wait":
                task = self.forge.wait(req)
                return self.reply(200 if task else 408, task or {"error": "timeout"})
            try:
                return self.reply(200, self.forge.admin(path, req))
            except KeyError as e:
                return self.reply(404, {"error": "unknown admin endpoint or key %s" % e})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dialect", choices=["forgejo", "gitea"], default="forgejo")
    ap.add_argument("--state")
    ap.add_argument("--registration-token")
    args = ap.parse_args()
    forge = Forge(args.dialect, args.state)
    if args.registration_token:
        with forge.lock:
            forge.admin("registration-token", {"token": args.registration_token})
    Handler.forge = forge
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("LISTENING %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
