#!/usr/bin/env python3
"""A small client for the actions/cache v1 ("artifactcache") protocol, making the same requests
in the same order as @actions/cache's cacheHttpClient: reserve, PATCH chunks, commit; lookup,
then download the archiveLocation without the bearer token. Used by the tests and e2e workflows.

  cache_client.py save    --key K --version V --file F [--chunk-size N] [--shuffle] [--chunked]
  cache_client.py restore --keys K1,K2 --version V --out F
URL and token come from ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN (or --url/--token).
Exit codes: 0 done (restore: hit), 2 restore miss, 3 reserve refused (409), 1 other errors.
"""
import argparse
import http.client
import json
import os
import random
import sys
import urllib.parse

ACCEPT = "application/json;api-version=6.0-preview.1"


def request(url, method, body=None, headers=None, chunked=False):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    target = u.path + ("?" + u.query if u.query else "")
    if chunked:
        conn.request(method, target, body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                     headers=headers or {}, encode_chunked=True)
    else:
        conn.request(method, target, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def api(args, resource):
    return args.url + "_apis/artifactcache/" + resource


def auth(args, extra=None):
    h = {"Accept": ACCEPT, "Authorization": "Bearer " + args.token}
    h.update(extra or {})
    return h


def save(args):
    data = open(args.file, "rb").read()
    status, body = request(api(args, "caches"), "POST",
                           json.dumps({"key": args.key, "version": args.version, "cacheSize": len(data)}),
                           auth(args, {"Content-Type": "application/json"}))
    if status == 409:
        print("reserve refused: " + body.decode(), file=sys.stderr)
        return 3
    if status != 200:
        print("reserve failed: %d %s" % (status, body.decode()), file=sys.stderr)
        return 1
    cache_id = json.loads(body)["cacheId"]
    chunks = [(i, min(i + args.chunk_size, len(data))) for i in range(0, len(data), args.chunk_size)]
    if args.shuffle:
        random.Random(7).shuffle(chunks)
    for start, end in chunks:
        status, body = request(api(args, "caches/%d" % cache_id), "PATCH", data[start:end],
                               auth(args, {"Content-Type": "application/octet-stream",
                                           "Content-Range": "bytes %d-%d/*" % (start, end - 1)}),
                               chunked=args.chunked)
        if status not in (200, 204):
            print("upload failed: %d %s" % (status, body.decode()), file=sys.stderr)
            return 1
    status, body = request(api(args, "caches/%d" % cache_id), "POST", json.dumps({"size": len(data)}),
                           auth(args, {"Content-Type": "application/json"}))
    if status not in (200, 204):
        print("commit failed: %d %s" % (status, body.decode()), file=sys.stderr)
        return 1
    print("saved %s (%d bytes, id %d)" % (args.key, len(data), cache_id))
    return 0


def restore(args):
    query = "cache?keys=%s&version=%s" % (urllib.parse.quote(args.keys, safe=""), args.version)
    status, body = request(api(args, query), "GET", headers=auth(args))
    if status == 204:
        print("cache miss")
        return 2
    if status != 200:
        print("lookup failed: %d %s" % (status, body.decode()), file=sys.stderr)
        return 1
    entry = json.loads(body)
    status, data = request(entry["archiveLocation"], "GET")  # no bearer token, like @actions/cache
    if status != 200:
        print("download failed: %d" % status, file=sys.stderr)
        return 1
    with open(args.out, "wb") as f:
        f.write(data)
    print("cache hit: %s (%d bytes)" % (entry["cacheKey"], len(data)))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["save", "restore"])
    p.add_argument("--url", default=os.environ.get("ACTIONS_CACHE_URL", ""))
    p.add_argument("--token", default=os.environ.get("ACTIONS_RUNTIME_TOKEN", ""))
    p.add_argument("--key")
    p.add_argument("--keys")
    p.add_argument("--version", required=True)
    p.add_argument("--file")
    p.add_argument("--out")
    p.add_argument("--chunk-size", type=int, default=32 << 20)
    p.add_argument("--shuffle", action="store_true")
    p.add_argument("--chunked", action="store_true", help="send chunks with Transfer-Encoding: chunked")
    args = p.parse_args()
    if not args.url:
        print("ACTIONS_CACHE_URL is not set", file=sys.stderr)
        return 1
    return save(args) if args.command == "save" else restore(args)


if __name__ == "__main__":
    sys.exit(main())
