"""The store owner's web cabinet ("личный кабинет"): server-rendered pages under /cabinet.

It calls the same use cases as the JSON API (relay/people, relay/reporting, relay/tenancy …)
and never the storage: no second implementation of any rule.
"""
