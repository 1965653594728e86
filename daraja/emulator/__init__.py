"""A Daraja emulator (Starlette) that really POSTs STK callbacks, for offline development and tests.

`create_emulator_app(...)` builds the app; `app.state.emulator` is the `Emulator` with the
control API (outcomes per phone, callback delay, duplicate/drop/late callbacks, spike arrest,
push timeout, `drain()`). `python -m daraja.emulator --port 8001` runs it standalone.
"""

from daraja.emulator.app import create_emulator_app
from daraja.emulator.scenarios import RESULT_DESCRIPTIONS, SCENARIOS, Scenario
from daraja.emulator.state import Delivery, Emulator, StkRequest

__all__ = [
    "RESULT_DESCRIPTIONS",
    "SCENARIOS",
    "Delivery",
    "Emulator",
    "Scenario",
    "StkRequest",
    "create_emulator_app",
]
