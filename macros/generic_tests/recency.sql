{#- The newest value of a timestamp column is at most max_age_hours older than a reference time
    (dbt-expectations' expect_row_values_to_have_recent_data). The reference is the current time by
    default; pass a SQL expression (for example the newest ingestion time) for historical data. -#}
{% test recency(model, column_name, max_age_hours, reference='current_timestamp()') %}
    {{ return(adapter.dispatch('test_recency')(model, column_name, max_age_hours, reference)) }}
{% endtest %}

{% macro default__test_recency(model, column_name, max_age_hours, reference) %}
    with newest as (
        select
            max({{ column_name }}) as newest_value,
            {{ reference }} as reference_time
        from {{ model }}
    )
    select *
    from newest
    where
        newest_value is null
        or newest_value < reference_time - make_interval(0, 0, 0, 0, {{ max_age_hours | int }}, 0, 0)
{% endmacro %}
