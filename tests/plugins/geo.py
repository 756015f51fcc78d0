"""Test fixtures: geo (see conftest)."""
