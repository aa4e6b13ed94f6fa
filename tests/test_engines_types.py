"""Column types through the Dask and Spark engines: categorical ids and time zones.

What pandas writes to Parquet (a ``category`` id, a tz-aware timestamp) is read back by the
engines with types of their own (Dask: a categorical of unknown categories; Spark: a
``timestamp`` in the session's zone): each engine's result must hold the values the same
call gives in pandas. The engines' fixtures are those of tests/test_engines.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from optional import optional

dask = optional("dask")
distributed = optional("distributed")

import test_engines  # noqa: E402
from conftest import run_main  # noqa: E402

from forecast.backtest import fold_history  # noqa: E402
from forecast.baselines import NaiveForecaster  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::ResourceWarning")]
# The engines' module-scoped fixtures (a local[2] Spark session, a 2-process LocalCluster).
spark, dask_client = test_engines.spark, test_engines.dask_client


def _panel() -> pd.DataFrame:
    """Three daily series; ids that are not numbers, one that looks like one."""
    parts = [
        pd.DataFrame(
            {
                "unique_id": sid,
                "ds": pd.date_range("2024-01-01", periods=10 + k, freq="D"),
                "y": np.arange(10 + k, dtype=float) + 10 * k,
            }
        )
        for k, sid in enumerate(["007", "A,B", "x"])
    ]
    return pd.concat(parts, ignore_index=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)


# ------------------------------------------------------------------------ categorical ids


def test_dask_keeps_categorical_ids_of_unknown_and_known_categories(dask_client, tmp_path, capsys):
    """A ``category`` id read back by ``dd.read_parquet`` (unknown categories) made every
    output id null: the result was cast to the placeholder categories."""
    import dask.dataframe as dd

    panel = _panel().astype({"unique_id": "category"})
    panel.to_parquet(tmp_path / "cat.parquet", index=False)
    model = NaiveForecaster(horizon=2).fit(panel)
    expected = model.predict(panel)
    frames = {
        "unknown": dd.read_parquet(tmp_path / "cat.parquet"),
        "known": dd.from_pandas(panel, npartitions=2),
    }
    for name, frame in frames.items():
        got = _sorted(model.predict(frame).compute())
        assert got["unique_id"].notna().all(), name
        assert got["unique_id"].astype(str).tolist() == expected["unique_id"].astype(str).tolist()
        np.testing.assert_allclose(got["y"], expected["y"])
        rows = _sorted(fold_history(NaiveForecaster(horizon=2), frame, n_windows=2).compute())
        want = _sorted(fold_history(NaiveForecaster(horizon=2), panel, n_windows=2))
        assert rows["unique_id"].astype(str).tolist() == want["unique_id"].astype(str).tolist()
        np.testing.assert_allclose(rows["y"], want["y"])
    # the command line: the forecast's ids as written
    model.save(tmp_path / "m.safetensors")
    code, _, err = run_main(
        capsys, "predict", "--model", tmp_path / "m.safetensors", "--data",
        tmp_path / "cat.parquet", "--out", tmp_path / "out", "--engine", "dask",
        "--engine-address", dask_client.scheduler.address,
    )  # fmt: skip
    assert code == 0, err
    got = _sorted(pd.read_parquet(tmp_path / "out"))
    assert got["unique_id"].tolist() == expected["unique_id"].astype(str).tolist()
