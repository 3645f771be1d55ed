"""guest-service: guest profiles, matching of bookings to guests, stay history."""
