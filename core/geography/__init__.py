"""Geography: territories (department, region, GR), the offline gazetteer and the geocoding chain.

Contract used by jou, pmi and fixtures (keep these signatures):

- `department_from_postcode(postcode) -> str | None`
- `validate_postcode_city(postcode, city) -> CommuneMatch` (raises core.errors.ValidationFailed with
  field-level French messages on "postcode" or "city")
- `locate(street, postcode, city) -> Location` — cache → online geocoder (if configured) → gazetteer
  commune → department seat; never raises because a geocoder is down.
- `regional_group_for(department) -> str | None`
- `region_of_department(department) -> str | None`, `department_name(code)`, `region_name(code)`,
  `REGIONS` / `DEPARTMENTS` (code → name, for filters).
"""

from core.geography.services import (  # noqa: F401
    DEPARTMENTS,
    REGIONS,
    CommuneMatch,
    Location,
    department_from_postcode,
    department_name,
    locate,
    region_name,
    region_of_department,
    regional_group_for,
    validate_postcode_city,
)
