"""Adapters to systems outside the service (portal, SMS gateway, monitoring IS)."""
