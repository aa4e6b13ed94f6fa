"""Series ids as the command line reads them: text in CSV and hive folder names, typed as a
saved model's ids where one reads the data (docs/guide/cli.md, "Where the data lives")."""

from __future__ import annotations

import io
import re
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import run_main

from forecast.baselines import NaiveForecaster

pytest.importorskip("pyarrow")

IDS = ["007", "0042", "x"]


def _panel(ids=IDS) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "unique_id": sid,
                "ds": pd.date_range("2024-01-01", periods=8, freq="D"),
                "y": np.arange(8, dtype=float) + 10 * k,
            }
        )
        for k, sid in enumerate(ids)
    ]
    return pd.concat(parts, ignore_index=True)


def _parquet(frame: pd.DataFrame, path):
    frame.to_parquet(path, index=False)
    return path


def _ids(text: str) -> list[str]:
    """The ids of a forecast written as CSV, as text."""
    return sorted(set(pd.read_csv(io.StringIO(text), dtype={"unique_id": str})["unique_id"]))


def _predict(capsys, model, *args):
    return run_main(capsys, "predict", "--model", model, "--out", "-", "--no-metadata", *args)


def test_csv_ids_that_look_like_numbers_stay_text_from_fit_to_forecast(tmp_path, capsys):
    """'007' and '0042' were read as 7 and 42: a model fitted on them and its forecasts held
    ids that are not the data's; CSV parts read one by one made one series two (7, '007')."""
    panel = _panel()
    panel.to_csv(tmp_path / "h.csv", index=False)
    model = tmp_path / "m.safetensors"
    code, _, err = run_main(
        capsys, "fit", "--data", tmp_path / "h.csv", "--out", model, "--estimator", "naive",
        "--horizon", "2",
    )  # fmt: skip
    assert code == 0, err
    import forecast

    assert sorted(forecast.load(model).series_ids_) == sorted(IDS)
    code, out, err = _predict(capsys, model, "--data", tmp_path / "h.csv")
    assert code == 0, err
    assert _ids(out) == sorted(IDS)
    # CSV parts, each read on its own: one of them all digits, the other not
    (tmp_path / "parts").mkdir()
    panel[panel["unique_id"] == "007"].to_csv(tmp_path / "parts" / "a.csv", index=False)
    panel[panel["unique_id"] != "007"].to_csv(tmp_path / "parts" / "b.csv", index=False)
    code, out, err = _predict(capsys, model, "--data", tmp_path / "parts")
    assert code == 0, err
    assert _ids(out) == sorted(IDS)
    # hive folders of Parquet parts: unique_id=007/
    for sid, rows in panel.groupby("unique_id"):
        folder = tmp_path / "hive" / f"unique_id={sid}"
        folder.mkdir(parents=True)
        rows.drop(columns="unique_id").to_parquet(folder / "p.parquet", index=False)
    code, out, err = _predict(capsys, model, "--data", tmp_path / "hive")
    assert code == 0, err
    assert _ids(out) == sorted(IDS)
    # and a backtest of the estimator on them
    code, out, err = run_main(
        capsys, "backtest", "--data", tmp_path / "h.csv", "--estimator", "naive", "--horizon",
        "2", "--windows", "1", "--out", "-", "--no-metadata",
    )  # fmt: skip
    assert code == 0, err
    assert _ids(out) == sorted(IDS)


def test_csv_ids_on_stdin_stay_text(tmp_path, monkeypatch, capsys):
    panel = _panel(IDS[:2])  # all digits: pandas read the column as integers
    NaiveForecaster(horizon=2).fit(panel).save(tmp_path / "m.safetensors")
    stdin = io.TextIOWrapper(io.BytesIO(panel.to_csv(index=False).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = _predict(capsys, tmp_path / "m.safetensors", "--data", "-")
    assert code == 0, err
    assert _ids(out) == sorted(IDS[:2])


def test_ids_are_typed_as_the_models_ids(tmp_path, capsys):
    """A model fitted on integer ids (Parquet) forecasts from CSV ('007' is 7), Parquet or
    hive folders; one fitted on text ids forecasts integer ids as their text; an id that
    is no integer, for a model whose ids are, is refused."""
    numbers = _panel(["007", "0042", "99"]).astype({"unique_id": int})
    NaiveForecaster(horizon=2).fit(numbers).save(tmp_path / "int.safetensors")
    text = _panel(["7", "42", "99"])
    NaiveForecaster(horizon=2).fit(text).save(tmp_path / "str.safetensors")
    _panel(["007", "0042", "99"]).to_csv(tmp_path / "h.csv", index=False)
    numbers.to_parquet(tmp_path / "h.parquet", index=False)
    for source in ("h.csv", "h.parquet"):
        code, out, err = _predict(capsys, tmp_path / "int.safetensors", "--data", tmp_path / source)
        assert code == 0, err
        assert _ids(out) == ["42", "7", "99"], source
        assert "nan" not in out
    code, out, err = _predict(
        capsys, tmp_path / "str.safetensors", "--data", tmp_path / "h.parquet"
    )
    assert code == 0, err
    assert _ids(out) == ["42", "7", "99"]
    _panel(["007", "x"]).to_csv(tmp_path / "bad.csv", index=False)
    code, out, err = _predict(capsys, tmp_path / "int.safetensors", "--data", tmp_path / "bad.csv")
    assert (code, out) == (2, "")
    assert "Series id 'x' in column 'unique_id'" in err
    assert "the model's series ids are (e.g. 7)" in err


def test_a_parquet_part_with_the_column_of_its_hive_folder_is_refused(tmp_path, capsys):
    """pyarrow let the folder's value overwrite the file's column (exit 0, the file's ids
    lost); with another type, ArrowTypeError exited 1."""
    panel = _panel()
    NaiveForecaster(horizon=2).fit(panel).save(tmp_path / "m.safetensors")
    for name, rows in (("same", panel), ("typed", panel.assign(unique_id=1))):
        folder = tmp_path / name / "unique_id=zzz"
        folder.mkdir(parents=True)
        rows.to_parquet(folder / "part-0.parquet", index=False)
        code, out, err = _predict(capsys, tmp_path / "m.safetensors", "--data", tmp_path / name)
        assert (code, out) == (2, ""), name
        assert re.search(
            r"DataError: Part '.*part-0\.parquet' has a column 'unique_id' and sits in the "
            r"partition folder unique_id=zzz; rename one of them",
            err,
        ), err


def test_parquet_parts_whose_types_disagree_are_a_clear_error(tmp_path, capsys):
    panel = _panel()
    NaiveForecaster(horizon=2).fit(panel).save(tmp_path / "m.safetensors")
    (tmp_path / "parts").mkdir()
    panel.iloc[:8].to_parquet(tmp_path / "parts" / "a.parquet", index=False)
    later = panel.iloc[8:].assign(y=pd.Timestamp("2024-01-01"))  # no cast to float
    later.to_parquet(tmp_path / "parts" / "b.parquet", index=False)
    code, out, err = _predict(capsys, tmp_path / "m.safetensors", "--data", tmp_path / "parts")
    assert (code, out) == (2, "")
    assert "DataError: Cannot read the Parquet parts under" in err


def test_a_warm_start_from_csv_takes_new_series_beside_the_models_integer_ids(tmp_path, capsys):
    """fit --init-from typed the CSV's ids as the model's and refused a new series 'x' as
    not an integer, where a warm start serves new series; its old series keep their ids."""
    from forecast import RNNForecaster, load

    old = _panel(["1", "2"]).assign(unique_id=lambda d: d["unique_id"].astype(int))
    base = dict(seq_len=3, horizon=2, hidden_size=4, max_epochs=1, random_state=0)
    RNNForecaster(**base, progress_bar=False).fit(old).save(tmp_path / "old.safetensors")
    pd.concat([old, _panel(["x"])]).to_csv(tmp_path / "new.csv", index=False)
    code, _, err = run_main(
        capsys, "fit", "--init-from", tmp_path / "old.safetensors", "--data",
        tmp_path / "new.csv", "--out", tmp_path / "new.safetensors", "--max-epochs", "1",
    )  # fmt: skip
    assert code == 0, err
    assert sorted(map(str, load(tmp_path / "new.safetensors").series_ids_)) == ["1", "2", "x"]


def test_hive_keys_other_than_the_id_keep_their_numbers(tmp_path, capsys):
    """Every hive key was read as text: a numeric partition column ('year=2024') that a model
    reads as a covariate became a string (refused at predict; dropped at fit)."""

    parts = tmp_path / "parts"
    for year, frame in _panel().assign(year=lambda d: 2023 + d.index % 2).groupby("year"):
        folder = parts / f"year={year}"
        folder.mkdir(parents=True)
        frame.drop(columns="year").to_parquet(folder / "part-0.parquet", index=False)
    model = tmp_path / "m.safetensors"
    code, _, err = run_main(
        capsys, "fit", "--data", parts, "--out", model, "--estimator", "naive", "--horizon", "2"
    )
    assert code == 0, err
    code, out, err = _predict(capsys, model, "--data", parts)
    assert code == 0, err
    assert _ids(out) == sorted(IDS)
    from forecast.cli.sources import read_source

    frame = read_source(str(parts), time_col="ds", id_col="unique_id")
    assert pd.api.types.is_integer_dtype(frame["year"])
    assert sorted(frame["unique_id"].unique()) == sorted(IDS)


def test_score_with_a_model_types_both_tables_ids_as_the_models(tmp_path, capsys):
    """Forecasts kept as CSV (text ids '7') and actuals in Parquet (integer 7) of a model
    fitted on integer ids did not match: score read only the model's card, not its ids, and
    refused the key types (exit 2). With --model both tables' ids are typed as predict types
    its --data; without it, the error says to give it."""
    numbers = _panel(["007", "0042", "99"]).astype({"unique_id": int})
    model = tmp_path / "int.safetensors"
    NaiveForecaster(horizon=2).fit(numbers.groupby("unique_id").head(6)).save(model)
    code, out, err = _predict(
        capsys,
        model,
        "--data",
        _parquet(numbers.groupby("unique_id").head(6), tmp_path / "h.parquet"),
    )
    assert code == 0, err
    (tmp_path / "fc.csv").write_text(out)
    _parquet(numbers, tmp_path / "actuals.parquet")
    numbers.to_csv(tmp_path / "actuals.csv", index=False)
    _parquet(pd.read_csv(tmp_path / "fc.csv", parse_dates=["ds"]), tmp_path / "fc.parquet")
    for fc, actuals in (("fc.csv", "actuals.parquet"), ("fc.parquet", "actuals.csv")):
        args = ("--forecasts", tmp_path / fc, "--actuals", tmp_path / actuals, "--no-metadata")
        code, out, err = run_main(capsys, "score", "--model", model, "--out", "-", *args)
        assert code == 0, (fc, err)
        scores = pd.read_csv(io.StringIO(out))
        assert scores["n"].tolist() == [2, 2, 2, 6], fc
        code, out, err = run_main(
            capsys, "score", "--id-col", "unique_id", "--time-col", "ds", *args
        )
        assert (code, out) == (2, ""), fc
        assert "Column 'unique_id' holds" in err
        assert "give --model M to type both tables' ids" in err
