"""Test fixtures: browser (see conftest)."""
