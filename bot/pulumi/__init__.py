"""The Pulumi Deployments side of the bot: async client, pydantic models, settings merge. Imports nothing from Slack."""
