"""Geography: territories (department, region, GR), the offline gazetteer and the geocoding chain.

Contract used by jou, pmi and fixtures (keep these signatures):

- `department_from_postcode(postcode, city=None) -> str | None`
- `validate_postcode_city(postcode, city) -> CommuneMatch` (raises core.errors.ValidationFailed with
  field-level French messages on "postcode" or "city")
- `locate(street, postcode, city) -> Location` — cache → online geocoder (if configured) → gazetteer
  commune → department seat; never raises because a geocoder is down.
- `apply_location(obj, location)` — copies a Location onto a model's lat, lon, geo_precision, geo_source,
  geocoded_at, commune_insee, department, region and regional_group (those it has).
- `regional_group_for(department) -> str | None`
- `region_of_department(department) -> str | None`, `department_name(code)`, `region_name(code)`,
  `REGIONS` / `DEPARTMENTS` (code → name, for filters), `SEATS` (department → seat commune and point).

Modules: territories (static data), names (normalisation), models, gazetteer (import, lookups, postcode
checks), geocoder (the chain), groups (GR mapping), cli (`flask geo …`), views (admin page).
"""

from core.geography.gazetteer import (  # noqa: F401
    CommuneMatch,
    department_from_postcode,
    gazetteer_loaded,
    import_gazetteer,
    read_gazetteer,
    validate_postcode_city,
)
from core.geography.geocoder import PRECISIONS, Location, apply_location, locate, precision_rank  # noqa: F401
from core.geography.groups import regional_group_for  # noqa: F401
from core.geography.territories import (  # noqa: F401
    DEPARTMENTS,
    REGIONS,
    SEATS,
    department_name,
    region_name,
    region_of_department,
)
