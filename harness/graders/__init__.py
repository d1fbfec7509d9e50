"""Rule graders, one pure function per guideline id, registered in `REGISTRY`."""

from harness.graders import boundaries, deescalation, defuse, resolution  # noqa: F401  (register)
from harness.graders.base import REGISTRY, Finding, GradeInput, Quote, grader

__all__ = ["REGISTRY", "Finding", "GradeInput", "Quote", "grader"]
