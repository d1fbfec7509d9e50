"""A scripted customer's temperament: the persona at a difficulty, varied by the seed.

The persona file and the difficulty set the centre of every behaviour knob (`centre`): start
anger and trust, patience, how fast the customer calms and flares, what the reveal of the
real issue needs, the anger at which offers land and at which it asks for a manager. The seed
then draws one `Temperament` per conversation around that centre (`draw`), so that seeds are
samples of the same kind of customer rather than one customer said in other words:

- `level`: how hard this particular customer is, as a difficulty. The seed moves it up to
  `LEVEL_SPREAD` either side of the difficulty asked for (at most half a level past either
  end of the scale: `LEVEL_RANGE`), and every knob follows from it the way it follows from
  the difficulty (a customer drawn at level 3.6 behaves like the persona between difficulty
  3 and 4);
- each knob then gets its own small jitter, at most `JITTER[knob]` either way;
- `pushes_back`: turns down the first offer that would otherwise land, once (the chance is
  `PUSHBACK_CHANCE` per level);
- `walks_away`: a persona that asks for a manager when angry (`manager.demands: when_angry`)
  leaves instead, with chance `WALK_CHANCE`;
- `sensitive_to`: one inflaming behaviour of `SENSITIVITIES` (not already one of the
  persona's triggers) that hits this customer twice as hard, like a trigger.

What stays put: the persona's facts, hidden issue and lines, and whether an abusive caller
backs off after a boundary (that follows the difficulty asked for). The draws depend on the
persona and seed only, not on the difficulty, so a seed is the same person at every
difficulty, moved up or down the scale with it: seed by seed, and so on average too, no knob
gets easier as the difficulty rises. Seed 0 is the persona as written: the centre, with no
push-back, no walking away and no extra sensitivity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.models import Persona

# Difficulty at and above which an offer lands only once the real issue is out.
REVEAL_GATE = 4
# How far (in difficulty levels) the seed can move a customer from the difficulty asked for,
# and how far past either end of the 1-5 scale it can go.
LEVEL_SPREAD = 1.5
LEVEL_RANGE = (0.5, 5.5)
# How far each knob can move on its own, on top of the level (in the knob's own units).
JITTER: dict[str, float] = {
    "anger": 0.5,
    "trust": 0.5,
    "patience": 1,
    "calm_factor": 0.1,
    "heat_factor": 0.1,
    "trust_needed": 0.5,
    "accept_at": 0.5,
    "manager_at": 1,
    "questions_needed": 1,
}
# Chance per difficulty level that the customer pushes back once on a first good offer.
PUSHBACK_CHANCE = 0.1
# Chance that a customer who asks for a manager when angry walks away instead.
WALK_CHANCE = 0.3
# Inflaming behaviours a seed can make the customer extra sensitive to (names of
# `harness.customers.scripted.INFLAMING`).
SENSITIVITIES = (
    "calm_down",
    "blame",
    "bare_understand",
    "robotic_apology",
    "policy_only",
    "vague_timeline",
    "repeat_ask",
    "premature_fix",
    "flat_no",
)


def clamp(value: float, low: float = 0.0, high: float = 10.0) -> float:
    """Keep a value within bounds."""
    return max(low, min(high, value))


def _num(value: float) -> float:
    """A knob's value as it is kept and shown: a float to two decimals."""
    return round(float(value), 2)


@dataclass(frozen=True)
class Temperament:
    """How one conversation's scripted customer behaves."""

    level: float  # the difficulty this customer behaves like
    anger: float  # anger at the start (0-10)
    trust: float  # trust at the start (0-10)
    patience: int  # agent turns before it may give up
    calm_factor: float  # multiplies every calming move
    heat_factor: float  # multiplies every inflaming move
    questions_needed: int  # open questions before the real issue comes out
    trust_needed: float  # trust before the real issue comes out
    accept_at: float  # anger at or below which an offer lands
    manager_at: int  # anger at which a `when_angry` customer asks for a manager
    walks_away: bool  # a `when_angry` customer who leaves instead of asking for a manager
    needs_reveal: bool  # no offer lands before the real issue is out
    abuse_persists: bool  # an abusive caller keeps going after a boundary
    pushes_back: bool = False  # turns down the first offer that would land, once
    sensitive_to: str | None = None  # one more trigger on top of the persona's


def centre(persona: Persona, difficulty: float, *, nominal: int | None = None) -> Temperament:
    """The persona as written at a difficulty (fractional levels allowed), measured against
    its own base level: each level above it starts angrier and less trusting, calms more
    slowly, flares faster, runs out of patience sooner, needs more for the reveal and accepts
    offers at a lower anger. `nominal` is the difficulty asked for (default: `difficulty`),
    which alone decides whether an abusive caller backs off after a boundary."""
    shift = difficulty - persona.difficulty
    emotion = persona.emotion
    hidden = persona.hidden_issue
    asked = round(difficulty) if nominal is None else nominal
    return Temperament(
        level=_num(difficulty),
        anger=_num(clamp(emotion.anger + shift)),
        trust=_num(clamp(emotion.trust - shift / 2)),
        patience=max(2, round(emotion.patience - shift)),
        calm_factor=_num(clamp(1 - 0.1 * shift, 0.6, 1.4)),
        heat_factor=_num(clamp(1 + 0.1 * shift, 0.6, 1.4)),
        questions_needed=max(0, hidden.open_questions_needed + (shift > 0) - (shift < -1)),
        trust_needed=_num(clamp(hidden.trust_needed + shift * 0.75)),
        accept_at=_num(clamp(emotion.accept_at - shift * 0.5)),
        manager_at=persona.manager.at_anger,
        walks_away=False,
        needs_reveal=difficulty >= REVEAL_GATE,
        abuse_persists=persona.abuse.persists_after_boundary and asked >= 2,
    )


def draw(persona: Persona, seed: int, difficulty: int) -> Temperament:
    """The temperament of one conversation: seed 0 is the centre, any other seed a bounded
    draw around it (see the module docstring)."""
    if seed == 0:
        return centre(persona, difficulty)
    rng = random.Random(f"{persona.id}|{seed}|traits")
    level = clamp(difficulty + rng.uniform(-LEVEL_SPREAD, LEVEL_SPREAD), *LEVEL_RANGE)
    base = centre(persona, level, nominal=difficulty)
    jitter = {knob: rng.uniform(-1, 1) * spread for knob, spread in JITTER.items()}
    pushback, walk = rng.random(), rng.random()
    sensitive = [s for s in SENSITIVITIES if s not in persona.emotion.triggers]
    return Temperament(
        level=base.level,
        anger=_num(clamp(base.anger + jitter["anger"])),
        trust=_num(clamp(base.trust + jitter["trust"])),
        patience=max(2, base.patience + round(jitter["patience"])),
        calm_factor=_num(clamp(base.calm_factor + jitter["calm_factor"], 0.5, 1.5)),
        heat_factor=_num(clamp(base.heat_factor + jitter["heat_factor"], 0.5, 1.5)),
        questions_needed=max(0, base.questions_needed + round(jitter["questions_needed"])),
        trust_needed=_num(clamp(base.trust_needed + jitter["trust_needed"])),
        accept_at=_num(clamp(base.accept_at + jitter["accept_at"])),
        manager_at=int(clamp(base.manager_at + round(jitter["manager_at"]))),
        walks_away=persona.manager.demands == "when_angry" and walk < WALK_CHANCE,
        needs_reveal=base.needs_reveal,
        abuse_persists=base.abuse_persists,
        pushes_back=pushback < PUSHBACK_CHANCE * level,
        sensitive_to=rng.choice(sensitive) if sensitive else None,
    )
