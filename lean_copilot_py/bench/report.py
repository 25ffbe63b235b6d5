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


def pipeline_table(p: dict[str, Any]) -> str:
    ref, ours = p["reference"], p["ours"]
    w = p["workload"]
    head = (f"Pipeline ({w['name']}): {w['attempts']} scripted attempts, winner = attempt {w['winner']} at sketch "
            f"{w['winner_turn']}; model {w['tok_per_s']:g} tok/s per stream; Lean {w['check_s']:g} s/check + "
            f"{w['header_s']:g} s/header.  Ours: N={ours['attempts']} attempts, {ours['slots']} warm slots.")

    def both(key: str, unit: str = "", sub: str | None = None) -> tuple[str, str]:
        get = (lambda d: d[sub][key]) if sub else (lambda d: d[key])
        return _f(get(ref), unit), _f(get(ours), unit)

    rows = [("", "reference (StepFun demo loop)", "ours (Engine/Search)")]
    rows.append(("proved", str(ref["proved"]), str(ours["proved"])))
    rows.append(("time to first verified proof", *both("wall_s", " s")))
    rows.append(("model time (GPU busy)", *both("model_s", " s")))
    rows.append(("Lean time (wall clock)", *both("lean_s", " s")))
    rows.append(("Lean checks / fresh Lean servers", f"{ref['lean_checks']} / {ref['lean_restarts']}",
                 f"{ours['lean_checks']} / {ours['lean_restarts']}"))
    rows.append(("GPU idle waiting on Lean", *both("gpu_idle_waiting_on_lean_s", " s")))
    def cp(d: dict[str, Any]) -> str:
        return f"{_f(d['critical_path']['model_s'])} / {_f(d['critical_path']['lean_s'])} s"

    rows.append(("critical path: model / Lean", cp(ref), cp(ours)))
    rows.append(("turns on the critical path", *both("turns", sub="critical_path")))
    rows.append(("our overhead (wall - model - Lean)", *both("overhead_s", " s")))
    rows.append(("  per turn", *both("overhead_per_turn_ms", " ms")))
    rows.append(("  % of wall (target <= 2 %)", *both("overhead_pct_of_wall", " %")))
    rows.append(("decode rate reached per stream", *both("decode_tok_per_s_per_stream", " tok/s")))
    rows.append(("prompts sent as", ",".join(ref["prefill"]["prompt_kind"]), ",".join(ours["prefill"]["prompt_kind"])))
    rows.append(("prompt tokens sent per continuation", *both("continuation_sent_mean", sub="prefill")))
    rows.append(("prefill per continuation (not seen before)", *both("continuation_new_mean", sub="prefill")))
    rows.append(("  same, vLLM 16-token blocks", *both("continuation_new_blocks_mean", sub="prefill")))
    rows.append(("feedback tokens per continuation", *both("continuation_feedback_mean", sub="prefill")))
    rows.append(("prompt tokens sent in all", *both("sent_tokens_total", sub="prefill")))
    ratio = p["ratio_ours_over_reference"]
    tail = f"ratio ours/reference (time to first verified proof): {_f(ratio)}  (target <= 0.25)"
    return "\n".join([head, "", _table(rows), "", tail])


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
