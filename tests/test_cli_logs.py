"""The command line's logs (text with timestamps, JSON lines, a log file), ``forecast score``
and backtests recorded in a model file."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from conftest import run_main as _run

from forecast import GRUForecaster, __version__, load
from forecast.cli.sinks import REPORT_METADATA
from forecast.evaluation import metrics

SCRIPT = Path(sys.executable).parent / "forecast"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def history(days: int = 40) -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=days, freq="D")
    rows = [
        pd.DataFrame({"unique_id": sid, "ds": times, "y": np.sin(np.arange(days) / 5) + 3 * k})
        for k, sid in enumerate(["a", "b"])
    ]
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, GRUForecaster, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("logs")
    df = history()
    model = GRUForecaster(
        seq_len=6, horizon=3, id_col="unique_id", time_col="ds", **{**FAST, "hidden_size": 4}
    ).fit(df)
    model.save(folder / "model.safetensors")
    df.to_csv(folder / "data.csv", index=False)
    return folder / "model.safetensors", model, df


def test_text_logs_have_timestamps_and_a_multiline_summary_is_one_record(saved, capsys):
    path, _, _ = saved
    data = path.parent / "data.csv"
    code, _, err = _run(capsys, "backtest", "--data", data, "--id-col", "unique_id",
                        "--time-col", "ds", "--seq-len", "6", "--horizon", "3",
                        "--hidden-size", "4", "--max-epochs", "1", "--windows", "2",
                        "--no-refit", "--out", path.parent / "bt.csv")  # fmt: skip
    assert code == 0, err
    records = re.split(rf"\n(?={TIME} )", err.rstrip("\n"))
    assert all(re.match(rf"{TIME} forecast: (INFO|WARNING): ", r) for r in records), err
    (summary,) = [r for r in records if "backtest summary" in r]
    lines = summary.splitlines()
    assert len(lines) >= 3  # the header line, the column names, one row per target
    assert all(line.startswith("  ") for line in lines[1:])  # continuation, indented


def test_json_logs_to_a_file_one_object_per_line(saved, tmp_path, capsys):
    path, _, _ = saved
    log = tmp_path / "job.log"
    args = ("--log-format", "json", "--log-file", log)
    code, out, err = _run(capsys, "predict", "--model", path, "--out", tmp_path / "fc.csv", *args)
    assert (code, out, err) == (0, "", "")
    code, out, err = _run(capsys, "predict", "--model", tmp_path / "nope", *args)
    assert (code, out) == (2, "")
    (error,) = err.splitlines()  # the error still reaches stderr, as JSON
    record = json.loads(error)
    assert (record["level"], record["error"], record["exit_code"]) == (
        "ERROR", "ModelFileError", 2,
    )  # fmt: skip
    assert "no such file" in record["message"]
    line, last = log.read_text().splitlines()
    assert json.loads(last) == record  # the log file tells how the run ended, too
    info = json.loads(line)
    assert re.fullmatch(TIME, info["time"])
    assert (info["level"], info["event"], info["n_series"], info["n_rows"]) == (
        "INFO", "predict", 2, 6,
    )  # fmt: skip
    assert info["message"] == f"wrote 6 forecast rows to {tmp_path / 'fc.csv'}"
    assert info["seconds"] >= 0


def test_json_backtest_summary_is_one_record_with_its_numbers(saved, tmp_path, capsys):
    path = tmp_path / "model.safetensors"  # backtest --model writes to it: a copy
    path.write_bytes(saved[0].read_bytes())
    code, _, err = _run(capsys, "backtest", "--model", path, "--data", saved[0].parent / "data.csv",
                        "--windows", "2", "--no-refit", "--out", tmp_path / "bt.csv",
                        "--log-format", "json")  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in err.splitlines()]
    (summary,) = [r for r in records if r.get("event") == "backtest"]
    assert "\n" in summary["message"]
    assert summary["n_windows"] == 2
    table = pd.read_csv(tmp_path / "bt.csv")
    assert summary["summary"][0]["mae"] == pytest.approx(table["mae"].mean())


def test_backtest_with_a_model_records_its_scores_in_the_card(saved, tmp_path, capsys):
    source, model, _ = saved
    path = tmp_path / "model.safetensors"
    path.write_bytes(source.read_bytes())
    code, out, _ = _run(capsys, "info", path)
    assert "backtest:    not known" in out
    code, _, err = _run(capsys, "backtest", "--model", path, "--data", source.parent / "data.csv",
                        "--windows", "2", "--step", "3", "--out", tmp_path / "bt.csv")  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(tmp_path / "bt.csv")
    code, out, _ = _run(capsys, "info", path, "--json")
    recorded = json.loads(out)["backtest"]
    assert recorded["mae"] == pytest.approx(table["mae"].mean())
    assert recorded["smape"] == pytest.approx(table["smape"].mean())
    assert (recorded["windows"], recorded["step"]) == (2, 3)
    reloaded = load(path)  # the weights are those of the model backtested, untouched
    pd.testing.assert_frame_equal(reloaded.predict(), model.predict())
    code, _, err = _run(capsys, "backtest", "--model", path, "--data", source.parent / "data.csv",
                        "--hidden-size", "8")  # fmt: skip
    assert code == 2
    assert "backtest --model takes the estimator and its parameters from" in err


def test_score_stored_forecasts_against_later_actuals(saved, tmp_path):
    path, model, df = saved
    early = df[df["ds"] <= "2024-02-04"]
    early.to_csv(tmp_path / "history.csv", index=False)
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]

    def cli(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                              cwd=tmp_path, timeout=300,
                              env={**os.environ, "OMP_NUM_THREADS": "2"})  # fmt: skip

    pred = cli("predict", "--model", path, "--data", "history.csv", "--out", "fc.csv")
    assert pred.returncode == 0, pred.stderr
    # the actuals arrive for the first two forecast days only
    df[df["ds"] <= "2024-02-06"].to_csv(tmp_path / "actuals.csv", index=False)
    score = cli("score", "--forecasts", "fc.csv", "--actuals", "actuals.csv", "--id-col",
                "unique_id", "--time-col", "ds")  # fmt: skip
    assert score.returncode == 0, score.stderr
    assert "(2 not yet known)" in score.stderr
    scores = pd.read_csv(io.StringIO(score.stdout))
    assert list(scores.columns) == [
        "scope", "unique_id", "target", "n", "mae", "rmse", "smape", "mape", *REPORT_METADATA
    ]  # fmt: skip
    assert set(scores["library_version"]) == {__version__}
    forecast = model.predict(early).merge(df, on=["unique_id", "ds"], suffixes=("", "_true"))
    forecast = forecast[forecast["ds"] <= "2024-02-06"]
    a = forecast[forecast["unique_id"] == "a"]
    row = scores[(scores["scope"] == "series") & (scores["unique_id"] == "a")].iloc[0]
    assert row["n"] == 2
    assert row["mae"] == pytest.approx(metrics.mae(a["y_true"], a["y"]))
    assert row["rmse"] == pytest.approx(metrics.rmse(a["y_true"], a["y"]))
    overall = scores[scores["scope"] == "overall"].iloc[0]
    assert overall["n"] == 4
    assert overall["smape"] == pytest.approx(metrics.smape(forecast["y_true"], forecast["y"]))
    # the same from the model's columns, forecasts without their metadata
    pd.read_csv(tmp_path / "fc.csv").iloc[:, :3].to_csv(tmp_path / "bare.csv", index=False)
    again = cli("score", "--forecasts", "bare.csv", "--actuals", "actuals.csv", "--model", path,
                "--no-metadata")  # fmt: skip
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(io.StringIO(again.stdout)), scores.drop(columns=list(REPORT_METADATA))
    )


@pytest.mark.parametrize(
    ("actuals", "flags", "message"),
    [
        ("late", (), r"DataError: No forecast row has an actual: the forecasts span "
                     r"2024-02-10 00:00:00 to 2024-02-12 00:00:00, the actuals 2024-02-20"),
        ("all", ("--target", "sales"), r"DataError: The forecasts have no target column\(s\) "
                                       r"\['sales'\]"),
        ("all", ("--id-col", "store"), r"DataError: The forecasts have no column\(s\) "
                                       r"\['store'\] to match rows on"),
        ("all", ("--no-such",), r"UsageError: unrecognized arguments: --no-such"),
    ],
)  # fmt: skip
def test_score_errors(saved, tmp_path, capsys, actuals, flags, message):
    path, _, df = saved
    code, _, err = _run(capsys, "predict", "--model", path, "--out", tmp_path / "fc.csv")
    assert code == 0, err
    late = df.assign(ds=df["ds"] + pd.Timedelta(days=50))
    (late if actuals == "late" else df).to_csv(tmp_path / "actuals.csv", index=False)
    code, out, err = _run(capsys, "score", "--forecasts", tmp_path / "fc.csv", "--actuals",
                          tmp_path / "actuals.csv", "--time-col", "ds",
                          *(flags or ("--id-col", "unique_id")))  # fmt: skip
    assert (code, out) == (2, "")
    assert re.search(message, err), err


def test_a_target_named_like_another_targets_quantile_is_scored_as_a_target():
    # 'y_qty' starts with 'y_q': it was read as a quantile of y (a crash on 'ty'), and left
    # out of the automatic target list; 'y_q0.1' is y's quantile, scored as its pinball loss.
    from forecast.cli.score import score_forecasts

    t = pd.date_range("2024-01-01", periods=3, freq="D")
    actuals = pd.DataFrame({"id": "a", "t": t, "y": [1.0, 2.0, 3.0], "y_qty": [10.0, 20, 30]})
    forecasts = actuals.assign(y=[2.0, 2.0, 2.0], y_qty=[10.0, 20.0, 33.0], **{"y_q0.1": 0.0})
    for targets in (None, ["y", "y_qty"]):
        scores, pending = score_forecasts(forecasts, actuals, "id", "t", targets)
        overall = scores[scores["scope"] == "overall"].set_index("target")
        assert pending == 0
        assert list(overall.index) == ["y", "y_qty"]
        assert overall.loc["y", "mae"] == pytest.approx(2 / 3)
        assert overall.loc["y_qty", "mae"] == pytest.approx(1.0)
        assert overall.loc["y", "pinball_q0.1"] == pytest.approx(0.1 * 2.0)  # y above q: 0.1 * 2
        assert np.isnan(overall.loc["y_qty", "pinball_q0.1"])


@pytest.mark.parametrize(
    ("column", "value", "table"),
    [("y", np.nan, "forecasts"), ("y", "n/a", "forecasts"), ("y_q0.9", np.inf, "forecasts"),
     ("y__actual", np.inf, "actuals")],
)  # fmt: skip
def test_a_forecast_that_is_not_a_number_is_named_by_its_series_and_timestamp(column, value, table):
    # It was scored by position ("position 1") or, for text, failed in NumPy's conversion.
    from forecast._exceptions import DataError
    from forecast.cli.score import score_forecasts

    t = pd.date_range("2024-01-01", periods=3, freq="D")
    actuals = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "t": [*t, *t], "y": 1.0})
    forecasts = actuals.assign(y=2.0, **{"y_q0.9": 3.0})
    frame = actuals if table == "actuals" else forecasts
    name = column.removesuffix("__actual")
    frame[name] = frame[name].astype(object)
    frame.loc[4, name] = value
    with pytest.raises(DataError) as info:
        score_forecasts(forecasts, actuals, "id", "t", None)
    message = str(info.value)
    assert f"The {table} hold 1 NaN" in message
    assert f"column {name!r}" in message
    assert "['b', Timestamp('2024-01-02 00:00:00')]" in message


def test_integer_series_ids_are_scored_and_written_as_integers():
    # The overall row's missing id made the column float: ids 1 and 2 were written 1.0, 2.0.
    from forecast.cli.score import score_forecasts

    t = pd.date_range("2024-01-01", periods=2, freq="D")
    actuals = pd.DataFrame({"id": [1, 1, 2, 2], "t": [*t, *t], "y": [1.0, 2.0, 3.0, 4.0]})
    scores, _ = score_forecasts(actuals.assign(y=0.0), actuals, "id", "t", None)
    assert scores["id"].tolist() == [1, 2, None]
    assert scores.to_csv(index=False).splitlines()[1].startswith("series,1,y,")
