# A client for the runner's services, run inside the job's jail by service_storage_attack_test.cc:
# reads a JSON list of requests, sends each through the job's proxy (HTTP_PROXY) and prints one
# JSON line per request: label, status, body (and for uploads in chunks, how many were accepted).
# "${label.field}" in a URL, header or body is a field of an earlier JSON answer; "${env.NAME}" an
# environment variable.
import hashlib, io, json, os, re, sys, urllib.error, urllib.request, zipfile

values = {"env." + k: v for k, v in os.environ.items()}


def sub(text):
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)


def call(method, url, headers, body):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception as e:
        return 0, ("CLIENT-ERROR %r" % e).encode()


def zipped(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for e in entries:
            info = zipfile.ZipInfo(e["name"])
            if e.get("symlink"):
                info.external_attr = 0o120777 << 16
                z.writestr(info, e["target"])
            else:
                z.writestr(info, e["data"])
    return buf.getvalue()


for op in json.load(open(sys.argv[1])):
    label = op["label"]
    url = sub(op["url"])
    headers = {k: sub(v) for k, v in op.get("headers", {}).items()}
    record = {"label": label}
    body = None
    if "body" in op:
        body = sub(op["body"]).encode()
    elif "body_bytes" in op:
        body = b"x" * op["body_bytes"]
    elif "body_zip" in op:
        body = zipped(op["body_zip"])
        record["sha256"] = hashlib.sha256(body).hexdigest()
        values[label + ".size"] = str(len(body))
    if "chunks" in op:
        c = op["chunks"]
        accepted = 0
        for i in range(c["count"]):
            first = i * c["size"]
            h = dict(headers)
            h["Content-Range"] = c["range"].replace("{a}", str(first)).replace(
                "{b}", str(first + c["size"] - 1))
            status, data = call(op["method"], url.replace("{i}", str(i)), h, b"x" * c["size"])
            if status // 100 != 2:
                break
            accepted += 1
        record["accepted_chunks"] = accepted
    else:
        status, data = call(op["method"], url, headers, body)
    record["status"] = status
    record["body"] = data[:3000].decode("latin-1")
    try:
        answer = json.loads(data)
        if isinstance(answer, dict):
            for k, v in answer.items():
                values[label + "." + k] = str(v)
    except ValueError:
        pass
    print(json.dumps(record), flush=True)
