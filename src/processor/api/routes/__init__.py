"""The `/v1/` resources, one module per CLI command group, over the same services."""
