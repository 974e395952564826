"""Marshmallow schemas of the API, one module per API module: they validate what comes in and
describe both directions in the generated OpenAPI document."""
