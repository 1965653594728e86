"""Reading Daraja's `YYYYMMDDHHmmss` timestamps (Nairobi time) without strptime."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from daraja.timestamps import NAIROBI, daraja_timestamp, parse_daraja_timestamp


@pytest.mark.parametrize("value", ["20191219102115", 20191219102115, " 20191219102115 "])
def test_strings_and_json_numbers_read_as_nairobi_time(value: str | int) -> None:
    parsed = parse_daraja_timestamp(value)
    assert parsed == datetime(2019, 12, 19, 10, 21, 15, tzinfo=NAIROBI)
    assert parsed.astimezone(UTC) == datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)


def test_round_trips_with_daraja_timestamp() -> None:
    at = datetime(2026, 11, 29, 21, 59, 58, tzinfo=UTC)  # 00:59:58 the next day in Nairobi
    text = daraja_timestamp(at)
    assert text == "20261130005958"
    assert parse_daraja_timestamp(text) == at


@pytest.mark.parametrize(
    "value",
    [
        "20191319102115",  # month 13
        "20190230102115",  # 30 February
        "20191219250000",  # hour 25
        "20191219106015",  # minute 60
        "2019121910211",  # 13 digits
        "201912191021150",  # 15 digits
        "2019-12-19 10:2",  # 14 characters, not digits
        "２０１９１２１９１０２１１５",  # full-width digits: isdigit() is True for these
        "",
    ],
)
def test_impossible_or_malformed_timestamps_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_daraja_timestamp(value)
