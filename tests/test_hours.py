"""Business hours (app/hours.py): time zones, DST, holidays, overnight ranges, validation."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.hours import HoursError, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def weekdays(zone="Europe/Berlin", **extra):
    return parse_hours({"time_zone": zone, "weekly": {d: [["09:00", "17:00"]] for d in
                                                      ("mon", "tue", "wed", "thu", "fri")}, **extra})


def test_open_within_hours_in_the_sites_zone_not_utc():
    hours = weekdays()
    # Wednesday 2026-12-02 08:30 UTC is 09:30 in Berlin (UTC+1 in winter)
    assert hours.is_open(datetime(2026, 12, 2, 8, 30, tzinfo=timezone.utc))
    assert not hours.is_open(datetime(2026, 12, 2, 7, 30, tzinfo=timezone.utc))  # 08:30 Berlin
    assert not hours.is_open(local(BERLIN, 2026, 12, 2, 17, 0))  # the end is exclusive
    assert hours.is_open(local(BERLIN, 2026, 12, 2, 16, 59))


def test_friday_evening_next_opens_monday_morning():
    hours = weekdays()
    friday = local(BERLIN, 2026, 12, 4, 18, 0)
    assert not hours.is_open(friday)
    assert hours.next_open(friday) == local(BERLIN, 2026, 12, 7, 9, 0)
    assert hours.next_change(friday) == local(BERLIN, 2026, 12, 7, 9, 0)
    assert hours.next_change(local(BERLIN, 2026, 12, 7, 10, 0)) == local(BERLIN, 2026, 12, 7, 17, 0)


def test_holiday_closes_the_day_and_next_open_skips_it():
    hours = weekdays(holidays=["2026-12-25"])  # a Friday
    assert not hours.is_open(local(BERLIN, 2026, 12, 25, 10, 0))
    assert hours.is_open(local(BERLIN, 2026, 12, 24, 10, 0))
    assert hours.next_open(local(BERLIN, 2026, 12, 24, 18, 0)) == local(BERLIN, 2026, 12, 28, 9, 0)


def test_overnight_range_runs_past_midnight_and_a_holiday_only_stops_ranges_starting_on_it():
    hours = parse_hours({"time_zone": "Europe/Berlin", "weekly": {"sat": [["22:00", "02:00"]]},
                         "holidays": ["2026-12-06"]})  # Sunday
    assert hours.is_open(local(BERLIN, 2026, 12, 5, 23, 0))  # Saturday night
    assert hours.is_open(local(BERLIN, 2026, 12, 6, 1, 59))  # Sunday morning, started Saturday
    assert not hours.is_open(local(BERLIN, 2026, 12, 6, 2, 0))
    assert hours.next_change(local(BERLIN, 2026, 12, 5, 23, 0)) == local(BERLIN, 2026, 12, 6, 2, 0)
    sat_holiday = parse_hours({"time_zone": "Europe/Berlin", "weekly": {"sat": [["22:00", "02:00"]]},
                               "holidays": ["2026-12-05"]})
    assert not sat_holiday.is_open(local(BERLIN, 2026, 12, 6, 1, 0))
    assert sat_holiday.next_open(local(BERLIN, 2026, 12, 5, 12, 0)) == local(BERLIN, 2026, 12, 12, 22, 0)


def test_sunday_overnight_wraps_into_monday_and_touching_ranges_close_once():
    hours = parse_hours({"time_zone": "UTC", "weekly": {"sun": [["20:00", "24:00"]], "mon": [["00:00", "03:00"]]}})
    sunday = datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)
    assert hours.is_open(sunday)
    assert hours.next_change(sunday) == datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
    with pytest.raises(HoursError, match="overlaps"):
        parse_hours({"time_zone": "UTC", "weekly": {"sun": [["20:00", "04:00"]], "mon": [["03:00", "05:00"]]}})


def test_dst_keeps_local_wall_clock_hours():
    hours = weekdays("America/New_York")
    # 2027-03-14 clocks go forward in New York: Monday 09:00 EDT is 13:00 UTC, the Friday before 14:00 UTC
    assert hours.next_open(local(NY, 2027, 3, 12, 18, 0)) == datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc)
    assert hours.is_open(datetime(2027, 3, 12, 14, 30, tzinfo=timezone.utc))
    assert not hours.is_open(datetime(2027, 3, 15, 12, 30, tzinfo=timezone.utc))  # 08:30 EDT
    assert hours.is_open(datetime(2027, 3, 15, 13, 30, tzinfo=timezone.utc))


def test_a_range_over_the_dst_gap_is_shorter_that_night_not_broken():
    hours = parse_hours({"time_zone": "Europe/Berlin", "weekly": {"sun": [["01:00", "04:00"]]}})
    # 2027-03-28: 02:00 becomes 03:00 in Berlin; the range lasts two hours that night
    start = hours.next_open(datetime(2027, 3, 27, 12, 0, tzinfo=timezone.utc))
    end = hours.next_change(start)
    assert start == datetime(2027, 3, 28, 0, 0, tzinfo=timezone.utc)
    assert (end - start).total_seconds() == 2 * 3600


@pytest.mark.parametrize("raw, problem", [
    ({"time_zone": "Mars/Olympus", "weekly": {}}, "unknown time zone"),
    ({"time_zone": "../../etc/passwd", "weekly": {}}, "IANA"),
    ({"time_zone": "UTC", "weekly": {"mon": [["9:00", "17:00"]]}}, "HH:MM"),
    ({"time_zone": "UTC", "weekly": {"mon": [["09:00", "24:30"]]}}, "HH:MM"),
    ({"time_zone": "UTC", "weekly": {"mon": [["09:00", "09:00"]]}}, "empty"),
    ({"time_zone": "UTC", "weekly": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "overlaps"),
    ({"time_zone": "UTC", "weekly": {"funday": []}}, "keyed by day"),
    ({"time_zone": "UTC", "weekly": {"mon": [["00:00", "01:00"]] * 7}}, "at most"),
    ({"time_zone": "UTC", "weekly": {}, "holidays": ["2026-02-30"]}, "not a date"),
    ({"time_zone": "UTC", "weekly": {}, "holidays": ["2026-01-01"] * 400}, "at most"),
    ({"time_zone": "UTC", "weekly": {}, "extra": 1}, "time_zone, weekly, holidays"),
    ("9-5", "time_zone, weekly, holidays"),
])
def test_bad_hours_are_refused_with_a_reason(raw, problem):
    with pytest.raises(HoursError, match=problem):
        parse_hours(raw)


def test_json_round_trip_and_no_hours_means_none():
    raw = {"time_zone": "Europe/Paris", "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]],
                                                    "sat": [["22:00", "02:00"]]}, "holidays": ["2026-12-25"]}
    assert parse_hours(raw).to_json() == raw
    assert parse_hours(None) is None
    closed = parse_hours({"time_zone": "UTC", "weekly": {}})
    assert closed.next_open(datetime(2026, 1, 1, tzinfo=timezone.utc)) is None


def test_command_line_day_specs_expand_ranges_of_days():
    from app.hours import describe, weekly_from_specs

    weekly = weekly_from_specs(["mon-fri 09:00-17:00", "sat 10:00-14:00", "sun-mon 22:00-02:00"])
    assert weekly["wed"] == [["09:00", "17:00"]] and weekly["sat"] == [["10:00", "14:00"]]
    assert weekly["mon"] == [["09:00", "17:00"], ["22:00", "02:00"]] and weekly["sun"] == [["22:00", "02:00"]]
    hours = parse_hours({"time_zone": "UTC", "weekly": weekly_from_specs(["fri-mon 09:00-12:00"])})
    assert set(hours.weekly) == {"fri", "sat", "sun", "mon"}
    assert describe(None) == "always open" and describe(hours).startswith("UTC: mon 09:00-12:00")
    for bad in ("weekdays 9-5", "mon 09:00", "xyz-fri 09:00-17:00"):
        with pytest.raises(HoursError, match="DAY"):
            weekly_from_specs([bad])
