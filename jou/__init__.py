"""Journées Usines Ouvertes: editions, factory sites, visit slots (bookings and check-ins later)."""
