"""Name keys: one normalisation for commune names, addresses and the gazetteer build.

Pure functions (no Flask, no database) so scripts/build_gazetteer.py can use them too.
"""

from __future__ import annotations

import re
import unicodedata

# Written forms people use for the same word; tokens, after accents and punctuation are gone.
_TOKEN_ALIASES = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
# "Paris 15e", "Lyon 7ème", "Marseille 8e arrondissement": the commune is the city itself.
_ARRONDISSEMENT = re.compile(r"^(paris|lyon|marseille)( \d{1,2}( ?(er|e|eme|em|ieme))?)?( arrondissement)?$")
# La Poste's business-mail suffix: "Toulouse CEDEX 9", "Lyon Cedex 07".
_CEDEX = re.compile(r" cedex( \d{1,2})?$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Directories write "Havre (Le)" for "Le Havre".
_TRAILING_ARTICLE = re.compile(r"^(.+) (le|la|les|l)$")


def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces: accents, hyphens and apostrophes ignored."""
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub(" ", text).strip()


def name_key(name: str) -> str:
    """The key two spellings of one commune share ("St-Étienne" and "Saint Etienne")."""
    key = " ".join(_TOKEN_ALIASES.get(token, token) for token in fold(name).split())
    key = _CEDEX.sub("", key)
    key = _TRAILING_ARTICLE.sub(r"\2 \1", key)
    match = _ARRONDISSEMENT.match(key)
    return match.group(1) if match else key


def address_key(street: str, postcode: str, city: str) -> str:
    """Cache key of an address: same address, whatever its case, accents or abbreviations."""
    return f"{name_key(street or '')}|{(postcode or '').strip()}|{name_key(city or '')}"[:300]
