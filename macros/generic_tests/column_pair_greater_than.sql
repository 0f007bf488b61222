{#- Rows where column_a is not greater than (or equal to, with or_equal) column_b (dbt-expectations'
    expect_column_pair_values_A_to_be_greater_than_B). Rows where either value is null are not checked. -#}
{% test column_pair_greater_than(model, column_a, column_b, or_equal=false) %}
    {{ return(adapter.dispatch('test_column_pair_greater_than')(model, column_a, column_b, or_equal)) }}
{% endtest %}

{% macro default__test_column_pair_greater_than(model, column_a, column_b, or_equal) %}
    select *
    from {{ model }}
    where
        {{ column_a }} is not null
        and {{ column_b }} is not null
        and not ({{ column_a }} {{ '>=' if or_equal else '>' }} {{ column_b }})
{% endmacro %}
