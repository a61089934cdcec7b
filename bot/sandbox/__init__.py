"""Sandboxes: independent, real-HTTP stand-ins for Pulumi Cloud and Slack's Web API, for tests and the local demo.

They never import the bot's client models or merge code, so a mistake in the bot is not repeated here.
"""
