"""Experiments: ``/v2/experiment``, the older ``/v1/experiment`` and its tables, evaluators.

``/v2`` holds grids of rows by prompt versions, their runs and scores.
"""
