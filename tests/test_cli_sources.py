"""``--data`` where the data lives (folders of parts, hive partitions, globs, stdin), dates in
other formats, and the run metadata on every forecast; byte-identical model files."""

from __future__ import annotations

import hashlib
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

from forecast import GRUForecaster, RNNForecaster
from forecast.cli.sinks import METADATA_COLUMNS

SCRIPT = Path(sys.executable).parent / "forecast"


def history(days: int = 40) -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=days, freq="D")
    rows = [
        pd.DataFrame({"unique_id": sid, "ds": times, "y": np.cos(np.arange(days) / 4) * (k + 1)})
        for k, sid in enumerate(["a", "b", "c"])
    ]
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, GRUForecaster, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("sources")
    df = history()
    model = GRUForecaster(
        seq_len=6, horizon=3, id_col="unique_id", time_col="ds", **{**FAST, "hidden_size": 4}
    ).fit(df)
    model.save(folder / "model.safetensors")
    return folder / "model.safetensors", model, df


def _predict(capsys, path, *args) -> tuple[int, str, str]:
    return _run(capsys, "predict", "--model", path, "--out", "-", "--no-metadata", *args)


def test_a_folder_of_hive_partitioned_parts_reads_as_one_table(saved, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    path, model, df = saved
    expected = model.predict(df).to_csv(index=False)
    for sid, part in df.groupby("unique_id"):
        rows_of = part.drop(columns="unique_id")
        for half, rows in enumerate((rows_of.iloc[:15], rows_of.iloc[15:])):
            folder = tmp_path / "csv" / f"unique_id={sid}"
            folder.mkdir(parents=True, exist_ok=True)
            rows.to_csv(folder / f"part-{half}.csv", index=False)
            folder = tmp_path / "pq" / f"unique_id={sid}"
            folder.mkdir(parents=True, exist_ok=True)
            rows.to_parquet(folder / f"part-{half}.parquet", index=False)
    for kind in ("csv", "pq"):
        (tmp_path / kind / "_SUCCESS").write_text("")  # Spark's marker: skipped
        code, out, err = _predict(capsys, path, "--data", tmp_path / kind)
        assert code == 0, err
        assert out == expected
    code, out, err = _predict(capsys, path, "--data", f"{tmp_path}/pq/*/*.parquet")  # a glob
    assert code == 0, err
    assert out == expected


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({}, r"DataError: The data source '.*' holds no data files"),
        ({"a.csv": "x", "notes.txt": "x"},
         r"UsageError: The data source '.*' holds files that are neither CSV nor Parquet: "
         r"\['.*notes\.txt'\]"),
        ({"a.csv": "x", "b.parquet": "x"}, r"UsageError: .* mixes CSV and Parquet parts"),
        ({"x=1/a.csv": "x,y\n1,2\n"},
         r"DataError: Part '.*a\.csv' has a column 'x' and sits in the partition folder x=1"),
    ],
)  # fmt: skip
def test_a_bad_folder_is_a_clear_error(saved, tmp_path, capsys, layout, message):
    folder = tmp_path / "parts"
    folder.mkdir()
    for name, text in layout.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    code, out, err = _predict(capsys, saved[0], "--data", folder)
    assert (code, out) == (2, "")
    assert re.search(message, err), err


def test_csv_on_stdin_and_a_day_first_date_format(saved, tmp_path):
    path, model, df = saved
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    day_first = df.assign(ds=df["ds"].dt.strftime("%d/%m/%Y")).to_csv(index=False)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, "predict", "--model", str(path), "--data", "-", "--out", "-", *args],
            input=day_first, capture_output=True, text=True, cwd=tmp_path, timeout=300,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )  # fmt: skip

    plain = cli()
    assert plain.returncode == 2
    assert plain.stdout == ""
    assert plain.stderr == (
        "forecast: error: DataError: Column 'ds' of data from standard input does not hold "
        "dates: value '01/01/2024' is not a date. Give its format with --date-format, e.g. "
        "--date-format '%d/%m/%Y' for day-first dates (2024-01-31 and 2024-01-31T09:30:00 "
        "need none).\n"
    )
    parsed = cli("--date-format", "%d/%m/%Y", "--no-metadata")
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout == model.predict(df).to_csv(index=False)
    wrong = cli("--date-format", "%m/%d/%Y")
    assert wrong.returncode == 2
    assert "value '13/01/2024' is not a date. It does not match --date-format '%m/%d/%Y'" in (
        wrong.stderr
    )


def test_every_forecast_row_carries_the_run_metadata(saved, tmp_path, capsys):
    path, model, df = saved
    shorter = df[~((df["unique_id"] == "b") & (df["ds"] > "2024-02-05"))]  # b ends 4 days early
    shorter.to_csv(tmp_path / "data.csv", index=False)
    code, _, err = _run(capsys, "predict", "--model", path, "--data", tmp_path / "data.csv",
                        "--out", tmp_path / "fc.parquet")  # fmt: skip
    assert code == 0, err
    written = pd.read_parquet(tmp_path / "fc.parquet")
    assert list(written.columns) == ["unique_id", "ds", "y", *METADATA_COLUMNS]
    origins = {
        k: list(v) for k, v in written.groupby("unique_id")["forecast_origin"].unique().items()
    }
    ends = {"a": "2024-02-09", "b": "2024-02-05", "c": "2024-02-09"}
    assert origins == {k: [pd.Timestamp(v)] for k, v in ends.items()}  # Parquet keeps the type
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(written["model_checksum"]) == {f"sha256:{sha}"}
    from forecast import __version__

    assert set(written["library_version"]) == {__version__}
    (created,) = set(written["created_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    pd.testing.assert_frame_equal(
        written[["unique_id", "ds", "y"]], model.predict(shorter), check_dtype=False
    )
    # without data: the origins are the training data's ends
    code, out, err = _run(capsys, "predict", "--model", path, "--out", "-")
    assert code == 0, err
    assert set(pd.read_csv(io.StringIO(out))["forecast_origin"]) == {"2024-02-09"}


def _fit_and_save(path: Path) -> None:
    t = np.arange(60)
    df = pd.DataFrame({"y": np.sin(t / 3)}, index=pd.date_range("2020-01-01", periods=60))
    GRUForecaster(seq_len=6, horizon=2, **{**FAST, "hidden_size": 4}).fit(df).save(path)


def test_two_identical_fits_give_byte_identical_files_and_info_shows_their_checksum(
    tmp_path, capsys
):
    # Each save in a process of its own: the metadata order of safetensors' HashMap is
    # seeded per process, which is what made two files differ.
    script = (
        "import sys; sys.path.insert(0, sys.argv[2]); "
        "from test_cli_sources import _fit_and_save; from pathlib import Path; "
        "_fit_and_save(Path(sys.argv[1]))"
    )
    tests = str(Path(__file__).parent)
    for name in ("one", "two"):
        proc = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / f"{name}.safetensors"), tests],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    one, two = ((tmp_path / f"{n}.safetensors").read_bytes() for n in ("one", "two"))
    assert one == two
    code, out, _ = _run(capsys, "info", tmp_path / "one.safetensors", "--json")
    card = json.loads(out)
    assert code == 0
    assert card["checksum"] == "sha256:" + hashlib.sha256(one).hexdigest()
    mtime = os.path.getmtime(tmp_path / "one.safetensors")
    assert pd.Timestamp(card["created"]) == pd.Timestamp(int(mtime), unit="s", tz="UTC")


def test_future_covariates_from_future_data(tmp_path, capsys):
    df = history(40)
    df["promo"] = (df["ds"].dt.day % 7 == 0).astype(float)
    train = df[df["ds"] <= "2024-02-06"]
    model = GRUForecaster(
        seq_len=6, horizon=3, id_col="unique_id", time_col="ds", future_covariates=["promo"],
        **{**FAST, "hidden_size": 4},
    ).fit(train)  # fmt: skip
    model.save(tmp_path / "m.safetensors")
    train.to_csv(tmp_path / "history.csv", index=False)
    future = df[df["ds"] > "2024-02-06"][["unique_id", "ds", "promo"]]
    future.to_csv(tmp_path / "future.csv", index=False)
    base = ("predict", "--model", tmp_path / "m.safetensors", "--data", tmp_path / "history.csv")
    code, out, err = _run(capsys, *base)
    assert (code, out) == (2, "")
    assert "UsageError: This model was trained with known-future covariates ['promo']: give" in err
    assert "--future-data PATH" in err
    code, out, err = _run(capsys, *base, "--future-data", tmp_path / "future.csv", "--out", "-",
                          "--no-metadata")  # fmt: skip
    assert code == 0, err
    expected = model.predict(train, future_covariates=future)
    assert out == expected.to_csv(index=False)
    assert not np.allclose(  # the covariate is read: other values, another forecast
        model.predict(train, future_covariates=future.assign(promo=5.0))["y"], expected["y"]
    )
    path = saved_plain = tmp_path / "plain.safetensors"
    GRUForecaster(seq_len=6, horizon=3, id_col="unique_id", time_col="ds",
                  **{**FAST, "hidden_size": 4}).fit(train).save(saved_plain)  # fmt: skip
    code, _, err = _run(capsys, "predict", "--model", path, "--future-data",
                        tmp_path / "future.csv")  # fmt: skip
    assert code == 2
    assert "UsageError: --future-data gives known-future covariates, but this model" in err


def test_calendar_features_are_computed_at_fit_and_predict(tmp_path, capsys):
    from forecast.features import calendar_features

    df = history(40)
    df.to_csv(tmp_path / "data.csv", index=False)
    fit = ("fit", "--data", tmp_path / "data.csv", "--id-col", "unique_id", "--time-col", "ds",
           "--seq-len", "6", "--horizon", "3", "--hidden-size", "4", "--max-epochs", "2",
           "--random-state", "0", "--future-covariates", "day_of_week,day_of_month",
           "--out", tmp_path / "m.safetensors")  # fmt: skip
    code, _, err = _run(capsys, *fit)
    assert code == 0, err
    code, out, err = _run(capsys, "predict", "--model", tmp_path / "m.safetensors", "--data",
                          tmp_path / "data.csv", "--out", "-", "--no-metadata")  # fmt: skip
    assert code == 0, err  # no --future-data: computed

    names = ["day_of_week", "day_of_month"]
    with_cal = pd.concat([df, calendar_features(df["ds"], features=names)], axis=1)
    model = RNNForecaster(  # the command line's default estimator
        seq_len=6, horizon=3, id_col="unique_id", time_col="ds", hidden_size=4, max_epochs=2,
        random_state=0, future_covariates=names, progress_bar=False,
    ).fit(with_cal)  # fmt: skip
    times = pd.date_range("2024-02-10", periods=3, freq="D")
    future = pd.concat(
        [pd.DataFrame({"unique_id": sid, "ds": times}) for sid in ["a", "b", "c"]],
        ignore_index=True,
    )
    future = pd.concat([future, calendar_features(future["ds"], features=names)], axis=1)
    expected = model.predict(with_cal, future_covariates=future)
    assert out == expected.to_csv(index=False)

    # a column of that name that is not the calendar feature: no silent rescaling
    df.assign(day_of_week=df["ds"].dt.day_of_week + 1).to_csv(tmp_path / "own.csv", index=False)
    code, out, err = _run(capsys, "predict", "--model", tmp_path / "m.safetensors", "--data",
                          tmp_path / "own.csv")  # fmt: skip
    assert (code, out) == (2, "")
    assert "Column 'day_of_week' of the data is not forecast's calendar feature" in err
    assert "--future-data" in err


def test_importing_forecast_and_help_never_import_sqlalchemy(tmp_path):
    code = (
        "import sys, contextlib, io\n"
        "import forecast\n"
        "from forecast.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0 and main(['predict', '--help']) == 0\n"
        "print(sorted({'sqlalchemy', 'duckdb', 'psycopg'} & set(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def berlin_days(days: int = 120) -> pd.DataFrame:
    """Two daily series in Europe/Berlin across the change to summer time (2024-03-31)."""
    times = pd.date_range("2024-01-01", periods=days, freq="D", tz="Europe/Berlin")
    return pd.concat(
        [
            pd.DataFrame({"unique_id": sid, "ds": times, "y": np.sin(np.arange(days) / 5) + k})
            for k, sid in enumerate(["a", "b"])
        ],
        ignore_index=True,
    )


def test_timestamps_whose_utc_offsets_change_are_read_in_the_zone_named(tmp_path, capsys):
    # A CSV keeps a tz-aware time as an offset (+01:00 in winter, +02:00 in summer): the
    # zone is gone, and pandas refuses mixed offsets. Read as UTC, days would fall on 23:00
    # and 22:00 by season; read in the zone, they are the days they were.
    df = berlin_days()
    csv, model, forecasts = tmp_path / "data.csv", tmp_path / "m.safetensors", tmp_path / "f.csv"
    history = df.groupby("unique_id").head(117)  # the last 3 days of each are the actuals
    history.to_csv(csv, index=False)
    fit = ("fit", "--data", csv, "--out", model, "--estimator", "naive", "--horizon", "3",
           "--id-col", "unique_id", "--time-col", "ds")  # fmt: skip
    code, _, err = _run(capsys, *fit)
    assert code == 2
    assert re.search(
        r"Column 'ds' of data file '.*data\.csv' holds timestamps with different UTC offsets "
        r"\(\+01:00 at '2024-01-01 00:00:00\+01:00', \+02:00 at '2024-04-01 00:00:00\+02:00'\): "
        r"a zone with daylight saving.* Give it with --timezone \(an IANA name such as "
        r"Europe/Berlin\)",
        err,
    )
    assert not model.exists()
    code, _, err = _run(capsys, *fit, "--timezone", "Mars/Olympus_Mons")
    assert code == 2
    assert "UsageError: --timezone 'Mars/Olympus_Mons' is not a time zone: give an IANA" in err

    assert _run(capsys, *fit, "--timezone", "Europe/Berlin")[0] == 0
    from forecast import NaiveForecaster

    expected = NaiveForecaster(horizon=3).fit(history).predict()
    assert str(expected["ds"].dt.tz) == "Europe/Berlin"
    # predict reads the CSV history in the model's own zone, without the flag
    code, _, err = _run(capsys, "predict", "--model", model, "--data", csv, "--out", forecasts,
                        "--no-metadata")  # fmt: skip
    assert code == 0, err
    written = pd.read_csv(forecasts)
    assert written["ds"].tolist() == expected["ds"].astype(str).tolist()
    np.testing.assert_array_equal(written["y"], expected["y"])
    # ... and score reads the forecasts it wrote, and the actuals, in it too
    df.to_csv(tmp_path / "actuals.csv", index=False)
    code, out, err = _run(capsys, "score", "--forecasts", forecasts, "--actuals",
                          tmp_path / "actuals.csv", "--model", model, "--out", "-",
                          "--no-metadata")  # fmt: skip
    assert code == 0, err
    scores = pd.read_csv(io.StringIO(out))
    overall = scores[scores["scope"] == "overall"]
    # ... and backtest --model reads it in the zone of the data the model was fitted on
    code, out, err = _run(capsys, "backtest", "--model", model, "--data", csv, "--out", "-",
                          "--no-metadata")  # fmt: skip
    assert code == 0, err
    assert overall["n"].tolist() == [6]  # every forecast met its actual, day by day
    mae = np.abs(expected["y"].to_numpy() - df.groupby("unique_id").tail(3)["y"].to_numpy())
    assert overall["mae"].tolist() == pytest.approx([mae.mean()])


def test_timestamps_with_and_without_an_offset_in_one_column_are_refused(tmp_path, capsys):
    df = berlin_days().astype({"ds": str})
    df.loc[5, "ds"] = "2024-01-06 00:00:00"  # no offset: UTC or local? not guessed
    df.to_csv(tmp_path / "data.csv", index=False)
    code, _, err = _run(capsys, "fit", "--data", tmp_path / "data.csv", "--out",
                        tmp_path / "m.safetensors", "--estimator", "naive", "--horizon", "3",
                        "--id-col", "unique_id", "--time-col", "ds",
                        "--timezone", "Europe/Berlin")  # fmt: skip
    assert code == 2
    assert (
        "mixes timestamps without a UTC offset ('2024-01-06 00:00:00') and with one "
        "('2024-01-01 00:00:00+01:00')" in err
    )


def test_naive_timestamps_are_wall_times_of_the_zone_named(tmp_path, capsys):
    df = berlin_days()
    naive = df.assign(ds=df["ds"].dt.tz_localize(None))
    naive.to_csv(tmp_path / "naive.csv", index=False)
    out = tmp_path / "m.safetensors"
    fit = ("fit", "--data", tmp_path / "naive.csv", "--out", out, "--estimator", "naive",
           "--horizon", "3", "--id-col", "unique_id", "--time-col", "ds")  # fmt: skip
    assert _run(capsys, *fit, "--timezone", "Europe/Berlin")[0] == 0
    from forecast import load

    assert str(load(out).cutoffs_.tz) == "Europe/Berlin"
    # 02:30 on 31 March 2024 does not exist in Berlin: named, not shifted
    hourly = pd.DataFrame(
        {"ds": pd.date_range("2024-03-30", periods=60, freq="h").astype(str), "y": 1.0}
    )
    hourly.to_csv(tmp_path / "hourly.csv", index=False)
    code, _, err = _run(capsys, "fit", "--data", tmp_path / "hourly.csv", "--out", out,
                        "--estimator", "naive", "--horizon", "3", "--time-col", "ds",
                        "--timezone", "Europe/Berlin")  # fmt: skip
    assert code == 2
    assert "holds a time that Europe/Berlin skips or repeats at a daylight-saving change" in err
