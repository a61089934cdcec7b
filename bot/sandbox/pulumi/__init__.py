"""A Pulumi Cloud Deployments API emulator: a real aiohttp server for tests, benchmarks and the local demo.

It implements Pulumi's side independently of the bot's client (``bot.pulumi``), following Pulumi's SDK,
OpenAPI spec and CLI where they disagree with the seed doc (``shared/reference/pulumi-deployments-wire.md``).
``create_app(EmulatorConfig(...))`` builds the app; ``deploybot sandbox pulumi`` serves it.

Control API (no auth, JSON in and out, errors are ``{"code", "message"}``):

``POST /_sandbox/stacks`` ``{"stacks": ["org/project/stack", …], "settings": {…}?, "withSettings": true?}``
    Create stacks (201 ``{"stacks": […]}``; 409 if one exists). Default settings: git ``repoUrl``
    ``https://github.com/{org}/{project}.git``, branch ``refs/heads/main``; ``settings`` (wire form, validated
    like a PUT) replaces them; ``withSettings: false`` creates stacks without settings.
``GET /_sandbox/stacks``
    ``{"orgs": […], "stacks": [{"stack", "hasSettings", "paused"}]}``.
``POST /_sandbox/git/push`` ``{"repoUrl", "branch", "commit"?}``
    Move a branch (``main`` = ``refs/heads/main``) to ``commit`` or a new SHA: ``{"repoUrl", "branch", "commit"}``.
``GET /_sandbox/git/head?repoUrl=…&branch=…``
    The SHA a branch points at (deterministic per repository and branch until pushed).
``PUT /_sandbox/orgs/{org}/concurrency`` ``{"concurrency": n}``
    The org's limit of deployments running at once (shown in org metadata); creates the org if needed.
``GET /_sandbox/clock`` / ``PUT /_sandbox/clock`` ``{"stepSeconds": s}``
    ``{"manual", "stepSeconds", "ticks"}``; the automatic clock ticks every ``stepSeconds``.
``POST /_sandbox/advance`` ``{"steps": n}`` or ``{"untilIdle": true}``
    Run ticks now (either clock mode): ``{"ticks", "idle", "totalTicks"}``. One tick moves every active
    deployment one transition (not-started→accepted when stack and org are free and not paused;
    accepted→running with step 1 running; a step finishes and the next starts; last step → succeeded/failed).
    ``untilIdle`` stops at the first tick that changes nothing (bounded at 100,000 ticks).
``POST /_sandbox/faults`` ``{"method"?, "path"? (regex), "status"? (429|500|502|503), "retryAfter"?, "delay"?,
"afterHandler"?, "drop"?, "count"? | "rate"?}``
    Inject a fault into matching ``/api/`` requests: ``count`` = the next N, ``rate`` = that share (random,
    seeded by ``EmulatorConfig.seed``), neither = all. ``status`` answers at once (429 carries ``Retry-After``);
    ``delay`` waits first; ``afterHandler`` runs the request, then answers ``status`` or 502; ``drop`` closes the
    connection without an answer (after the handler when ``afterHandler``). 201 with the fault and its ``id``.
``GET /_sandbox/faults`` / ``DELETE /_sandbox/faults``
    List or clear faults (clearing also re-seeds the random choice).
``GET /_sandbox/requests?since=seq`` / ``DELETE /_sandbox/requests``
    The ``/api/`` request log: ``seq, at, method, path, query, body`` (secrets redacted, never the
    Authorization header), ``status`` (0 = dropped), ``user``, ``fault`` (the id of the fault applied).
``GET /_sandbox/events?since=seq`` / ``DELETE /_sandbox/events``
    Every transition: ``seq, at, atNs, kind`` (deployment|step), ``deploymentId, stack, version, operation,
    from, to`` (+ ``step, stepName``). ``from`` is null when a deployment is created (queued).
``POST /_sandbox/reset``
    Back to the start-up state (configured or demo stacks, fresh branches, empty logs, no faults).

In a deployment's environment, ``SANDBOX_FAIL_STEP`` (a step name or 1-based index) makes that step fail.
"""

from __future__ import annotations

from bot.sandbox.pulumi.app import create_app
from bot.sandbox.pulumi.config import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
