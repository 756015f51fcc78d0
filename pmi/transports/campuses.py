"""The school's campuses and institutes: reference data kept in code, not in a table.

Eight campuses and three institutes change about once a generation; a table would be emptied with the
others by the tests that commit for real, and nothing but this list would ever write it. Transports store
the campus code, which a CHECK constraint limits to these codes (migration 0008).
Coordinates are the campus entrance, to about a hundred metres.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationFailed


@dataclass(frozen=True)
class Campus:
    code: str
    name: str
    street: str
    postcode: str
    city: str
    lat: float
    lon: float
    institute: bool = False

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"

    @property
    def label(self) -> str:
        kind = "Institut" if self.institute else "Campus"
        of = "d'" if self.name[0] in "AEIOUÉaeiou" else "de "
        return f"{kind} Arts et Métiers {of}{self.name}"


CAMPUSES: tuple[Campus, ...] = (
    Campus(
        "aix", "Aix-en-Provence", "2 cours des Arts et Métiers", "13617", "Aix-en-Provence", 43.5263, 5.4468
    ),
    Campus("angers", "Angers", "2 boulevard du Ronceray", "49035", "Angers", 47.4772, -0.5605),
    Campus(
        "bordeaux", "Bordeaux-Talence", "Esplanade des Arts et Métiers", "33400", "Talence", 44.8027, -0.5954
    ),
    Campus(
        "chalons",
        "Châlons-en-Champagne",
        "Rue Saint-Dominique",
        "51006",
        "Châlons-en-Champagne",
        48.9553,
        4.3598,
    ),
    Campus("cluny", "Cluny", "Rue Porte de Paris", "71250", "Cluny", 46.4349, 4.6588),
    Campus("lille", "Lille", "8 boulevard Louis XIV", "59046", "Lille", 50.6316, 3.0705),
    Campus("metz", "Metz", "4 rue Augustin Fresnel", "57070", "Metz", 49.0991, 6.2262),
    Campus("paris", "Paris", "151 boulevard de l'Hôpital", "75013", "Paris", 48.8339, 2.3576),
    Campus("bastia", "Bastia", "Quartier Montesoro", "20600", "Bastia", 42.6777, 9.4418, institute=True),
    Campus(
        "chambery",
        "Chambéry",
        "Savoie Technolac, 4 rue du Lac Majeur",
        "73375",
        "Le Bourget-du-Lac",
        45.6441,
        5.8690,
        institute=True,
    ),  # noqa: E501
    Campus("laval", "Laval", "4 rue de l'Ermitage", "53000", "Laval", 48.0780, -0.7700, institute=True),
)
BY_CODE = {c.code: c for c in CAMPUSES}
CAMPUS_CODES = tuple(BY_CODE)


def campus(code: str) -> Campus:
    try:
        return BY_CODE[code]
    except KeyError:
        raise ValidationFailed.on("campus", "Campus inconnu.") from None


def campus_label(code: str | None) -> str:
    return BY_CODE[code].label if code in BY_CODE else (code or "")
