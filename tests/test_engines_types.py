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


def test_dask_engine_reads_integer_parquet_ids_as_the_text_ids_of_a_csv_fitted_model(
    dask_client, tmp_path, capsys
):
    """The command line reads CSV ids as text: a model fitted from CSV on ids 1, 2 holds
    '1', '2'. In-process predict types Parquet's integer ids as the model's; --engine did
    not (a raw TypeError from the null id of the 'not seen at fit' message row)."""
    import dask.dataframe as dd

    panel = _panel().assign(unique_id=lambda d: d["unique_id"].map({"007": 1, "A,B": 2, "x": 3}))
    panel.to_csv(tmp_path / "h.csv", index=False)
    panel.to_parquet(tmp_path / "h.parquet", index=False)
    model = tmp_path / "m.safetensors"
    code, _, err = run_main(
        capsys, "fit", "--data", tmp_path / "h.csv", "--out", model, "--estimator", "lstm",
        "--horizon", "2", "--seq-len", "3", "--hidden-size", "4", "--max-epochs", "1",
        "--scaler", "standard", "--batch-size", "4",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run_main(
        capsys, "predict", "--model", model, "--data", tmp_path / "h.parquet", "--out",
        tmp_path / "out", "--engine", "dask", "--engine-address", dask_client.scheduler.address,
    )  # fmt: skip
    assert code == 0, err
    got = _sorted(pd.read_parquet(tmp_path / "out"))
    assert sorted(got["unique_id"].unique()) == ["1", "2", "3"]
    import forecast

    fitted = forecast.load(model)
    with pytest.raises(forecast.DataError, match="not seen at fit"):  # the library: no typing
        fitted.predict(dd.from_pandas(panel, npartitions=1)).compute()


# ------------------------------------------------------------------------------ time zones


def _berlin() -> pd.DataFrame:
    """Two daily series on Europe/Berlin midnights, ending the day before the spring change."""
    times = pd.date_range("2024-03-01", "2024-03-30", freq="D", tz="Europe/Berlin")
    return pd.concat(
        [
            pd.DataFrame({"unique_id": sid, "ds": times, "y": np.arange(len(times)) + 10.0 * k})
            for k, sid in enumerate(["a", "b"])
        ],
        ignore_index=True,
    )


def _instants(values) -> list[pd.Timestamp]:
    return [pd.Timestamp(v).tz_convert("UTC") for v in values]


def test_a_tz_aware_model_forecasts_in_its_zone_whatever_zone_the_engine_hands_over(
    spark, dask_client, tmp_path, capsys
):
    """The history in UTC (Dask) or as Spark's session-time instants: forecasts were at
    23:00 UTC after the change to summer time, 01:00 in Berlin, not its midnights."""
    import dask.dataframe as dd

    berlin = _berlin()
    model = NaiveForecaster(horizon=3).fit(berlin)
    expected = _sorted(model.predict(berlin))  # 03-31 00:00+01:00, then 00:00+02:00
    assert expected["ds"].dt.hour.eq(0).all()
    utc = berlin.assign(ds=berlin["ds"].dt.tz_convert("UTC"))
    got = _sorted(model.predict(dd.from_pandas(utc, npartitions=2)).compute())
    assert str(got["ds"].dt.tz) == "Europe/Berlin"  # the model's zone, as in pandas
    assert got["ds"].tolist() == expected["ds"].tolist()
    rows = model.predict(spark.createDataFrame(utc)).toPandas()  # session zone: UTC
    rows = _sorted(rows.assign(ds=pd.to_datetime(rows["ds"]).dt.tz_localize("UTC")))
    assert rows["ds"].tolist() == _instants(expected["ds"])
    # the command line: Dask writes the model's zone, Spark UTC instants marked as such
    utc.to_parquet(tmp_path / "utc.parquet", index=False)
    model.save(tmp_path / "m.safetensors")
    base = ("predict", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "utc.parquet")
    for name, extra in (
        ("dask", ("--engine-address", dask_client.scheduler.address)),
        ("spark", ()),  # the fixture's session, which the command finds
    ):
        out = tmp_path / name
        code, _, err = run_main(capsys, *base, "--out", out, "--engine", name, *extra)
        assert code == 0, err
        written = _sorted(pd.read_parquet(out))
        assert str(written["ds"].dt.tz) == ("Europe/Berlin" if name == "dask" else "UTC")
        assert _instants(written["ds"]) == _instants(expected["ds"]), name
    assert spark.conf.get("spark.sql.parquet.outputTimestampType") != "TIMESTAMP_MICROS"


# ---------------------------------------------------------------------------- --data checks


@pytest.mark.parametrize("engine", ["dask", "spark"])
def test_cli_engine_refuses_a_missing_or_non_parquet_data_naming_it(engine, tmp_path, capsys):
    """These exited 1 with a worker's FileNotFoundError or ArrowInvalid (after starting
    the engine); --future-data is checked as --data is."""
    panel = _panel()
    NaiveForecaster(horizon=2).fit(panel).save(tmp_path / "m.safetensors")
    panel.to_csv(tmp_path / "h.csv", index=False)
    panel.to_parquet(tmp_path / "h.parquet", index=False)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    (tmp_path / "mixed").mkdir()
    panel.to_parquet(tmp_path / "mixed" / "a.parquet", index=False)
    panel.to_csv(tmp_path / "mixed" / "b.csv", index=False)
    cases = [
        (("--data", tmp_path / "nope.parquet"), "no such file or folder"),
        (("--data", f"{tmp_path}/nothing-*.parquet"), "no file matches it"),
        (("--data", tmp_path / "h.csv"), "'{p}/h.csv' is not a Parquet file"),
        (("--data", tmp_path / "empty"), "holds no Parquet parts"),
        (("--data", tmp_path / "mixed"), "'{p}/mixed/b.csv' is not a Parquet file"),
        (("--data", tmp_path / "h.parquet", "--future-data", tmp_path / "h.csv"),
         "--future-data '{p}/h.csv': '{p}/h.csv' is not a Parquet file"),
    ]  # fmt: skip
    for args, message in cases:
        code, out, err = run_main(
            capsys, "predict", "--model", tmp_path / "m.safetensors", *args, "--out",
            tmp_path / "out", "--engine", engine,
        )  # fmt: skip
        assert (code, out) == (2, ""), err
        assert err.startswith("forecast: error: DataError: --"), err
        assert message.format(p=tmp_path) in err
    assert not (tmp_path / "out").exists()


def test_cli_engine_checks_out_before_starting_the_engine(dask_client, tmp_path, capsys):
    """An empty --out (an unset $OUT) exited 1 after starting the engine; --out inside the
    --data folder wrote the forecast there as parts of the next night's history, exit 0;
    --out forecast.csv wrote a folder of Parquet under a CSV file's name; one under a file
    failed in the engine. Missing folders above --out are still created."""
    import os

    panel = _panel()
    NaiveForecaster(horizon=2).fit(panel).save(tmp_path / "m.safetensors")
    (tmp_path / "parts").mkdir()
    panel.to_parquet(tmp_path / "parts" / "a.parquet", index=False)
    panel.to_parquet(tmp_path / "h.parquet", index=False)
    (tmp_path / "file").write_text("")
    cases = [
        ("", "--out is empty"),
        (tmp_path / "parts" / "forecast", "is inside the input folder '{p}/parts'"),
        (tmp_path / "forecast.csv", "names a CSV file"),
        (tmp_path / "file" / "forecast", "'{p}/file' is not a folder"),
    ]
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "ro").mkdir(mode=0o555)
        cases.append((tmp_path / "ro" / "new" / "forecast", "Cannot write '{p}/ro/new/forecast'"))
    address = dask_client.scheduler.address
    engine = ("--engine", "dask", "--engine-address", address)
    for out, message in cases:
        code, stdout, err = run_main(
            capsys, "predict", "--model", tmp_path / "m.safetensors", "--data",
            tmp_path / "parts", "--out", out, *engine,
        )  # fmt: skip
        assert (code, stdout) == (2, ""), err
        assert err.startswith("forecast: error: UsageError: "), err
        assert message.format(p=tmp_path) in err
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["a.parquet"]
    out = tmp_path / "new" / "nightly" / "forecast"
    code, _, err = run_main(
        capsys, "predict", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "h.parquet",
        "--out", out, "--no-metadata", *engine,
    )  # fmt: skip
    assert code == 0, err
    got = _sorted(pd.read_parquet(out))
    expected = _sorted(NaiveForecaster(horizon=2).fit(panel).predict(panel))
    pd.testing.assert_frame_equal(got[list(expected.columns)], expected, check_dtype=False)
