"""Workloads that look like Lean: the seed's own story, and check times with a heavy tail.

**Seed story** (StepFun-Prover's gcd/lcm example, as the issue tells it): every attempt opens with the same
`interval_cases` sketch, which the REPL gives up on after its 60 s timeout; after that feedback each attempt
writes the factorisation proof (some with a comment or a blank line more), which Lean accepts in ~1.5 s.

**Heavy-tailed** check times. No published distribution of sketch check times was found, so the shape below
is an assumption made to match what the brief says of real Lean with Mathlib ("most sketches check in well
under a second to a few seconds, some take tens of seconds — `nlinarith`, `interval_cases`, `decide` on big
numbers — some hit the 60 s timeout"): a lognormal body with median 1.2 s and σ = 1.3 (so ~5 % of checks take
over 10 s and ~0.7 % over 30 s), anything past the timeout and a further 8 % mass of checks that never finish
become TIMEOUTs at 60 s (StepFun's REPL timeout). Importing Mathlib costs a fresh worker 8 s (leanclient's
documentation, PROTOCOLS.md §1). Each attempt needs 1 + Geometric(0.35) sketches (at most 6) to reach a proof;
with probability 0.5 its first sketch is the one obvious `nlinarith` call every attempt at temperature ~1 tends
to write (the same text, so one shared check). Model turns think 300-1200 tokens at 220 tok/s per stream.

Both run at ``time_scale`` 0.1 by default (a 60 s timeout lasts 6 s, a 1,000-token turn 100 tokens at the same
decode rate): every ratio is preserved, and the report says so.
"""

from __future__ import annotations

import math
import random

from .workload import LeanRule, Workload, final, sketch, think

SEED_THEOREM = (
    "theorem seed_gcd_lcm (n : ℕ) (h₀ : 0 < n) (h₁ : Nat.gcd n 40 = 10) (h₂ : Nat.lcm n 40 = 280) :\n"
    "    n = 70 := by"
)
SEED_FIRST = (
    "  have h₃ : n ≤ 280 := by\n"
    "    have := Nat.le_of_dvd (by norm_num) (Nat.dvd_lcm_left n 40)\n"
    "    omega\n"
    "  interval_cases n <;> simp_all"
)
SEED_PROOF = (
    "  have h₃ : Nat.gcd n 40 * Nat.lcm n 40 = n * 40 := Nat.gcd_mul_lcm n 40\n"
    "  rw [h₁, h₂] at h₃\n"
    "  omega"
)
# What attempts at temperature ~1 add to the same proof: a comment, a blank line, trailing blanks.
SEED_PROOF_VARIANT = (
    "  -- gcd n 40 * lcm n 40 = n * 40, so 10 * 280 = 40 * n\n"
    "  have h₃ : Nat.gcd n 40 * Nat.lcm n 40 = n * 40 := Nat.gcd_mul_lcm n 40  \n"
    "\n"
    "  rw [h₁, h₂] at h₃ -- 2800 = n * 40\n"
    "  omega"
)


def _scaled(rng: random.Random, lo: int, hi: int, scale: float) -> int:
    return max(8, round(rng.randint(lo, hi) * scale))


def seed_story(name: str = "seed-story", *, attempts: int = 8, time_scale: float = 0.1, tok_per_s: float = 220.0,
               seed: int = 0) -> Workload:
    s = time_scale
    convs = []
    for a in range(1, attempts + 1):
        rng = random.Random(seed * 1000 + a)
        proof = SEED_PROOF_VARIANT if a % 2 == 0 else SEED_PROOF
        convs.append((
            think(rng, f"attempt {a}: gcd and lcm", _scaled(rng, 1200, 1800, s)) + sketch(SEED_THEOREM, SEED_FIRST),
            think(rng, f"attempt {a}: the REPL timed out", _scaled(rng, 600, 1000, s)) + sketch(SEED_THEOREM, proof),
            final(SEED_THEOREM, proof, think(rng, f"attempt {a}: summary", _scaled(rng, 150, 150, s))),
        ))
    return Workload(
        name=name, theorem=SEED_THEOREM, conversations=tuple(convs),
        rules=(LeanRule(r"interval_cases", "timeout"), LeanRule(r"gcd_mul_lcm", "proved", 1.5 * s)),
        default_outcome="unsolved", default_delay_s=1.0 * s,
        goals=("n : ℕ\nh₀ : 0 < n\nh₁ : n.gcd 40 = 10\nh₂ : n.lcm 40 = 280\n⊢ n = 70",),
        tok_per_s=tok_per_s, header_s=8.0 * s, check_timeout_s=60.0 * s, time_scale=s,
        description=(f"StepFun's gcd/lcm story: {attempts} attempts, all open with the same `interval_cases` sketch "
                     "(TIMEOUT at 60 s), then write the factorisation proof (half of them with an extra comment, "
                     "blank line and trailing blanks), which Lean proves in 1.5 s; import header 8 s"),
        expect={"winner_turn": 2, "ours_1_proves": True},
    )


HEAVY_THEOREM = "theorem bench_heavy (a b : ℝ) (h₀ : 0 < a ∧ 0 < b) (h₁ : a * b = 1) : a ^ 2 + b ^ 2 ≥ 2 := by"
_MEDIAN_S, _SIGMA, _P_HANG, _TIMEOUT_S = 1.2, 1.3, 0.08, 60.0


def check_time(rng: random.Random, *, can_hang: bool = True) -> float | None:
    """One check's time in unscaled seconds; None = it never finishes (TIMEOUT)."""
    if can_hang and rng.random() < _P_HANG:
        return None
    while True:
        t = _MEDIAN_S * math.exp(rng.gauss(0.0, _SIGMA))
        if t < _TIMEOUT_S:
            return t
        if can_hang:
            return None


def heavy_tailed(name: str = "heavy-tailed", *, attempts: int = 8, time_scale: float = 0.1, tok_per_s: float = 220.0,
                 seed: int = 1, think_tokens: tuple[int, int] = (300, 1200), max_sketches: int = 6) -> Workload:
    s = time_scale
    rng = random.Random(seed)
    rules: list[LeanRule] = []

    def rule(marker: str, proves: bool) -> None:
        t = check_time(rng, can_hang=not proves)
        if t is None:
            rules.append(LeanRule(rf"\b{marker}\b", "timeout"))
        elif proves:
            rules.append(LeanRule(rf"\b{marker}\b", "proved", t * s))
        elif rng.random() < 0.5:
            rules.append(LeanRule(rf"\b{marker}\b", "error", t * s, "linarith failed to find a contradiction"))
        else:
            rules.append(LeanRule(rf"\b{marker}\b", "unsolved", t * s))

    rule("h_obvious", proves=False)  # the first sketch many attempts share
    convs = []
    sketches_to_proof = []
    for a in range(1, attempts + 1):
        k = 1
        while k < max_sketches and rng.random() > 0.35:
            k += 1
        sketches_to_proof.append(k)
        shared_first = k > 1 and rng.random() < 0.5
        trng = random.Random(seed * 7919 + a)
        turns = []
        for t in range(1, k + 1):
            marker = "h_obvious" if (t == 1 and shared_first) else f"h_a{a}_t{t}"
            if marker != "h_obvious":
                rule(marker, proves=t == k)
            tactic = f"  nlinarith [sq_nonneg (a - b), sq_nonneg (a + b), mul_pos h₀.1 h₀.2, {marker}]"
            turns.append(think(trng, f"attempt {a}, sketch {t}", _scaled(trng, *think_tokens, s))
                         + sketch(HEAVY_THEOREM, tactic))
        turns.append(final(HEAVY_THEOREM, tactic, think(trng, f"attempt {a}, summary", _scaled(trng, 150, 150, s))))
        convs.append(tuple(turns))
    return Workload(
        name=name, theorem=HEAVY_THEOREM, conversations=tuple(convs), rules=tuple(rules),
        default_outcome="unsolved", default_delay_s=_MEDIAN_S * s,
        goals=("a b : ℝ\nh₀ : 0 < a ∧ 0 < b\nh₁ : a * b = 1\n⊢ a ^ 2 + b ^ 2 ≥ 2",),
        tok_per_s=tok_per_s, header_s=8.0 * s, check_timeout_s=_TIMEOUT_S * s, time_scale=s,
        description=(f"{attempts} attempts (seed {seed}); sketches to a proof per attempt: {sketches_to_proof}; "
                     f"check times lognormal(median {_MEDIAN_S:g} s, σ {_SIGMA:g}) + {_P_HANG:.0%} never finishing "
                     f"(TIMEOUT at {_TIMEOUT_S:g} s); import header 8 s"),
        expect={"sketches_to_proof": sketches_to_proof, "ours_1_proves": True},
    )
