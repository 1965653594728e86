"""`python -m daraja.emulator --port 8001 [--host 127.0.0.1] [--delay 2]`: run the emulator."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from daraja.emulator.app import create_emulator_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m daraja.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds before the callback")
    parser.add_argument("--consumer-key", default=None, help="accept only this key (default any)")
    parser.add_argument("--consumer-secret", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request URL at INFO; callback URLs carry the callback token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_emulator_app(
        callback_delay=args.delay,
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
    )
    # access_log off: request lines would print callback URLs, which carry a secret token.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        ws="none",
        timeout_graceful_shutdown=5,  # a hung push (push-timeout) must not block Ctrl+C
    )


if __name__ == "__main__":
    main()
