"""The options of a fit from Parquet parts beyond the plain one: where each is served.

:mod:`forecast.forecasters._partitioned` fits one model across DDP ranks, each reading its
own parts. What each option needs across ranks, and where it is served:

``target_transform``
    A transform is per value and its Box-Cox lambdas per series, and a series is whole in
    one part: each rank transforms the series it reads
    (:func:`forecast.forecasters._transformed.transformed_targets`), before its
    per-series scaling statistics are fitted, exactly as one process transforms the panel
    ``_fit`` gets. The lambdas are gathered in the canonical order with the other per-series
    state; the domain check (``log`` needs positive targets...) runs in the rank that reads
    the value, and its error reaches the caller as the other data errors do.
``warm_start=True``
    The fitted model the fit continues (a shallow copy, taken before the fit clears it)
    travels to every rank with the fit: the calling process checks it against a sample of
    the parts (:func:`~forecast.forecasters._warm_start.check_warm_start`: network shape,
    columns, frequency, before anything else is read) and loads its weights into the
    network the ranks train (blended with its fresh start,
    :func:`~forecast.forecasters._warm_start.start_from`, as in one process); each rank
    keeps the old scaling statistics of the series it reads that the old model has seen,
    and fits new series' statistics as a cold fit would
    (:func:`~forecast.forecasters._warm_start.warm_state`). Static covariates are scaled as
    the old model scaled them.
``--checkpoint-dir``
    See :mod:`forecast.cli.parts`: Lightning's ``ModelCheckpoint`` writes from rank 0; the
    random state the sharded sampler replays is saved with it
    (:class:`~forecast.neural.sharded.ReplayedRandomState`).
``intervals="conformal"``
    :mod:`forecast.forecasters._partitioned_conformal`: a calibration fit whose ranks cut
    each series' tail, a pass over the parts for the scores, the final fit.
``missing="mask"``
    :mod:`forecast.forecasters._partitioned_mask`: a first pass over the parts for the
    channels and window counts, then each rank masks its series with the whole panel's
    channels.

What a fit from parts still refuses: a forecaster other than the recurrent ones
(:func:`forecast.forecasters._partitioned.refuse_unsupported`; ensembles and baselines fit
from one frame).
"""
