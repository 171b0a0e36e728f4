"""Datasets, evaluators, experiments and the older experiment tables: query functions.

Run them through ``store.org(org_id).read`` / ``.write``. Scores live with the request log
(``store.log``, ``log.scores``).
"""
