"""`python -m bot register-c2b`: register lipabot's C2B URLs with Daraja and say what happened.

The URLs are `PUBLIC_URL/payments/c2b/confirmation/<token>` and `…/validation/<token>` (the
callback token guards them as it guards the STK callback). Daraja's answer is printed in words:
success (and which version worked, after a "no apiproduct match" fallback), "already
registered" with what to do about it, or any other refusal (docs/DARAJA.md §11.1, §11.2).
"""

from __future__ import annotations

import sys
from typing import IO

import httpx

from config import Settings
from config.settings import DarajaEnv
from daraja.client import DarajaClient
from daraja.config import DarajaConfig
from daraja.errors import AlreadyRegistered, DarajaError, ProductMismatch
from webhooks.wiring import c2b_urls, callback_token_of

PORTAL_URLS = "https://developer.safaricom.co.ke/SelfServices?tab=urlmanagement"


async def register(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    out: IO[str] = sys.stdout,
) -> int:
    """Register the URLs; 0 when Daraja took them, 1 otherwise (the reason is printed)."""
    token = callback_token_of(settings)
    if not token:
        print(
            "MPESA_CALLBACK_TOKEN is not set: the C2B URLs end with it, so it must be the one "
            "the running service uses.",
            file=out,
        )
        return 1
    if not settings.public_url and settings.daraja_env != DarajaEnv.EMULATOR:
        print("PUBLIC_URL is not set: Daraja needs the service's public https address.", file=out)
        return 1
    if settings.daraja_env == DarajaEnv.EMULATOR and not settings.mpesa_base_url:
        print(
            "MPESA_ENV=emulator without MPESA_BASE_URL: the emulator lives inside the running "
            "service and needs no registration. Point MPESA_BASE_URL at a standalone emulator "
            "(python -m bot emulator) to try this command.",
            file=out,
        )
        return 1
    confirmation, validation = c2b_urls(settings, token)
    shown = [url.replace(token, "<token>") for url in (confirmation, validation)]
    version = settings.mpesa_c2b_version
    print(f"Registering C2B URLs for shortcode {settings.mpesa_shortcode} ({version}):", file=out)
    print(f"  ConfirmationURL {shown[0]}\n  ValidationURL   {shown[1]}", file=out)
    config = DarajaConfig.from_settings(settings)
    async with httpx.AsyncClient(transport=transport, timeout=config.timeout) as http:
        client = DarajaClient(config, http, retry_attempts=2)
        try:
            registered = await client.register_c2b(
                version=version, confirmation_url=confirmation, validation_url=validation
            )
        except AlreadyRegistered as exc:
            _explain_already_registered(settings, exc, out)
            return 1
        except ProductMismatch as exc:
            print(
                "Daraja refused both C2B versions: the app has no Customer To Business product "
                f"({exc.message}). On the Daraja portal, add the C2B product to the app whose "
                "consumer key lipabot uses (production: the Go-Live app), then run this again.",
                file=out,
            )
            return 1
        except DarajaError as exc:
            print(f"Daraja refused the registration: {exc}", file=out)
            return 1
    if registered.fallback_from:
        print(
            f"Daraja answered that {registered.fallback_from} is not a product of this app "
            f'("no apiproduct match"), so {registered.version} was used. Set '
            f"MPESA_C2B_VERSION={registered.version} to go straight to it next time.",
            file=out,
        )
    words = registered.description or "no description"
    print(
        f'Registered ({registered.version}): Daraja answered "{words}"'
        + (
            f" (OriginatorCoversationID {registered.originator_conversation_id})."
            if registered.originator_conversation_id
            else "."
        ),
        file=out,
    )
    print(
        "M-Pesa now tells lipabot about every payment into this shortcode: menu payments and, "
        "for a PayBill, STK payments too. "
        + (
            "Masked phone numbers (v2)."
            if registered.version == "v2"
            else "Hashed phone numbers (v1)."
        ),
        file=out,
    )
    if settings.c2b_validation != "off":
        print(
            f"C2B_VALIDATION={settings.c2b_validation}: Safaricom calls the ValidationURL only "
            "once they enabled external validation for the shortcode (ask "
            "apisupport@safaricom.co.ke; it takes about 6 hours).",
            file=out,
        )
    return 0


def _explain_already_registered(settings: Settings, exc: DarajaError, out: IO[str]) -> None:
    print(f"Daraja says URLs are already registered for this shortcode: {exc.message}", file=out)
    if settings.daraja_env == DarajaEnv.PRODUCTION:
        print(
            "In production, registration is done once. If the registered URLs are lipabot's "
            "(same PUBLIC_URL and MPESA_CALLBACK_TOKEN), there is nothing to do. To change "
            f"them, delete them on the Daraja portal ({PORTAL_URLS}: Self Services → URL "
            "Management; two M-Pesa portal operators approve) or ask "
            "apisupport@safaricom.co.ke, then run register-c2b again.",
            file=out,
        )
    else:
        print(
            "The sandbox normally lets you register again; this shortcode may be registered "
            "on Safaricom's aggregator platform, or by someone else. Try again later, or ask "
            "apisupport@safaricom.co.ke.",
            file=out,
        )
