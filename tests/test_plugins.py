"""The registries and the example plugin (examples/plugins/toughtalk-echo)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from harness.agents import AgentContext, make_agent
from harness.errors import UsageError
from harness.registry import AGENTS, CUSTOMERS, JUDGES, REPORTERS, Registry, parse_spec

PLUGIN = Path(__file__).resolve().parent.parent / "examples" / "plugins" / "toughtalk-echo"


def test_parse_spec_splits_at_the_first_colon() -> None:
    spec = parse_spec("http:http://127.0.0.1:8000/chat")
    assert (spec.kind, spec.arg) == ("http", "http://127.0.0.1:8000/chat")
    assert (parse_spec("rules").kind, parse_spec("rules").arg) == ("rules", "")


def test_builtin_kinds_are_registered() -> None:
    assert {"macros", "model", "http"} <= set(AGENTS.names())
    assert {"scripted", "model"} <= set(CUSTOMERS.names())
    assert {"rules", "model", "hybrid"} <= set(JUDGES.names())
    assert {"table", "markdown", "csv", "json"} <= set(REPORTERS.names())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("robot:x", "unknown agent spec 'robot:x'"),
        ("macros:", "needs an argument: macros:PATH"),
        ("model", "needs an argument: model:ID"),
    ],
)
def test_bad_agent_specs_are_one_line_usage_errors(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        make_agent(spec, AgentContext())
    assert "\n" not in str(caught.value)


def test_a_bare_kind_rejects_an_argument() -> None:
    with pytest.raises(UsageError, match="takes no argument"):
        JUDGES.resolve("rules:extra")


def test_options_are_validated_by_the_kinds_model() -> None:
    with pytest.raises(UsageError, match="agent http options: colour"):
        make_agent("http:http://127.0.0.1:9/x", options={"http": {"colour": "red"}})


def test_an_options_model_must_forbid_unknown_keys() -> None:
    class Loose(BaseModel):
        model_config = ConfigDict(extra="ignore")

    with pytest.raises(TypeError, match="forbid"):
        Registry[Any]("things", package=None, noun="thing").register(
            "x", summary="-", options=Loose
        )


def test_entry_points_load_lazily_and_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []
    things: Registry[Any] = Registry("things", package=None, noun="thing")

    class Point:
        def __init__(self, name: str) -> None:
            self.name = name
            self.value = f"plugin_{name}"

        def load(self) -> None:
            loaded.append(self.name)
            things.register(self.name, summary=f"the {self.name} kind", arg="none")(object())

    def entry_points(*, group: str) -> list[Point]:
        assert group == "toughtalk.things"
        return [Point("alpha"), Point("beta")]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert loaded == []
    assert things.find("beta") is not None
    assert loaded == ["beta"]
    assert things.names() == ["alpha", "beta"]
    assert loaded == ["beta", "alpha"]
    assert things.help() == "alpha | beta"


def test_a_broken_plugin_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    things: Registry[Any] = Registry("things", package=None, noun="thing")

    class Broken:
        name = "gamma"
        value = "plugin_gamma:make"

        def load(self) -> None:
            raise ImportError("no module named plugin_gamma")

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda *, group: [Broken()])
    with pytest.raises(UsageError, match=r"plugin 'plugin_gamma:make'.*failed to load"):
        things.find("gamma")


# ---------------------------------------------------------------- the example plugin


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv that sees this environment's packages, with the plugin installed into it
    offline (no index, no build isolation: the build backend is already installed)."""
    root = tmp_path_factory.mktemp("plugin-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "toughtalk-dev.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    install = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "--quiet",
        "--no-index",
        "--no-build-isolation",
        "--no-deps",
        str(PLUGIN),
    ]
    done = subprocess.run(install, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return python


def _toughtalk(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "harness.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_plugin_agent_runs_without_touching_the_project(
    plugin_python: Path, tmp_path: Path
) -> None:
    done = _toughtalk(
        plugin_python, tmp_path, "run", "--persona", "late-gift", "--agent", "echo:", "--out", "r"
    )
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "r" / "transcripts.jsonl").read_text(encoding="utf-8"))
    turns = record["turns"]
    assert record["agent"] == "echo:"
    assert turns[1]["role"] == "agent" and turns[1]["text"] == turns[0]["text"]
    listed = _toughtalk(plugin_python, tmp_path, "kinds")
    assert "echo:[LOUD]" in listed.stdout and "prefix" in listed.stdout


def test_plugin_options_come_from_the_command_line(plugin_python: Path, tmp_path: Path) -> None:
    args = ("run", "--persona", "late-gift", "--agent", "echo:", "--out", "r")
    done = _toughtalk(plugin_python, tmp_path, *args, "--agent-option", "echo.prefix=You said: ")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "r" / "transcripts.jsonl").read_text(encoding="utf-8"))
    assert record["turns"][1]["text"] == "You said: " + record["turns"][0]["text"]
    wrong = _toughtalk(plugin_python, tmp_path, *args[:-1], "r2", "--agent-option", "echo.x=1")
    assert wrong.returncode == 1
    assert "agent echo options: x: Extra inputs are not permitted" in wrong.stderr


def test_plugin_grader_scores_its_rubric(plugin_python: Path, tmp_path: Path) -> None:
    rubric = PLUGIN / "toughtalk_echo" / "rubric.yaml"
    done = _toughtalk(
        plugin_python,
        tmp_path,
        "run",
        "--persona",
        "late-gift",
        "--agent",
        "echo:",
        "--rubric",
        str(rubric),
        "--out",
        "r",
    )
    assert done.returncode == 0, done.stderr
    card = json.loads((tmp_path / "r" / "scorecards.jsonl").read_text(encoding="utf-8"))
    [result] = card["results"]
    assert (result["guideline"], result["verdict"]) == ("echo.no_parroting", "violated")
    assert card["score"] == 0.0


def test_without_the_plugin_echo_is_unknown(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--agent", "echo:", "--out", "r"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert "unknown agent spec 'echo:'" in done.stderr
