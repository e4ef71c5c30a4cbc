"""Without ../shared/realdata the real-data tests fail, saying where the data goes: in CI and
everywhere else, as the tests that need MicroPython do. A skip would pass a CI run that never
looked at real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import realdata


def test_a_missing_data_folder_fails_and_says_where_it_goes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "shared" / "realdata"
    monkeypatch.setattr(realdata, "REALDATA", missing)
    for ci in ("true", ""):
        monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.fail.Exception, match="realdata"):
            realdata.realdata_dir()
        found = realdata.records("gaitpdb/*.txt")
        assert found == [None]  # the parametrized test still runs, and fails in `need`
        with pytest.raises(pytest.fail.Exception, match=str(missing)):
            realdata.need(found[0], "gaitpdb/*.txt")
