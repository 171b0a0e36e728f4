"""Experiments and evaluators: run prompt versions over rows, score outputs, watch the log.

``ExperimentService`` is the one object the API and the app talk to; it owns the runner (cells
through the gateway, bounded), the evaluators (code in a sandbox, LLM judges through the
gateway) and the online evaluators fed by the log writer.
"""

from helioscope.experiments._evaluate import (
    BOOL_SUFFIX,
    Evaluation,
    EvaluationFailed,
    check_evaluator,
    score_key,
)
from helioscope.experiments._judge import SCORING_TYPES, parse_template
from helioscope.experiments._online import check_config
from helioscope.experiments._runner import compile_version
from helioscope.experiments.sandbox import CodeResult, SandboxLimits, run_code
from helioscope.experiments.service import ExperimentService

__all__ = [
    "BOOL_SUFFIX",
    "SCORING_TYPES",
    "CodeResult",
    "Evaluation",
    "EvaluationFailed",
    "ExperimentService",
    "SandboxLimits",
    "check_config",
    "check_evaluator",
    "compile_version",
    "parse_template",
    "run_code",
    "score_key",
]
