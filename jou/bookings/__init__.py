"""Bookings of visit slots: public parties (Saturday) and school classes (Friday), tickets, waiting list.

Contract shared by the booking work (keep these names):

models.py   Booking, WaitlistEntry, BookingKind ("public" | "school"), BookingStatus ("confirmed" | "cancelled")
services.py book(slot_id, data, *, idempotency_key=None, now=None, send_confirmation=False) -> Booking          (Conflict code "slot_full")
            change_party(booking, data) -> Booking; cancel_booking(booking) -> None    (frees seats, promotes)
            join_waitlist(slot_id, data) -> WaitlistEntry; promote_waitlist(slot_id) -> list[Booking]
            bookings_of_slot(slot_id) -> list[Booking]
tokens.py   ticket_token(booking) -> str; booking_from_ticket(token) -> Booking     (Unauthorized "invalid_ticket")
            manage_token(booking) -> str; booking_from_manage_token(token) -> Booking
tickets.py  checkin_url(booking) -> str; qr_png(booking) -> bytes; qr_svg(booking) -> bytes
calendar.py booking_ics(booking) -> bytes; slots_feed(slots, title) -> bytes
notify.py   queue_confirmation(booking), queue_promotion(booking), queue_slot_message(slot, subject, body)
privacy.py  personal_data(booking) -> dict; erase_person(booking) -> ErasurePlan; purge_edition(year, dry_run=)
"""
