"""The user's data: from a DataFrame to a validated panel, windows and back to a frame.

* :mod:`~forecast.data.panel`: ``to_panel``, a wide or long DataFrame validated and stored as
  one array of series back to back (every data error is raised here);
* :mod:`~forecast.data.frequency`: inferring and checking frequencies, future timestamps;
* :mod:`~forecast.data.covariates`: known-future covariates at predict time;
* :mod:`~forecast.data.windowing`: ``(N, L, F)`` windows as views, batches, samplers
  (no pandas); :mod:`~forecast.data.permutation`: the lazy shuffle they use;
* :mod:`~forecast.data.scaling`: per-series and per-window scalers, with exact inverses;
* :mod:`~forecast.data.features`: calendar features (known-future covariates);
* :mod:`~forecast.data.output`: forecast arrays back to a frame in the input's layout;
* :mod:`~forecast.data.conventions`: column defaults of a known convention (Nixtla's
  ``unique_id, ds, y``); :mod:`~forecast.data.frames`: polars and pyarrow frames in and out.
"""
