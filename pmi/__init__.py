"""Promotion des Métiers de l'Ingénieur: schools directory, volunteers, interventions (transports later)."""
