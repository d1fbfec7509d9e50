"""`personas`, `rubrics`, `validate` and `schema`: the files toughtalk reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.app import err_console, out_console, personas_app, rubrics_app, user_errors
from harness.models import RubricGuideline


@personas_app.command("list")
def personas_list() -> None:
    """List the built-in personas with archetype, channel and difficulty."""
    from harness.catalog import all_personas

    with user_errors():
        table = Table("id", "archetype", "channel", "difficulty", "title")
        for persona, _ in all_personas():
            table.add_row(
                persona.id,
                persona.archetype,
                persona.channel,
                str(persona.difficulty),
                persona.title,
            )
        out_console.print(table)


@personas_app.command("show")
def personas_show(persona: Annotated[str, typer.Argument(help="Persona id or YAML path.")]) -> None:
    """Show one persona as YAML (what the agent sees and what it hides)."""
    import yaml

    from harness.catalog import load_persona

    with user_errors():
        loaded, path = load_persona(persona)
        out_console.print(f"# {path}", highlight=False)
        out_console.print(
            yaml.safe_dump(loaded.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
            highlight=False,
        )


@rubrics_app.command("list")
def rubrics_list() -> None:
    """List the built-in rubrics."""
    from harness.catalog import load_rubric, rubric_paths

    with user_errors():
        table = Table("id", "version", "guidelines", "title")
        for path in rubric_paths():
            rubric, _ = load_rubric(str(path))
            table.add_row(rubric.id, str(rubric.version), str(len(rubric.guidelines)), rubric.title)
        out_console.print(table)


@rubrics_app.command("show")
def rubrics_show(
    rubric: Annotated[str, typer.Argument(help="Rubric id or YAML path.")] = "default",
) -> None:
    """Show a rubric's guidelines, how each is scored, sources and graders."""
    from harness.catalog import load_rubric

    with user_errors():
        loaded, _ = load_rubric(rubric)
        table = Table("guideline", "scoring", "applies", "source", title=loaded.title)
        for g in loaded.guidelines:
            table.add_row(g.id, scoring_label(g), g.applies, g.source)
        out_console.print(table)


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or folders: personas, rubrics, macro libraries, suites, transcript JSONL."
        ),
    ],
) -> None:
    """Check files; print `file:line: message` for every problem and exit 1 if any."""
    from harness.catalog import validate_paths

    with user_errors():
        count, problems = validate_paths(paths)
    for problem in problems:
        err_console.print(problem, highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out_console.print(f"{count} file(s) valid")


def schema(
    out: Annotated[Path, typer.Option(help="Folder for the JSON Schema files.")] = Path("schemas"),
) -> None:
    """Write the JSON Schema of every file format toughtalk reads or writes."""
    from harness.inputs import os_error
    from harness.models import SCHEMAS

    with user_errors():
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, model in SCHEMAS.items():
                (out / f"{name}.schema.json").write_text(
                    json.dumps(model.model_json_schema(), indent=2) + "\n", encoding="utf-8"
                )
        except OSError as exc:
            raise os_error(out, exc) from exc
    out_console.print(f"wrote {len(SCHEMAS)} schemas to {out}")


def scoring_label(guideline: RubricGuideline) -> str:
    """`credit 1.5`, `-0.15 if broken` or `auto-fail`: how a guideline moves the score."""
    if guideline.scoring == "credit":
        return f"credit {guideline.weight:g}"
    if guideline.scoring == "auto_fail":
        return "auto-fail"
    return f"-{guideline.penalty:g} if broken"
