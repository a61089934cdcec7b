"""Timestamps in both of the API's layouts; the Go zero time reads as "not started"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bot.pulumi.models import Instant, StartedAt


class Times(BaseModel):
    created: Instant
    started: StartedAt = None


def test_the_seed_docs_created_layout_is_utc() -> None:
    times = Times.model_validate({"created": "2022-10-17 22:12:34.834"})
    assert times.created == datetime(2022, 10, 17, 22, 12, 34, 834000, tzinfo=UTC)
    assert times.created.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-09-15T23:28:17.644409853Z", datetime(2023, 9, 15, 23, 28, 17, 644409, tzinfo=UTC)),
        ("2023-09-15T23:28:25.36490801Z", datetime(2023, 9, 15, 23, 28, 25, 364908, tzinfo=UTC)),
        ("2022-10-17T22:12:41.191646Z", datetime(2022, 10, 17, 22, 12, 41, 191646, tzinfo=UTC)),
        ("2026-05-01T12:00:00Z", datetime(2026, 5, 1, 12, tzinfo=UTC)),
        ("2026-05-01T14:00:00+02:00", datetime(2026, 5, 1, 12, tzinfo=UTC)),
    ],
)
def test_rfc3339_with_up_to_nine_fraction_digits(text: str, expected: datetime) -> None:
    assert Times.model_validate({"created": text, "started": text}).started == expected


def test_the_zero_time_and_absence_mean_not_started() -> None:
    assert Times.model_validate({"created": "2026-05-01T12:00:00Z", "started": "0001-01-01T00:00:00Z"}).started is None
    assert Times.model_validate({"created": "2026-05-01T12:00:00Z"}).started is None


def test_a_timestamp_that_is_no_time_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Times.model_validate({"created": "yesterday"})


moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@given(moment=moments, digits=st.integers(min_value=0, max_value=9))
def test_any_rfc3339_moment_reads_back_to_the_microsecond(moment: datetime, digits: int) -> None:
    nanos = f"{moment.microsecond:06d}000"
    fraction = f".{nanos[:digits]}" if digits else ""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    kept = int((nanos[:digits] or "0").ljust(6, "0")[:6])
    assert Times.model_validate({"created": text, "started": text}).started == moment.replace(microsecond=kept)


@given(moments)
def test_any_moment_in_the_seed_layout_reads_back_to_the_millisecond(moment: datetime) -> None:
    text = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    parsed = Times.model_validate({"created": text}).created
    assert parsed == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
