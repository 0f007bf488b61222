"""Operational checks: bad-input and fault scenarios (reliability), the Databricks bundle check, the secret scan."""
