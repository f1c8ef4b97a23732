"""`python -m bench stories quality --setting KEY=VALUE`: another `[stories]` for one run."""

from __future__ import annotations

import argparse

import pytest

from bench.stories import _settings, main


def test_settings_are_read_as_newsmon_toml_would_read_them() -> None:
    parser = argparse.ArgumentParser()
    assert _settings(parser, []) is None
    settings = _settings(parser, ["event_days=false", "rewrite_gap_days=3"])
    assert settings is not None
    assert settings.event_days is False and settings.rewrite_gap_days == 3


@pytest.mark.parametrize("setting", ["nonsense=1", "event_day_slack_days=-1", "event_days"])
def test_a_wrong_setting_stops_with_exit_code_2(
    setting: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["quality", "--no-write", "--setting", setting])
    assert stop.value.code == 2
    assert "--setting" in capsys.readouterr().err
