"""The local engine: the lakehouse home and its paths, the Spark + Delta session and its lock, dbt in process."""
