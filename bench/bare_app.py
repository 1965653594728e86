"""The baseline for the callback benchmark: a bare Starlette endpoint on the callback's path.

It parses the JSON body and answers what the real callback route answers, nothing else: no
database, no token check, no outbox. Under the same load, its throughput is the ceiling that
uvicorn (one worker) plus the load generator can reach on this machine, so the service's
figure divided by this one says how much our own code costs.

Run: `uvicorn bench.bare_app:app --host 127.0.0.1 --port 8000 --workers 1`.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

#: The body the service answers an accepted callback with (webhooks' callback route).
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}


async def callback(request: Request) -> JSONResponse:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"ResultCode": 1, "ResultDesc": "Rejected"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"ResultCode": 1, "ResultDesc": "Rejected"}, status_code=400)
    return JSONResponse(ACK)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/payments/callback/{token}", callback, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
