"""Rules of the JOU site registry. Services take plain arguments, flush (never commit) and raise
core.errors exceptions; pages, API, CLI and fixtures all call these.

Contract (the JOU-core work implements it; pages and fixtures rely on these names):

- `current_edition(today=None) -> Edition | None` — the edition whose Saturday is next (or the latest).
- `get_edition_by_year(year) -> Edition` (NotFound)
- `create_site(owner: User, edition: Edition, data: dict) -> Site` — data as loaded by
  jou.schemas.SiteInputSchema (site fields plus "slots": [slot dicts]); validates postcode/city,
  geocodes (never fails because a geocoder is down), derives department/region/GR; status draft.
- `update_site(actor: User, site: Site, data: dict) -> Site` — partial; slots with bookings are never
  silently dropped (Conflict) and their capacity never goes below the seats taken.
- `submit_site(actor, site)`, `approve_site(admin, site)`, `reject_site(admin, site, reason)`
- `set_site_location(actor, site, lat, lon)` — the factory corrects its pin (precision "manual").
- `get_site(site_id) -> Site` (NotFound); `can_view_site(user, site) -> bool`; `can_edit_site(user, site)`.
- `search_sites(filters: SiteFilters, *, published_only=True, owner=None) -> Page` with
  `Page(items, total, page, per_page)`; SiteFilters fields: edition (year), region, department, sector,
  audience, day, q, page, per_page.
- `moderation_queue() -> list[Site]` — submitted sites, oldest first.
"""
