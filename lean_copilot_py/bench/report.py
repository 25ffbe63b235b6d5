"""The printed table: the numbers side by side, each with the target it is held to."""

from __future__ import annotations

from typing import Any


def _f(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}{unit}" if abs(v) < 10 else f"{v:,.1f}{unit}"
    return f"{v}{unit}"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = enumerate(zip(r, widths, strict=True))
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _target_kind(name: str) -> str:
    return "seed" if name.startswith("seed") else "heavy" if name.startswith("heavy") else "uniform"


def workload_table(r: dict[str, Any]) -> str:
    w = r["workload"]
    runs = [r["reference"], r["ours_1"], r["ours_n"]]
    _, one, many = runs
    ours = [one, many]
    if "ours_n_extra" in r:
        runs.append(r["ours_n_extra"])
        ours.append(r["ours_n_extra"])
    scale = f"; time scale {w['time_scale']:g} (every duration x{w['time_scale']:g})" if w["time_scale"] != 1 else ""
    head = (f"Workload {w['name']}: {w['description']}. Model {w['tok_per_s']:g} tok/s per stream, check timeout "
            f"{w['check_timeout_s']:g} s{scale}. Ours: {many['slots']} warm slots.")

    def row(label: str, get: Any, unit: str = "") -> tuple[str, ...]:
        return (label, *(_f(get(d), unit) if get(d) is not None else "-" for d in runs))

    rows = [("", "reference (StepFun demo loop)", "ours, 1 attempt", f"ours, {many['attempts']} attempts")]
    if "ours_n_extra" in r:
        rows[0] = (*rows[0], f"ours, {many['attempts']}, max_workers {r['ours_n_extra']['max_workers']}")
    rows.append(row("proved", lambda d: str(d["proved"])))
    rows.append(row("time to first verified proof", lambda d: d["wall_s"] if d["proved"] else None, " s"))
    rows.append(row("model time (GPU busy)", lambda d: d["model_s"], " s"))
    rows.append(row("Lean time (wall clock)", lambda d: d["lean_s"], " s"))
    rows.append(row("Lean checks (timeouts, cancelled)",
                    lambda d: f"{d['lean_checks']} ({d['lean_timeouts']}, {d['lean_checks_cancelled']})"))
    rows.append(row("checks Lean saw twice (same env + text)", lambda d: str(d["duplicate_checks"])))
    rows.append(row("fresh Lean servers", lambda d: str(d["lean_restarts"])))
    rows.append(("shared: asked / sent / joined / memo", "-", *(
        f"{d['checks_asked']} / {d['shared']['sent_to_lean']} / {d['shared']['joined_running']} / "
        f"{d['shared']['memo_hits']}" for d in ours)))
    rows.append(("extra slots / workers replaced", "-", *(
        f"{d['extra_slots_opened']} / {d['workers_replaced_after_timeout']}" for d in ours)))
    rows.append(row("GPU idle waiting on Lean", lambda d: d["gpu_idle_waiting_on_lean_s"], " s"))
    def won(get: Any) -> Any:  # a run without a proof has no winner, hence no critical path
        return lambda d: get(d) if d["proved"] else None

    rows.append(row("critical path: model / Lean",
                    won(lambda d: f"{_f(d['critical_path']['model_s'])} / {_f(d['critical_path']['lean_s'])} s")))
    rows.append(row("turns on the critical path", won(lambda d: d["critical_path"]["turns"])))
    rows.append(row("our overhead (wall - model - Lean)", won(lambda d: d["overhead_s"]), " s"))
    rows.append(row("  per turn", won(lambda d: d["overhead_per_turn_ms"]), " ms"))
    rows.append(row("  % of wall (target <= 2 %)", won(lambda d: d["overhead_pct_of_wall"]), " %"))
    rows.append(row("prompts sent as", lambda d: ",".join(d["prefill"]["prompt_kind"])))
    rows.append(row("prefill per continuation (not seen before)", lambda d: d["prefill"]["continuation_new_mean"]))
    rows.append(row("feedback tokens per continuation", lambda d: d["prefill"]["continuation_feedback_mean"]))
    q = r["ratios"]
    t = _TARGETS.get(_target_kind(w["name"]), {})

    def ratio(key: str, label: str) -> str:
        goal = t.get(f"{key}_max")
        return f"{label} {_f(q[key])}" + (f" (target <= {goal:g})" if goal is not None else "")

    parts = [ratio("n_over_reference", f"ours-{many['attempts']}/reference"),
             ratio("n_over_one", f"ours-{many['attempts']}/ours-1"), ratio("one_over_reference", "ours-1/reference")]
    if "ours_n_extra" in r:
        parts.append(f"with extra slots: /reference {_f(q['n_extra_over_reference'])}, "
                     f"/ours-1 {_f(q['n_extra_over_one'])}")
    tail = "ratios: " + ", ".join(parts)
    return "\n".join([head, "", _table(rows), "", tail])


_TARGETS = {"uniform": {"n_over_reference_max": 0.25}, "heavy": {"n_over_reference_max": 0.25, "n_over_one_max": 1.0},
            "seed": {"n_over_one_max": 1.1}}


def pipeline_table(p: dict[str, Any], *, smoke: bool = False) -> str:
    parts = [workload_table(r) for r in p["workloads"]]
    if smoke:
        parts.insert(0, "SMOKE RUN: workloads shrunk for speed; the targets apply to the full run "
                        "(`lean-copilot bench`).")
    rows = [("workload", "reference", "ours-1", "ours-N", "N/ref", "N/1", "dups (ours-N)", "overhead % (ours-N)")]
    for r in p["workloads"]:
        ref, one, many, q = r["reference"], r["ours_1"], r["ours_n"], r["ratios"]

        def wall(d: dict[str, Any]) -> str:
            return _f(d["wall_s"], " s") if d["proved"] else "no proof"

        rows.append((r["workload"]["name"], wall(ref), wall(one), wall(many), _f(q["n_over_reference"]),
                     _f(q["n_over_one"]), str(many["duplicate_checks"]), _f(many["overhead_pct_of_wall"])))
    parts.append("Summary (time to first verified proof):\n\n" + _table(rows))
    for family, g in p.get("groups", {}).items():
        t, q = g["total_s"], g["ratios"]
        goal = _TARGETS.get(_target_kind(family), {})
        line = (f"{family}, total over {g['draws']} draws: reference {_f(t['reference'], ' s')}, ours-1 "
                f"{_f(t['ours_1'], ' s')}, ours-N {_f(t['ours_n'], ' s')}; ours-N/reference {_f(q['n_over_reference'])}"
                f" (target <= {goal.get('n_over_reference_max', '-')}), ours-N/ours-1 {_f(q['n_over_one'])} (target <= "
                f"{goal.get('n_over_one_max', '-')}); checks Lean saw twice (ours): {g['duplicate_checks_ours']}")
        if "ours_n_extra" in t:
            line += (f"; with extra slots ours-N {_f(t['ours_n_extra'], ' s')}: /reference "
                     f"{_f(q['n_extra_over_reference'])}, /ours-1 {_f(q['n_extra_over_one'])}")
        parts.append(line)
    return "\n\n".join(parts)


def responsiveness_table(r: dict[str, Any]) -> str:
    c = r["config"]
    head = (f"Responsiveness ({c['name']}): `lean-copilot serve` over stdio, {r['searches_started']} searches x "
            f"{c['attempts']} attempts ({'fake model + ' if c['use_model'] else 'no model, '}fake Lean "
            f"{c['check_s']:g} s/check), one code action every {c['interval_s'] * 1000:g} ms for {c['window_s']:g} s")
    idle, warm, busy = r["code_action_idle"], r["code_action_warmup"], r["code_action_during_searches"]
    rows = [("", "idle server", f"warm-up ({r['warmup_s']:g} s)", "during searches")]
    rows.append(("code actions timed", str(idle.get("n")), str(warm.get("n")), str(busy.get("n"))))
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99 (target <= 20 ms)"), ("max_ms", "max")):
        rows.append((f"code action latency {label}", _f(idle.get(key), " ms"), _f(warm.get(key), " ms"),
                     _f(busy.get(key), " ms")))
    rows.append(("server RSS (target <= 200 MB)", _f(r["rss_idle_mb"], " MB"), "",
                 _f(r["rss"]["server_peak_mb"], " MB peak")))
    rows.append(("fake Lean processes' RSS", "", "", _f(r["rss"]["children_peak_mb"], " MB peak")))
    running = f"{r['searches_running_at_window_end']}/{r['searches_started']}"
    rows.append(("searches still running at the end", "", "", running))
    rows.append(("model requests in the window", "", "", str(r["model_requests_during_window"])))
    slow = ", ".join(f"{s['ms']:g} ms at {s['at_s']:g} s" for s in r["slowest"][:3])
    note = "" if r["model_streaming_after_warmup"] else "\nWARNING: the model was not streaming when the window began."
    return "\n".join([head, "", _table(rows), f"slowest code actions (time since the prove commands): {slow}{note}"])


def machine_line(m: dict[str, Any]) -> str:
    return (f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}, load average "
            f"{m['load_average_1_5_15']} at start -> {m.get('load_average_after')} at end")
