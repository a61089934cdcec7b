"""Deploybot: Slack ChatOps for Pulumi Deployments."""

__version__ = "0.1.0"
