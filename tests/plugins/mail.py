"""Test fixtures: mail (see conftest)."""
