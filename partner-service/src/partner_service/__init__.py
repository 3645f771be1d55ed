"""partner-service: what OTAs and channel managers learn about their bookings and the hotel's
availability, as a replayable event feed and as signed webhooks."""
