"""Campaigns: bulk and recurring sends beside the event flow. A campaign's audience (address
books, filters) is planned in chunks into messages that the policy decides and delivery sends,
paced, pausable and resumable, with progress for the API."""
