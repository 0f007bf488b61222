{#- A key namespaced by its source system (`rees46:512345`, `retailrocket:257597`), so that the id spaces
    of different sources can never collide downstream. Null stays null. -#}
{% macro namespaced_id(source_system, id_column) -%}
    case when {{ id_column }} is not null then concat({{ source_system }}, ':', cast({{ id_column }} as string)) end
{%- endmacro %}
