"""The emulator's C2B side: registered URLs, simulate, validation and confirmation POSTs.

Like Daraja (docs/DARAJA.md §11): Register URL on v1 or v2 (the other version answers
`401.003.01 … no apiproduct match found` when the app has only one product; a second
registration answers `500.003.1001 Urls are already registered.` when `register_once` is on, as
in production); simulate accepts at once and later POSTs a validation request (only when
external validation is enabled, as Safaricom enables it on request) and the confirmation, shaped
like captured bodies: `"Pay Bill"`, amounts as `"500.00"`, FirstName only, and the MSISDN masked
(`2547 ***** 797`, v2) or hashed (SHA-256 hex, v1). When URLs are registered, a successful STK
push to the PayBill also sends its C2B confirmation (TransID = the receipt, BillRefNumber = the
AccountReference), before or after the STK callback and after a configurable delay.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx

from daraja.c2b import REFUSED_URL_WORDS, mask_for_display, msisdn_hash
from daraja.emulator.ids import merchant_request_id, receipt_number
from daraja.emulator.validation import BAD_PAYLOAD, BAD_REQUEST, DarajaFault, invalid
from daraja.timestamps import daraja_timestamp

if TYPE_CHECKING:
    from daraja.emulator.state import Emulator

log = logging.getLogger("daraja.emulator")

Version = Literal["v1", "v2"]
Order = Literal["before", "after"]
VERSIONS: tuple[Version, ...] = ("v1", "v2")
NO_PRODUCT = "Error Occurred - Invalid Access Token - Invalid API call as no apiproduct match found"
ALREADY_REGISTERED = "Urls are already registered."
SIMULATE_ACCEPTED = "Accept the service request successfully."
RESPONSE_TYPES = frozenset({"Completed", "Cancelled"})
#: Words Daraja refuses in C2B URLs (docs/DARAJA.md §11.2); the exact error is not known, the
#: emulator answers as for any invalid field.
REFUSED_WORDS = REFUSED_URL_WORDS


@dataclass(slots=True)
class Registration:
    version: Version
    confirmation_url: str
    validation_url: str
    response_type: str


@dataclass(slots=True)
class C2BDelivery:
    kind: Literal["validation", "confirmation"]
    url: str
    status_code: int | None
    answer: Any
    error: str | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "status_code": self.status_code,
            "answer": self.answer,
            "error": self.error,
            "at": self.at.isoformat(),
        }


@dataclass(slots=True)
class C2BTransaction:
    """One payment into the shortcode (from the menu, simulate, or an STK push)."""

    trans_id: str
    phone: str
    amount: int
    bill_ref: str
    origin: Literal["menu", "stk"]
    at: datetime
    status: Literal["pending", "completed", "rejected"] = "pending"
    validation_code: str | None = None
    deliveries: list[C2BDelivery] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trans_id": self.trans_id,
            "phone": f"{self.phone[:4]}*****{self.phone[-3:]}",
            "amount": self.amount,
            "bill_ref": self.bill_ref,
            "origin": self.origin,
            "status": self.status,
            "validation_code": self.validation_code,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


class C2BDesk:
    """C2B state and behaviour of one emulated shortcode."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.reset()

    def reset(self) -> None:
        self.registration: Registration | None = None
        #: The C2B product on the Daraja app: None accepts both versions.
        self.product: Version | None = None
        #: Production registers once; the sandbox lets you overwrite (docs/DARAJA.md §11.2).
        self.register_once = False
        #: External validation is off unless Safaricom enabled it for the shortcode.
        self.validation_enabled = False
        self.stk_confirmations = True
        self.stk_delay = 0.0
        self.stk_order: Order = "after"
        self.first_name = "JANE"
        self.balance = 0
        self.transactions: list[C2BTransaction] = []

    # ----- control -----

    def configure(
        self,
        *,
        product: Version | Literal["both", "keep"] | None = "keep",
        register_once: bool | None = None,
        validation: bool | None = None,
        stk_confirmations: bool | None = None,
        stk_delay: float | None = None,
        stk_order: Order | None = None,
    ) -> None:
        if product not in ("both", "keep", *VERSIONS, None):
            raise ValueError("product is v1, v2 or both")
        if stk_order is not None and stk_order not in ("before", "after"):
            raise ValueError("stk_order is before or after")
        if stk_delay is not None and stk_delay < 0:
            raise ValueError("stk_delay must be >= 0")
        if product != "keep":
            self.product = "v1" if product == "v1" else "v2" if product == "v2" else None
        if register_once is not None:
            self.register_once = register_once
        if validation is not None:
            self.validation_enabled = validation
        if stk_confirmations is not None:
            self.stk_confirmations = stk_confirmations
        if stk_delay is not None:
            self.stk_delay = stk_delay
        if stk_order is not None:
            self.stk_order = stk_order

    def snapshot(self) -> dict[str, Any]:
        registration = self.registration
        return {
            "registration": None
            if registration is None
            else {
                "version": registration.version,
                "confirmation_url": registration.confirmation_url,
                "validation_url": registration.validation_url,
                "response_type": registration.response_type,
            },
            "product": self.product or "both",
            "validation": self.validation_enabled,
            "transactions": [t.to_dict() for t in self.transactions],
        }

    # ----- the Daraja endpoints -----

    def check_product(self, version: str) -> Version:
        if version not in VERSIONS:
            raise DarajaFault(404, "404.001.01", "Resource not found")
        if self.product is not None and version != self.product:
            raise DarajaFault(401, "401.003.01", NO_PRODUCT)
        return "v1" if version == "v1" else "v2"

    def register(self, version: str, body: dict[str, Any]) -> dict[str, Any]:
        checked = self.check_product(version)
        shortcode = str(body.get("ShortCode", "")).strip()
        if shortcode != self.emulator.shortcode:
            raise invalid("ShortCode")
        response_type = body.get("ResponseType")
        if response_type not in RESPONSE_TYPES:
            raise invalid("ResponseType")
        confirmation = _url(body.get("ConfirmationURL"), "ConfirmationURL")
        validation = _url(body.get("ValidationURL"), "ValidationURL")
        if self.registration is not None and self.register_once:
            raise DarajaFault(500, "500.003.1001", ALREADY_REGISTERED)
        self.registration = Registration(checked, confirmation, validation, str(response_type))
        return {
            "OriginatorCoversationID": merchant_request_id(),
            "ResponseCode": "0",
            "ResponseDescription": "success" if checked == "v1" else "Success",
        }

    def simulate(self, version: str, body: dict[str, Any]) -> dict[str, Any]:
        self.check_product(version)
        if str(body.get("ShortCode", "")).strip() != self.emulator.shortcode:
            raise invalid("ShortCode")
        if body.get("CommandID") not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            raise invalid("CommandID")
        amount = body.get("Amount")
        text = str(amount).strip()
        if isinstance(amount, bool) or not text.isdigit() or int(text) < 1:
            raise invalid("Amount")
        msisdn = str(body.get("Msisdn", "")).strip()
        if not (msisdn.isdigit() and len(msisdn) == 12 and msisdn.startswith("254")):
            raise invalid("Msisdn")
        bill_ref = body.get("BillRefNumber")
        if bill_ref is not None and not isinstance(bill_ref, str):
            raise DarajaFault(400, BAD_PAYLOAD, "Invalid Request Payload")
        self.pay_bill(msisdn, int(text), bill_ref or "")
        return {
            "OriginatorCoversationID": merchant_request_id(),
            "ResponseCode": "0",
            "ResponseDescription": SIMULATE_ACCEPTED,
        }

    # ----- payments -----

    def pay_bill(self, phone: str, amount: int, account: str) -> C2BTransaction:
        """A customer pays from the M-Pesa menu: validation (if on), then the confirmation."""
        now = self.emulator.clock()
        transaction = C2BTransaction(
            trans_id=receipt_number(now),
            phone=phone,
            amount=amount,
            bill_ref=account,
            origin="menu",
            at=now,
        )
        self.transactions.append(transaction)
        self.emulator.spawn(self._menu_payment(transaction))
        return transaction

    def stk_paid(self, phone: str, amount: int, account: str, receipt: str, at: datetime) -> None:
        """Daraja sends a PayBill's STK payments to its ConfirmationURL too (§11.6)."""
        if not self.stk_confirmations or self.registration is None:
            return
        transaction = C2BTransaction(
            trans_id=receipt, phone=phone, amount=amount, bill_ref=account, origin="stk", at=at
        )
        self.transactions.append(transaction)

    def stk_transaction(self, receipt: str) -> C2BTransaction | None:
        for transaction in self.transactions:
            if transaction.trans_id == receipt and transaction.origin == "stk":
                return transaction
        return None

    async def send_stk_confirmation(self, receipt: str) -> None:
        transaction = self.stk_transaction(receipt)
        if transaction is None or transaction.status != "pending":
            return
        if self.stk_delay:
            await asyncio.sleep(self.stk_delay)
        await self._confirm(transaction)

    async def _menu_payment(self, transaction: C2BTransaction) -> None:
        registration = self.registration
        if registration is None:
            # "If no URLs are registered in the system, M-PESA automatically completes".
            transaction.status = "completed"
            self.balance += transaction.amount
            return
        if self.validation_enabled:
            accepted = await self._validate(transaction, registration)
            if not accepted:
                transaction.status = "rejected"
                return
        await self._confirm(transaction)

    async def _validate(self, transaction: C2BTransaction, registration: Registration) -> bool:
        delivery = await self._post("validation", registration.validation_url, transaction)
        if delivery.status_code is None or not isinstance(delivery.answer, dict):
            # Unreachable or no answer: the registered default action decides.
            transaction.validation_code = None
            return registration.response_type == "Completed"
        code = delivery.answer.get("ResultCode")
        transaction.validation_code = str(code)
        return str(code).strip() == "0"

    async def _confirm(self, transaction: C2BTransaction) -> None:
        registration = self.registration
        self.balance += transaction.amount
        transaction.status = "completed"
        if registration is None:
            return
        await self._post("confirmation", registration.confirmation_url, transaction)

    def body(self, transaction: C2BTransaction, kind: str) -> dict[str, Any]:
        """A C2B body shaped like the captured ones (docs/DARAJA.md §11.5)."""
        registration = self.registration
        version = registration.version if registration else "v2"
        msisdn = (
            msisdn_hash(transaction.phone)
            if version == "v1"
            else mask_for_display(transaction.phone)
        )
        return {
            "TransactionType": "Pay Bill",
            "TransID": transaction.trans_id,
            "TransTime": daraja_timestamp(transaction.at),
            "TransAmount": f"{transaction.amount}.00",
            "BusinessShortCode": self.emulator.shortcode,
            "BillRefNumber": transaction.bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": f"{self.balance}.00" if kind == "confirmation" else "",
            "ThirdPartyTransID": "",
            "MSISDN": msisdn,
            "FirstName": self.first_name,
        }

    async def _post(
        self, kind: Literal["validation", "confirmation"], url: str, transaction: C2BTransaction
    ) -> C2BDelivery:
        body = self.body(transaction, kind)
        status: int | None = None
        answer: Any = None
        error: str | None = None
        try:
            response = await self.emulator.http_client().post(
                url,
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            status = response.status_code
            try:
                answer = response.json()
            except ValueError:
                answer = None
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("emulator C2B %s %s failed: %s", kind, transaction.trans_id, error)
        delivery = C2BDelivery(kind, url, status, answer, error, self.emulator.clock())
        transaction.deliveries.append(delivery)
        return delivery


def _url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise invalid(name)
    if any(ch.isspace() for ch in value) or any(w in value.lower() for w in REFUSED_WORDS):
        raise DarajaFault(400, BAD_REQUEST, f"Bad Request - Invalid {name}")
    return value
