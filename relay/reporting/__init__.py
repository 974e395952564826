"""Reporting: reading what happened. Aggregate reports, the message log with its filters, and
report files for download; reads what intake, delivery, receipts and campaigns wrote."""
