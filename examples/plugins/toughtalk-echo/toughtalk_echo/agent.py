"""The `echo:` agent: answers with the customer's last message."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.agents import AgentContext
from harness.episode import Reply
from harness.models import Turn
from harness.registry import AGENTS


class EchoOptions(BaseModel):
    """Options of the echo agent (`agent_options: {echo: {...}}` in run settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str = ""


class EchoAgent:
    """Repeats the customer's last message (upper-cased with `echo:LOUD`)."""

    def __init__(self, spec: str, *, loud: bool, prefix: str) -> None:
        self.spec = spec
        self.loud = loud
        self.prefix = prefix

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """The last customer message, echoed."""
        said = next((t.text for t in reversed(transcript) if t.role == "customer"), "")
        text = said.upper() if self.loud else said
        return Reply(text=f"{self.prefix}{text}" or "...")


@AGENTS.register(
    "echo",
    summary="replies with the customer's last message (plugin toughtalk-echo)",
    options=EchoOptions,
    arg="optional",
    metavar="[LOUD]",
)
def make_echo(arg: str, options: EchoOptions, context: AgentContext) -> EchoAgent:
    """Build the agent from `echo:` or `echo:LOUD`."""
    return EchoAgent(f"echo:{arg}", loud=arg.upper() == "LOUD", prefix=options.prefix)
