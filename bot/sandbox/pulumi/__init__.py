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
    ``{"manual", "stepSeconds", "phases", "ticks"}``; the automatic clock ticks every ``stepSeconds`` (with
    ``--phases N``, N times a step, each tick moving the deployments whose number is that phase mod N).
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
``POST /_sandbox/webhooks`` ``{"url", "secret"?, "filters"?, "org"?, "stack"?}``
    Register a deployment webhook: 201 ``{"id", "url", "hasSecret", "filters", "org", "stack"}`` (the secret is
    write-only). ``filters`` (none = all four): ``deployment_queued`` (created), ``deployment_started`` (running),
    ``deployment_succeeded``, ``deployment_failed`` (cancelled too). ``org`` null = every org; ``stack``
    ``"project/stack"`` (with ``org``) makes it a stack hook. ``EmulatorConfig.webhooks`` and the CLI's
    ``--webhook-url URL [--webhook-secret S]`` (repeatable; the secret signs the URL before it) add hooks at start.
``GET /_sandbox/webhooks`` / ``DELETE /_sandbox/webhooks``
    ``{"webhooks": […]}``; DELETE removes all of them, configured ones too (until a reset).
``GET /_sandbox/webhooks/deliveries?since=seq&min=n&wait=s&idle=true``
    ``{"deliveries": […], "pending": n}``, waiting up to ``wait`` seconds (30 at most) for ``min`` deliveries
    after ``since`` and, with ``idle``, for none pending (queued, delayed, held or in flight). Each: ``seq, at,
    id`` (its Pulumi-Webhook-ID), ``hookId, event, kind, url, status`` (0 = no answer or not sent), ``ok,
    duration`` (ms), ``error, payload, headers`` (as sent, the signature too), ``response`` (its first 1 KiB),
    ``faults`` (dropped, duplicated, delayed, reordered).
``POST /_sandbox/webhooks/faults`` ``{"drop"?: n, "duplicate"?: n, "delay"?: s, "count"?: n, "reorder"?: n}``
    Each field given replaces that fault: ``drop`` loses the next n deliveries (recorded, not sent);
    ``duplicate`` sends the next n twice with the same ID and bytes; ``delay`` holds deliveries s seconds (the
    next ``count``, or all until cleared); ``reorder`` holds the next n and sends them newest first (a batch left
    unfilled goes in order when reordering is switched off). Answers 201 with all faults; ``GET`` shows them,
    ``DELETE`` clears them.
``POST /_sandbox/reset``
    Back to the start-up state (configured or demo stacks, fresh branches, empty logs, no faults, the configured
    webhooks only).

Webhooks (Pulumi's deployment webhooks, reference §7): every matching transition POSTs, from background tasks
(``webhook_senders`` of them, a ``webhook_queue_size`` queue: a delivery that does not fit is recorded as not sent,
and the engine's tick never waits), the ``raw`` JSON ``{"user": {"name", "githubLogin", "avatarUrl"},
"organization": {…the same}, "projectName", "stackName", "deploymentUrl"`` (console URL ending
``/deployments/<version>``), ``"version", "operation", "status"}`` (the status at that transition: not-started,
running, succeeded, failed) with headers ``Content-Type: application/json``, ``User-Agent: pulumi-webhooks/1.0``,
``Pulumi-Webhook-ID`` (a UUID per delivery), ``Pulumi-Webhook-Kind: deployment`` and, for a hook with a secret,
``Pulumi-Webhook-Signature`` (lowercase hex HMAC-SHA256 of the body). A non-2xx answer, none within
``webhook_timeout`` seconds, or a refused connection is a failed delivery; nothing is retried or redirected.
A skipped deployment sends nothing.

In a deployment's environment, ``SANDBOX_FAIL_STEP`` (a step name or 1-based index) makes that step fail.
"""

from __future__ import annotations

from bot.sandbox.pulumi.app import create_app
from bot.sandbox.pulumi.config import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
