"""Training, Qt-free: the config form's rules and the pre-flight checks."""

from relay_desktop.core.training.config import (
    PARAM_BY_NAME,
    PARAMS,
    Param,
    TrainingConfig,
    TuningAdvice,
    tuning_advice,
)
from relay_desktop.core.training.preflight import (
    MIN_AUDIO_MS,
    Check,
    all_passed,
    format_duration,
    preflight,
    ready_audio_ms,
    refusal_checks,
)

__all__ = ["MIN_AUDIO_MS", "PARAMS", "PARAM_BY_NAME", "Check", "Param", "TrainingConfig",
           "TuningAdvice", "all_passed", "format_duration", "preflight", "ready_audio_ms",
           "refusal_checks", "tuning_advice"]
