"""Per-series isolation at predict: on_bad_series, max_staleness, expect_ids, the report,
and ``forecast predict --on-bad-series`` end to end (exit status, report file, output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import (
    BadSeriesError,
    DampedTrendForecaster,
    DataError,
    InvalidParameterError,
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)

SCRIPT = Path(sys.executable).parent / "forecast"
IDS = ["a", "b", "c", "d"]


def _panel(ids=IDS, n=40, start="2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame(
            {
                "id": sid,
                "ds": pd.date_range(start, periods=n, freq="D"),
                "y": 10 + rng.normal(size=n).cumsum(),
            }
        )
        for sid in ids
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return _panel()


@pytest.fixture(scope="module")
def rnn(history) -> RNNForecaster:
    return RNNForecaster(
        id_col="id", time_col="ds", seq_len=5, horizon=3, hidden_size=4, max_epochs=1,
        validation_size=0, progress_bar=False, random_state=0,
    ).fit(history)  # fmt: skip


def _night(history: pd.DataFrame) -> pd.DataFrame:
    """b has a NaN, c ended 10 days early (stale), e is new (unseen by the scaler)."""
    df = history.copy()
    df.loc[df.index[df.id == "b"][-3], "y"] = np.nan
    df = df[~((df.id == "c") & (df.ds > "2024-01-30"))]
    new = pd.DataFrame({"id": "e", "ds": pd.date_range("2024-01-01", periods=40), "y": 7.0})
    return pd.concat([df, new], ignore_index=True)


def _reasons(report: dict) -> dict:
    return {b["id"]: (b["reason"], b["action"]) for b in report["bad"]}


# ------------------------------------------------------------------------------ Python


def test_fail_names_every_bad_series_and_forecasts_nothing(rnn, history):
    with pytest.raises(BadSeriesError, match=r"series 'b': missing_values .*'c': stale") as info:
        rnn.predict(_night(history), max_staleness=2)
    report = info.value.report
    assert _reasons(report) == {
        "b": ("missing_values", "failed"),
        "c": ("stale", "failed"),
        "e": ("unseen", "failed"),
    }
    assert report["n_series"] == 5
    assert report["n_bad"] == 3
    assert isinstance(info.value, DataError)  # except ValueError/DataError keep working


def test_skip_forecasts_the_good_series_as_alone_and_warns(rnn, history):
    night = _night(history)
    with pytest.warns(UserWarning, match=r"3 bad series: series 'b'.*'c'.*'e'"):
        out = rnn.predict(night, on_bad_series="skip", max_staleness=2)
    alone = rnn.predict(night[night.id.isin(["a", "d"])])
    pd.testing.assert_frame_equal(out, alone)
    assert _reasons(out.attrs["bad_series"])["e"] == ("unseen", "skipped")
    assert out.attrs["bad_series"]["bad_fraction"] == pytest.approx(3 / 5)


def test_fallback_marks_baseline_rows_and_dates_stale_series_like_the_others(rnn, history):
    night = _night(history)
    with pytest.warns(UserWarning, match="3 bad series"):
        out = rnn.predict(night, on_bad_series="fallback", max_staleness=2)
    assert list(out.id.unique()) == ["a", "b", "c", "d", "e"]  # series order kept
    source = out.groupby("id").source.first().to_dict()
    assert source == {"a": "model", "b": "naive", "c": "naive", "d": "model", "e": "naive"}
    expected_dates = pd.date_range("2024-02-10", periods=3)  # after the latest, 2024-02-09
    for sid in "abcde":
        assert list(out[out.id == sid].ds) == list(expected_dates)
    last = night.groupby("id").y.last()  # naive: the last value repeated
    for sid in "bce":
        np.testing.assert_array_equal(out[out.id == sid].y, np.repeat(last[sid], 3))
    model_rows = out[out.source == "model"].drop(columns="source").reset_index(drop=True)
    pd.testing.assert_frame_equal(model_rows, rnn.predict(night[night.id.isin(["a", "d"])]))


def test_fallback_is_seasonal_naive_with_a_season_and_naive_when_its_rows_are_missing():
    df = _panel(ids=["a", "b", "c"], n=30)
    model = NaiveForecaster(id_col="id", time_col="ds", horizon=5).fit(df)
    night = df.copy()
    night.loc[night.index[night.id == "b"][-1], "y"] = np.nan  # no finite last row: naive
    night.loc[night.index[night.id == "c"][-2], "y"] = np.nan  # last season not whole
    night = night[~((night.id == "a") & (night.ds == night.ds.max()))]  # a: 1 day stale
    with pytest.warns(UserWarning, match="3 bad series"):
        out = model.predict(night, on_bad_series="fallback", max_staleness=0, fallback_season=7)
    report = _reasons(out.attrs["bad_series"])
    assert report == {
        "a": ("stale", "seasonal_naive"),
        "b": ("missing_values", "naive"),
        "c": ("missing_values", "naive"),
    }
    a = night[night.id == "a"].y.to_numpy()
    # a ends one day before the latest: its forecast for days 2..6 after its end
    # repeats the last week: y[T + d - 7] for d = 2..6.
    np.testing.assert_array_equal(out[out.id == "a"].y, a[len(a) - 1 + np.arange(2, 7) - 7])
    assert list(out.id.unique()) == ["a", "b", "c"]
    b = night[night.id == "b"].y.to_numpy()
    np.testing.assert_array_equal(out[out.id == "b"].y, np.repeat(b[-2], 5))  # last finite


def test_fallback_forecasts_a_history_that_ends_in_nan_even_with_warnings_off():
    # A series whose latest value is not in yet: the fallback gave it no rows, which only
    # the (here suppressed) warning said. It now continues its last finite value.
    df = _panel(ids=["a", "b", "c"], n=30)
    model = NaiveForecaster(id_col="id", time_col="ds", horizon=3).fit(df)
    night = df.copy()
    b_rows = night.index[night.id == "b"]
    night.loc[b_rows[-2:], "y"] = np.nan  # the last two days missing
    night.loc[night.id == "c", "y"] = np.nan  # nothing to continue: skipped, and said so
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.predict(night, on_bad_series="fallback")
    assert list(out.id.unique()) == ["a", "b"]
    b = out[out.id == "b"]
    np.testing.assert_array_equal(b.y, np.repeat(night.loc[b_rows[-3], "y"], 3))
    assert list(b.source) == ["naive"] * 3
    assert list(b.ds) == list(pd.date_range(night.ds.max(), periods=4)[1:])  # after its end
    entries = {e["id"]: e for e in out.attrs["bad_series"]["bad"]}
    assert entries["b"]["action"] == "naive"
    assert "naive from its last finite value" in entries["b"]["detail"]
    assert entries["c"]["action"] == "skipped"
    assert "a target has no finite value" in entries["c"]["detail"]


def test_gaps_duplicates_short_and_absent_series_are_classified(history):
    model = SeasonalNaiveForecaster(id_col="id", time_col="ds", season_length=7, horizon=2)
    model.fit(history)
    night = history[~((history.id == "a") & (history.ds == "2024-01-20"))]  # a gap in a
    dup = night[night.id == "b"].iloc[[-1]]
    night = pd.concat([night, dup], ignore_index=True)  # a duplicate timestamp in b
    short = pd.DataFrame({"id": "z", "ds": pd.date_range("2024-02-05", periods=5), "y": 1.0})
    night = pd.concat([night, short], ignore_index=True)
    with pytest.raises(BadSeriesError) as info:
        model.predict(night, expect_ids=["a", "b", "c", "d", "q"])
    reasons = {b["id"]: b["reason"] for b in info.value.report["bad"]}
    assert reasons == {"a": "gap", "b": "invalid", "z": "short", "q": "absent"}
    detail = {b["id"]: b["detail"] for b in info.value.report["bad"]}
    assert "Duplicate timestamp" in detail["b"]
    assert "5 row(s)" in detail["z"]


def test_a_frame_problem_is_raised_as_it_is_not_blamed_on_each_series(rnn, history):
    with pytest.raises(DataError, match=r"missing \['y'\]") as info:
        rnn.predict(history.rename(columns={"y": "value"}), on_bad_series="skip")
    assert not isinstance(info.value, BadSeriesError)


def test_every_series_bad_under_skip_is_an_error(rnn, history):
    with pytest.raises(BadSeriesError, match="Nothing to forecast: every series is bad"):
        rnn.predict(history[history.id == "a"].head(3), on_bad_series="skip")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"on_bad_series": "drop"}, "'on_bad_series' argument .* one of"),
        ({"max_staleness": -1}, "'max_staleness' argument .* int >= 0"),
        ({"fallback_season": 0}, "'fallback_season' argument .* int >= 1"),
    ],
)
def test_bad_arguments_are_refused(rnn, history, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        rnn.predict(history, **kwargs)


def test_isolation_needs_a_history(rnn):
    with pytest.raises(InvalidParameterError, match=r"pass it as RNNForecaster\.predict"):
        rnn.predict(on_bad_series="skip")


def test_the_defaults_change_nothing(rnn, history):
    out = rnn.predict(history)
    assert "source" not in out
    assert "bad_series" not in out.attrs


# ------------------------------------------------------------------------------ command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_cli_skip_writes_the_good_forecasts_and_a_report_and_exits_by_the_fraction(
    tmp_path, rnn, history
):
    rnn.save(tmp_path / "m.safetensors")
    _night(history).to_csv(tmp_path / "night.csv", index=False)
    (tmp_path / "ids.txt").write_text("a\nb\nc\nd\nf\n")
    run = _cli(
        "predict", "--model", "m.safetensors", "--data", "night.csv", "--out", "fc.csv",
        "--on-bad-series", "skip", "--max-staleness", "2", "--expect-ids", "ids.txt",
        "--report", "report.json", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr  # 4 of 6 bad > the default 0.1
    assert "above --max-bad-fraction" in run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert _reasons(report) == {
        "b": ("missing_values", "skipped"),
        "c": ("stale", "skipped"),
        "e": ("unseen", "skipped"),
        "f": ("absent", "none"),
    }
    assert report["n_series"] == 6
    assert report["exit_status"] == 2
    assert report["max_bad_fraction"] == 0.1
    written = pd.read_csv(tmp_path / "fc.csv")
    assert sorted(written.id.unique()) == ["a", "d"]  # the good series are still written

    ok = _cli(
        "predict", "--model", "m.safetensors", "--data", "night.csv", "--out", "fb.csv",
        "--on-bad-series", "fallback", "--max-bad-fraction", "0.7", "--report", "r2.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    fallback = pd.read_csv(tmp_path / "fb.csv")
    assert set(fallback.source) == {"model", "naive"}
    assert json.loads((tmp_path / "r2.json").read_text())["exit_status"] == 0


def test_cli_fail_writes_the_report_and_no_output(tmp_path, rnn, history):
    rnn.save(tmp_path / "m.safetensors")
    _night(history).to_csv(tmp_path / "night.csv", index=False)
    run = _cli(
        "predict", "--model", "m.safetensors", "--data", "night.csv", "--out", "fc.csv",
        "--expect-fitted-ids", "--report", "report.json", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2
    assert "BadSeriesError" in run.stderr
    assert "series 'e': unseen" in run.stderr
    assert not (tmp_path / "fc.csv").exists()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["on_bad_series"] == "fail"
    assert report["exit_status"] == 2
    assert {b["reason"] for b in report["bad"]} == {"missing_values", "unseen"}


# ------------------------------------------------------------------------------ backtest


def _backtest_frame() -> pd.DataFrame:
    df = _panel(ids=["a", "b", "c", "d"], n=30)
    df.loc[df.index[df.id == "b"][5], "y"] = np.nan  # b: a NaN
    df = df[~((df.id == "c") & (df.ds == "2024-01-10"))]  # c: a gap
    return df[~((df.id == "d") & (df.ds < "2024-01-27"))]  # d: 4 rows, too short


def test_backtest_skip_leaves_the_bad_series_out_and_scores_the_others():
    from forecast.backtest import backtest

    model = NaiveForecaster(id_col="id", time_col="ds", freq="D", horizon=2)
    df = _backtest_frame()
    with pytest.warns(UserWarning, match="Left 3 bad series out of the backtest"):
        result = backtest(model, df, n_windows=2, on_bad_series="skip")
    assert {(b["id"], b["reason"]) for b in result.bad_series} == {
        ("b", "missing_values"),
        ("c", "gap"),
        ("d", "short"),
    }
    alone = backtest(model, df[df.id == "a"], n_windows=2)
    pd.testing.assert_frame_equal(result.metrics, alone.metrics)
    with pytest.raises(DataError):
        backtest(model, df, n_windows=2)  # fail: today's behaviour
    with pytest.raises(InvalidParameterError, match="'fallback' is predict's"):
        backtest(model, df, n_windows=2, on_bad_series="fallback")


def test_cli_backtest_skip_writes_the_metrics_report_and_exit_status(tmp_path):
    _backtest_frame().to_csv(tmp_path / "data.csv", index=False)
    run = _cli(
        "backtest", "--estimator", "naive", "--data", "data.csv", "--id-col", "id",
        "--time-col", "ds", "--freq", "D", "--horizon", "2", "--windows", "2",
        "--on-bad-series", "skip", "--report", "report.json", "--out", "metrics.csv",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr  # 3 of 4 bad > 0.1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_series"] == 4
    assert report["n_bad"] == 3
    assert list(pd.read_csv(tmp_path / "metrics.csv").id.unique()) == ["a"]


def _weekly(n: int = 42) -> pd.DataFrame:
    """Two daily series with a weekly pattern; b gets a NaN in its middle (a bad series whose
    last week is whole, so seasonal naive is possible)."""
    t = np.arange(n)
    parts = [
        pd.DataFrame(
            {
                "id": sid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                "y": 100 + 30 * np.sin(2 * np.pi * t / 7) + 0.5 * t + k,
            }
        )
        for k, sid in enumerate(["a", "b"])
    ]
    return pd.concat(parts, ignore_index=True)


def _fallback(model, night: pd.DataFrame, **kw) -> tuple[str, np.ndarray]:
    with pytest.warns(UserWarning, match="1 bad series"):
        out = model.predict(night, on_bad_series="fallback", **kw)
    (entry,) = out.attrs["bad_series"]["bad"]
    return entry["action"], out[out.id == "b"].y.to_numpy()


def _members(kind: str):
    from forecast import CombinedForecaster, EnsembleForecaster, ThetaForecaster
    from forecast.presets import panel_forecaster

    cols = {"id_col": "id", "time_col": "ds", "horizon": 3}
    tiny = {"hidden_size": 4, "max_epochs": 1, "progress_bar": False, "random_state": 0}
    if kind == "panel_forecaster":  # a network, Theta, damped trend and ETS, all of season 7
        return panel_forecaster(7, 3, id_col="id", time_col="ds", **tiny)
    if kind == "combined":
        return CombinedForecaster(ThetaForecaster(season_length=7, **cols), NaiveForecaster(**cols))
    deseasonalized = {"target_transform": "deseasonalize", "season_length": 7}
    network = RNNForecaster(seq_len=7, validation_size=0, **cols, **tiny)
    return EnsembleForecaster(network, n_members=2, member_params=[{}, deseasonalized])


@pytest.mark.parametrize("kind", ["panel_forecaster", "combined", "ensemble"])
def test_a_combination_or_ensemble_falls_back_on_its_members_season(kind):
    # They have no season_length of their own, only their members': the fallback was naive.
    df = _weekly()
    night = df.copy()
    night.loc[night.index[night.id == "b"][20], "y"] = np.nan
    model = _members(kind).fit(df)
    b = night[night.id == "b"].y.to_numpy()
    assert _fallback(model, night) == ("seasonal_naive", pytest.approx(b[-7:-4]))
    assert _fallback(model, night, fallback_season=1) == ("naive", pytest.approx([b[-1]] * 3))


def test_members_of_different_seasons_fall_back_on_the_largest(tmp_path, capsys):
    from conftest import run_main

    from forecast import CombinedForecaster

    df = _weekly(n=42)
    night = df.copy()
    night.loc[night.index[night.id == "b"][10], "y"] = np.nan
    cols = {"id_col": "id", "time_col": "ds", "horizon": 3}
    model = CombinedForecaster(
        SeasonalNaiveForecaster(season_length=7, **cols),
        SeasonalNaiveForecaster(season_length=14, **cols),
    ).fit(df)
    b = night[night.id == "b"].y.to_numpy()
    assert _fallback(model, night) == ("seasonal_naive", pytest.approx(b[-14:-11]))
    assert _fallback(model, night, fallback_season=7) == ("seasonal_naive", pytest.approx(b[-7:-4]))
    # the command line: the members' season by default, --fallback-season over it
    model.save(tmp_path / "m.safetensors")
    night.to_csv(tmp_path / "night.csv", index=False)
    for flags, expected in (([], b[-14:-11]), (["--fallback-season", "1"], [b[-1]] * 3)):
        code, _, err = run_main(
            capsys, "predict", "--model", tmp_path / "m.safetensors", "--data",
            tmp_path / "night.csv", "--out", tmp_path / "fc.csv", "--on-bad-series",
            "fallback", "--max-bad-fraction", "1", *flags,
        )  # fmt: skip
        assert code == 0, err
        written = pd.read_csv(tmp_path / "fc.csv")
        np.testing.assert_allclose(written[written.id == "b"].y, expected)


def test_backtest_skip_ignores_nan_in_a_column_the_model_does_not_read():
    """past_covariates=[]: 'notes' is not read, so its NaN (in 'a') is no reason to leave
    'a' out; predict's isolation checks only the columns read, and so does the backtest's."""
    from forecast.backtest import backtest

    df = _panel(ids=["a", "b"], n=20).assign(notes=1.0)
    df.loc[3, "notes"] = np.nan
    model = RNNForecaster(
        id_col="id", time_col="ds", target="y", past_covariates=[], seq_len=4, horizon=2,
        hidden_size=4, max_epochs=1, validation_size=0, progress_bar=False, random_state=0,
    )  # fmt: skip
    result = backtest(model, df, n_windows=1, on_bad_series="skip")
    assert result.bad_series == []
    pd.testing.assert_frame_equal(result.metrics, backtest(model, df, n_windows=1).metrics)


def test_backtest_skip_counts_timestamps_not_rows_under_masking():
    """missing='mask': 'b' lacks 2 of its 12 timestamps, which the folds insert as missing
    rows, so it has the 12 the windows need; 'c' has 10 timestamps and is short."""
    from forecast.backtest import backtest

    df = _panel(ids=["a", "b", "c"], n=12)
    b, c = df.index[df.id == "b"], df.index[df.id == "c"]
    df = df.drop(index=[b[3], b[5], c[0], c[1]])
    model = NaiveForecaster(id_col="id", time_col="ds", freq="D", horizon=3, missing="mask")
    options = {"n_windows": 3, "step": 4, "metrics": ["mae"]}
    with pytest.warns(UserWarning, match="Left 1 bad series out of the backtest: 'c': short"):
        result = backtest(model, df, on_bad_series="skip", **options)
    assert result.bad_series == [
        {
            "id": "c",
            "reason": "short",
            "detail": "10 timestamp(s), missing ones included; the windows need 12",
            "action": "skipped",
        }
    ]
    without_c = df[df.id != "c"]
    pd.testing.assert_frame_equal(result.metrics, backtest(model, without_c, **options).metrics)


def test_a_boxcox_forecast_beyond_the_range_is_a_bad_series():
    """A series whose Box-Cox forecast leaves the range (its back-transform undefined) failed
    the whole predict, on_bad_series='skip' included: now it is isolated, by name."""
    t = np.arange(40.0)
    ds = pd.date_range("2000-01-01", periods=40, freq="MS")
    df = pd.concat(
        [
            pd.DataFrame({"id": "falling", "ds": ds, "y": 1000 - 24.9 * t}),
            pd.DataFrame({"id": "fine", "ds": ds, "y": 500 + 3 * np.sin(t)}),
        ]
    )
    model = DampedTrendForecaster(
        horizon=6, id_col="id", time_col="ds", target="y", target_transform="boxcox"
    ).fit(df)
    alone = model.predict(df[df["id"] == "fine"])
    with pytest.warns(UserWarning, match="falling.*transform_range"):
        skipped = model.predict(df, on_bad_series="skip")
    pd.testing.assert_frame_equal(skipped, alone, check_like=True)
    (entry,) = skipped.attrs["bad_series"]["bad"]
    assert (entry["id"], entry["reason"], entry["action"]) == (
        "falling",
        "transform_range",
        "skipped",
    )
    assert "boxcox" in entry["detail"]
    with pytest.warns(UserWarning, match="transform_range"):
        fallback = model.predict(df, on_bad_series="fallback")
    rows = fallback[fallback["id"] == "falling"]
    assert (rows["source"] == "naive").all()
    np.testing.assert_allclose(rows["y"], 1000 - 24.9 * 39)
    np.testing.assert_allclose(fallback.loc[fallback["id"] == "fine", "y"], alone["y"])
    with pytest.raises(BadSeriesError, match=r"falling.*transform_range") as info:
        model.predict(df, expect_ids=["falling", "fine"])
    assert info.value.report["bad"][0]["action"] == "failed"
