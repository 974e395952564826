"""Messages: the message row and its life. Building rows from planned messages, presenting them on
the API, estimating cost, every status change with its history row, and a Viber message's TTL
and SMS fallback; used by intake, delivery, receipts, replies and campaigns alike."""
