"""The catalogues: same keys in both languages, money and dates formatted, failure words."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from bot import texts
from bot.texts import en, sw

FAILURE_CODES = ["1", "17", "1001", "1019", "1025", "1032", "1037", "2001", "8006", "2028"]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_catalogues_have_the_same_keys() -> None:
    assert set(en.TEXTS) == set(sw.TEXTS)


@pytest.mark.parametrize("key", sorted(en.TEXTS))
def test_placeholders_match_between_languages(key: str) -> None:
    assert _fields(en.TEXTS[key]) == _fields(sw.TEXTS[key]), key


# Keys that are the same in every language: names of languages, and pure layout lines.
SAME_IN_BOTH = {
    "btn_lang_en",
    "btn_lang_sw",
    "none",
    "admin_payment_line",
    "history_line",
    "network_airtel",  # network names are brands
    "network_telkom",
}


@pytest.mark.parametrize("key", sorted(set(en.TEXTS) - SAME_IN_BOTH))
def test_kiswahili_is_translated_not_copied(key: str) -> None:
    assert en.TEXTS[key] != sw.TEXTS[key], key


def test_money_uses_thousands_separators() -> None:
    assert texts.money(1500) == "KES 1,500"
    assert texts.money(250000) == "KES 250,000"
    assert texts.money(5) == "KES 5"


def test_dates_are_nairobi_time_with_language_months() -> None:
    at = datetime(2025, 2, 15, 11, 3, tzinfo=UTC)  # 14:03 in Nairobi
    assert texts.when(at, "en") == "15 Feb 2025 14:03"
    assert texts.when(datetime(2025, 8, 1, 21, 30, tzinfo=UTC), "sw") == "2 Ago 2025 00:30"


def test_language_from_telegram_client() -> None:
    assert texts.language_from_telegram("sw") == "sw"
    assert texts.language_from_telegram("sw-KE") == "sw"
    assert texts.language_from_telegram("en-GB") == "en"
    assert texts.language_from_telegram(None) == "en"
    assert texts.t("fr", "btn_confirm") == en.TEXTS["btn_confirm"]


@pytest.mark.parametrize("code", FAILURE_CODES)
def test_each_failure_code_has_its_own_words_in_both_languages(code: str) -> None:
    english = texts.failure_reason("en", code, merchant="Duka")
    kiswahili = texts.failure_reason("sw", code, merchant="Duka")
    assert english == en.TEXTS[f"fail_{code}"].format(merchant="Duka")
    assert kiswahili == sw.TEXTS[f"fail_{code}"].format(merchant="Duka")


def test_key_failure_wording() -> None:
    assert "cancelled the request on your phone" in texts.failure_reason("en", "1032", merchant="x")
    assert "Umeghairi ombi kwenye simu" in texts.failure_reason("sw", "1032", merchant="x")
    assert "PIN was wrong" in texts.failure_reason("en", "2001", merchant="x")
    assert "balance is too low" in texts.failure_reason("en", "1", merchant="x")
    assert "2 minutes" in texts.failure_reason("en", "17", merchant="x")
    assert "locked" in texts.failure_reason("en", "8006", merchant="x")
    assert "tell Duka" in texts.failure_reason("en", "SFC_IC0003", merchant="Duka")


def test_codes_without_their_own_text_use_the_outcome() -> None:
    # 2026 (channel session expired) is an "expired" outcome in daraja.result_codes.
    assert texts.failure_reason("en", "2026", merchant="x") == en.TEXTS["fail_outcome_expired"]
    assert texts.failure_reason("sw", "2026", merchant="x") == sw.TEXTS["fail_outcome_expired"]
    # A code nobody has seen: the cautious unknown text.
    unknown = texts.failure_reason("en", "424242", merchant="Duka")
    assert unknown in {
        en.TEXTS["fail_outcome_failed"],
        en.TEXTS["fail_outcome_unknown"].format(merchant="Duka"),
    }
    assert texts.failure_reason("en", None, merchant="Duka") == en.TEXTS[
        "fail_outcome_unknown"
    ].format(merchant="Duka")


def test_push_failures_name_the_wait() -> None:
    locked = texts.push_failure_reason("en", "push:subscriber_locked", merchant="x")
    assert "60 seconds" in locked
    busy = texts.push_failure_reason("sw", "push:rate_limited", merchant="x", retry_after=300)
    assert "dakika 5" in busy
    assert "Safaricom" in texts.push_failure_reason("en", "push:invalid_phone", merchant="x")
    generic = texts.push_failure_reason("en", "push:auth", merchant="Duka")
    assert "tell Duka" in generic


def test_waits_round_up() -> None:
    assert texts.wait(0.2, "en") == "1 second"
    assert texts.wait(0.2, "sw") == "sekunde 1"
    assert texts.wait(90, "en") == "90 seconds"
    assert texts.wait(121, "en") == "3 minutes"
    assert texts.wait(3600, "sw") == "dakika 60"


# Issue 13: the wording a Kenyan customer stumbled on, and what replaced it.
@pytest.mark.parametrize(
    ("key", "gone", "now"),
    [
        ("status_pending", "inasubiri", "yanasubiri PIN"),  # agrees with "malipo"
        ("payment_closed", "yameshakamilika", "yameshamalizika"),  # also said of failed ones
        ("amount_not_a_number", "si namba", "Andika kiasi kwa tarakimu, k.m. 500"),
        ("draft_expired", "umepitwa na muda", "Muda wa uthibitisho huu umekwisha"),
        ("admin_live_query", "Ulizo", "Nimeiuliza M-Pesa"),
        ("admin_payment", "Mfuatano", "Yaliyotokea"),
        ("admin_summary", "Callback ya mwisho", "Jibu la mwisho la M-Pesa"),
    ],
)
def test_kiswahili_fixes(key: str, gone: str, now: str) -> None:
    assert gone not in sw.TEXTS[key]
    assert now in sw.TEXTS[key]


def test_no_kiswahili_text_is_left_with_the_awkward_words() -> None:
    for word in ("umepitwa", "Ulizo", "Mfuatano", "Callback ya", "sasa paid", "si namba"):
        assert not [key for key, text in sw.TEXTS.items() if word in text], word


@pytest.mark.parametrize(
    "status",
    [
        "created",
        "pushing",
        "pending",
        "paid",
        "failed",
        "cancelled",
        "expired",
        "push_failed",
        "unknown",
    ],
)
def test_every_status_has_words_in_both_languages(status: str) -> None:
    assert en.TEXTS[f"status_{status}"] and sw.TEXTS[f"status_{status}"]
    assert en.TEXTS[f"status_{status}"] != sw.TEXTS[f"status_{status}"]


def test_every_timeline_event_has_words_in_both_languages() -> None:
    from payments.models import EventKind

    for kind in EventKind:
        assert f"event_{kind}" in en.TEXTS and f"event_{kind}" in sw.TEXTS, kind
