"""`numbguard evaluate` scores recordings too: a labelled `.ngrec` is opened by the same
sniffer as every other session file (`session.sources`)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from numbguard.errors import InputError
from numbguard.evaluate import evaluate_folder
from numbguard.live.recording_sink import RecordingSink
from numbguard.recording import Channel, RecordingWriter
from numbguard.session.live import run_session
from numbguard.session.runner import SessionRunner
from numbguard.simulate.files import LABELS_SUFFIX, write_session
from numbguard.transports import open_transport


def test_a_labelled_recording_is_scored_as_its_csv_is(tmp_path: Path) -> None:
    csv_dir, ngrec_dir = tmp_path / "csv", tmp_path / "ngrec"
    ngrec_dir.mkdir()
    files = write_session("tight_lacing", csv_dir, seed=0, duration_s=120.0)
    # The same simulated session, recorded as a live run through the sim:// insoles.
    with RecordingWriter(ngrec_dir / "tight_lacing.ngrec", {"source": "sim"}) as recorder:
        runner = SessionRunner(sinks=[RecordingSink(recorder, Channel.SIM)])
        url = "sim://tight_lacing?speed=max&duration_s=120&seed=0"
        asyncio.run(run_session(open_transport(url), runner))
    shutil.copy(files.labels_path, ngrec_dir / ("tight_lacing" + LABELS_SUFFIX))

    from_csv = evaluate_folder(csv_dir, jobs=1).to_json()
    from_recording = evaluate_folder(ngrec_dir, jobs=1).to_json()
    assert from_recording["sessions"] == 1
    lacing = from_recording["kinds"]["tight_lacing"]
    assert lacing["detections"] == 1 and lacing["misses"] == 0
    counts = ("labels", "detections", "misses", "false_alerts")

    def scores(evaluation: dict[str, Any]) -> dict[str, list[int]]:
        return {kind: [row[c] for c in counts] for kind, row in evaluation["kinds"].items()}

    assert scores(from_recording) == scores(from_csv)


def test_labels_without_any_session_file_say_which_names_were_looked_for(
    tmp_path: Path,
) -> None:
    (tmp_path / ("run" + LABELS_SUFFIX)).write_text('{"labels": []}')
    with pytest.raises(InputError, match=r"run\.csv or run\.ngrec or run\.txt"):
        evaluate_folder(tmp_path, jobs=1)
