"""A self-contained HTML report for a clinician: tables, SVG charts, warning signs, timelines.

No scripts, fonts or images from anywhere: one file that opens offline and prints on A4 or
Letter (the charts scale to the page width).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from voiceguide.history import Review

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#393b79", "#637939")
STATUS_COLOURS = {"completed": "#2f9e44", "skipped": "#adb5bd", "pain": "#e03131", "stopped": "#f08c00",
                  "not_reached": "#f1f3f5"}

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #212529; margin: 24px auto; max-width: 960px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 28px; border-bottom: 2px solid #dee2e6; }
.meta { color: #495057; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid #dee2e6; padding: 4px 6px; text-align: left; }
td.n, th.n { text-align: right; }
.figures { display: flex; gap: 12px; flex-wrap: wrap; }
.figure { border: 1px solid #dee2e6; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.figure b { display: block; font-size: 24px; }
.warning { background: #fff5f5; border-left: 5px solid #e03131; padding: 8px 12px; margin: 6px 0; }
.ok { background: #ebfbee; border-left: 5px solid #2f9e44; padding: 8px 12px; }
.chip { display: inline-block; width: 14px; height: 14px; margin-right: 2px; border-radius: 3px; vertical-align: middle; }
svg { width: 100%; height: auto; }
section, table, svg, .warning { break-inside: avoid; }
@page { size: A4; margin: 14mm; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
"""


def render(r: Review, sessions: list[dict[str, Any]], title: str = "Exercise session report") -> str:
    start = date.fromisoformat(r.weeks[0]["start"]) if r.weeks else date.today()
    shown = [s for s in sessions if datetime.fromisoformat(s["started"]).date() >= start]
    names = {m.id: m.name for m in r.moves}
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='meta'>{len(r.weeks)} weeks from {start:%d %b %Y}; logs from "
        f"{_d(r.first)} to {_d(r.last)}. Generated {date.today():%d %b %Y} by voiceguide.</p>",
        "<section><h2>Summary</h2><div class='figures'>",
        _figure("Sessions", str(r.sessions)),
        _figure("Of plan", f"{round(r.adherence * 100)}%"),
        _figure("Current streak", f"{r.streak_days} days"),
        _figure("Time exercising", f"{r.total_minutes:g} min"),
        "</div></section>",
        "<section><h2>Warning signs</h2>",
    ]
    if r.warnings:
        parts += [f"<div class='warning'>{escape(w.text)}</div>" for w in r.warnings]
    else:
        parts.append("<div class='ok'>No warning signs in these logs.</div>")
    parts.append("<p class='meta'>These notes describe what the session logs show; they are not a diagnosis.</p></section>")
    parts += ["<section><h2>Sessions per week</h2>", _week_chart(r.weeks), "</section>"]
    parts += ["<section><h2>Pain ratings per exercise</h2>", _pain_chart(r, start), "</section>"]
    parts += ["<section><h2>Exercises</h2><table><tr><th>Exercise</th><th class='n'>Done</th>"
              "<th class='n'>Skipped</th><th class='n'>Stopped for pain</th><th class='n'>Pain, first week</th>"
              "<th class='n'>Pain, last week</th></tr>"]
    for m in r.moves:
        parts.append(f"<tr><td>{escape(m.name)}</td><td class='n'>{m.completed}</td><td class='n'>{m.skipped}</td>"
                     f"<td class='n'>{m.pain}</td><td class='n'>{_num(m.first_week_pain)}</td>"
                     f"<td class='n'>{_num(m.last_week_pain)}</td></tr>")
    parts.append("</table></section>")
    parts += ["<section><h2>Session timeline</h2>", _legend(), "<table><tr><th>Date</th><th>Status</th>"
              "<th class='n'>Minutes</th><th>Exercises</th><th>Notes</th></tr>"]
    for s in reversed(shown):
        chips = "".join(f"<span class='chip' title='{escape(names.get(e['id'], e['id']))}: {e['status']}' "
                        f"style='background:{STATUS_COLOURS.get(e['status'], '#ccc')}'></span>" for e in s["exercises"])
        notes = "; ".join([f"pain in {escape(e['name'].lower())}" + (f" ({e['pain_level']}/10)" if e["pain_level"] is not None else "")
                           for e in s["exercises"] if e["status"] == "pain"]
                          + ["pain before the first move" + (f" ({p['level']}/10)" if p.get("level") is not None else "")
                             for p in s.get("pains", []) if p["exercise"] is None]
                          + [escape(n) for n in _equipment(s)])
        parts.append(f"<tr><td>{_d(s['started'])}</td><td>{s['status']}</td><td class='n'>{(s['duration'] or 0) / 60:.0f}</td>"
                     f"<td>{chips}</td><td>{notes}</td></tr>")
    parts.append("</table></section></body></html>")
    return "\n".join(parts)


def _equipment(session: dict[str, Any]) -> list[str]:
    """What happened to the equipment in a session, in a few words each, once each: a pain that
    went unheard may have been the microphone's fault. Not the guide's own words ignored."""
    seen: list[str] = []
    for note in session.get("notes", []):
        message = note["message"]
        if message.startswith("ignored "):
            continue
        short = message.split(": ", 1)[-1].split(" (")[0].split(",")[0]  # "mic: telephone-band sound (...)": the kind
        if short not in seen:
            seen.append(short)
    return seen


def _d(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%d %b %Y") if iso else "-"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _figure(label: str, value: str) -> str:
    return f"<div class='figure'>{escape(label)}<b>{escape(value)}</b></div>"


def _legend() -> str:
    return "<p>" + " ".join(f"<span class='chip' style='background:{c}'></span>{s.replace('_', ' ')}"
                            for s, c in STATUS_COLOURS.items()) + "</p>"


def _week_chart(weeks: list[dict[str, Any]]) -> str:
    width, height, left, bottom = 900, 260, 40, 40
    top = max([w["sessions"] for w in weeks] + [w["plan"] for w in weeks] + [1])
    step = (width - left - 10) / max(len(weeks), 1)
    y = lambda v: height - bottom - v * (height - bottom - 15) / top  # noqa: E731
    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='Sessions per week'>"]
    for v in range(0, top + 1, max(1, top // 5)):
        out.append(f"<line x1='{left}' x2='{width}' y1='{y(v):.1f}' y2='{y(v):.1f}' stroke='#e9ecef'/>"
                   f"<text x='{left - 6}' y='{y(v) + 4:.1f}' font-size='12' text-anchor='end'>{v}</text>")
    for i, w in enumerate(weeks):
        x = left + i * step + step * 0.15
        out.append(f"<rect class='bar' x='{x:.1f}' y='{y(w['sessions']):.1f}' width='{step * 0.7:.1f}' "
                   f"height='{y(0) - y(w['sessions']):.1f}' fill='#1f77b4'><title>{w['week']}: {w['sessions']}</title></rect>")
        if len(weeks) <= 16 or i % max(1, len(weeks) // 12) == 0:
            out.append(f"<text x='{x + step * 0.35:.1f}' y='{height - bottom + 16}' font-size='11' "
                       f"text-anchor='middle'>{w['start'][5:]}</text>")
    plan = weeks[0]["plan"] if weeks else 0
    out.append(f"<line x1='{left}' x2='{width}' y1='{y(plan):.1f}' y2='{y(plan):.1f}' stroke='#e03131' "
               f"stroke-dasharray='6 4' stroke-width='2'/><text x='{width - 4}' y='{y(plan) - 5:.1f}' "
               f"font-size='12' text-anchor='end' fill='#e03131'>plan {plan}/week</text></svg>")
    return "".join(out)


def _pain_chart(r: Review, start: date) -> str:
    series = [(m, [(date.fromisoformat(d), v) for d, v in m.ratings if date.fromisoformat(d) >= start]) for m in r.moves]
    series = [(m, pts) for m, pts in series if pts]
    if not series:
        return "<p>No pain ratings in this period.</p>"
    width, height, left, bottom = 900, 280, 40, 40
    end = max(p[-1][0] for _, p in series)
    span = max((end - start).days, 1)
    x = lambda d: left + (d - start).days * (width - left - 150) / span  # noqa: E731
    y = lambda v: height - bottom - v * (height - bottom - 15) / 10  # noqa: E731
    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='Pain ratings per exercise'>"]
    for v in (0, 2, 4, 6, 8, 10):
        out.append(f"<line x1='{left}' x2='{width - 150}' y1='{y(v):.1f}' y2='{y(v):.1f}' stroke='#e9ecef'/>"
                   f"<text x='{left - 6}' y='{y(v) + 4:.1f}' font-size='12' text-anchor='end'>{v}</text>")
    for k in range(0, span + 1, max(1, span // 6)):
        d = start + timedelta(days=k)
        out.append(f"<text x='{x(d):.1f}' y='{height - bottom + 16}' font-size='11' text-anchor='middle'>{d:%d %b}</text>")
    for i, (m, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in pts)
        out.append(f"<polyline class='pain' points='{line}' fill='none' stroke='{colour}' stroke-width='3'/>")
        out += [f"<circle cx='{x(d):.1f}' cy='{y(v):.1f}' r='3.5' fill='{colour}'><title>{escape(m.name)} "
                f"{d:%d %b}: {v}/10</title></circle>" for d, v in pts]
        out.append(f"<text x='{width - 140}' y='{30 + i * 18}' font-size='13' fill='{colour}'>{escape(m.name)}</text>")
    out.append("</svg>")
    return "".join(out)
