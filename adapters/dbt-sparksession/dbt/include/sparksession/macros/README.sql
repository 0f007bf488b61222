{#- Intentionally no macros: every dispatch falls through to dbt-spark's `spark__` implementations. -#}
