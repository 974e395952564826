"""Contacts: the tenant's address books and the import of spreadsheet uploads (address books,
stop-list, consents) with per-row reports, run inline or as a background job. Campaigns draw their
audiences from here."""
