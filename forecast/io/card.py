"""A model card: what a fitted (or saved) model is and what it was trained on.

Built from the JSON document of a model file (:mod:`forecast.io.persistence`), so
``model.card()`` and ``forecast info model.safetensors`` say the same, and the latter needs
neither torch nor the estimator's code.
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from forecast._exceptions import ModelFileError
from forecast.io.model_file import file_checksum

__all__ = ["ModelCard"]


def _freq_text(freq: Any) -> str | None:
    if freq is None or isinstance(freq, str):
        return freq
    if freq.get("kind") == "DateOffset":  # data stamped mid-month (forecast.io.codecs)
        months = int(freq.get("n", 1)) * int(freq.get("months", 1))
        return f"every {months} month(s), on the data's day of the month"
    extra = [f"{len(freq.get('holidays', []))} holidays"]
    if freq.get("weekmask") != "Mon Tue Wed Thu Fri":
        extra.append(f"weekmask {freq.get('weekmask')!r}")
    n = freq.get("n", 1)
    return f"{'' if n == 1 else n}{freq['kind']}({', '.join(extra)})"


def _param_text(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"__estimator__"}:  # an ensemble's base
        nested = value["__estimator__"]
        inner = ", ".join(f"{k}={_param_text(v)}" for k, v in nested.get("params", {}).items())
        return f"{nested.get('estimator')}({inner})"
    if isinstance(value, dict) and set(value) == {"__offset__"}:
        return _freq_text(value["__offset__"]) or "None"
    if isinstance(value, dict) and set(value) == {"__tuple__"}:
        return repr(tuple(value["__tuple__"]))
    return repr(value)


@dataclass
class ModelCard:
    """What a model is, what it was trained on, its parameters and backtest score.

    ``str(card)`` is a short readable text, ``card.to_dict()`` the same as JSON-ready data.

    Attributes
    ----------
    estimator : str
        Class name, e.g. ``"LSTMForecaster"``.
    library_version : str
        The ``forecast`` version that saved (or holds) the model.
    format_version : int
    targets, covariates : list of str
        Forecast columns, and past covariates read as inputs.
    n_series : int
    series_ids : list
        ``[None]`` for a wide (single series) frame.
    id_col, time_col : str or None
    start, end : str or None
        First training timestamp and last timestamp seen (the latest cutoff), ISO format;
        in UTC if ``tz`` (the data's time zone) is set.
    freq : str or None
        Frequency alias, or a description of a custom business calendar.
    params : dict
        ``get_params()`` as saved (tagged JSON for offsets and tuples).
    dropped_params : list of str
        Parameters not saved (not JSON-representable); the model has defaults for them.
    n_epochs, best_epoch, seed : int or None
    network : dict or None
        Model-specific description (the network configuration of a recurrent model; an
        ensemble's first member's).
    ensemble : dict or None
        For an :class:`~forecast.EnsembleForecaster`: ``estimator`` (the members' class),
        ``n_members``, ``aggregate``, and per member ``seeds``, ``n_epochs`` and
        ``best_epochs``. ``n_epochs``, ``best_epoch`` and ``seed`` are then None. For a
        :class:`~forecast.CombinedForecaster` also ``estimators`` (each member's class, a
        nested combination's with its members: ``"CombinedForecaster(ThetaForecaster +
        DampedTrendForecaster)"``) and ``weights``; otherwise those are None.
    backtest : dict or None
        Backtest score, if one was attached (``backtest_``) before saving.
    path : str or None
        The file, for a card read from one; ``file_bytes`` its size.
    checksum : str or None
        For a card read from a file: ``sha256:<hex>`` of its bytes (``sha256sum`` prints the
        same hex; ``forecast predict`` writes it in its ``model_checksum`` column).
    created : str or None
        For a card read from a file: when it was saved, UTC ISO 8601: the file's
        modification time, which the atomic save sets (``cp -p``, ``rsync -t`` keep it). The
        time is deliberately not inside the file: two identical fits give byte-identical
        files, with one checksum.

    Examples
    --------
    >>> card = ModelCard(estimator="NaiveForecaster", targets=["y"], n_series=1,
    ...                  start="2020-01-01T00:00:00", end="2020-12-31T00:00:00", freq="D")
    >>> print(str(card).splitlines()[0])
    NaiveForecaster
    """

    estimator: str
    library_version: str | None = None
    format_version: int | None = None
    targets: list[Any] = field(default_factory=list)
    covariates: list[Any] = field(default_factory=list)
    n_series: int = 0
    series_ids: list[Any] = field(default_factory=list)
    id_col: str | None = None
    time_col: str | None = None
    start: str | None = None
    end: str | None = None
    freq: str | None = None
    tz: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    dropped_params: list[str] = field(default_factory=list)
    n_epochs: int | None = None
    best_epoch: int | None = None
    seed: int | None = None
    network: dict[str, Any] | None = None
    ensemble: dict[str, Any] | None = None
    backtest: dict[str, Any] | None = None
    path: str | None = None
    file_bytes: int | None = None
    checksum: str | None = None
    created: str | None = None

    @classmethod
    def from_document(
        cls,
        document: dict[str, Any],
        arrays: dict[str, np.ndarray] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> ModelCard:
        """The card of a model file's JSON document (see :mod:`forecast.io.persistence`).

        Raises
        ------
        ModelFileError
            A document whose fields are not of the types a save writes (a damaged or
            edited file), which ``forecast info`` reports as bad input, not a crash.
        """
        try:
            return cls._from_document(document, arrays, path)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            where = "" if path is None else f" {os.fspath(path)!r}"
            raise ModelFileError(
                f"Cannot describe model file{where}: its description is damaged ({exc})."
            ) from None

    @classmethod
    def _from_document(
        cls,
        document: dict[str, Any],
        arrays: dict[str, np.ndarray] | None,
        path: str | os.PathLike[str] | None,
    ) -> ModelCard:
        fitted = document.get("fitted", {})
        layout = fitted.get("layout") or {}
        ids = fitted.get("series_ids", {}).get("values", [])
        starts = [v for v in fitted.get("training_start", {}).get("values", []) if v]
        ends = [v for v in fitted.get("cutoffs", {}).get("values", []) if v]
        history = (arrays or {}).get("history.epoch")
        model = document.get("model") or {}
        ensemble = None
        members = document.get("members")
        if isinstance(members, list) and members and isinstance(members[0], dict):
            ensemble = _ensemble(document, members, arrays or {})
            model = members[0].get("model") or {}  # the same network for every member
        return cls(
            estimator=document.get("estimator", "?"),
            library_version=document.get("library_version"),
            format_version=document.get("format_version"),
            targets=list(fitted.get("target_names", [])),
            covariates=list(fitted.get("covariate_names", [])),
            n_series=len(ids),
            series_ids=ids,
            id_col=layout.get("id_col"),
            time_col=layout.get("time_col"),
            # ISO strings of one resolution, all UTC or all naive: text order is time order.
            start=min(starts) if starts else None,
            end=max(ends) if ends else None,
            freq=_freq_text(fitted.get("freq")),
            tz=fitted.get("cutoffs", {}).get("tz"),
            params=dict(document.get("params", {})),
            dropped_params=list(document.get("dropped_params", [])),
            n_epochs=None if history is None else len(history),
            best_epoch=fitted.get("best_epoch"),
            seed=fitted.get("seed"),
            network=model.get("network"),
            ensemble=ensemble,
            backtest=document.get("backtest"),
            path=None if path is None else os.fspath(path),
            file_bytes=None if path is None else os.path.getsize(path),
            checksum=None if path is None else file_checksum(path),
            created=None if path is None else _modified(path),
        )

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (``forecast info --json``)."""
        return asdict(self)

    def __str__(self) -> str:
        lines = [self.estimator]
        versions = [f"forecast {self.library_version}"] if self.library_version else []
        if self.format_version is not None:
            versions.append(f"model format {self.format_version}")
        if versions:
            lines[0] += f" ({', '.join(versions)})"

        def row(label: str, text: Any) -> None:
            lines.append(
                textwrap.fill(
                    str(text),
                    width=88,
                    initial_indent=f"  {label + ':':<12} ",
                    subsequent_indent=" " * 15,
                    break_on_hyphens=False,
                )
            )

        if self.path is not None:
            row("file", f"{self.path} ({self.file_bytes:,} bytes)")
        if self.checksum is not None:
            row("checksum", self.checksum)
        if self.created is not None:
            row("created", self.created)
        if self.ensemble and self.ensemble.get("weights"):  # different forecasters
            e = self.ensemble
            parts = [
                f"{n} (weight {w:g})" for n, w in zip(e["estimators"], e["weights"], strict=True)
            ]
            row("members", ", ".join(parts) + "; forecasts combined by weighted mean")
        elif self.ensemble:
            e = self.ensemble
            seeds = ", ".join(map(str, e["seeds"]))
            row(
                "members",
                f"{e['n_members']} {e['estimator']} (seeds {seeds}), forecasts combined by "
                f"{e['aggregate']}",
            )
        horizon = self.params.get("horizon")
        base = self.params.get("estimator") or self.params.get("forecaster")
        if horizon is None and isinstance(base, dict) and "__estimator__" in base:
            # an ensemble's base, or a combination's first forecaster
            horizon = base["__estimator__"].get("params", {}).get("horizon")
        steps = f" ({horizon} steps ahead)" if isinstance(horizon, int) else ""
        row("forecasts", ", ".join(map(str, self.targets)) + steps)
        if self.covariates:
            row("covariates", ", ".join(map(str, self.covariates)))
        if self.id_col is None:
            where = "1 series (wide frame"
            where += f", time column {self.time_col!r})" if self.time_col else ", time index)"
        else:
            shown = ", ".join(map(str, self.series_ids[:5]))
            more = f", ... ({self.n_series - 5} more)" if self.n_series > 5 else ""
            where = (
                f"{self.n_series} series ({shown}{more}; long frame, id column "
                f"{self.id_col!r}, time column {self.time_col!r})"
            )
        row("trained on", where)
        if self.start or self.end:
            start, end = (str(t).removesuffix("T00:00:00") for t in (self.start, self.end))
            zone = f" {self.tz} (as UTC)" if self.tz else ""
            row("date span", f"{start} to {end}{zone}")
        row("frequency", self.freq)
        training = [f"{self.n_epochs} epochs"] if self.n_epochs is not None else []
        if self.best_epoch is not None:
            training.append(f"best epoch {self.best_epoch}")
        if self.seed is not None:
            training.append(f"seed {self.seed}")
        if self.ensemble:
            e = self.ensemble
            # A combination's statistical members have no epochs: only the others are shown.
            known = [n for n in e["n_epochs"] if n is not None or not e.get("weights")]
            best = [b for b in e["best_epochs"] if b is not None or not e.get("weights")]
            if any(n is not None for n in known):
                training.append(f"{', '.join(map(str, known))} epochs")
            if any(b is not None for b in best):
                training.append(f"best epochs {', '.join(map(str, best))}")
        if training:
            row("training", "; ".join(training) if self.ensemble else ", ".join(training))
        if self.network:
            row("network", ", ".join(f"{k}={v!r}" for k, v in self.network.items()))
        if self.backtest:
            row("backtest", ", ".join(f"{k}={v}" for k, v in self.backtest.items()))
        else:
            row("backtest", "not known")
        if self.params:
            row("parameters", ", ".join(f"{k}={_param_text(v)}" for k, v in self.params.items()))
        if self.dropped_params:
            row("not saved", ", ".join(self.dropped_params) + " (defaults in their place)")
        return "\n".join(lines)


def _modified(path: str | os.PathLike[str]) -> str:
    moment = dt.datetime.fromtimestamp(os.path.getmtime(path), dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _member_name(member: dict[str, Any]) -> str:
    """A member's class, with its own members' when it has them."""
    name = str(member.get("estimator", "?"))
    inner = member.get("members")
    if isinstance(inner, list) and inner and all(isinstance(m, dict) for m in inner):
        name += "(" + " + ".join(_member_name(m) for m in inner) + ")"
    return name


def _ensemble(
    document: dict[str, Any], members: list[dict[str, Any]], arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    """What the card says of an ensemble's members (see :mod:`forecast.io.persistence`)."""
    epochs = [arrays.get(f"member.{i}.history.epoch") for i in range(len(members))]
    weights = None
    weight = document.get("params", {}).get("partner_weight")
    if document.get("estimator") == "CombinedForecaster" and isinstance(weight, (int, float)):
        weights = [1.0 - weight, float(weight)]
    return {
        "estimators": [_member_name(m) for m in members] if weights else None,
        "weights": weights,
        "estimator": members[0].get("estimator", "?"),
        "n_members": len(members),
        "aggregate": document.get("params", {}).get("aggregate"),
        "seeds": [m.get("fitted", {}).get("seed") for m in members],
        "n_epochs": [None if e is None else len(e) for e in epochs],
        "best_epochs": [m.get("fitted", {}).get("best_epoch") for m in members],
    }
