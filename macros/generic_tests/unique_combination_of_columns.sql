{#- Rows whose combination of columns is not unique (dbt-utils' test of the same name, written here
    because the dbt hub cannot be reached). Returns one row per repeated combination.
    shuffle_partitions (local engine only; optional): how many partitions the rows are hashed into for the
    count. Every combination of a unique key is its own group, so on a large table each of the local
    engine's few shuffle partitions (4) holds millions of groups; with 16 the feature mart's check (34M rows
    at 5M events) took 28 s instead of 45-61 s, the predictions' (35M rows at 10M) 27 s instead of 56-66 s.
    On Databricks the cluster's adaptive execution sizes it, and the argument is ignored. -#}
{% test unique_combination_of_columns(model, combination_of_columns, shuffle_partitions=none) %}
    {{ return(adapter.dispatch('test_unique_combination_of_columns')(model, combination_of_columns, shuffle_partitions)) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns, shuffle_partitions=none) %}
    {%- set columns = combination_of_columns | join(', ') -%}
    select
        {{ columns }},
        count(*) as occurrences
    {% if shuffle_partitions and target.type != 'databricks' -%}
        from (
            select /*+ repartition({{ shuffle_partitions | int }}, {{ columns }}) */ {{ columns }}
            from {{ model }}
        ) as rows_to_check
    {%- else -%}
        from {{ model }}
    {%- endif %}
    group by {{ columns }}
    having count(*) > 1
{% endmacro %}
