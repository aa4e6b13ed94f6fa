"""The command line as a cron job runs it: dates of the default columns, outputs checked before
any work, database round trips across a daylight-saving change, logs and reports that
cannot be written refused up front."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_main as _run

from forecast import load


def monthly_day_first(path: Path) -> Path:
    """Two monthly series in Nixtla's columns, dates day-first (01/02/2023 is February)."""
    times = pd.date_range("2023-01-01", periods=12, freq="MS")
    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": sid, "ds": times.strftime("%d/%m/%Y"), "y": k + np.arange(12.0)}
            )
            for k, sid in enumerate(["s1", "s2"])
        ],
        ignore_index=True,
    )
    frame.to_csv(path, index=False)
    return path


def hourly(days: int = 3, start: str = "2024-10-26") -> pd.DataFrame:
    """Two hourly series, naive wall times of Europe/Berlin over its fall-back night."""
    times = pd.date_range(start, periods=24 * days, freq="h")
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": sid, "ds": times, "y": np.sin(np.arange(len(times)) / 5) + k}
            )
            for k, sid in enumerate(["a", "b"])
        ],
        ignore_index=True,
    )


# ------------------------------------------------------------------------------ default columns


def test_fit_parses_the_default_time_column_with_date_format(tmp_path, capsys):
    data = monthly_day_first(tmp_path / "monthly.csv")
    out = tmp_path / "m.safetensors"
    code, _, err = _run(
        capsys, "fit", "--estimator", "naive", "--horizon", "3", "--data", data,
        "--date-format", "%d/%m/%Y", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    model = load(out)
    assert list(model.cutoffs_) == [pd.Timestamp("2023-12-01")] * 2  # not 2023-01-12, daily
    assert model.freq_ == "MS"


def test_backtest_parses_the_default_time_column_with_date_format(tmp_path, capsys):
    data = monthly_day_first(tmp_path / "monthly.csv")
    code, out, err = _run(
        capsys, "backtest", "--estimator", "naive", "--horizon", "3", "--data", data,
        "--date-format", "%d/%m/%Y", "--no-metadata", "--out", "-",
    )  # fmt: skip
    assert code == 0, err
    assert set(pd.read_csv(io.StringIO(out))["cutoff"]) == {"2023-09-01"}


def test_fit_reads_the_default_time_column_in_timezone(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    data = tmp_path / "hourly.parquet"
    hourly(start="2024-06-01").to_parquet(data, index=False)
    out = tmp_path / "m.safetensors"
    code, _, err = _run(
        capsys, "fit", "--estimator", "naive", "--horizon", "3", "--data", data,
        "--timezone", "Europe/Berlin", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert str(load(out).cutoffs_.tz) == "Europe/Berlin"


# ------------------------------------------------------------------------------ up front


@pytest.fixture
def naive_model(tmp_path, capsys) -> tuple[Path, Path]:
    """A naive model of two daily series, and its history (CSV)."""
    data = tmp_path / "history.csv"
    hourly(start="2024-06-01").to_csv(data, index=False)
    model = tmp_path / "m.safetensors"
    code, _, err = _run(
        capsys, "fit", "--estimator", "naive", "--horizon", "3", "--data", data, "--out", model
    )
    assert code == 0, err
    return model, data


def test_a_log_file_in_a_missing_folder_is_refused_before_any_output(naive_model, tmp_path, capsys):
    pytest.importorskip("sqlalchemy")
    model, data = naive_model
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    log = tmp_path / "nodir" / "run.log"
    code, _, err = _run(
        capsys, "--log-file", log, "predict", "--model", model, "--data", data,
        "--out", url, "--out-table", "forecasts",
    )  # fmt: skip
    assert code == 2, err
    assert "Cannot append to --log-file" in err
    assert not (tmp_path / "jobs.db").exists()  # nothing appended: a retry appends once
    code, _, err = _run(
        capsys, "--log-file", log, "fit", "--estimator", "naive", "--horizon", "3",
        "--data", data, "--out", tmp_path / "new.safetensors",
    )  # fmt: skip
    assert code == 2, err
    assert not (tmp_path / "new.safetensors").exists()


# ------------------------------------------------------------------------------ --report


def test_the_report_says_how_the_run_ended_after_the_output(naive_model, tmp_path, capsys):
    """The check passes (exit status 0), then the append fails: the report said 0."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    model, data = naive_model
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    with engine.begin() as conn:  # a table of another shape: the append fails
        conn.execute(sqlalchemy.text("CREATE TABLE forecasts (other TEXT)"))
    engine.dispose()
    report = tmp_path / "report.json"
    code, _, err = _run(
        capsys, "predict", "--model", model, "--data", data, "--on-bad-series", "skip",
        "--report", report, "--out", f"sqlite:///{tmp_path / 'jobs.db'}",
        "--out-table", "forecasts",
    )  # fmt: skip
    assert code == 2, err
    assert "Cannot append to table 'forecasts'" in err
    assert json.loads(report.read_text())["exit_status"] == 2


def test_backtest_writes_the_report_when_every_series_is_bad(tmp_path, capsys):
    data = tmp_path / "short.csv"
    hourly(days=1).groupby("unique_id").head(2).to_csv(data, index=False)
    report = tmp_path / "report.json"
    code, _, err = _run(
        capsys, "backtest", "--estimator", "naive", "--horizon", "3", "--data", data,
        "--on-bad-series", "skip", "--report", report, "--out", tmp_path / "m.csv",
    )  # fmt: skip
    assert code == 2, err
    assert "every series is bad" in err
    written = json.loads(report.read_text())
    assert written["exit_status"] == 2
    assert written["n_bad"] == written["n_series"] == 2
    assert {b["id"] for b in written["bad"]} == {"a", "b"}
    assert not (tmp_path / "m.csv").exists()


@pytest.mark.parametrize("command", ["predict", "backtest"])
def test_a_report_in_a_missing_folder_is_refused_before_any_work(
    command, naive_model, tmp_path, capsys
):
    model, data = naive_model
    out = tmp_path / "out.csv"
    how = ["--model", model] if command == "predict" else ["--estimator", "naive", "--horizon", "3"]
    code, _, err = _run(
        capsys, command, *how, "--data", data, "--on-bad-series", "skip",
        "--report", tmp_path / "nodir" / "r.json", "--out", out,
    )  # fmt: skip
    assert code == 2, err
    assert "Cannot write --report" in err
    assert not out.exists()


# ------------------------------------------------------------------------------ --out


def test_a_database_output_is_checked_before_the_backtest(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sqlalchemy")
    from forecast.evaluation import backtest

    def refuse(*args, **kwargs):
        raise AssertionError("backtested")

    monkeypatch.setattr(backtest, "backtest", refuse)
    data = monthly_day_first(tmp_path / "monthly.csv")
    code, _, err = _run(
        capsys, "backtest", "--estimator", "naive", "--horizon", "3", "--data", data,
        "--date-format", "%d/%m/%Y", "--out", f"sqlite:///{tmp_path / 'nodir' / 'm.db'}",
        "--out-table", "metrics",
    )  # fmt: skip
    assert code == 2, err
    assert "does not exist" in err


def test_an_output_over_the_input_is_refused(naive_model, tmp_path, capsys):
    model, data = naive_model
    before = data.read_bytes()
    code, _, err = _run(
        capsys, "fit", "--estimator", "naive", "--horizon", "3", "--data", data, "--out", data
    )
    assert code == 2, err
    assert "would overwrite the input" in err
    code, _, err = _run(capsys, "predict", "--model", model, "--data", data, "--out", data)
    assert code == 2, err
    assert "would overwrite the input" in err
    assert data.read_bytes() == before
    code, _, err = _run(capsys, "score", "--forecasts", model, "--actuals", data, "--out", data)
    assert code == 2, err
    assert "would overwrite the input" in err
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a.csv").write_bytes(before)
    code, _, err = _run(
        capsys, "predict", "--model", model, "--data", parts, "--out", parts / "fc.csv"
    )
    assert code == 2, err
    assert "inside the input folder" in err


def test_an_empty_out_is_refused_not_read_as_stdout(naive_model, capsys):
    model, data = naive_model
    for command in (
        ["predict", "--model", model, "--data", data],
        ["backtest", "--estimator", "naive", "--horizon", "3", "--data", data],
        ["score", "--forecasts", data, "--actuals", data],
    ):
        code, out, err = _run(capsys, *command, "--out", "")
        assert code == 2, err
        assert "--out is empty" in err
        assert out == ""


def test_zst_without_zstandard_is_refused_up_front(naive_model, tmp_path, capsys):
    try:
        import zstandard  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("zstandard is installed")
    model, data = naive_model
    code, _, err = _run(
        capsys, "predict", "--model", model, "--data", data, "--out", tmp_path / "fc.csv.zst"
    )
    assert code == 2, err
    assert "zstandard" in err


# ------------------------------------------------------------------------------ messages


def test_a_missing_table_names_the_reason(naive_model, tmp_path, capsys):
    pytest.importorskip("sqlalchemy")
    model, _ = naive_model
    (tmp_path / "empty.db").touch()  # an empty SQLite database (a missing one is refused)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    for how in (["--table", "sales"], ["--query", "SELECT *\nFROM sales"]):
        code, _, err = _run(capsys, "predict", "--model", model, "--data", url, *how, "--out", "-")
        assert code == 2, err
        assert "no such table: sales" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("s3://bucket/history.parquet", "is a remote file (s3://)"),
        ("https://example.com/history.csv", "is a remote file (https://)"),
        ("file:///srv/history.csv", "is a file URL: give the path itself ('/srv/history.csv')"),
    ],
)
def test_a_url_of_files_is_not_taken_for_a_database(spec, message, naive_model, capsys):
    model, _ = naive_model
    code, _, err = _run(capsys, "predict", "--model", model, "--data", spec, "--out", "-")
    assert code == 2, err
    assert message in err
    assert "--table" not in err
    code, _, err = _run(capsys, "predict", "--model", model, "--out", spec)
    assert code == 2, err
    assert message in err


# ------------------------------------------------------------------------------ score


def test_score_reads_the_wide_parquet_predict_wrote(tmp_path, capsys):
    """Parquet keeps a wide forecast's timestamps as its index, which score took for the
    first column ('y' does not hold dates)."""
    pytest.importorskip("pyarrow")
    from forecast.baselines import NaiveForecaster

    times = pd.date_range("2020-01-01", periods=30, freq="D", name="date")
    df = pd.DataFrame({"y": np.arange(30.0) ** 1.5}, index=times)
    model = tmp_path / "wide.safetensors"
    NaiveForecaster(horizon=3).fit(df.iloc[:26]).save(model)
    fc = tmp_path / "fc.parquet"
    code, _, err = _run(capsys, "predict", "--model", model, "--out", fc)
    assert code == 0, err
    expected = np.mean(np.abs(df["y"].iloc[26:29].to_numpy() - df["y"].iloc[25]))
    df.to_csv(tmp_path / "actuals.csv")
    df.to_parquet(tmp_path / "actuals.parquet")  # the time index too
    for actuals, how in (("actuals.csv", ["--model", model]), ("actuals.parquet", [])):
        code, out, err = _run(
            capsys, "score", "--forecasts", fc, "--actuals", tmp_path / actuals, *how,
            "--no-metadata",
        )  # fmt: skip
        assert code == 0, err
        scores = pd.read_csv(io.StringIO(out))
        assert scores["n"].tolist() == [3, 3]
        assert scores["mae"].tolist() == pytest.approx([expected, expected])


def test_score_names_key_columns_of_different_types(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    times = pd.date_range("2020-01-01", periods=3, freq="D")
    forecasts = pd.DataFrame({"id": ["001"] * 3, "ds": times, "y": [1.0, 2.0, 3.0]})
    forecasts.to_parquet(tmp_path / "fc.parquet", index=False)  # ids stay text
    forecasts.to_csv(tmp_path / "actuals.csv", index=False)  # CSV ids are read as text too
    code, _, err = _run(
        capsys, "score", "--forecasts", tmp_path / "fc.parquet", "--actuals",
        tmp_path / "actuals.csv", "--id-col", "id", "--time-col", "ds",
    )  # fmt: skip
    assert code == 0, err
    forecasts.assign(id=1).to_parquet(tmp_path / "fc_int.parquet", index=False)
    utc = forecasts.assign(ds=times.tz_localize("UTC"))
    utc.to_parquet(tmp_path / "fc_utc.parquet", index=False)
    cases = (
        ("fc_int.parquet", "Column 'id' holds numbers in the forecasts and text in the actuals"),
        ("fc_utc.parquet", "Column 'ds' holds timestamps in UTC in the forecasts and "
                           "timestamps without a time zone in the actuals"),
    )  # fmt: skip
    for fc, message in cases:
        code, _, err = _run(
            capsys, "score", "--forecasts", tmp_path / fc, "--actuals", tmp_path / "actuals.csv",
            "--id-col", "id", "--time-col", "ds",
        )  # fmt: skip
        assert code == 2, err
        assert message in err
        if fc == "fc_int.parquet":  # what to do: a model types both tables' ids
            assert "give --model M" in err
    assert "--timezone" in err
    code, _, err = _run(
        capsys, "score", "--forecasts", tmp_path / "fc_utc.parquet", "--actuals",
        tmp_path / "actuals.csv", "--id-col", "id", "--time-col", "ds", "--timezone", "UTC",
    )  # fmt: skip
    assert code == 0, err
