"""ecommerce-lakehouse outside dbt: the local engine, sample data, reports, analyst access, checks, benchmarks.

The `lakehouse` command (``cli``) dispatches to the subpackages; each owns one capability."""

__version__ = "0.1.0"
