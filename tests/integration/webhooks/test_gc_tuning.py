"""`create_app(tune_gc=True)` (what `serve` and `run` use) tunes the collector; tests don't."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tests.support.webhooks import ServiceFactory
from webhooks import gc_tuning


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_serving_raises_the_threshold_and_freezes_what_start_up_made(
    make_service: ServiceFactory, restore_gc: None
) -> None:
    gc.unfreeze()
    async with make_service(app_kwargs={"tune_gc": True}) as service:
        assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
        # The running app's own objects were alive at start-up, so they are frozen.
        assert gc.get_freeze_count() > 1000
        response = await service.client.get("/healthz")
        assert response.status_code == 200


async def test_apps_built_by_tests_leave_the_collector_alone(
    make_service: ServiceFactory, restore_gc: None
) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    async with make_service():
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
