"""Example toughtalk plugin: the `echo:` agent and the `echo.no_parroting` grader."""

from pathlib import Path

RUBRIC = Path(__file__).with_name("rubric.yaml")
