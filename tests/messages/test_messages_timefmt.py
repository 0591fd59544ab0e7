"""timefmt: the dateTime and duration formats of Table B-3 (EMAP-B-10)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conformance.messages import timefmt


@pytest.mark.parametrize("text, seconds", [
    ("PT0S", 0), ("P0D", 0), ("P0W", 0), ("PT1S", 1), ("PT0.5S", 0.5), ("PT1M", 60), ("PT1H", 3600),
    ("P1D", 86400), ("P2W", 1209600), ("P1DT1H1M1.25S", 90061.25), ("PT90M", 5400),
])
def test_parse_duration(text, seconds):
    assert timefmt.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1Y", "P1M", "-PT1S", "PT1.S", "P1W1D", "pt1s", "PT1H ", "", "PT.5S"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="duration"):
        timefmt.parse_duration(text)


@pytest.mark.parametrize("seconds", [0, 1, 0.5, 59.999, 3600, 86400 * 7, 1e-3])
def test_duration_round_trip(seconds):
    text = timefmt.format_duration(seconds)
    assert text.startswith("PT") and text.endswith("S")
    assert timefmt.parse_duration(text) == pytest.approx(seconds)


def test_format_duration_rejects_negative():
    with pytest.raises(ValueError):
        timefmt.format_duration(-1)


@pytest.mark.parametrize("dt", [
    datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
    datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
])
def test_datetime_round_trip(dt):
    text = timefmt.format_datetime(dt)
    assert text.endswith("Z")
    assert timefmt.parse_datetime(text) == dt


def test_format_datetime_forms():
    assert timefmt.format_datetime(datetime(2024, 5, 1, 10, 0)) == "2024-05-01T10:00:00Z"
    assert timefmt.format_datetime(datetime(2024, 5, 1, 10, 0, 0, 5000, tzinfo=UTC)) == "2024-05-01T10:00:00.005Z"


@pytest.mark.parametrize("text", ["2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00", "2024-02-30T00:00:00Z",
                                  "2024-05-01T24:00:00Z", "2024-05-01T23:59:60Z", "2024-05-01 10:00:00Z"])
def test_parse_datetime_rejects(text):
    with pytest.raises(ValueError):
        timefmt.parse_datetime(text)


def test_parse_datetime_fraction_beyond_microseconds():
    assert timefmt.parse_datetime("2024-05-01T10:00:00.1234567Z").microsecond == 123456


def test_utc_now_is_aware():
    assert timefmt.utc_now().tzinfo is not None
    assert timefmt.add(datetime(2024, 5, 1, tzinfo=UTC), "PT1H") == datetime(2024, 5, 1, 1, tzinfo=UTC)
