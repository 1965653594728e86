"""Callbacks over real sockets: the standalone emulator (subprocess) and an in-process server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from daraja.callbacks import parse_stk_callback
from daraja.client import DarajaClient
from daraja.emulator import create_emulator_app
from tests.support.daraja import (
    CallbackReceiver,
    bearer,
    emulator_daraja_config,
    free_port,
    push_body,
    serve_in_background,
)

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


@pytest.fixture
async def standalone_emulator() -> AsyncIterator[str]:
    """`python -m daraja.emulator` in a subprocess on a free port; yields its base URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daraja.emulator",
        "--port",
        str(port),
        "--delay",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=1) as probe:
            async with asyncio.timeout(15):
                while True:
                    if process.returncode is not None:
                        raise RuntimeError("emulator exited early")
                    try:
                        if (await probe.get("/emulator/requests")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
        yield base_url
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_standalone_emulator_posts_callback_over_a_socket(
    standalone_emulator: str,
) -> None:
    receiver = CallbackReceiver()
    async with serve_in_background(receiver.app) as receiver_url:
        async with httpx.AsyncClient(base_url=standalone_emulator, timeout=5) as http:
            body = push_body("254708374149", 42, callback_url=f"{receiver_url}/mpesa/cb")
            response = await http.post(
                "/mpesa/stkpush/v1/processrequest", json=body, headers=await bearer(http)
            )
            assert response.status_code == 200, response.text
            await receiver.wait_for(1, within=10)
            assert (await http.post("/emulator/drain", json={"timeout": 5})).status_code == 200
            listing = (await http.get("/emulator/requests")).json()["requests"]
    result = parse_stk_callback(receiver.bodies[0])
    assert receiver.paths == ["/mpesa/cb"]
    assert result.checkout_request_id == response.json()["CheckoutRequestID"]
    assert result.amount == 42 and result.is_success
    assert listing[0]["deliveries"][0]["status_code"] == 200


async def test_client_over_sockets_with_mounted_emulator_and_lazy_http() -> None:
    """Mounted: the emulator's lifespan never runs, so it makes its own HTTP client lazily."""
    receiver = CallbackReceiver()
    emulator_app = create_emulator_app(callback_delay=0.05)
    emulator = emulator_app.state.emulator
    host = Starlette(routes=[Mount("/daraja", app=emulator_app)])
    try:
        async with (
            serve_in_background(receiver.app) as receiver_url,
            serve_in_background(host) as host_url,
            httpx.AsyncClient() as http,
        ):
            client = DarajaClient(emulator_daraja_config(f"{host_url}/daraja"), http)
            accepted = await client.stk_push(
                phone="254712341032",
                amount=5,
                account_reference="A1",
                description="Test",
                callback_url=f"{receiver_url}/cb",
            )
            assert await client.stk_query(accepted.checkout_request_id) is None
            await receiver.wait_for(1, within=10)
            final = await client.stk_query(accepted.checkout_request_id)
    finally:
        await emulator.aclose()
    assert parse_stk_callback(receiver.bodies[0]).result_code == "1032"
    assert final is not None and final.result_code == "1032"
