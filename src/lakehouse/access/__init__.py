"""Analyst access to the tables: the SQL shell and the read-only JDBC/Thrift endpoint with its load test."""
