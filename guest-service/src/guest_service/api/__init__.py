"""HTTP API of guest-service."""
