"""The schools directory (Annuaire de l'éducation): JOU's school bookings and PMI both choose from it."""

from core.schools.models import KIND_LABELS, SECTOR_LABELS, School, SchoolKind, SchoolSector

__all__ = ["KIND_LABELS", "SECTOR_LABELS", "School", "SchoolKind", "SchoolSector"]
