{#- The model has as many rows as compare_model (dbt-expectations'
    expect_table_row_count_to_equal_other_table). Returns one row, with both counts, when they differ. -#}
{% test equal_rowcount(model, compare_model) %}
    {{ return(adapter.dispatch('test_equal_rowcount')(model, compare_model)) }}
{% endtest %}

{% macro default__test_equal_rowcount(model, compare_model) %}
    with counts as (
        select
            (select count(*) from {{ model }}) as model_rows,
            (select count(*) from {{ compare_model }}) as compare_model_rows
    )
    select *
    from counts
    where model_rows != compare_model_rows
{% endmacro %}
