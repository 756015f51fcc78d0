"""Default regional groups (GR) and department → GR mapping, seeded by migration 0002.

The association's real list is not published in a reusable form, so this is a plausible default that
admins edit on the "Groupes régionaux" page: one GR per former (pre-2016) metropolitan region, Île-de-France
and Rhône-Alpes split for their size, two overseas GRs (27 in France), and three GRs abroad with no
department. Pure data: the migration imports it, so keep it free of app imports.
"""

from __future__ import annotations

# (code, name, abroad, departments)
DEFAULT_REGIONAL_GROUPS: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("alsace", "Alsace", False, ("67", "68")),
    ("aquitaine", "Aquitaine", False, ("24", "33", "40", "47", "64")),
    ("auvergne", "Auvergne", False, ("03", "15", "43", "63")),
    ("basse-normandie", "Basse-Normandie", False, ("14", "50", "61")),
    ("bourgogne", "Bourgogne", False, ("21", "58", "71", "89")),
    ("bretagne", "Bretagne", False, ("22", "29", "35", "56")),
    ("centre", "Centre", False, ("18", "28", "36", "37", "41", "45")),
    ("champagne-ardenne", "Champagne-Ardenne", False, ("08", "10", "51", "52")),
    ("corse", "Corse", False, ("2A", "2B")),
    ("franche-comte", "Franche-Comté", False, ("25", "39", "70", "90")),
    ("haute-normandie", "Haute-Normandie", False, ("27", "76")),
    ("paris", "Paris", False, ("75",)),
    ("idf-ouest", "Île-de-France Ouest", False, ("78", "92", "95")),
    ("idf-est", "Île-de-France Est", False, ("77", "91", "93", "94")),
    ("languedoc-roussillon", "Languedoc-Roussillon", False, ("11", "30", "34", "48", "66")),
    ("limousin", "Limousin", False, ("19", "23", "87")),
    ("lorraine", "Lorraine", False, ("54", "55", "57", "88")),
    ("midi-pyrenees", "Midi-Pyrénées", False, ("09", "12", "31", "32", "46", "65", "81", "82")),
    ("nord-pas-de-calais", "Nord-Pas-de-Calais", False, ("59", "62")),
    ("pays-de-la-loire", "Pays de la Loire", False, ("44", "49", "53", "72", "85")),
    ("picardie", "Picardie", False, ("02", "60", "80")),
    ("poitou-charentes", "Poitou-Charentes", False, ("16", "17", "79", "86")),
    ("paca", "Provence-Alpes-Côte d'Azur", False, ("04", "05", "06", "13", "83", "84")),
    ("lyonnais", "Lyonnais", False, ("01", "42", "69")),
    ("dauphine-savoie", "Dauphiné-Savoie", False, ("07", "26", "38", "73", "74")),
    ("antilles-guyane", "Antilles-Guyane", False, ("971", "972", "973")),
    ("reunion-mayotte", "Réunion-Mayotte", False, ("974", "976")),
    ("europe", "Europe (hors France)", True, ()),
    ("ameriques", "Amériques", True, ()),
    ("asie-afrique-oceanie", "Asie, Afrique et Océanie", True, ()),
)
