"""Receipts: after delivery. A gateway's delivery report (pushed to a callback or read from its
connection) moves a sent message to delivered, read, undelivered or failed, and may start the
Viber → SMS fallback."""
