"""Tenancy: who the relay works for. Tenants and their API keys, settings (quiet hours, rates,
defaults), sender names, the countries a tenant serves and its phone normalisation, and the
per-process cache of a tenant's configuration that every step reads."""
