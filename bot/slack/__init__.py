"""Slack: the handlers' chat."""
