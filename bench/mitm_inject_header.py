"""mitmproxy addon for proxy_bench: injects one credential the way nixjail's proxy does.

On requests to a host in BENCH_INJECT_HOSTS (comma-separated), the dummy token BENCH_DUMMY in the
Authorization header is replaced by the real token BENCH_REAL; other requests pass unchanged.
Load with `mitmdump -s mitm_inject_header.py`.
"""
import os

HOSTS = set(os.environ.get("BENCH_INJECT_HOSTS", "").split(","))
DUMMY = os.environ["BENCH_DUMMY"]
REAL = os.environ["BENCH_REAL"]


class InjectHeader:
    def request(self, flow):
        if flow.request.host not in HOSTS:
            return
        value = flow.request.headers.get("Authorization")
        if value is not None and DUMMY in value:
            flow.request.headers["Authorization"] = value.replace(DUMMY, REAL)


addons = [InjectHeader()]
