"""A data cut-off past today (in any site's zone) or before 1900 is refused naming ``as_of``
(issue 15: ``as_of=9999-12-31`` was a 500), by the parser every export path uses and by the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dosewise.cli.app import main
from dosewise.errors import InvalidParameter
from dosewise.report.exports import latest_today, parse_as_of

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 2026-12-08 02:00 at UTC+14


def test_today_anywhere_is_accepted_and_tomorrow_everywhere_is_not() -> None:
    assert latest_today(NOW) == date(2026, 12, 8)
    assert parse_as_of("2026-12-08", now=NOW) == date(2026, 12, 8)
    assert parse_as_of(date(2000, 1, 1), now=NOW) == date(2000, 1, 1)
    assert parse_as_of(None, now=NOW) is None
    for bad in ("2026-12-09", "9999-12-31", "1899-12-31", date(9999, 12, 31)):
        with pytest.raises(InvalidParameter) as info:
            parse_as_of(bad, now=NOW)
        assert info.value.field == "as_of"


@pytest.mark.parametrize("as_of", ["9999-12-31", "1000-01-01"])
def test_the_cli_refuses_it_with_one_line_and_exit_2(
    as_of: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["report", "dsmb", "--out", str(tmp_path / "d.html"), "--as-of", as_of]
    args += ["--database-url", f"sqlite:///{tmp_path / 'none.db'}"]
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: as_of='{as_of}': must not be") and "\n" not in err
