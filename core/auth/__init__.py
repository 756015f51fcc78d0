"""Accounts, roles, sessions for pages and bearer tokens for the API."""
