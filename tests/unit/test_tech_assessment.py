"""The tech-check rules, the data estimate, and reading typed answers."""

from __future__ import annotations

import pytest

from bot.domain.tech_assessment import (
    UNLIMITED_MB,
    Outcome,
    TechAnswers,
    assess,
    megabytes,
    parse_volume_mb,
)
from bot.domain.time_windows import windows
from dialogs.contact_questions import normalise_phone, parse_windows

READY = TechAnswers("computer", "app", "both", "yes", "wifi")


def test_estimate_follows_microsofts_figures() -> None:
    assert megabytes("audio", 60) == 27
    assert megabytes("360p", 30) == 225
    assert megabytes("720p", 60) == 1100


def test_a_complete_setup_on_wifi_is_ready() -> None:
    result = assess(READY)
    assert (result.outcome, result.advice, result.quality) == (Outcome.READY, [], "720p")


@pytest.mark.parametrize(
    ("changes", "outcome", "advice"),
    [
        ({"camera_mic": "none"}, Outcome.HELP_NEEDED, "tech.advice.camera_mic_none"),
        ({"camera_mic": "unknown"}, Outcome.HELP_NEEDED, "tech.advice.camera_mic_unknown"),
        ({"camera_mic": "audio_only"}, Outcome.READY_WITH_ADVICE, "tech.advice.audio_only"),
        ({"app": "browser"}, Outcome.READY_WITH_ADVICE, "tech.advice.desktop_browser"),
        (
            {"device": "smartphone", "app": "browser"},
            Outcome.READY_WITH_ADVICE,
            "tech.advice.mobile_browser",
        ),
        ({"place": "no"}, Outcome.READY_WITH_ADVICE, "tech.advice.quiet_place"),
        ({"connection": "unknown"}, Outcome.READY_WITH_ADVICE, "tech.advice.connection_unknown"),
        ({"connection": "mobile"}, Outcome.READY_WITH_ADVICE, "tech.advice.volume_unknown"),
        (
            {"connection": "mobile", "volume_mb": 500},
            Outcome.HELP_NEEDED,
            "tech.advice.volume_too_low",
        ),
        (
            {"connection": "mobile", "volume_mb": 800},
            Outcome.READY_WITH_ADVICE,
            "tech.advice.volume_warning",
        ),
        (
            {"connection": "mobile", "volume_mb": 5120},
            Outcome.READY_WITH_ADVICE,
            "tech.advice.volume_ok",
        ),
    ],
)
def test_each_answer_leads_to_its_outcome(changes: dict, outcome: Outcome, advice: str) -> None:
    answers = TechAnswers(**{**READY.__dict__, **changes})
    result = assess(answers)
    assert result.outcome == outcome
    assert advice in result.advice


def test_unlimited_mobile_data_needs_no_volume_advice() -> None:
    result = assess(TechAnswers("smartphone", "app", "both", "yes", "mobile", UNLIMITED_MB))
    assert result.outcome == Outcome.READY
    assert result.share_of_volume(60) is None


def test_a_call_taking_more_than_a_third_of_the_data_left_is_a_warning() -> None:
    phone = TechAnswers("smartphone", "app", "both", "yes", "mobile")
    just_under = assess(TechAnswers(**{**phone.__dict__, "volume_mb": 1351}))  # 450 MB / 60 min
    assert not just_under.data_warning
    assert just_under.share_of_volume(60) == pytest.approx(450 / 1351)
    just_over = assess(TechAnswers(**{**phone.__dict__, "volume_mb": 1349}))
    assert just_over.data_warning
    assert just_over.outcome == Outcome.READY_WITH_ADVICE
    assert just_over.blockers == []


def test_phones_are_estimated_at_the_mobile_rate_and_computers_in_hd() -> None:
    phone = assess(TechAnswers("smartphone", "app", "both", "yes", "mobile", 2048))
    tablet = assess(TechAnswers("tablet", "app", "both", "yes", "mobile", 2048))
    laptop = assess(TechAnswers("computer", "app", "both", "yes", "mobile", 2048))
    assert (phone.mb_60_min, tablet.mb_60_min, laptop.mb_60_min) == (450, 450, 1100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 GB", 2048),
        ("1,5 GB", 1536),
        ("0.5gb", 512),
        ("500 MB", 500),
        ("noch 300 Megabyte", 300),
        ("3", 3072),
        ("750", 750),
        ("Flatrate", UNLIMITED_MB),
        ("unbegrenzt", UNLIMITED_MB),
        ("weiß nicht", None),
    ],
)
def test_volume_is_read_as_people_write_it(text: str, expected: int | None) -> None:
    assert parse_volume_mb(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0171 2345678", "01712345678"),
        ("+49 (171) 234-56-78", "+491712345678"),
        ("0221/123456", "0221123456"),
        ("1234", None),
        ("ruf mich an", None),
        ("0171 2345678; DROP TABLE", None),
    ],
)
def test_phone_numbers(text: str, expected: str | None) -> None:
    assert normalise_phone(text) == expected


def test_typed_time_windows_in_both_languages() -> None:
    assert parse_windows("Montag vormittags") == ["mon-morning"]
    assert parse_windows("mittwochs und freitags") == windows(["wed", "fri"], [])
    assert parse_windows("afternoons") == windows([], ["afternoon"])
    assert parse_windows("egal") == windows([], [])
    assert parse_windows("nächste Woche") is None
