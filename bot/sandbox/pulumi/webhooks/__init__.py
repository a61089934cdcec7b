"""Pulumi's deployment webhooks, sent for real: hook definitions, payloads and signatures, the asynchronous sender,
its injected faults, and the ``/_sandbox/webhooks`` control endpoints (documented in the package docstring above)."""
