"""The command line against real databases: SQLite and DuckDB files, and a PostgreSQL server.

No mocks: each test reads history from a table, appends forecasts to a table and reads them
back through the database's own driver. The PostgreSQL test needs a server:
``FORECAST_POSTGRES_URL`` (``.ci/run`` starts one with ``.ci/postgres.sh``); it skips locally
without one and fails when CI requires it (``postgres`` in ``FORECAST_REQUIRE_INTEROP``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from conftest import run_main as _run
from optional import optional, required

from forecast import GRUForecaster, __version__
from forecast.cli.sinks import METADATA_COLUMNS, REPORT_METADATA

sqlalchemy = optional("sqlalchemy")

SCRIPT = Path(sys.executable).parent / "forecast"


def history(days: int = 40, start: str = "2024-01-01") -> pd.DataFrame:
    """Three daily series, long layout (unique_id, ds, y)."""
    times = pd.date_range(start, periods=days, freq="D")
    rows = [
        pd.DataFrame({"unique_id": sid, "ds": times, "y": np.sin(np.arange(days) / 3) + k})
        for k, sid in enumerate(["a", "b", "c"])
    ]
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, GRUForecaster, pd.DataFrame]:
    """A small model saved to a file, and its training frame."""
    folder = tmp_path_factory.mktemp("db")
    df = history()
    model = GRUForecaster(
        seq_len=6, horizon=3, id_col="unique_id", time_col="ds", **{**FAST, "hidden_size": 4}
    ).fit(df)
    model.save(folder / "model.safetensors")
    return folder / "model.safetensors", model, df


def _read(url: str, sql: str) -> pd.DataFrame:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sqlalchemy.text(sql), conn)
    finally:
        engine.dispose()


def _write(url: str, table: str, frame: pd.DataFrame) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            frame.to_sql(table, conn, index=False)
    finally:
        engine.dispose()


def _check_nights(url: str, table: str, saved, capsys) -> None:
    """Two predict runs append to ``table``; both are there, with their metadata."""
    path, model, df = saved
    for night in (df[df["ds"] < "2024-02-05"], df):
        _write(url, f"history_{len(night)}", night)
        code, out, err = _run(
            capsys, "predict", "--model", path, "--data", url, "--table", f"history_{len(night)}",
            "--out", url, "--out-table", table,
        )  # fmt: skip
        assert (code, out) == (0, ""), err
        assert f"wrote 9 forecast rows to table {table}" in err
    stored = _read(url, f"SELECT * FROM {table} ORDER BY forecast_origin, unique_id, ds")
    assert list(stored.columns) == ["unique_id", "ds", "y", *METADATA_COLUMNS]
    assert len(stored) == 18
    stored["ds"] = pd.to_datetime(stored["ds"])
    second = stored.iloc[9:].reset_index(drop=True)
    expected = model.predict(df)
    pd.testing.assert_series_equal(second["ds"], expected["ds"], check_dtype=False)
    np.testing.assert_allclose(second["y"], expected["y"], rtol=1e-6)
    origins = pd.to_datetime(stored["forecast_origin"])
    assert set(origins.iloc[:9]) == {pd.Timestamp("2024-02-04")}
    assert set(origins.iloc[9:]) == {pd.Timestamp("2024-02-09")}
    assert set(stored["model_checksum"]) == {_sha(path)}


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_sqlite_history_in_forecasts_appended(saved, tmp_path, capsys):
    _check_nights(f"sqlite:///{tmp_path / 'jobs.db'}", "forecasts", saved, capsys)


def test_duckdb_history_in_forecasts_appended(saved, tmp_path, capsys):
    optional("duckdb_engine")
    _check_nights(f"duckdb:///{tmp_path / 'jobs.duckdb'}", "forecasts", saved, capsys)


def test_a_query_selects_the_history(saved, tmp_path, capsys):
    path, model, df = saved
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    _write(url, "sales", df.assign(region=np.where(df["unique_id"] == "c", "x", "y")))
    code, out, err = _run(
        capsys, "predict", "--model", path, "--data", url, "--query",
        "SELECT unique_id, ds, y FROM sales WHERE region = 'y'", "--out", "-", "--no-metadata",
    )  # fmt: skip
    assert code == 0, err
    assert out == model.predict(df[df["unique_id"] != "c"]).to_csv(index=False)


def test_a_failed_append_writes_nothing(saved, tmp_path, capsys):
    path, _, _ = saved
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    _write(url, "forecasts", pd.DataFrame({"other": [1]}))  # a table of another shape
    code, _, err = _run(capsys, "predict", "--model", path, "--out", url,
                        "--out-table", "forecasts")  # fmt: skip
    assert code == 2
    assert "DataError: Cannot append to table 'forecasts' of sqlite:///" in err
    assert "Nothing was written" in err
    assert len(_read(url, "SELECT * FROM forecasts")) == 1


def _check_reports(url: str, saved, capsys) -> None:
    """Two nights of backtest metrics and of scores appended to tables, with the run's
    version and time; the rows are those the file outputs hold."""
    path, _, df = saved
    df.to_csv(path.parent / "data.csv", index=False)
    early = df[df["ds"] <= "2024-02-04"]
    early.to_csv(path.parent / "early.csv", index=False)
    code, _, err = _run(capsys, "predict", "--model", path, "--data", path.parent / "early.csv",
                        "--out", path.parent / "fc.csv")  # fmt: skip
    assert code == 0, err
    backtest = ("backtest", "--model", path, "--data", path.parent / "data.csv",
                "--windows", "2", "--no-refit")  # fmt: skip
    score = ("score", "--forecasts", path.parent / "fc.csv", "--actuals",
             path.parent / "data.csv", "--model", path)  # fmt: skip
    for command, table in ((backtest, "metrics"), (score, "scores")):
        for _ in range(2):  # two nights
            code, out, err = _run(capsys, *command, "--out", url, "--out-table", table)
            assert (code, out) == (0, ""), err
            assert f"rows to table {table} of {url}" in err, err
        code, expected, err = _run(capsys, *command, "--no-metadata")
        assert code == 0, err
        expected = pd.read_csv(io.StringIO(expected))
        stored = _read(url, f"SELECT * FROM {table}")
        assert list(stored.columns) == [*expected.columns, *REPORT_METADATA]
        assert len(stored) == 2 * len(expected) > 0
        assert set(stored["library_version"]) == {__version__}
        assert stored["created_at"].str.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
        numeric = expected.select_dtypes("number").columns
        np.testing.assert_allclose(
            stored[numeric].iloc[len(expected) :].to_numpy(dtype=float),
            expected[numeric].to_numpy(dtype=float),
            rtol=1e-9,
        )


def test_sqlite_backtest_metrics_and_scores_appended(saved, tmp_path, capsys):
    _check_reports(f"sqlite:///{tmp_path / 'jobs.db'}", saved, capsys)


def test_duckdb_backtest_metrics_and_scores_appended(saved, tmp_path, capsys):
    optional("duckdb_engine")
    _check_reports(f"duckdb:///{tmp_path / 'jobs.duckdb'}", saved, capsys)


@pytest.mark.parametrize("command", ["backtest", "score"])
def test_report_outputs_refuse_a_table_without_a_database(saved, tmp_path, capsys, command):
    path, _, _ = saved
    args = {
        "backtest": ("--model", path, "--data", tmp_path / "data.csv"),
        "score": ("--forecasts", tmp_path / "f.csv", "--actuals", tmp_path / "a.csv"),
    }
    code, out, err = _run(capsys, command, *args[command], "--out", tmp_path / "m.csv",
                          "--out-table", "t")  # fmt: skip
    assert (code, out) == (2, "")
    assert "UsageError: --out-table appends to a database table; --out must then be" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--data", "sqlite:///{d}/jobs.db"), r"is a database: give --table NAME or --query"),
        (("--data", "sqlite:///{d}/jobs.db", "--table", "nope"),
         r"DataError: .*Cannot read table 'nope' from sqlite:///.*jobs\.db"),
        (("--data", "{d}/data.csv", "--table", "sales"),
         r"UsageError: --table and --query read from a database; data source .* is not a "),
        (("--out", "sqlite:///{d}/jobs.db"), r"UsageError: --out .* is a database: name the "),
        (("--out-table", "t"), r"UsageError: --out-table appends to a database table; --out "),
        (("--data", "postgresql://me:secret@localhost:1/db", "--table", "t"),
         r"Cannot read table 't' from postgresql://me:\*\*\*@localhost:1/db"),
    ],
)  # fmt: skip
def test_database_misuse_is_a_clear_error(saved, tmp_path, capsys, args, message):
    path, _, df = saved
    df.to_csv(tmp_path / "data.csv", index=False)
    _write(f"sqlite:///{tmp_path / 'jobs.db'}", "sales", df)
    code, out, err = _run(capsys, "predict", "--model", path, *(a.format(d=tmp_path) for a in args))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert re.search(message, err), err
    assert "secret" not in err


def test_the_guides_score_query_scores_overlapping_nightly_appends(tmp_path, capsys, monkeypatch):
    """The guide scored --forecasts-table forecasts, which failed from the second night on
    ("hold 6 duplicate row(s)"): with a horizon over 1, the nights' appends overlap. Its
    query (each key's latest run) is run here as printed in docs/guide/cli.md."""
    from forecast.baselines import NaiveForecaster
    from forecast.cli import sinks

    page = (Path(__file__).resolve().parent.parent / "docs" / "guide" / "cli.md").read_text()
    query = " ".join(re.search(r'--forecasts-query "([^"]+)"', page).group(1).split())
    times = pd.date_range("2024-03-01", periods=12, freq="D")
    sales = pd.concat(
        [pd.DataFrame({"store": s, "day": times, "units": np.arange(12.0) * (k + 1)})
         for k, s in enumerate(["north", "south", "east"])],
        ignore_index=True,
    )  # fmt: skip
    model = tmp_path / "m.safetensors"
    NaiveForecaster(horizon=3, id_col="store", time_col="day").fit(sales).save(model)
    url = f"sqlite:///{tmp_path / 'forecasts.db'}"
    for night, stamp in ((9, "2024-03-09T23:00:00Z"), (10, "2024-03-10T23:00:00Z")):
        # two runs in one second would share created_at, which the query tells apart
        monkeypatch.setattr(sinks, "utc_now", lambda stamp=stamp: stamp)
        sales[sales["day"] < times[night]].to_parquet(tmp_path / "h.parquet", index=False)
        code, _, err = _run(
            capsys, "predict", "--model", model, "--data", tmp_path / "h.parquet",
            "--out", url, "--out-table", "forecasts",
        )  # fmt: skip
        assert code == 0, err
    sales.to_csv(tmp_path / "sales_today.csv", index=False)
    score = ("score", "--forecasts", url, "--actuals", tmp_path / "sales_today.csv")
    score += ("--model", model, "--no-metadata")
    code, _, err = _run(capsys, *score, "--forecasts-table", "forecasts")
    assert code == 2
    assert "hold 6 duplicate row(s)" in err
    code, out, err = _run(capsys, *score, "--forecasts-query", query)
    assert code == 0, err
    scores = pd.read_csv(io.StringIO(out))
    # each store's day 10 (index 9) from the first night's run (its last value, u[8]), days
    # 11 and 12 from the second night's (u[9]); day 13 is pending
    assert scores.loc[scores["scope"] == "series", "n"].tolist() == [3, 3, 3]
    assert "(3 not yet known)" in err
    expected = {
        s: (abs(u.iloc[9] - u.iloc[8]) + abs(u.iloc[10] - u.iloc[9]) + abs(u.iloc[11] - u.iloc[9]))
        / 3
        for s, u in sales.groupby("store")["units"]
    }
    got = scores[scores["scope"] == "series"].set_index("store")["mae"]
    assert got.to_dict() == pytest.approx(expected)


@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_reading_a_missing_database_file_refuses_it_and_creates_nothing(
    scheme, saved, tmp_path, capsys, monkeypatch
):
    """A mistyped URL created an empty database (SQLite a 0-byte file, DuckDB 12 KB) and
    reported only a missing table; score's --actuals is read the same way."""
    if scheme == "duckdb":
        pytest.importorskip("duckdb_engine")
    path, model, df = saved
    model.predict(df).to_csv(tmp_path / "f.csv", index=False)
    monkeypatch.chdir(tmp_path)
    cases = [
        (f"{scheme}:///typo.db", "'typo.db' (relative to"),
        (f"{scheme}:///{tmp_path}/typo.db", f"'{tmp_path}/typo.db' does"),
    ]
    for url, name in cases:
        code, out, err = _run(capsys, "predict", "--model", path, "--data", url, "--table", "t")
        assert (code, out) == (2, ""), err
        assert f"DataError: The data source {url}: database file {name}" in err
        code, out, err = _run(
            capsys, "score", "--forecasts", tmp_path / "f.csv", "--actuals", url,
            "--actuals-table", "t", "--model", path,
        )  # fmt: skip
        assert (code, out) == (2, ""), err
        assert f"The actuals source {url}: database file" in err
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]


def test_postgres_end_to_end_in_subprocesses(saved, tmp_path):
    url = os.environ.get("FORECAST_POSTGRES_URL")
    if not url:
        if required("postgres"):
            pytest.fail("FORECAST_POSTGRES_URL is not set, but this run requires postgres")
        pytest.skip("no PostgreSQL server (FORECAST_POSTGRES_URL; .ci/postgres.sh starts one)")
    optional("psycopg")
    path, model, df = saved
    suffix = uuid.uuid4().hex[:8]  # a shared server: tables of this run only
    hist, fc, actual = f"history_{suffix}", f"forecasts_{suffix}", f"actuals_{suffix}"
    _write(url, hist, df[df["ds"] < "2024-02-05"])
    _write(url, actual, df)
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], capture_output=True, text=True, cwd=tmp_path,
                              env=env, timeout=300)  # fmt: skip

    try:
        pred = cli("predict", "--model", str(path), "--data", url, "--table", hist, "--out", url,
                   "--out-table", fc, "--log-format", "json")  # fmt: skip
        assert pred.returncode == 0, pred.stderr
        score = cli("score", "--forecasts", url, "--forecasts-table", fc, "--actuals", url,
                    "--actuals-table", actual, "--model", str(path))  # fmt: skip
        assert score.returncode == 0, score.stderr
    finally:
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as conn:
            stored = pd.read_sql_query(sqlalchemy.text(f"SELECT * FROM {fc}"), conn)
            for table in (hist, fc, actual):
                conn.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
    assert len(stored) == 9
    assert str(stored["ds"].dtype).startswith("datetime64")  # a real timestamp column
    scores = pd.read_csv(io.StringIO(score.stdout))
    overall = scores[scores["scope"] == "overall"].iloc[0]
    expected = model.predict(df[df["ds"] < "2024-02-05"]).merge(
        df, on=["unique_id", "ds"], suffixes=("_f", "")
    )
    assert overall["n"] == 9
    assert overall["mae"] == pytest.approx(np.mean(np.abs(expected["y"] - expected["y_f"])))


def test_fit_from_a_duckdb_table_equals_the_python_fit(tmp_path, capsys):
    optional("duckdb_engine")
    df = history(30)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    _write(url, "sales", df)
    code, _, err = _run(
        capsys, "fit", "--data", url, "--table", "sales", "--estimator", "gru", "--id-col",
        "unique_id", "--time-col", "ds", "--seq-len", "6", "--horizon", "3", "--hidden-size",
        "4", "--max-epochs", "2", "--batch-size", "32", "--random-state", "0", "--out",
        tmp_path / "m.safetensors",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = _run(capsys, "predict", "--model", tmp_path / "m.safetensors", "--out", "-",
                          "--no-metadata")  # fmt: skip
    assert code == 0, err
    model = GRUForecaster(
        seq_len=6, horizon=3, id_col="unique_id", time_col="ds", **{**FAST, "hidden_size": 4}
    ).fit(df)
    assert out == model.predict().to_csv(index=False)


@pytest.mark.parametrize("zone_from", ["--model", "--timezone"])
def test_tz_aware_forecasts_round_trip_sqlite_across_a_fall_back(zone_from, tmp_path, capsys):
    """A Europe/Berlin model's forecasts over the night clocks go back: two rows at 02:00 wall
    time, an hour apart. SQLAlchemy's DATETIME stored both as '2024-10-27 02:00:00', and
    score then found duplicate keys (or, read in --timezone, a repeated wall time)."""
    times = pd.date_range("2024-10-25", periods=60, freq="h", tz="Europe/Berlin")
    actuals = pd.DataFrame({"unique_id": "a", "ds": times, "y": np.arange(60.0)})
    actuals.iloc[:49].to_parquet(tmp_path / "history.parquet", index=False)
    actuals.to_parquet(tmp_path / "actuals.parquet", index=False)
    model, url = tmp_path / "m.safetensors", f"sqlite:///{tmp_path / 'jobs.db'}"
    code, _, err = _run(
        capsys, "fit", "--estimator", "naive", "--horizon", "6",
        "--data", tmp_path / "history.parquet", "--out", model,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = _run(
        capsys, "predict", "--model", model, "--out", url, "--out-table", "forecasts"
    )
    assert code == 0, err
    stored = _read(url, "SELECT ds FROM forecasts")["ds"].tolist()
    assert len(set(stored)) == 6  # the two 02:00 apart
    how = ["--model", model] if zone_from == "--model" else [
        "--timezone", "Europe/Berlin", "--id-col", "unique_id", "--time-col", "ds"
    ]  # fmt: skip
    code, out, err = _run(
        capsys, "score", "--forecasts", url, "--forecasts-table", "forecasts",
        "--actuals", tmp_path / "actuals.parquet", *how, "--no-metadata",
    )  # fmt: skip
    assert code == 0, err
    scores = pd.read_csv(io.StringIO(out))
    # The last value (48, at 00:00+02:00) against the next six hours' 49..54.
    assert scores["n"].tolist() == [6, 6]
    assert scores["mae"].tolist() == [3.5, 3.5]
