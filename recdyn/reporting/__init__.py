"""Reporting shared by ``recdyn report`` and every study: one place for each of

* :mod:`~recdyn.reporting.stats` — Student-t CIs across trials, Spearman ρ with an exact
  p-value, least-squares lines;
* :mod:`~recdyn.reporting.results` — per-trial tables and their summary across trials,
  step-wise statistics, rank correlations, the smoothing default;
* :mod:`~recdyn.reporting.labels` — metric titles and valid ranges;
* :mod:`~recdyn.reporting.formatting` — numbers as text, one number of decimals a column;
* :mod:`~recdyn.reporting.figures` and :mod:`~recdyn.reporting.plots` — drawing helpers
  and the standard figures;
* :mod:`~recdyn.reporting.page` — the one HTML page skeleton (Jinja2, autoescape).

It depends on no other part of recdyn but the environments (for a rating scale), so
experiments and studies both build on it.
"""
