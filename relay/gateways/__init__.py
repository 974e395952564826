"""Gateway accounts, the operator's use case: configure a gateway (checked by its adapter,
credentials sealed with the secret key), show it masked, check it against the gateway, and
choose each tenant's gateways in order. The adapters themselves live in `relay.providers`."""
