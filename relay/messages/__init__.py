"""Messages: the message row and its life. Building rows from planned messages, presenting them on
the API, estimating cost, and every status change with its history row; used by intake, delivery,
receipts, replies and campaigns alike."""
