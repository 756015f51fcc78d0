"""Every example a page shows (« ex. 0690001B ») passes the app's own validators: an example that the form
would refuse teaches the wrong thing. A new kind of example fails here until it is given its check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from marshmallow import ValidationError

from core.validation import Postcode, valid_uai

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
EXAMPLE = re.compile(r"\bex\. (?!:)([^\s,)<\"']+)", re.IGNORECASE)


def _latitude_or_longitude(value: str) -> None:
    number = float(value)
    assert 41.0 <= number <= 51.5 or -5.5 <= number <= 10.0, "hors de France métropolitaine"


CHECKS = [
    (re.compile(r"\d{7}[A-Z]"), valid_uai),
    (re.compile(r"\d{5}"), lambda v: Postcode().deserialize(v)),
    (re.compile(r"-?\d+\.\d+"), _latitude_or_longitude),
]


def examples() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for match in EXAMPLE.finditer(path.read_text(encoding="utf-8")):
            found.append((str(path.relative_to(TEMPLATES)), match.group(1).rstrip(".")))
    return found


def test_there_are_examples_to_check():
    assert len(examples()) >= 4


@pytest.mark.parametrize(("template", "example"), examples())
def test_every_example_shown_passes_its_validator(app, template, example):
    check = next((check for pattern, check in CHECKS if pattern.fullmatch(example)), None)
    assert check is not None, f"{template}: « ex. {example} » has no check in {__file__}"
    try:
        check(example)
    except (ValidationError, ValueError, AssertionError) as exc:
        pytest.fail(f"{template}: the example « {example} » fails the app's own check: {exc}")
