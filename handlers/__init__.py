"""Slack handlers: thin adapters from Slack payloads to the core in ``bot``; each module exposes ``register``."""
