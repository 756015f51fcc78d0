"""Checksums of the French identifiers we accept: SIRET (company site) and UAI (school)."""

import re

LA_POSTE_SIREN = "356000000"
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def normalise_siret(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "")


def siret_is_valid(value: str) -> bool:
    """14 digits with a Luhn checksum. La Poste's thousands of sites share one SIREN and could not all
    get a Luhn key, so theirs use 'sum of digits divisible by 5' (its head office passes Luhn)."""
    siret = normalise_siret(value)
    if not re.fullmatch(r"\d{14}", siret):
        return False
    if luhn_is_valid(siret):
        return True
    return siret.startswith(LA_POSTE_SIREN) and sum(int(d) for d in siret) % 5 == 0


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """The check digit that makes prefix + digit Luhn-valid (used to build demo SIRETs)."""
    for d in "0123456789":
        if luhn_is_valid(prefix + d):
            return prefix + d
    raise AssertionError("unreachable")


def normalise_uai(value: str) -> str:
    return (value or "").strip().upper()


def uai_is_valid(value: str) -> bool:
    """7 digits and the check letter UAI_LETTERS[int(digits) % 23]. ASCII digits only: `\\d` would let
    "٣" through to int()."""
    uai = normalise_uai(value)
    if not re.fullmatch(r"[0-9]{7}[A-Z]", uai):
        return False
    return UAI_LETTERS[int(uai[:7]) % 23] == uai[7]
