"""Replies: the last step of the flow. Inbound messages from any gateway are stored once, routed
to the tenant and message they answer, acted on (STOP/START/HELP keywords, survey scores) and
forwarded to the tenant's CRM (via its connector's write-back) or webhook."""
