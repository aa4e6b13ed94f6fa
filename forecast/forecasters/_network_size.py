"""Building a network: a size that cannot be allocated is a parameter error, not a crash."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from forecast._exceptions import InvalidParameterError

__all__ = ["allocating"]


@contextlib.contextmanager
def allocating(model: Any, n_features: int) -> Iterator[None]:
    """Building the network: a size that cannot be allocated is a parameter error.

    torch raises a bare ``RuntimeError`` ("can't allocate memory", or CUDA's
    ``OutOfMemoryError``, a subclass) or an ``OverflowError`` for sizes past int64.
    """
    try:
        yield
    except (RuntimeError, OverflowError, MemoryError) as exc:
        gates = {"rnn": 1, "gru": 3, "lstm": 4}.get(model.cell, 4)
        h, layers = model.hidden_size, model.num_layers
        weights = gates * h * (n_features + h + 2) + (layers - 1) * gates * h * (2 * h + 2)
        raise InvalidParameterError(
            f"The network of {type(model).__name__} with hidden_size={h} and "
            f"num_layers={layers} ({weights:.3g} recurrent weights, {4 * weights:.3g} "
            f"bytes) cannot be allocated ({type(exc).__name__}: {str(exc)[:200]}). Use a "
            "smaller 'hidden_size' or 'num_layers'."
        ) from exc
