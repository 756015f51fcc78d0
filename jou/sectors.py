"""The fixed list of industrial sectors a site chooses from: stable code (API, database) → French label."""

SECTORS: dict[str, str] = {
    "aerospace": "Aéronautique et spatial",
    "agrifood": "Agroalimentaire",
    "automotive": "Automobile",
    "chemicals": "Chimie",
    "energy": "Énergie",
    "rail": "Ferroviaire",
    "shipbuilding": "Naval",
    "pharma_health": "Pharmacie et santé",
    "metallurgy": "Métallurgie et sidérurgie",
    "mechanical": "Mécanique",
    "electronics": "Électronique",
    "electrical": "Électricité et équipements électriques",
    "plastics": "Plasturgie et composites",
    "textile": "Textile",
    "wood_paper": "Bois et papier",
    "glass_ceramics": "Verre et céramique",
    "construction": "BTP et matériaux",
    "luxury": "Luxe",
    "defence": "Défense",
    "recycling_environment": "Recyclage et environnement",
    "digital": "Numérique",
    "other": "Autre industrie",
}


def sector_label(code: str | None) -> str:
    return SECTORS.get(code or "", code or "")
