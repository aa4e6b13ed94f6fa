"""Spark and Dask frames at predict, backtest and score: per partition, equal to pandas.

One local Spark session (``local[2]``) and one ``distributed.LocalCluster`` (2 worker
processes) serve the whole module. Each result is compared with the same call on the whole
frame in pandas, to 1e-6: the network computes in float32, and a partition's batches
hold other series than the whole frame's, so matrix products sum in other orders (seen:
3e-9 on a score).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from optional import optional

pyspark = optional("pyspark")
dask = optional("dask")
distributed = optional("distributed")

from sklearn.base import clone  # noqa: E402

from forecast import DataError, DataTypeError, InvalidParameterError, LSTMForecaster  # noqa: E402
from forecast.backtest import backtest  # noqa: E402
from forecast.evaluation.fitted import fitted_backtest, fold_rows  # noqa: E402
from forecast.features import calendar_features  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # distributed's workers are separate processes; ours runs them for the whole module.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
ENGINES = ["spark", "dask"]


def _panel(n_series: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    parts = []
    for i in range(n_series):
        n = 30 + 3 * i
        t = np.arange(n)
        times = pd.date_range("2024-01-01", periods=n, freq="D") + pd.Timedelta(days=i)
        part = pd.DataFrame(
            {
                "id": f"s{i}",
                "ds": times,
                "y": 10 + i + np.sin(2 * np.pi * t / 7) + 0.2 * rng.standard_normal(n),
                "x": np.cos(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(n),
            }
        )
        parts.append(
            part.join(
                calendar_features(pd.DatetimeIndex(times), features=["day_of_week"]).reset_index(
                    drop=True
                )
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return _panel()


@pytest.fixture(scope="module")
def model(panel) -> LSTMForecaster:
    """Past covariate x, calendar known-future day_of_week, quantiles: every column kind."""
    return LSTMForecaster(
        id_col="id", time_col="ds", seq_len=7, horizon=3, hidden_size=4, max_epochs=1,
        batch_size=64, past_covariates=["x"], future_covariates=["day_of_week"],
        quantiles=[0.1, 0.5, 0.9], validation_size=0, progress_bar=False, random_state=0,
    ).fit(panel)  # fmt: skip


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers: this venv
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("forecast-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(params=ENGINES)
def engine(request):
    """A function: a pandas frame -> the same frame on the engine; and the engine's name."""
    if request.param == "spark":
        session = request.getfixturevalue("spark")
        return "spark", session.createDataFrame
    request.getfixturevalue("dask_client")
    import dask.dataframe as dd

    return "dask", lambda frame: dd.from_pandas(frame, npartitions=3)


def _pandas(frame) -> pd.DataFrame:
    """An engine's frame in pandas, in a canonical row order."""
    out = frame.toPandas() if hasattr(frame, "toPandas") else frame.compute()
    keys = [c for c in ("id", "window", "ds", "step", "target") if c in out.columns]
    return out.sort_values(keys).reset_index(drop=True)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    keys = ["id", *[c for c in ("window", "ds", "step", "target") if c in got.columns]]
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected) > 0
    for name in got.columns:
        if pd.api.types.is_float_dtype(expected[name]):
            np.testing.assert_allclose(got[name].to_numpy(float), expected[name], atol=1e-6)
        elif pd.api.types.is_datetime64_any_dtype(expected[name]):
            assert (pd.to_datetime(got[name]).to_numpy() == expected[name].to_numpy()).all()
        else:
            assert got[name].astype(str).tolist() == expected[name].astype(str).tolist(), name


def _predict(model, frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """In-process predict; its calendar covariates from make_future_frame, as a worker does."""
    return model.predict(frame, future_covariates=model.make_future_frame(frame), **kwargs)


def test_predict_equals_pandas(engine, model, panel):
    name, to_engine = engine
    out = model.predict(to_engine(panel))
    assert type(out).__module__.startswith("pyspark" if name == "spark" else "dask")
    expected = _predict(model, panel)
    assert list(expected.columns) == ["id", "ds", "y", "y_q0.1", "y_q0.5", "y_q0.9"]
    _same(_pandas(out), expected)


def test_the_panel_model_network_theta_and_damped_trend_predicts_and_scores_as_in_pandas(
    engine, panel
):
    from forecast.presets import panel_forecaster

    _, to_engine = engine
    combined = panel_forecaster(
        7, 3, id_col="id", time_col="ds", target="y", hidden_size=4,
        trainer_kwargs={"max_steps": 3}, progress_bar=False, random_state=0,
    ).fit(panel)  # fmt: skip
    _same(_pandas(combined.predict(to_engine(panel))), combined.predict(panel))
    assert combined.score(to_engine(panel)) == pytest.approx(combined.score(panel), abs=1e-6)


@pytest.fixture(scope="module")
def head_model(model, panel) -> LSTMForecaster:
    """``model`` refitted on the rows before a 2-window backtest's first cutoff: what a
    backtest without refit may forecast with (a model fitted later has seen the tests)."""
    return clone(model).fit(fold_rows(model, panel, 2, fold=0)[0])


def test_backtest_equals_pandas_and_the_forecasts_are_predicts_of_the_histories(
    engine, head_model, panel
):
    model = head_model
    name, to_engine = engine
    result = backtest(model, to_engine(panel), n_windows=2, refit=False)
    forecasts, metrics, bad, missing = fitted_backtest(model, panel, n_windows=2)
    _same(_pandas(result.forecasts), forecasts)
    _same(_pandas(result.metrics), metrics)
    assert (result.bad_series, result.missing_actuals, bad, missing) == ([], 0, [], 0)
    assert "coverage_80" in metrics.columns  # interval metrics of the quantiles, too
    summary = _pandas(result.summary()).set_index("target") if name == "spark" else None
    if summary is None:
        summary = result.summary().compute()
    expected = metrics.groupby("target")[list(summary.columns)].mean()
    np.testing.assert_allclose(summary.loc[expected.index], expected, atol=1e-6)
    # Window 1 is the last: its forecasts are those of predict on each series' history.
    history = panel[panel.groupby("id").cumcount(ascending=False) >= 3]
    last = _pandas(result.forecasts).query("window == 1")
    np.testing.assert_allclose(last["forecast"], _predict(model, history)["y"], atol=1e-6)


def test_score_equals_pandas(engine, model, panel):
    _, to_engine = engine
    assert model.score(to_engine(panel)) == pytest.approx(model.score(panel), abs=1e-6)


def test_a_bad_series_raises_our_error_naming_it_not_a_worker_traceback(engine, model, panel):
    _, to_engine = engine
    bad = panel.copy()
    bad.loc[bad.index[bad.id == "s5"][-2], "x"] = np.nan
    with pytest.raises(DataError, match="s5") as info:
        model.predict(to_engine(bad))
    assert "Traceback" not in str(info.value)
    with pytest.raises(DataError, match="s5"):
        _predict(model, bad)  # the same error in pandas


def test_on_bad_series_skip_works_per_partition_and_says_so(engine, model, panel):
    _, to_engine = engine
    bad = panel.copy()
    bad.loc[bad.index[bad.id == "s5"][-2], "x"] = np.nan
    with pytest.warns(UserWarning, match="s5"):
        out = _pandas(model.predict(to_engine(bad), on_bad_series="skip"))
    assert "s5" not in set(out["id"])
    _same(out, _predict(model, bad.query("id != 's5'")))  # the others, as without s5


def test_on_bad_series_fallback_marks_the_rows_source(dask_client, model, panel):
    import dask.dataframe as dd

    bad = panel.copy()
    bad.loc[bad.index[bad.id == "s5"][-2], "x"] = np.nan
    frame = dd.from_pandas(bad, npartitions=3)
    with pytest.warns(UserWarning, match="s5"):
        out = _pandas(model.predict(frame, on_bad_series="fallback"))
    assert set(out.loc[out["id"] == "s5", "source"]) == {"naive"}
    assert set(out.loc[out["id"] != "s5", "source"]) == {"model"}
    good = out[out["id"] != "s5"].drop(columns="source").reset_index(drop=True)
    _same(good, _predict(model, bad.query("id != 's5'")))


def test_a_backtest_on_an_engine_forecasts_with_the_fitted_model_only(spark, model, panel):
    frame = spark.createDataFrame(panel)
    with pytest.raises(InvalidParameterError, match="'refit' parameter of backtest must be"):
        backtest(model, frame, n_windows=2)
    with pytest.raises(InvalidParameterError, match=r"fold_history.*fit_spark") as info:
        backtest(LSTMForecaster(id_col="id", time_col="ds"), frame, n_windows=2, refit=2)
    assert "one model per partition" in str(info.value)  # why, before it asks for a fitted one
    with pytest.raises(DataError, match=r"no column\(s\) \['id'\]"):
        model.predict(frame.withColumnRenamed("id", "key"))


def test_a_backtest_refuses_a_model_fitted_past_its_first_cutoff(engine, model, panel):
    """Fitted on the whole frame, the model has seen every test window: its scores would
    flatter it. Refused on the engine as in the fitted path in-process, naming the series."""
    _, to_engine = engine
    match = r"fitted on series '\w+' up to .*after the backtest's first cutoff"
    with pytest.raises(DataError, match=match):
        fitted_backtest(model, panel, n_windows=2)
    with pytest.raises(DataError, match=match):
        _pandas(backtest(model, to_engine(panel), n_windows=2, refit=False).forecasts)


def test_importing_forecast_imports_no_engine():
    code = (
        "import sys, forecast, forecast.engines, forecast.engines._partition\n"
        "from forecast import LSTMForecaster, NaiveForecaster\n"
        "from forecast.backtest import backtest\n"
        "engines = ('pyspark', 'dask', 'distributed')\n"
        "found = sorted(m for m in sys.modules if m.split('.')[0] in engines)\n"
        "assert not found, found\n"
    )  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("engine", "extra"), [("spark", "spark"), ("dask", "dask")])
def test_a_missing_extra_names_the_install_command(engine, extra):
    blocked = "pyspark" if engine == "spark" else "dask"
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from forecast._exceptions import DataTypeError\n"
        "from forecast.engines import require\n"
        "try:\n"
        f"    require({engine!r})\n"
        "except DataTypeError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert f"pip install 'forecast-rnn[{extra}]'" in out.stdout


# ------------------------------------------------------------------------------ command line


@pytest.mark.parametrize("name", ENGINES)
def test_cli_predict_on_an_engine_writes_parquet_parts_equal_to_pandas(
    name, model, panel, tmp_path, capsys, request
):
    from conftest import run_main

    model.save(tmp_path / "m.safetensors")
    parts = tmp_path / "history"
    parts.mkdir()
    for i, (_, group) in enumerate(panel.groupby("id")):  # one part per series
        group.to_parquet(parts / f"part-{i}.parquet", index=False)
    out = tmp_path / "forecast"
    args = ["predict", "--model", tmp_path / "m.safetensors", "--data", parts, "--out", out]
    if name == "spark":
        request.getfixturevalue("spark")  # the session the command finds and keeps
        args += ["--engine", "spark"]
    else:
        address = request.getfixturevalue("dask_client").scheduler.address
        args += ["--engine", "dask", "--engine-address", address]
    code, _, err = run_main(capsys, *args)
    assert code == 0, err
    got = pd.read_parquet(out).sort_values(["id", "ds"]).reset_index(drop=True)
    assert {"model_checksum", "library_version", "created_at"} <= set(got.columns)
    expected = _predict(model, panel)
    _same(got[list(expected.columns)], expected)
    code, _, err = run_main(capsys, *args)  # never mixed with another run's parts
    assert code == 2
    assert "exists" in err


def test_cli_engine_refuses_options_that_need_the_whole_panel(model, tmp_path, capsys):
    from conftest import run_main

    model.save(tmp_path / "m.safetensors")
    code, _, err = run_main(
        capsys, "predict", "--model", tmp_path / "m.safetensors", "--data", tmp_path,
        "--out", tmp_path / "out", "--engine", "dask", "--max-bad-fraction", "0.5",
    )  # fmt: skip
    assert code == 2
    assert "--max-bad-fraction cannot be used with --engine" in err
    assert "whole panel" in err


@pytest.mark.parametrize("flag", [["--timezone", "Europe/Berlin"], ["--date-format", "%Y-%m-%d"]])
def test_cli_engine_refuses_reader_options_for_what_they_are(model, tmp_path, capsys, flag):
    from conftest import run_main

    model.save(tmp_path / "m.safetensors")
    code, _, err = run_main(
        capsys, "predict", "--model", tmp_path / "m.safetensors", "--data", tmp_path,
        "--out", tmp_path / "out", "--engine", "dask", *flag,
    )  # fmt: skip
    assert code == 2
    assert f"{flag[0]} cannot be used with --engine" in err
    assert "reads --data as Parquet itself" in err
    assert "whole panel" not in err


def test_spark_chunks_hold_whole_series_whatever_the_batches_cut(monkeypatch, panel):
    from forecast.engines import spark as adapter

    monkeypatch.setattr(adapter, "ROWS_PER_CALL", 50)
    rows = panel.sort_values(["id", "ds"]).reset_index(drop=True)
    batches = [rows.iloc[i : i + 17] for i in range(0, len(rows), 17)]  # cut inside series
    chunks = list(adapter._chunks(iter(batches), "id"))
    assert len(chunks) > 1
    seen: set[str] = set()
    for chunk in chunks:
        ids = set(chunk["id"])
        assert not ids & seen  # no series in two chunks
        seen |= ids
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), rows)


@pytest.mark.parametrize("progress", [False, True])
def test_a_spark_session_the_command_creates_shows_progress_bars_only_on_a_terminal(
    progress, monkeypatch
):
    """Spark drew its [Stage ...] progress bars on stderr whatever it was (a cron job's log,
    CI), against "no progress bar unless stderr is a terminal"."""
    from forecast.cli import engines

    conf: dict[str, str] = {}

    class Builder:
        def master(self, value):
            return self

        def appName(self, value):
            return self

        def config(self, key, value):
            conf[key] = value
            return self

        def getOrCreate(self):
            return Session()

    class Session:
        builder = Builder()

        @staticmethod
        def getActiveSession():
            return None

        def stop(self):
            pass

    monkeypatch.setattr("pyspark.sql.SparkSession", Session)
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # _spark sets it if unset
    engines._spark(None, progress)
    assert conf["spark.ui.showConsoleProgress"] == str(progress).lower()


# ------------------------------------------------------------------ known-future covariates


@pytest.fixture(scope="module")
def promo_panel() -> pd.DataFrame:
    """The panel with a known-future covariate of the user's (not a calendar feature)."""
    frame = _panel()
    frame["promo"] = np.random.default_rng(2).integers(0, 2, len(frame)).astype(float)
    return frame


@pytest.fixture(scope="module")
def promo_model(promo_panel) -> LSTMForecaster:
    return LSTMForecaster(
        id_col="id", time_col="ds", seq_len=7, horizon=3, hidden_size=4, max_epochs=1,
        batch_size=64, past_covariates=["x"], future_covariates=["promo", "day_of_week"],
        quantiles=[0.1, 0.9], validation_size=0, progress_bar=False, random_state=0,
    ).fit(promo_panel)  # fmt: skip


def _future(model, frame: pd.DataFrame) -> pd.DataFrame:
    """Each series' future rows, the user's covariate filled, and rows predict ignores: a
    series without history and a day past each horizon."""
    future = model.make_future_frame(frame)
    rng = np.random.default_rng(3)
    future["promo"] = rng.integers(0, 2, len(future)).astype(float)
    extra = future.groupby("id").tail(1).assign(ds=lambda f: f["ds"] + pd.Timedelta(days=1))
    stranger = future[future["id"] == "s0"].assign(id="unseen")
    return pd.concat([extra, future, stranger], ignore_index=True).sample(frac=1, random_state=0)


@pytest.mark.parametrize("source", ["engine", "pandas"])
def test_predict_with_future_covariates_equals_pandas(
    engine, source, promo_model, promo_panel, monkeypatch
):
    name, to_engine = engine
    if name == "spark":  # each bucket forecast in chunks of whole series (about 2 each)
        from forecast.engines import spark as adapter

        monkeypatch.setattr(adapter, "ROWS_PER_CALL", 60)
    future = _future(promo_model, promo_panel)
    given = to_engine(future) if source == "engine" else future
    if source == "engine" and name == "dask":  # partitioned otherwise than the history
        given = given.repartition(npartitions=5)
    out = promo_model.predict(to_engine(promo_panel), future_covariates=given)
    assert type(out).__module__.startswith("pyspark" if name == "spark" else "dask")
    expected = promo_model.predict(promo_panel, future_covariates=future)
    _same(_pandas(out), expected)
    # The user's covariate is read: other values, other forecasts (not only the calendar's).
    flipped = future.assign(promo=1.0 - future["promo"])
    other = _pandas(promo_model.predict(to_engine(promo_panel), future_covariates=flipped))
    assert np.abs(other["y"].to_numpy() - expected["y"].to_numpy()).max() > 1e-4


def test_future_covariates_missing_for_a_series_raise_as_in_pandas(
    engine, promo_model, promo_panel
):
    _, to_engine = engine
    future = _future(promo_model, promo_panel)
    cases = {
        "absent": future[future["id"] != "s5"],
        "too few rows": future.drop(future.index[future["id"] == "s5"][:2]),
        "NaN": future.assign(promo=future["promo"].where(future["id"] != "s5")),
    }
    for case, frame in cases.items():
        with pytest.raises(DataError) as in_pandas:
            promo_model.predict(promo_panel, future_covariates=frame)
        for options in ({}, {"on_bad_series": "skip"}):  # the same as pandas: raised
            with pytest.raises(DataError, match="'s5'") as info:
                promo_model.predict(
                    to_engine(promo_panel), future_covariates=to_engine(frame), **options
                )
            assert str(info.value) == str(in_pandas.value), case
            assert "Traceback" not in str(info.value)


def test_future_covariates_are_asked_for_and_checked_before_anything_runs(
    spark, dask_client, promo_model, model, promo_panel
):
    import dask.dataframe as dd

    frame = spark.createDataFrame(promo_panel)
    with pytest.raises(DataError, match=r"known-future covariates \['promo', 'day_of_week'\]"):
        promo_model.predict(frame)  # calendar features alone are computed on the workers
    future = _future(promo_model, promo_panel)
    with pytest.raises(DataError, match=r"lacks column\(s\) \['promo'\]"):
        promo_model.predict(frame, future_covariates=future.drop(columns="promo"))
    with pytest.raises(DataTypeError, match="a dask frame and the history a spark frame"):
        promo_model.predict(frame, future_covariates=dd.from_pandas(future, npartitions=2))
    plain = LSTMForecaster(
        id_col="id", time_col="ds", seq_len=7, horizon=3, hidden_size=4, max_epochs=1,
        validation_size=0, progress_bar=False,
    ).fit(promo_panel[["id", "ds", "y"]])  # fmt: skip
    with pytest.raises(DataError, match="fitted without known-future covariates"):
        plain.predict(
            spark.createDataFrame(promo_panel[["id", "ds", "y"]]), future_covariates=future
        )


def test_backtest_and_score_read_future_covariates_from_the_frame_as_pandas_does(
    engine, promo_model, promo_panel
):
    _, to_engine = engine
    head = clone(promo_model).fit(fold_rows(promo_model, promo_panel, 2, fold=0)[0])
    result = backtest(head, to_engine(promo_panel), n_windows=2, refit=False)
    forecasts, metrics, _, _ = fitted_backtest(head, promo_panel, n_windows=2)
    _same(_pandas(result.forecasts), forecasts)
    _same(_pandas(result.metrics), metrics)
    assert promo_model.score(to_engine(promo_panel)) == pytest.approx(
        promo_model.score(promo_panel), abs=1e-6
    )


@pytest.mark.parametrize("name", ENGINES)
def test_cli_predict_on_an_engine_reads_future_data_as_parquet(
    name, promo_model, promo_panel, tmp_path, capsys, request
):
    from conftest import run_main

    promo_model.save(tmp_path / "m.safetensors")
    promo_panel.to_parquet(tmp_path / "history.parquet", index=False)
    future = _future(promo_model, promo_panel)
    future.to_parquet(tmp_path / "future.parquet", index=False)
    args = [
        "predict", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "history.parquet",
        "--no-metadata", "--engine", name,
    ]  # fmt: skip
    if name == "spark":
        request.getfixturevalue("spark")
    else:
        args += ["--engine-address", request.getfixturevalue("dask_client").scheduler.address]
    code, _, err = run_main(capsys, *args, "--out", tmp_path / "a")
    assert code == 2
    assert "--future-data PATH" in err
    code, _, err = run_main(
        capsys, *args, "--future-data", tmp_path / "future.parquet", "--out", tmp_path / "b"
    )
    assert code == 0, err
    got = pd.read_parquet(tmp_path / "b").sort_values(["id", "ds"]).reset_index(drop=True)
    _same(got, promo_model.predict(promo_panel, future_covariates=future))


# ------------------------------------------------------------------ backtests that refit


def _rows_before(frame: pd.DataFrame, after: int, keep: int | None = None) -> pd.DataFrame:
    """Each series' rows but its last ``after`` (and of those, the last ``keep``): computed
    here by counting, not by the backtest's folds."""
    from_end = frame.groupby("id").cumcount(ascending=False)
    chosen = from_end >= after
    if keep is not None:
        chosen &= from_end < after + keep
    return frame[chosen]


def test_fold_history_cuts_each_series_where_the_backtest_fits_it(engine, model, panel):
    from forecast.backtest import fold_history

    _, to_engine = engine
    frame = to_engine(panel)
    cases = [
        ({"fold": 0}, _rows_before(panel, 3 + 2 * 4)),  # horizon 3, 3 windows every 4 rows
        ({"fold": 2}, _rows_before(panel, 3)),
        ({"fold": 1, "window": "sliding", "window_length": 10}, _rows_before(panel, 7, 10)),
    ]
    for options, expected in cases:
        got = _pandas(fold_history(model, frame, 3, 4, **options))
        _same(got, expected)
        _same(fold_history(model, panel, 3, 4, **options), expected)  # pandas, the same
    with pytest.raises(DataError, match="Too few rows to backtest: series 's0'"):
        fold_history(model, frame, 10)  # s0 has 30 rows: 10 windows of 3 hold out 30


REFIT = {  # what a fit from Parquet parts takes (no conformal intervals, no transform)
    "id_col": "id", "time_col": "ds", "seq_len": 7, "horizon": 3, "hidden_size": 4,
    "max_epochs": 2, "batch_size": 16, "past_covariates": ["x"], "validation_size": 0,
    "progress_bar": False, "random_state": 0,
}  # fmt: skip


def test_a_refit_backtest_is_one_global_fit_per_window_on_the_engine(engine, panel, tmp_path):
    """The code the refusal names, each window's rows written by the engine as Parquet
    parts by series and one global model fitted from them (fit_spark does the same on
    Spark with several training processes: tests/test_partitioned_spark.py); each window's
    forecasts equal those of pandas' backtest(refit=True), to 1e-6."""
    import forecast
    from forecast.backtest import fold_history

    name, to_engine = engine
    frame = to_engine(panel[["id", "ds", "y", "x"]])
    estimator = LSTMForecaster(**REFIT)
    expected = backtest(estimator, panel[["id", "ds", "y", "x"]], 2, refit=True).forecasts
    for w in range(2):
        train = fold_history(estimator, frame, 2, fold=w)
        folder = tmp_path / f"window-{w}"
        if name == "spark":
            train.repartition(4, "id").write.parquet(str(folder))
        else:
            train.shuffle(on="id").to_parquet(folder)
        model = LSTMForecaster(**REFIT).fit(forecast.parts(folder))
        got = _pandas(backtest(model, frame, 2 - w, refit=False).forecasts).query("window == 0")
        want = expected.query(f"window == {w}").sort_values(["id", "ds"])
        assert got[["id", "ds"]].astype(str).values.tolist() == (
            want[["id", "ds"]].astype(str).values.tolist()
        )
        np.testing.assert_allclose(got["forecast"], want["forecast"], rtol=0, atol=1e-6)
        assert np.abs(got["forecast"].to_numpy() - got["actual"].to_numpy()).max() > 1e-3
