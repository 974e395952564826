"""People: users with a role in a tenant (owner, manager, viewer), sign-up by phone with a code
sent through the relay's own send path, invitations, password reset, single-sign-on links.

The web cabinet (relay/cabinet) calls these and nothing below them; API keys stay for machines.
"""
