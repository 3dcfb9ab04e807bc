"""Load a running server from a second process and report throughput and latency.

`wrk` does it when installed (C, so the load costs the server's machine little); otherwise this
module runs itself as a child process with a thread per connection (`python -m bench.load`). Both
keep connections alive, send the same cookies, and rotate through the given paths. A POST body
may contain `{seq}`, replaced by a number unique to each request of the whole process (every run
starts its numbers where no earlier run can have reached), so no two requests send the same body.
"""

from __future__ import annotations

import http.client
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SEQ = "{seq}"
RUN_STRIDE = 10**9  # sequence numbers per run, far more than a run sends
_runs = itertools.count()


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    server_cpu_ms: float = 0.0  # filled in by a caller that can see the server's processes

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "Python threads"


def run(
    base_url: str, paths: list[str], *, seconds: float, connections: int = 8,
    headers: dict[str, str] | None = None, body: str | None = None,
) -> Load:
    """Send requests to base_url + paths for `seconds` over `connections` kept-alive connections."""
    spec = {"base_url": base_url, "paths": paths, "seconds": seconds, "connections": connections,
            "headers": headers or {}, "body": body, "first": next(_runs) * RUN_STRIDE + 1}
    if shutil.which("wrk"):
        return _wrk(spec)
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.load", json.dumps(spec)], check=True, capture_output=True, text=True
    )
    return Load(**json.loads(out.stdout.strip().splitlines()[-1]))


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _wrk(spec: dict) -> Load:
    headers = dict(spec["headers"])
    body = spec["body"]
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    body_format = body.replace("%", "%%").replace(SEQ, "%d") if body is not None else ""
    paths = ", ".join(_lua_string(p) for p in spec["paths"])
    header_lines = "".join(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}\n" for k, v in headers.items())
    script = f"""
local paths = {{{paths}}}
local body_format = {_lua_string(body_format)}
local counter = {spec["first"] - 1}
{header_lines}
request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  if body_format ~= "" then
    return wrk.format("POST", path, nil, string.format(body_format, counter))
  end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{{"requests": %d, "seconds": %f, "errors": %d, "p50_ms": %f, "p95_ms": %f}}\\n',
    summary.requests, summary.duration / 1e6, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(  # noqa: S603 - wrk, found on PATH
            [shutil.which("wrk"), "-t1", f"-c{spec['connections']}", f"-d{spec['seconds']}s", "--timeout", "10s",
             "-s", handle.name, spec["base_url"]],
            check=True, capture_output=True, text=True,
        )
    finally:
        Path(handle.name).unlink()
    try:
        return Load(**json.loads(out.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        raise RuntimeError(f"wrk said:\n{out.stdout}\n{out.stderr}") from None


def _threads(spec: dict) -> dict:
    parts = urlsplit(spec["base_url"])
    deadline = time.perf_counter() + spec["seconds"]
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    counter = [spec["first"] - 1]

    def next_request() -> tuple[str, str | None]:
        with lock:
            counter[0] += 1
            number = counter[0]
        path = spec["paths"][number % len(spec["paths"])]
        body = spec["body"].replace(SEQ, str(number)) if spec["body"] is not None else None
        return path, body

    def connection_loop() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, failed = [], 0
        headers = dict(spec["headers"])
        if spec["body"] is not None:
            headers.setdefault("Content-Type", "application/json")
        while time.perf_counter() < deadline:
            path, body = next_request()
            start = time.perf_counter()
            try:
                connection.request("POST" if body is not None else "GET", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=connection_loop) for _ in range(spec["connections"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"requests": len(latencies), "seconds": elapsed, "errors": errors[0],
            "p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000}


if __name__ == "__main__":
    print(json.dumps(_threads(json.loads(sys.argv[1]))))
