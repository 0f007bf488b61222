"""ecommerce-lakehouse runtime: local Spark + Delta session, sample data, CLI and run summary."""

__version__ = "0.1.0"
