"""The `http:URL` agent: a chatbot behind an HTTP endpoint answers the customer.

Two request shapes (`--http-format`):

- `openai`: an OpenAI-compatible chat-completions endpoint. Each turn POSTs the whole
  history as `messages` (a system message with the case file, then customer = `user`,
  agent = `assistant`) and reads `choices[0].message.content`.
- `webhook`: `POST {"conversation_id", "messages": [{"role": "user"|"assistant",
  "content"}], "context": {...}}` and reads `{"reply": str, "end": bool?, "transfer": bool?}`.

Headers are templates such as `Authorization: Bearer $BOT_TOKEN`: only the templates are
stored in run settings; `$VAR` / `${VAR}` are expanded from the environment when the agent
is built, and the expanded values are scrubbed from every error message. Each attempt has
a timeout; 5xx answers, timeouts and connection errors are retried with a short backoff;
a 4xx, a malformed body or the last failed attempt raises `BotError`, which ends that
conversation with `stop_reason: error` (the episode loop catches it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.agents import AgentContext
from harness.episode import Action, CaseBrief, Reply
from harness.errors import UsageError
from harness.models import HttpFormat, Turn
from harness.registry import AGENTS

FORMATS: tuple[str, ...] = get_args(HttpFormat)
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2

# Header names whose value must come from an environment variable, never a literal.
_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|password|session", re.IGNORECASE)
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class BotError(RuntimeError):
    """The bot failed this turn (after retries, or at once on a 4xx or a malformed body)."""


class HttpOptions(BaseModel):
    """How to talk to an HTTP bot (`agent_options.http` of a run); `headers` holds
    unexpanded templates only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: HttpFormat = Field(default="openai", description="Request shape.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Header name -> template such as 'Bearer $BOT_TOKEN' ($VAR expanded at run "
        "time; expanded values are never stored).",
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds per attempt.")
    retries: int = Field(
        default=DEFAULT_RETRIES, ge=0, le=10, description="Retries on 5xx and timeouts."
    )
    model: str | None = Field(default=None, description="openai format: the 'model' field.")

    @field_validator("headers")
    @classmethod
    def _templates_only(cls, value: dict[str, str]) -> dict[str, str]:
        for name, template in value.items():
            check_template(name, template)
        return value


# ---------------------------------------------------------------- headers


def parse_header(raw: str) -> tuple[str, str]:
    """`Name: value` from the command line -> (name, template); the value is not expanded."""
    name, sep, value = raw.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or not _HEADER_NAME.match(name):
        raise UsageError(f"--header {raw.split(':')[0]!r}...: expected 'Name: value'")
    check_template(name, value)
    return name, value


def check_template(name: str, template: str) -> None:
    """A secret-looking header must take its value from an environment variable."""
    if _SECRET_HEADER.search(name) and not _VAR.search(template):
        raise UsageError(
            f"header {name}: put the secret in an environment variable and pass "
            f"--header '{name}: Bearer $MY_BOT_TOKEN' (literal secrets would be written "
            "to run.json)"
        )


def expand(name: str, template: str, environ: Mapping[str, str] | None = None) -> str:
    """Expand `$VAR` / `${VAR}` from the environment; a missing variable is a usage error."""
    env = os.environ if environ is None else environ

    def one(match: re.Match[str]) -> str:
        var = match.group(1) or match.group(2)
        if var not in env:
            raise UsageError(f"header {name}: environment variable {var} is not set")
        return env[var]

    return _VAR.sub(one, template)


# ---------------------------------------------------------------- URLs

MAX_REDIRECTS = 3
MAX_REPLY_BYTES = 2_000_000  # a bot reply is a chat message; anything bigger is refused
_USERINFO = re.compile(r"^(https?://)([^/@\s]*)@")


def origin(url: httpx.URL) -> str:
    """scheme://host:port: where a redirect may lead (the same origin only)."""
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def expand_userinfo(url: str, environ: Mapping[str, str] | None = None) -> str:
    """The URL with `$VAR` in its userinfo (`http://bot:$BOT_PASSWORD@host/…`) expanded; a
    literal password is refused, like a literal secret header."""
    match = _USERINFO.match(url)
    if not match:
        return url
    info = match.group(2)
    if ":" in info and not _VAR.search(info.partition(":")[2]):
        raise UsageError(
            "agent URL: put the password in an environment variable, e.g. "
            "http:http://bot:$BOT_PASSWORD@host/chat (a literal one would be written to run.json)"
        )
    return match.group(1) + expand("URL userinfo", info, environ) + "@" + url[match.end() :]


def userinfo_secrets(url: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The expanded values of the `$VAR`s in a URL's userinfo (scrubbed from messages)."""
    match = _USERINFO.match(url)
    if not match:
        return []
    env = os.environ if environ is None else environ
    return [env.get(a or b, "") for a, b in _VAR.findall(match.group(2))]


@dataclass(frozen=True)
class Answer:
    """A bot's HTTP answer: status and body, read within the size cap."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- the agent


def case_context(brief: CaseBrief | None) -> dict[str, Any]:
    """The case as the bot may see it: visible facts, channel, role and policy limits."""
    if brief is None:
        return {}
    return {
        **brief.visible_context(),
        "channel": brief.channel,
        "agent_role": brief.role,
        "policy": {
            "allows": [o.text for o in brief.allowed],
            "forbids": [{"text": o.text, "reason": o.reason} for o in brief.forbidden],
            "needs_supervisor": [o.text for o in brief.needs_supervisor],
        },
    }


def case_prompt(brief: CaseBrief | None) -> str:
    """The system message sent to OpenAI-compatible bots: the case file they may see."""
    if brief is None:
        return "You are a customer-service agent. Reply to the customer."
    lines = [
        f"You are a customer-service {brief.role} on {brief.channel}. Reply to the customer.",
        "Case file (facts you already have; do not ask the customer for them):",
        f"- customer: {brief.customer_name}",
        f"- issue: {brief.issue}",
        *(f"- {k}: {v}" for k, v in brief.context.items()),
        "You may offer:",
        *(f"- {o.text}" for o in brief.allowed),
    ]
    if brief.forbidden:
        lines += ["You must not offer:", *(f"- {o.text} ({o.reason})" for o in brief.forbidden)]
    if brief.needs_supervisor:
        lines += ["Needs a supervisor:", *(f"- {o.text}" for o in brief.needs_supervisor)]
    return "\n".join(lines)


def chat_messages(transcript: list[Turn]) -> list[dict[str, str]]:
    """Customer turns as `user`, agent turns as `assistant`."""
    return [
        {"role": "user" if t.role == "customer" else "assistant", "content": t.text}
        for t in transcript
    ]


class HttpAgent:
    """Sends the conversation to a bot over HTTP each turn and returns its reply."""

    def __init__(
        self,
        url: str,
        brief: CaseBrief | None,
        spec: str,
        *,
        options: HttpOptions | None = None,
        conversation_id: str | None = None,
        backoff: float = 0.25,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not re.match(r"^https?://[^/\s]+", url):
            raise UsageError(f"agent {spec!r}: expected http:http://HOST/PATH or http:https://…")
        self.url = url  # as written: a template, safe to print and store
        self._target = expand_userinfo(url, environ)
        self.brief = brief
        self.spec = spec
        self.options = options or HttpOptions()
        if self.options.format not in FORMATS:
            raise UsageError(f"--http-format must be openai or webhook: {self.options.format!r}")
        self.conversation_id = conversation_id or uuid.uuid4().hex
        self.backoff = backoff
        self._headers: dict[str, str] = {}
        for name, template in self.options.headers.items():
            check_template(name, template)
            self._headers[name] = expand(name, template, environ)
        # every expanded value that came from the environment is a secret to scrub
        secrets = {v for n, v in self._headers.items() if v != self.options.headers[n]}
        secrets |= set(userinfo_secrets(url, environ))
        self._secrets = sorted(secrets - {""}, key=len, reverse=True)

    async def next_turn(self, transcript: list[Turn]) -> Reply:
        """POST the conversation so far; the bot's reply (with end/transfer if it says so)."""
        body = self._body(transcript)
        data = await self._post(body)
        return self._reply(data)

    # ------------------------------------------------------------ request

    def _body(self, transcript: list[Turn]) -> dict[str, Any]:
        if self.options.format == "openai":
            body: dict[str, Any] = {
                "messages": [
                    {"role": "system", "content": case_prompt(self.brief)},
                    *chat_messages(transcript),
                ]
            }
            if self.options.model:
                body["model"] = self.options.model
            return body
        return {
            "conversation_id": self.conversation_id,
            "messages": chat_messages(transcript),
            "context": case_context(self.brief),
        }

    async def _post(self, body: dict[str, Any]) -> Any:
        attempts = self.options.retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = await asyncio.wait_for(self._send(body), self.options.timeout)
            except (TimeoutError, httpx.TimeoutException):
                last = f"no answer within {self.options.timeout:g}s"
                continue
            except httpx.TransportError as exc:
                last = f"connection failed: {type(exc).__name__}: {exc}"
                continue
            except httpx.DecodingError as exc:
                raise BotError(self._scrub(f"{self.url}: undecodable reply: {exc}")) from None
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}{self._snippet(response)}"
                continue
            if response.status_code >= 400:
                raise BotError(
                    self._scrub(
                        f"{self.url} answered HTTP {response.status_code}"
                        f"{self._snippet(response)} (not retried: check the URL, "
                        "--http-format and --header)"
                    )
                )
            if not 200 <= response.status_code < 300:
                raise BotError(f"{self.url} answered HTTP {response.status_code}, expected 2xx")
            try:
                return json.loads(response.content)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                raise BotError(
                    self._scrub(
                        f"{self.url} answered malformed JSON ({exc}): {response.text[:120]!r}"
                    )
                ) from None
        raise BotError(self._scrub(f"{self.url}: {last} (after {attempts} attempt(s))"))

    async def _send(self, body: dict[str, Any]) -> Answer:
        """POST once, following at most `MAX_REDIRECTS` redirects within the same origin;
        the body is read up to `MAX_REPLY_BYTES` (after decompression)."""
        timeout = httpx.Timeout(self.options.timeout)
        target = self._target
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                async with client.stream(
                    "POST", target, json=body, headers=self._headers
                ) as response:
                    if response.is_redirect:
                        target = self._redirect_target(target, response)
                        continue
                    return Answer(response.status_code, await self._read_capped(response))
        raise BotError(f"{self.url}: more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, current: str, response: httpx.Response) -> str:
        location = response.headers.get("location", "")
        following = httpx.URL(current).join(location)
        if origin(following) != origin(httpx.URL(current)):
            raise BotError(
                self._scrub(
                    f"{self.url} redirected (HTTP {response.status_code}) to another origin "
                    f"{origin(following)}; not followed, nothing was sent there"
                )
            )
        return str(following)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise BotError(
                    f"{self.url}: reply larger than {MAX_REPLY_BYTES // 1_000_000} MB "
                    "(after decompression); not read further"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _snippet(response: Answer) -> str:
        text = response.text.strip().replace("\n", " ")
        return f": {text[:200]}" if text else ""

    def _scrub(self, message: str) -> str:
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return message

    # ------------------------------------------------------------ response

    def _reply(self, data: Any) -> Reply:
        if self.options.format == "openai":
            return Reply(text=self._openai_text(data))
        if not isinstance(data, dict):
            raise BotError(f"{self.url}: expected a JSON object with 'reply', got {_kind(data)}")
        text = data.get("reply")
        end, transfer = data.get("end") is True, data.get("transfer") is True
        if not isinstance(text, str) or not text.strip():
            raise BotError(f"{self.url}: 'reply' must be a non-empty string, got {_kind(text)}")
        action: Action | None = "transfer" if transfer else ("end" if end else None)
        return Reply(text=text.strip(), action=action)

    def _openai_text(self, data: Any) -> str:
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BotError(
                f"{self.url}: not a chat-completions answer (no choices[0].message.content); "
                "is --http-format right?"
            ) from None
        if isinstance(content, list):
            content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        if not isinstance(content, str) or not content.strip():
            raise BotError(f"{self.url}: empty reply (choices[0].message.content)")
        return content.strip()


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return type(value).__name__


@AGENTS.register(
    "http",
    summary="a chatbot over HTTP (see --http-format and --header)",
    options=HttpOptions,
    metavar="URL",
)
def _http(arg: str, options: HttpOptions, context: AgentContext) -> HttpAgent:
    return HttpAgent(
        arg,
        context.brief,
        f"http:{arg}",
        options=options,
        conversation_id=context.conversation_id,
    )
