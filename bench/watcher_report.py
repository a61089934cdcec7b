"""What ``bench_watcher.py`` makes of the logs it collects: which Slack call first showed each change in the emulator,
Pulumi calls per active deployment and poll interval, outcomes delivered; and the tables it prints."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness import percentile, table

# The parent message's fallback text: "update bench/svc-0001/dev #1: ⟳ running".
EDIT = re.compile(r"^\S+ (?P<stack>\S+/\S+/\S+) #\d+: \S+ (?P<status>\w+)")
# The outcome reply's: "update bench/svc-0001/dev #1 failed at pulumi update".
OUTCOME = re.compile(r"^\S+ (?P<stack>\S+/\S+/\S+) #\d+ (?P<status>succeeded|failed|cancelled|skipped)\b")
# A finished step in the parent's step list: "✓ 3. Get source (2s)".
STEP_LINE = re.compile(r"^[✓✗] \d+\. (?P<name>.+?)(?: \([^()]*\))?$", re.MULTILINE)
RANK = {"queued": 0, "starting": 1, "running": 2, "succeeded": 3, "failed": 3, "skipped": 3}
FINAL = ("succeeded", "failed", "skipped")


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def endpoint(method: str, path: str) -> str:
    """The endpoint of a request, without org, stack, ids or versions: ``GET stack/{id}/logs``."""
    path = re.sub(r"^/api/stacks/[^/]+/[^/]+/[^/]+/deployments", "stack", path)
    path = re.sub(r"^/api/orgs/[^/]+/deployments", "org", path)
    path = re.sub(r"/version/\d+", "/version/{v}", path)
    return f"{method} {re.sub(r'/[0-9a-f]{8}-[0-9a-f-]{27}', '/{id}', path)}"


@dataclass(frozen=True)
class Shown:
    """One successful Slack call about a deployment, and what it showed."""

    at: float
    kind: str  # "edit" (of the parent message), "steps" (a thread reply) or "outcome" (the outcome reply)
    status: str | None
    steps: frozenset[str]  # the steps shown finished, by name


def shown_by_stack(calls: list[dict[str, Any]]) -> dict[str, list[Shown]]:
    """Every successful edit and thread reply, by the stack of the deployment it is about, oldest first."""
    parents: dict[str, str] = {}  # parent ts -> stack: edits name their deployment, thread replies only the ts
    found: dict[str, list[Shown]] = defaultdict(list)
    for call in calls:
        args = call.get("args") or {}
        match = EDIT.match(str(args.get("text", ""))) if call["method"] == "chat.update" and call["ok"] else None
        if match:
            parents[str(args["ts"])] = match["stack"]
            found[match["stack"]].append(Shown(call["at"], "edit", match["status"], _edit_steps(args.get("blocks"))))
    for call in calls:
        args = call.get("args") or {}
        stack = parents.get(str(args.get("thread_ts")))
        if call["method"] != "chat.postMessage" or not call["ok"] or stack is None:
            continue
        text = str(args.get("text", ""))
        if match := OUTCOME.match(text):
            found[stack].append(Shown(call["at"], "outcome", match["status"], frozenset()))
        else:  # "✓ Setup (2s); ✓ Get source (2s)"
            names = (item[2:].rsplit(" (", 1)[0] for item in text.split("; ") if item[:2] in ("✓ ", "✗ "))
            found[stack].append(Shown(call["at"], "steps", None, frozenset(names)))
    for shown in found.values():
        shown.sort(key=lambda s: s.at)
    return found


def _edit_steps(blocks: Any) -> frozenset[str]:
    if isinstance(blocks, str):  # form-encoded calls carry blocks as JSON text
        blocks = json.loads(blocks)
    texts = [b["text"]["text"] for b in blocks or [] if b.get("type") == "section" and isinstance(b.get("text"), dict)]
    return frozenset(m["name"] for text in texts for m in STEP_LINE.finditer(text))


def _change(event: dict[str, Any]) -> str | None:
    """Which reported change an event is: a step finishing, a deployment starting or finishing; None otherwise."""
    if event["kind"] == "step":
        return "step" if event["to"] in ("succeeded", "failed") else None
    return "started" if event["to"] == "running" else "finished" if event["to"] in FINAL else None


def _shows(shown: Shown, event: dict[str, Any], change: str) -> bool:
    if change == "step":
        return str(event["stepName"]) in shown.steps
    if change == "started":
        return shown.kind != "edit" or RANK.get(shown.status or "", 0) >= RANK["running"]
    return shown.status == str(event["to"])


def lags(events: list[dict[str, Any]], shown: dict[str, list[Shown]], since: float) -> dict[str, list[float | None]]:
    """Seconds from each change after ``since`` to the first Slack call showing it (None: never shown)."""
    found: dict[str, list[float | None]] = defaultdict(list)
    for event in events:
        change, at = _change(event), event["atNs"] / 1e9
        if change is None or at < since:
            continue
        first = next((s.at for s in shown.get(event["stack"], []) if _shows(s, event, change)), None)
        found[change].append(None if first is None else first - at)
    return found


@dataclass
class Phase:
    """From resuming the organization until the watcher retired its last watch (or gave up waiting)."""

    created: int
    released: float
    done: float
    finished: bool
    events: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    requests: list[tuple[float, str, str]]  # the bot's Pulumi calls: at, endpoint, path
    bot_cpu: float
    bot_rss: float
    sandbox_cpu: float
    redis_commands: Counter[str] = field(default_factory=Counter)  # every client's Redis commands while running


def api_rate(phase: Phase, interval: float) -> tuple[float, dict[str, float]]:
    """The bot's Pulumi calls while running per (active deployment x poll interval); and the same by endpoint.
    A deployment is active from the resume until the emulator finished it."""
    since, until = phase.released, phase.done
    created = {e["deploymentId"]: e["atNs"] / 1e9 for e in phase.events if e["kind"] == "deployment" and not e["from"]}
    final = {e["deploymentId"]: e["atNs"] / 1e9 for e in phase.events if e["kind"] == "deployment" and e["to"] in FINAL}
    active = sum(max(0.0, min(final.get(d, until), until) - max(at, since)) for d, at in created.items())
    intervals = max(active / interval, 1e-9)
    calls = Counter(name for at, name, _ in phase.requests if since <= at <= until)
    return sum(calls.values()) / intervals, {name: count / intervals for name, count in calls.items()}


def poll_gaps(phase: Phase) -> list[float]:
    """Seconds between two reads of the same running deployment (the cadence the watcher achieved): a GET of it
    alone, or a read of the org's running list (its pages, ``GET org`` calls less than 0.5 s apart, count as one
    read of every deployment running then)."""
    since, until = phase.released, phase.done
    reads: dict[str, list[float]] = defaultdict(list)
    lists: list[float] = []
    for at, name, path in phase.requests:
        if not since <= at <= until:
            continue
        if name == "GET stack/{id}":
            reads[path.rsplit("/", 1)[1]].append(at)
        elif name == "GET org" and (not lists or at - lists[-1] > 0.5):
            lists.append(at)
    running: dict[str, list[float]] = defaultdict(list)  # deployment -> [started, finished]
    for event in phase.events:
        if event["kind"] == "deployment" and (event["to"] == "running" or event["to"] in FINAL):
            running[event["deploymentId"]].append(event["atNs"] / 1e9)
    for deployment, (started, *rest) in running.items():
        finished = rest[0] if rest else until
        reads[deployment].extend(at for at in lists if started <= at <= finished)
    return [later - earlier for times in reads.values() for earlier, later in itertools.pairwise(sorted(times))]


@dataclass
class Outcome:
    name: str
    wanted: int
    took: float  # creating through Slack, seconds
    complaints: Counter[str]  # Slack's errors for commands (operation_timeout: no ack within 3 s)
    cpu_creating: float
    phase: Phase
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # webhook deliveries, when on
    limited_from: float | None = None  # when Slack's rate limits were switched on (burst)
    about: str = ""  # how the run was set up, for the legend

    @property
    def shown(self) -> dict[str, list[Shown]]:
        return shown_by_stack(self.phase.calls)


def dump(outcome: Outcome, directory: Path) -> None:
    """The raw logs of a run, for a closer look: ``<name>.events.json``, ``.calls.json``, ``.requests.json``,
    ``.webhooks.json`` (deliveries) and ``.phase.json`` (when the org was resumed, when the last watch retired)."""
    directory.mkdir(parents=True, exist_ok=True)
    phase = outcome.phase
    logs = {"events": phase.events, "calls": phase.calls, "requests": phase.requests, "webhooks": outcome.deliveries}
    for kind, data in logs.items():
        (directory / f"{outcome.name}.{kind}.json").write_text(json.dumps(data))
    (directory / f"{outcome.name}.phase.json").write_text(json.dumps({"released": phase.released, "done": phase.done}))


def _spread(values: list[float | None]) -> str:
    seen = [v for v in values if v is not None]
    if not seen:
        return "n/a"
    text = " / ".join(f"{v:.2f}" for v in (percentile(seen, 0.5), percentile(seen, 0.95), max(seen)))
    return text + (f" ({len(values) - len(seen)} never shown)" if len(seen) < len(values) else "")


def _column(outcome: Outcome, interval: float) -> list[str]:
    phase, shown = outcome.phase, outcome.shown
    changes = lags(phase.events, shown, phase.released)
    outcomes = Counter(stack for stack, reports in shown.items() for s in reports if s.kind == "outcome")
    rate, _ = api_rate(phase, interval)
    running = phase.done - phase.released
    during = [c for c in phase.calls if phase.released <= c["at"] <= phase.done]
    complaints = ", ".join(f"{n} {error}" for error, n in outcome.complaints.items())
    ok_hooks = [d for d in outcome.deliveries if d["ok"]]
    hooks = "n/a"
    if outcome.deliveries:
        slowest = percentile([float(d["duration"]) for d in outcome.deliveries], 0.95)
        hooks = f"{len(ok_hooks)}/{len(outcome.deliveries)} ok, p95 {slowest:.0f} ms"
    return [
        f"{phase.created}/{outcome.wanted} in {outcome.took:.0f} s" + (f" ({complaints})" if complaints else ""),
        f"{sum(1 for n in outcomes.values() if n)}/{phase.created}, {sum(1 for n in outcomes.values() if n > 1)} twice",
        f"{rate:.2f}",
        _spread(list(poll_gaps(phase))),
        _spread(changes["step"]),
        _spread(changes["started"]),
        _spread(changes["finished"]),
        f"{running:.0f}" + ("" if phase.finished else " (gave up waiting)"),
        f"{phase.bot_cpu:.1f} s ({phase.bot_cpu / running:.0%})",
        f"{outcome.cpu_creating:.1f} s",
        f"{phase.bot_rss:.0f}",
        f"{phase.sandbox_cpu:.1f} s",
        f"{len(during)} ({sum(1 for c in during if c['status'] == 429)} 429s)",
        hooks,
    ]


ROWS = (
    ("deployments created through /deploy", ""),
    ("final outcomes reported in threads", "all, none twice"),
    ("Pulumi calls / active deployment / interval", "<= 1.0"),
    ("seconds between reads of a running deployment: p50 / p95 / max", "{interval}"),
    ("lag, step finished -> Slack: p50 / p95 / max s", "p95 <= {limit}"),
    ("lag, deployment started: p50 / p95 / max s", "webhooks p95 <= 0.5"),
    ("lag, deployment finished: p50 / p95 / max s", "webhooks p95 <= 0.5"),
    ("resume -> last watch retired, s", ""),
    ("bot CPU while running (share of one core)", ""),
    ("bot CPU while creating", ""),
    ("bot peak RSS, MiB", "<= 300"),
    ("emulator + fake Slack CPU while running", ""),
    ("Slack Web API calls while running", ""),
    ("webhook deliveries", ""),
)


def _burst_rows(outcome: Outcome) -> list[list[str]]:
    phase, shown = outcome.phase, outcome.shown
    finals = [e["atNs"] / 1e9 for e in phase.events if e["kind"] == "deployment" and e["to"] in FINAL]
    tick = max(finals, default=phase.released)
    replies = [next((s.at for s in v if s.kind == "outcome"), None) for v in shown.values()]
    edits = [next((s.at for s in v if s.kind == "edit" and s.status in FINAL), None) for v in shown.values()]
    limited = [c for c in phase.calls if c["at"] >= (outcome.limited_from or 0)]
    refused = Counter(c["method"] for c in limited if c["status"] == 429)

    def last(times: list[float | None]) -> str:
        seen = [t for t in times if t is not None]
        missing = len(times) - len(seen) + phase.created - len(times)
        return f"{max(seen) - tick:.1f}" + (f" ({missing} missing)" if missing else "") if seen else "n/a"

    return [
        ["deployments finishing on one tick", str(len(finals)), ""],
        ["last finish -> last outcome reply, s", last(replies), "all delivered"],
        ["last finish -> last parent edit showing the outcome, s", last(edits), ""],
        ["429s the bot received", f"{sum(refused.values())} " + str(dict(refused)), "no retry storm"],
        ["Slack calls with limits on (per deployment)", f"{len(limited)} ({len(limited) / phase.created:.1f})", ""],
    ]


def _redis_rows(outcomes: list[Outcome]) -> list[list[str]]:
    """Per command, the run's Redis commands divided by its Slack calls while running; the ten most used, and all."""
    phases = [o.phase for o in outcomes]
    calls = [max(1, sum(1 for c in p.calls if p.released <= c["at"] <= p.done)) for p in phases]
    total = sum((p.redis_commands for p in phases), Counter[str]())
    names = [name for name, _ in total.most_common(10)]
    rows = [[n, *(f"{p.redis_commands[n] / k:.2f}" for p, k in zip(phases, calls, strict=True))] for n in names]
    return [*rows, ["all", *(f"{p.redis_commands.total() / k:.2f}" for p, k in zip(phases, calls, strict=True))]]


def print_tables(outcomes: list[Outcome], interval: float, step: float, fail_every: int, logs: Path) -> None:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"Watcher benchmark: deploybot serve polling every {interval:g} s, emulator steps of {step:g} s, every "
        f"{fail_every}th deployment failing; {os.cpu_count()} CPUs shared with everything else (load {load} now)"
    )
    headers = ["metric", "goal", *(f"{o.name} (N={o.phase.created})" for o in outcomes)]
    columns = [_column(o, interval) for o in outcomes]
    limit = f"{interval + 1:g}"
    goals = {"limit": limit, "interval": f"~{interval:g} (the interval)"}
    rows = [[name, goal.format(**goals), *(c[i] for c in columns)] for i, (name, goal) in enumerate(ROWS)]
    print(table(headers, rows))
    names = sorted({name for o in outcomes for name in api_rate(o.phase, interval)[1]})
    per_endpoint = [api_rate(o.phase, interval)[1] for o in outcomes]
    print("\nPulumi calls per active deployment per poll interval, by endpoint (while running)")
    print(table(["endpoint", *(o.name for o in outcomes)], [[n, *(f"{r.get(n, 0):.3f}" for r in per_endpoint)]
                                                               for n in names]))  # fmt: skip
    print("\nRedis commands per Slack call (while running), the ten most used")
    print(table(["command", *(o.name for o in outcomes)], _redis_rows(outcomes)))
    for outcome in outcomes:
        if outcome.limited_from is not None:
            print(f"\n{outcome.name}: {outcome.phase.created} deployments in one channel, Slack's limits on")
            print(table(["metric", "value", "goal"], _burst_rows(outcome)))
        if outcome.phase.created < outcome.wanted:
            print(f"note: {outcome.name}: only {outcome.phase.created} of {outcome.wanted} deployments were created "
                  "through Slack within the time allowed; measured with those")  # fmt: skip
    for outcome in outcomes:
        print(f"{outcome.name}: {outcome.about}")
    print("lag: from the emulator's transition (atNs) to the first successful Slack call showing it; running =")
    print("from the resume until the last watch retired; CPU = user + system seconds from /proc/<pid>/stat")
    print(f"(the bots' own logs, warnings and up: {logs})")
