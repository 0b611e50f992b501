"""Mock financial back-end: data model, seeded replica, tool catalogue, FastAPI service."""
