"""Schemas of relay.api.reports: statistics."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class StatsQuery(Schema):
    """The period and bucket size of the statistics."""

    class Meta:
        unknown = EXCLUDE

    from_ = fields.String(data_key="from", load_default=None, allow_none=True)
    to = fields.String(load_default=None, allow_none=True)
    group = fields.String(load_default="day", validate=validate.OneOf(("day", "week", "month")))


class StatsOut(Schema):
    """Counts per status, channel, destination operator and category; segments and spend."""

    period = fields.Dict()
    group = fields.String()
    timezone = fields.String()
    totals = fields.Dict()
    by_operator = fields.List(fields.Dict())
    buckets = fields.List(fields.Dict())
