"""`chat`: play the agent yourself against a simulated customer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import out_console, user_errors
from harness.cli.options import Difficulty, MaxIntensity, RubricOpt, one_of
from harness.models import AbuseLevel


def chat(
    persona: Annotated[
        str | None, typer.Option(help="Persona id or path (default: a random one).")
    ] = None,
    random_persona: Annotated[
        bool, typer.Option("--random", help="Play a random persona.")
    ] = False,
    difficulty: Difficulty = None,
    customer: Annotated[str, typer.Option(help="scripted or model:ID.")] = "scripted",
    judge: Annotated[str, typer.Option(help="Judge for the final scorecard.")] = "rules",
    rubric: RubricOpt = "default",
    seed: Annotated[int, typer.Option(help="Customer seed (same seed, same customer).")] = 0,
    name: Annotated[
        str | None, typer.Option(help="Your name; recorded as agent human:<name>.")
    ] = None,
    meter: Annotated[bool, typer.Option(help="Show the customer's anger after each turn.")] = False,
    raw: Annotated[bool, typer.Option(help="Show insults unmasked.")] = False,
    max_intensity: MaxIntensity = None,
    max_turns: Annotated[int, typer.Option(min=2, help="Turn limit.")] = 24,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<time>-chat-<persona>).")
    ] = None,
) -> None:
    """Play the agent yourself against a simulated customer, then read your debrief.

    In the chat: /hint, /rewind N, /end MESSAGE, /transfer MESSAGE, /quit, /help.
    Lines can be piped in (echo ... | toughtalk chat --persona late-gift).

    Example: toughtalk chat --persona late-gift --meter --name ana
    """
    from harness.chat import ChatOptions, run_chat

    with user_errors():
        options = ChatOptions(
            persona=persona,
            random=random_persona,
            difficulty=difficulty,
            customer=customer,
            judge=judge,
            rubric=rubric,
            seed=seed,
            name=name,
            meter=meter,
            raw=raw,
            max_intensity=one_of("--max-intensity", max_intensity, AbuseLevel),
            max_turns=max_turns,
            out=out,
        )
        run_chat(options, out_console)
