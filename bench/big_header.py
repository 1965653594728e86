"""Memory of a uvicorn process while one connection sends a huge header: plain httptools vs the
bounds `serve` uses (`webhooks.limits`).

For each protocol: a one-route Starlette app under uvicorn in a child process; one client sends
`GET /` with a header value of up to `--megabytes` MB in 1 MiB writes, for at most `--seconds`;
then the server's peak RSS (VmHWM) and whether a fresh request is still answered.
Run: `.venv/bin/python -m bench.big_header [--megabytes 600] [--seconds 90]` (Linux only).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

from bench.common import ROOT

SERVER = r"""
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
async def ok(request): return PlainTextResponse("ok")
app = Starlette(routes=[Route("/", ok)])
if sys.argv[2] == "guarded":
    from webhooks.limits import server_options
    options = server_options()
else:
    options = {"http": "httptools"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", **options)
"""


def _status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) // 1024
    return -1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(kind: str, megabytes: int, seconds: float) -> str:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), kind], cwd=ROOT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        before = _status(proc.pid, "VmRSS")
        client = socket.create_connection(("127.0.0.1", port))
        client.settimeout(5)
        client.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nx-big: ")
        chunk, sent, start, ended = b"a" * (1 << 20), 0, time.time(), "all sent"
        try:
            while sent < megabytes << 20 and time.time() - start < seconds:
                client.sendall(chunk)
                sent += len(chunk)
        except OSError as exc:
            ended = type(exc).__name__
        time.sleep(0.5)
        peak = _status(proc.pid, "VmHWM")
        try:
            fresh = socket.create_connection(("127.0.0.1", port), timeout=5)
            fresh.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = fresh.recv(100).split(b"\r\n")[0].decode()
        except OSError as exc:
            answer = repr(exc)
        return (
            f"{kind:8} RSS {before} MB before, peak {peak} MB; client sent {sent >> 20} MB "
            f"({ended}) in {time.time() - start:.1f} s; a fresh request: {answer}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=90.0)
    args = parser.parse_args()
    for kind in ("plain", "guarded"):
        print(run(kind, args.megabytes, args.seconds), flush=True)


if __name__ == "__main__":
    main()
