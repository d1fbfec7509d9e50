"""Every file format toughtalk reads or writes, as strict pydantic models.

`toughtalk schema` exports the JSON Schema of each model listed in `SCHEMAS`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = 1
MAX_SEEDS = 10_000  # seeds per persona x agent in one run (`--seeds`, a suite's `seeds`)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _compiled(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
    except RecursionError:
        raise ValueError(f"invalid regex {pattern[:40]!r}...: nested too deeply") from None
    return pattern


# A name or id that must hold something besides whitespace.
Name = Annotated[str, AfterValidator(_not_blank)]
# Regular expressions, each compiled (case-insensitive, as they are matched) when read.
Regexes = list[Annotated[str, AfterValidator(_compiled)]]


class Strict(BaseModel):
    """Base for every file format: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- personas

Archetype = Literal[
    "upset",
    "abusive",
    "manager_demanding",
    "churn_threat",
    "billing_error",
    "broken_promise",
    "bad_news",
    "refund_outside_policy",
    "threat_public",
    "repeat_contact",
    "outage",
    "wrong_item",
    "anxious",
    "over_authority",
    "external_pressure",
    "abusive_escalated",
]
Channel = Literal["chat", "phone", "email"]


class Offer(Strict):
    """Something the agent may put on the table, recognised in its reply by patterns."""

    id: str
    text: str = Field(description="How an agent would phrase the offer (agent-visible).")
    patterns: Regexes = Field(
        min_length=1, description="Regexes (case-insensitive); any match means the offer was made."
    )
    unless: Regexes = Field(
        default_factory=list,
        description="Regexes that cancel a match (e.g. 'return' for a refund).",
    )
    reason: str = Field(default="", description="Why a forbidden offer is forbidden (for a 'no').")
    addresses_real_issue: bool = Field(
        default=True, description="Whether this offer solves what the customer really needs."
    )

    @model_validator(mode="after")
    def _patterns_match_own_text(self) -> Offer:
        if not any(re.search(p, self.text, re.IGNORECASE) for p in self.patterns):
            raise ValueError(f"offer {self.id!r}: no pattern matches its own text {self.text!r}")
        return self


class Policy(Strict):
    """What the company allows, forbids, and what needs a supervisor in this case."""

    allows: list[Offer] = Field(min_length=2)
    forbids: list[Offer] = Field(default_factory=list)
    needs_supervisor: list[Offer] = Field(default_factory=list)


class HiddenIssue(Strict):
    """What the customer is really upset about, and how an agent gets to it."""

    summary: str
    reveal_line: str = Field(description="What the customer says once the issue is uncovered.")
    open_questions_needed: int = Field(default=1, ge=0, le=5)
    trust_needed: int = Field(default=4, ge=0, le=10)


class Emotion(Strict):
    """Emotional start state and what moves it."""

    anger: int = Field(ge=0, le=10)
    trust: int = Field(default=3, ge=0, le=10)
    patience: int = Field(default=6, ge=1, le=20, description="Agent turns before giving up.")
    triggers: list[str] = Field(
        default_factory=list, description="Signal names that hit this customer twice as hard."
    )
    accept_at: int = Field(
        default=5, ge=0, le=10, description="Anger at or below which offers land."
    )


AbuseLevel = Literal["none", "rude", "abusive"]


class AbuseBehaviour(Strict):
    """How abusive the customer gets: none, rude (upset, not abusive) or abusive."""

    level: AbuseLevel = "none"
    starts_at_turn: int = Field(default=1, ge=0)
    persists_after_boundary: bool = Field(
        default=True, description="Keeps insulting after the agent sets a boundary."
    )


class ManagerBehaviour(Strict):
    """When the customer asks for a manager."""

    demands: Literal["never", "immediately", "when_angry"] = "never"
    at_anger: int = Field(default=8, ge=0, le=10)
    accepts_chance: bool = Field(
        default=True, description="Gives the agent a short chance if asked respectfully."
    )
    acts_after: int = Field(
        default=3,
        ge=1,
        le=10,
        description=(
            "The manager rule: a demand that is ignored or stonewalled is repeated, then "
            "sharpened, and only the acts_after-th ignored reply makes the customer escalate "
            "by itself. Offering the transfer or asking for a chance counts half; offering "
            "both gets the chance (accepts_chance) and escalation stays the agent's action."
        ),
    )


class Persona(Strict):
    """A simulated customer: who they are, what the agent sees, and how they react."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: int = Field(ge=1)
    title: str
    archetype: Archetype
    channel: Channel
    difficulty: int = Field(default=3, ge=1, le=5)
    agent_role: Literal["agent", "manager"] = "agent"
    customer_name: Name
    context: dict[str, str | int | float] = Field(
        description="Case facts the agent can see; the agent must not ask for them again."
    )
    issue: str = Field(description="The visible problem in a short phrase, agent-visible.")
    complaint: str = Field(description="The customer's first message.")
    hidden_issue: HiddenIssue
    desired_outcome: str
    policy: Policy
    emotion: Emotion
    abuse: AbuseBehaviour = Field(default_factory=AbuseBehaviour)
    manager: ManagerBehaviour = Field(default_factory=ManagerBehaviour)
    lines: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Scripted lines per situation; override the shared reaction lines.",
    )
    sources: list[str] = Field(min_length=1, description="Seed file + section this is built from.")

    @field_validator("lines")
    @classmethod
    def _known_situations(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(SITUATIONS) - set(EXTRA_SITUATIONS))
        if unknown:
            raise ValueError(f"unknown line situation(s) {unknown}; known: {sorted(SITUATIONS)}")
        return value


SITUATIONS: tuple[str, ...] = (
    "vent",  # still upset, nothing helped
    "detail",  # answering an open question
    "short",  # answering a closed question
    "calmer",  # the agent's reply landed
    "angrier",  # the agent's reply made it worse
    "calm_down",  # told to calm down
    "blame",  # agent passed the blame
    "bare_understand",  # bare "I understand"
    "robotic_apology",  # boilerplate apology
    "policy_only",  # "that's our policy"
    "vague_timeline",  # "soon"
    "repeat_ask",  # asked for something already given
    "premature_fix",  # fix before feeling heard
    "reject_offer",  # an offer made too early or not good enough
    "accept",  # accepting a resolution
    "accept_forbidden",  # accepting something the policy forbids
    "demand_manager",  # asking for a manager
    "give_chance",  # agreeing to let the agent try first
    "insult",  # abusive turn
    "boundary_ack",  # backing off after a boundary
    "leave",  # leaving the conversation
    "refused_no_alt",  # a flat no
    "refused_with_alt",  # a no with an alternative
    "playback_confirm",  # confirming a playback
    "thanks",  # after a good close
)
# Situations a reactions file or persona may add (the scripted customer falls back to a
# neighbouring situation's lines without them: harness.customers.pools.NEIGHBOURS).
EXTRA_SITUATIONS: tuple[str, ...] = (
    "less_angry",  # the reply helped, but the customer is still very upset
    "haggle",  # a fair offer the customer pushes on once
    "demand_again",  # a manager demand repeated, sharper
    "behaviour_named",  # the agent named the abusive behaviour
    "boundary_push",  # pushing against a boundary the agent set
    "give_id",  # giving an id the agent asked for ({fact} is the id)
    "no_id",  # asked for a kind of id the customer does not have
)


class ReactionLines(Strict):
    """Shared default lines per situation, used where a persona has none of its own."""

    reactions: dict[str, list[str]]

    @field_validator("reactions")
    @classmethod
    def _all_situations(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        missing = sorted(set(SITUATIONS) - set(value))
        unknown = sorted(set(value) - set(SITUATIONS) - set(EXTRA_SITUATIONS))
        if missing or unknown:
            raise ValueError(f"missing situations {missing}; unknown situations {unknown}")
        return value


# --------------------------------------------------------------------------- rubrics

Verdict = Literal["met", "partial", "missed", "violated", "na", "unscored"]
VERDICT_SCORE: dict[str, float | None] = {
    "met": 1.0,
    "partial": 0.5,
    "missed": 0.0,
    "violated": 0.0,
    "na": None,
    "unscored": None,  # a judge could not produce a valid verdict; excluded from the score
}


GuidelineScoring = Literal["credit", "deduction", "auto_fail"]


class RubricGuideline(Strict):
    """One guideline as a rubric scores it."""

    id: str = Field(pattern=r"^[a-z]+\.[a-z_]+$")
    title: str
    section: str
    source: str = Field(description="Seed file name(s) and section.")
    description: str
    scoring: GuidelineScoring = Field(
        default="credit",
        description="credit: earns `weight` when done (what the agent did); deduction: a "
        "'don't' that earns nothing by absence and takes `penalty` off the score when broken; "
        "auto_fail: a deduction whose violation makes the whole score 0.",
    )
    weight: float = Field(default=1.0, gt=0, description="Share of the credit (credit only).")
    penalty: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Points off the 0-1 score when broken, half for partial (deductions only).",
    )
    applies: str = Field(description="When the guideline applies, in words.")
    grader: str = Field(description="Registered grader id, e.g. rules:deesc.name_emotion.")

    @property
    def importance(self) -> float:
        """How much the guideline moves the score, on the credit-weight scale: its weight,
        ten times its penalty for a deduction, the most for an auto-fail."""
        if self.scoring == "credit":
            return self.weight
        return 3.0 if self.scoring == "auto_fail" else 10 * self.penalty

    @model_validator(mode="after")
    def _fields_of_its_scoring(self) -> RubricGuideline:
        if self.scoring == "credit" and "penalty" in self.model_fields_set:
            raise ValueError(f"{self.id}: penalty applies to deduction guidelines, not credit")
        if self.scoring != "credit" and "weight" in self.model_fields_set:
            raise ValueError(f"{self.id}: weight applies to credit guidelines; use penalty")
        return self


class Rubric(Strict):
    """A named, versioned set of guidelines with weights."""

    id: str
    version: int = Field(ge=1)
    title: str
    guidelines: list[RubricGuideline] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [g.id for g in self.guidelines]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate guideline ids: {dupes}")
        if not any(g.scoring == "credit" for g in self.guidelines):
            raise ValueError("a rubric needs at least one credit guideline to score anything")
        return self


# --------------------------------------------------------------------------- macros


Stage = Literal[
    "opening",
    "explore",
    "playback",
    "resolve",
    "refuse",
    "escalate",
    "close",
    "manager_request",
    "abuse_1",
    "abuse_2",
    "abuse_3",
    "abuse_4",
    "any",
]


# The {slots} a macro's text may use besides the case-context keys (e.g. {order_id}); the
# macros:PATH agent fills them (harness/agents/macros.py) and `toughtalk validate` checks them.
MACRO_SLOTS: dict[str, str] = {
    "agent_name": "the agent's first name",
    "customer_name": "the customer's first name",
    "issue": "the visible problem in a short phrase",
    "option_1": "the first offer the policy allows",
    "option_2": "the second offer the policy allows",
    "option_3": "the third offer the policy allows (when the case has one)",
    "forbidden": "the request past a policy limit being refused",
    "forbidden_reason": "why that request is refused",
    "supervisor_item": "the first offer that needs a supervisor",
    "accepted": "the offer the customer accepted",
}


class Macro(Strict):
    """A canned reply with the stages and customer cues it is for."""

    id: Name
    text: str = Field(
        description="Reply text; {slots} are filled when the reply is sent: "
        + ", ".join(f"{{{name}}} ({what})" for name, what in MACRO_SLOTS.items())
        + ", or any key of the case context the agent sees, e.g. {order_id}."
    )
    stages: list[Stage] = Field(min_length=1)
    when: Regexes = Field(
        default_factory=list, description="Regexes on the customer's last message; any must match."
    )
    priority: int = Field(default=0, description="Higher wins among matching macros.")
    role: Literal["agent", "manager", "any"] = Field(
        default="any", description="Only for agents in this role (manager: taking over a case)."
    )
    action: Literal["reply", "end", "transfer"] = "reply"


class MacroLibrary(Strict):
    """A library of reply macros used by the `macros:PATH` agent."""

    id: Name
    version: int = Field(ge=1)
    description: str
    macros: list[Macro] = Field(min_length=1)

    @field_validator("macros")
    @classmethod
    def _unique_ids(cls, value: list[Macro]) -> list[Macro]:
        ids = [m.id for m in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate macro ids: {dupes}")
        return value


# --------------------------------------------------------------------------- transcripts

Role = Literal["customer", "agent"]


class CustomerState(Strict):
    """The simulated customer's state after one of its turns."""

    anger: float = Field(ge=0, le=10)
    trust: float = Field(ge=0, le=10)
    wants_manager: bool = False
    abuse_level: int = Field(default=0, ge=0, le=4, description="0 none .. 4 sustained abuse")
    real_issue_revealed: bool = False
    offers: list[str] = Field(default_factory=list, description="Offer ids on the table.")
    policy_breach: list[str] = Field(default_factory=list)
    reactions: list[str] = Field(default_factory=list, description="Signals reacted to.")


class Turn(Strict):
    """One message in a conversation."""

    role: Role
    text: str
    state: CustomerState | None = None
    action: str | None = Field(default=None, description="end / transfer / accept / leave …")
    macro: str | None = Field(default=None, description="macros:PATH agents: the macro sent.")
    stage: str | None = Field(
        default=None,
        description="macros:PATH agents: the conversation stage the reply was picked for; "
        "a macro that does not list it is a fallback (the library had none that fit).",
    )

    @field_validator("role", mode="before")
    @classmethod
    def _chat_roles(cls, value: object) -> object:
        """Accept the chat-API names: user is the customer, assistant the agent."""
        if isinstance(value, str):
            return {"user": "customer", "assistant": "agent"}.get(value, value)
        return value


# Benchmark sets name their human verdicts differently; these keys all mean `labels`.
LABEL_KEYS = ("labels", "verdicts", "human_labels", "gold", "annotations")


class Conversation(Strict):
    """A conversation to grade (transcript import format)."""

    id: Name
    context: dict[str, Any] = Field(default_factory=dict)
    persona: str | None = None
    turns: list[Turn] = Field(min_length=1)
    labels: dict[str, Verdict] | None = Field(
        default=None,
        validation_alias=AliasChoices(*LABEL_KEYS),
        description="Human verdicts per guideline id (benchmark sets only).",
    )
    meta: dict[str, Any] | None = Field(
        default=None,
        validation_alias=AliasChoices("meta", "metadata"),
        description="Free-form metadata about the conversation (kept, not graded).",
    )


class OpenAIMessage(Strict):
    """One message in the OpenAI chat shape."""

    role: Literal["user", "assistant", "system"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class OpenAIConversation(Strict):
    """A conversation in the OpenAI messages shape (user = customer, assistant = agent)."""

    id: Name
    context: dict[str, Any] = Field(default_factory=dict)
    persona: str | None = None
    messages: list[OpenAIMessage] = Field(min_length=1)
    labels: dict[str, Verdict] | None = Field(
        default=None, validation_alias=AliasChoices(*LABEL_KEYS)
    )
    meta: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("meta", "metadata")
    )

    def to_conversation(self) -> Conversation:
        """Convert to the native shape; system messages are dropped."""
        turns: list[Turn] = []
        for message in self.messages:
            if message.role == "system":
                continue
            content = message.content
            if isinstance(content, list):
                content = "".join(str(part.get("text", "")) for part in content)
            role: Role = "customer" if message.role == "user" else "agent"
            turns.append(Turn(role=role, text=content or ""))
        return Conversation(
            id=self.id,
            context=self.context,
            persona=self.persona,
            turns=turns,
            labels=self.labels,
            meta=self.meta,
        )


class StopReason(StrEnum):
    """Why an episode ended."""

    resolved = "resolved"
    agent_ended = "agent_ended"
    customer_left = "customer_left"
    escalated = "escalated"
    max_turns = "max_turns"
    error = "error"
    imported = "imported"


class Attempt(Strict):
    """One branch of a chat abandoned by /rewind: its turns and where it was rewound to."""

    rewound_to: int = Field(ge=0, description="Turns kept from this branch (0-based count).")
    turns: list[Turn]


class TranscriptRecord(Strict):
    """One line of transcripts.jsonl."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    conversation_id: str
    persona: str | None
    agent: str
    customer: str
    seed: int | None
    difficulty: int | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn]
    stop_reason: StopReason
    error: str | None = None
    sim_faults: list[str] = Field(default_factory=list)
    coaching: dict[str, int] | None = Field(
        default=None, description="Trainee sessions: hints and rewinds used (toughtalk chat)."
    )
    attempts: list[Attempt] = Field(
        default_factory=list,
        description=(
            "Trainee sessions: every branch abandoned by /rewind, oldest first; `turns` is "
            "the final attempt."
        ),
    )


# --------------------------------------------------------------------------- scorecards


class Evidence(Strict):
    """A quote from one turn; always an exact substring of that turn's text."""

    turn: int = Field(ge=0)
    quote: str = Field(min_length=1)


class GuidelineResult(Strict):
    """The verdict on one guideline for one conversation."""

    guideline: str
    verdict: Verdict
    score: float | None = Field(ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list)
    rationale: str
    grader: str
    flags: list[str] = Field(
        default_factory=list, description="Judge problems: invented quotes, downgrades, unscored."
    )


class RoleUsage(Strict):
    """Tokens, cost and calls of one role (agent, customer or judge): counted by the gateway,
    stored per scorecard and summed per run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0

    @classmethod
    def of_call(cls, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> RoleUsage:
        """The usage of one uncached call."""
        total = prompt_tokens + completion_tokens
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=total,
            cost_usd=cost_usd,
            calls=1,
        )

    def add(self, other: RoleUsage) -> None:
        """Accumulate another usage record."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.cost_usd = round(self.cost_usd + other.cost_usd, 8)
        self.calls += other.calls
        self.cached_calls += other.cached_calls


class Outcome(Strict):
    """How the conversation ended and how the customer felt along the way."""

    stop_reason: StopReason
    resolved: bool
    turns: int
    anger: list[float] | None = None
    csat: int | None = Field(default=None, ge=1, le=5)
    calmed_at_turn: int | None = Field(
        default=None,
        description="Transcript index (0-based) of the first customer turn with anger <= 3.",
    )
    real_issue_revealed: bool | None = None
    policy_breach: list[str] = Field(default_factory=list)
    sim_fault: bool = Field(
        default=False, description="The simulated customer broke character (LLM customers)."
    )
    sim_faults: list[str] = Field(default_factory=list)


class Scorecard(Strict):
    """One line of scorecards.jsonl."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    conversation_id: str
    persona: str | None
    agent: str
    customer: str
    judge: str
    rubric: str
    seed: int | None
    difficulty: int | None = None
    outcome: Outcome
    results: list[GuidelineResult]
    score: float | None = Field(
        description="Credit earned minus deductions (see the rubric's `scoring`); null when "
        "the conversation has no score (it errored, or the agent never spoke): see `flags`."
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Why a conversation is left out of means: error, no_agent_turn, unscored.",
    )
    usage: dict[str, RoleUsage] = Field(
        default_factory=dict, description="Per role: agent, customer, judge (model calls only)."
    )
    panel: dict[str, list[GuidelineResult]] = Field(
        default_factory=dict, description="Verdicts of extra judges (--judge given twice)."
    )


# --------------------------------------------------------------------------- runs and suites


JudgeBatch = Literal["guideline", "section"]
HttpFormat = Literal["openai", "webhook"]  # the request shapes of the http:URL agent
CompareBy = Literal["guideline", "persona", "agent"]
Executor = Literal["local", "ray"]


class RunSettings(Strict):
    """Everything that determines what a run does."""

    personas: list[str]
    agents: list[str]
    customer: str = "scripted"
    judge: str = "rules"
    judges: list[str] = Field(default_factory=list, description="Extra judges for agreement.")
    judge_batch: JudgeBatch = Field(
        default="guideline", description="LLM judges: one call per guideline or per section."
    )
    rubric: str = "default"
    seeds: list[int] = Field(max_length=MAX_SEEDS)
    max_turns: int = Field(default=20, ge=2)
    difficulty: int | None = Field(default=None, ge=1, le=5)
    concurrency: int = Field(default=4, ge=1)
    api_base: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=4, ge=0, le=10, description="Retries per model call.")
    cache: bool = True
    stream: bool = False
    system_prompt: str | None = Field(default=None, description="Agent prompt file (model:ID).")
    temperature: float = Field(default=0.7, ge=0, le=2, description="Agent and customer models.")
    agent_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per agent kind, that kind's options, e.g. {'http': {'format': 'webhook', "
        "'headers': {'Authorization': 'Bearer $BOT_TOKEN'}}} (header values stay templates).",
    )
    max_intensity: AbuseLevel | None = Field(
        default=None, description="Cap on how abusive the customer may get (default: persona's)."
    )
    executor: Executor = Field(
        default="local", description="Where conversations run: this process, or Ray tasks."
    )
    ray_address: str | None = Field(
        default=None, description="`--executor ray`: a cluster to join (default: a local one)."
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_http_fields(cls, data: Any) -> Any:
        """Run manifests written before `agent_options` kept the http agent's options in five
        `http_*` fields: read them as `agent_options.http`."""
        if not isinstance(data, dict) or not any(key in data for key in _LEGACY_HTTP):
            return data
        data = dict(data)
        http = {new: data.pop(old) for old, new in _LEGACY_HTTP.items() if old in data}
        http = {k: v for k, v in http.items() if v is not None}
        if http:
            options = dict(data.get("agent_options") or {})
            options["http"] = {**http, **options.get("http", {})}
            data["agent_options"] = options
        return data


_LEGACY_HTTP = {
    "http_format": "format",
    "http_headers": "headers",
    "http_timeout": "timeout",
    "http_retries": "retries",
    "http_model": "model",
}


RunKind = Literal["run", "eval", "grade", "chat"]


class PersonaRef(Strict):
    """One persona file a run read, with its version (None: unknown, the file has changed or
    gone since the run)."""

    id: str
    version: int | None
    file: str
    sha256: str


class RunIdentity(Strict):
    """What makes two runs' numbers comparable: the same personas, rubric, customer, judges
    and conversation settings (None: does not apply or was not recorded)."""

    personas: list[PersonaRef] = Field(default_factory=list)
    rubric: str | None = Field(default=None, description="Rubric id@version.")
    rubric_file: str | None = None
    rubric_sha256: str | None = None
    reactions_sha256: str | None = Field(
        default=None, description="The scripted customer's shared reaction lines."
    )
    customer: str | None = None
    judge: str | None = None
    panel: list[str] = Field(default_factory=list, description="Extra judges (agreement only).")
    judge_batch: JudgeBatch | None = None
    difficulty: int | None = Field(default=None, description="None: each persona's own level.")
    max_turns: int | None = None
    max_intensity: AbuseLevel | None = None
    temperature: float | None = None
    harness_version: str


class RunManifest(Strict):
    """run.json: what ran, with which versions and inputs."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    name: str
    kind: RunKind
    harness_version: str
    git_sha: str | None
    python: str
    settings: RunSettings | None = None
    source: str | None = Field(default=None, description="Graded file, for `grade` runs.")
    grading: dict[str, str] | None = Field(
        default=None,
        description="`grade` runs of a file: the judge, panel and judge_batch (checked on resume).",
    )
    files: dict[str, str] = Field(description="sha256 of every persona/rubric/macro file used.")
    identity: RunIdentity | None = Field(
        default=None, description="What `compare` checks runs agree on (absent in older runs)."
    )
    started: str
    finished: str | None = None
    status: Literal["running", "interrupted", "finished", "failed"] = "running"
    conversations: int = 0
    errors: int = 0
    usage: dict[str, RoleUsage] = Field(default_factory=dict, description="Summed per role.")
    agreement: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="Per guideline: Cohen's kappa between judge pairs."
    )


class SuiteAgent(Strict):
    """One agent of a suite with its options: `spec`, an optional `system_prompt` file
    (model:ID agents) and the options of the spec's kind (`toughtalk kinds` lists them),
    either under `options` or next to `spec`, e.g. `format: webhook` for http:URL."""

    spec: str
    system_prompt: str | None = Field(
        default=None, description="The bot's system prompt file (model:ID agents)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The kind's options, e.g. {'format': 'webhook', 'headers': "
        "{'Authorization': 'Bearer $BOT_TOKEN'}} for http:URL ($VAR expanded at call time).",
    )

    @model_validator(mode="before")
    @classmethod
    def _options_beside_spec(cls, data: Any) -> Any:
        """Keys other than spec / system_prompt / options are the kind's options."""
        if not isinstance(data, dict):
            return data
        own = {"spec", "system_prompt", "options"}
        extra = {k: v for k, v in data.items() if k not in own}
        if not extra:
            return data
        kept = {k: v for k, v in data.items() if k in own}
        options = dict(kept.get("options") or {})
        return {**kept, "options": {**extra, **options}}


class EvalSuite(Strict):
    """evals/<name>.yaml: a named matrix of personas x agents x seeds."""

    name: Name
    description: str = ""
    personas: list[Name] | Literal["all"] = "all"
    agents: list[str | SuiteAgent] = Field(
        min_length=1,
        description="Agent specs, or mappings {spec, system_prompt, <the kind's options>}.",
    )
    customer: str = "scripted"
    judge: str = "rules"
    judges: list[str] = Field(
        default_factory=list,
        description="Extra judges: their verdicts are kept beside the primary judge's and "
        "their agreement (Cohen's kappa per guideline) lands in run.json.",
    )
    judge_batch: JudgeBatch = "guideline"
    rubric: str = "default"
    seeds: int | list[int] = Field(
        default=3, description=f"N (seeds 0..N-1, 1 <= N <= {MAX_SEEDS}) or a list of seeds."
    )
    max_turns: int = Field(default=20, ge=2)
    difficulty: int | None = Field(default=None, ge=1, le=5)
    compare_by: CompareBy = "guideline"

    @field_validator("seeds")
    @classmethod
    def _seed_count(cls, value: int | list[int]) -> int | list[int]:
        count = value if isinstance(value, int) else len(value)
        if not 1 <= count <= MAX_SEEDS:
            raise ValueError(f"between 1 and {MAX_SEEDS} seeds, please (got {count})")
        return value

    @field_validator("personas")
    @classmethod
    def _some_personas(cls, value: list[str] | str) -> list[str] | str:
        if not value:
            raise ValueError("no personas; list some, or write `personas: all`")
        return value

    @model_validator(mode="after")
    def _no_repeats(self) -> EvalSuite:
        """A persona, agent or seed given twice would run the same conversation twice."""
        lists: list[tuple[str, list[Any]]] = [
            ("personas", [] if self.personas == "all" else list(self.personas)),
            ("agents", [a.spec for a in self.agent_entries()]),
            ("seeds", [] if isinstance(self.seeds, int) else self.seeds),
        ]
        for name, values in lists:
            seen: set[Any] = set()
            for value in values:
                if value in seen:
                    raise ValueError(f"{name}: {value!r} is listed twice")
                seen.add(value)
        return self

    def seed_list(self) -> list[int]:
        """The seeds as an explicit list."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def agent_entries(self) -> list[SuiteAgent]:
        """Every agent as a SuiteAgent (a bare spec has no options)."""
        return [SuiteAgent(spec=a) if isinstance(a, str) else a for a in self.agents]


SCHEMAS: dict[str, type[BaseModel]] = {
    "persona": Persona,
    "reaction-lines": ReactionLines,
    "rubric": Rubric,
    "macro-library": MacroLibrary,
    "eval-suite": EvalSuite,
    "conversation": Conversation,
    "openai-conversation": OpenAIConversation,
    "transcript-record": TranscriptRecord,
    "scorecard": Scorecard,
    "run-manifest": RunManifest,
}
