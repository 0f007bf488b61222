{#- A key namespaced by its source system (`rees46:512345`, `retailrocket:257597`), so that the id spaces
    of different sources can never collide downstream. Null stays null. -#}
{% macro namespaced_id(source_system, id_column) -%}
    case when {{ id_column }} is not null then concat({{ source_system }}, ':', cast({{ id_column }} as string)) end
{%- endmacro %}


{#- What analysts call a source system on pages and charts (the system id stays in `source_system`). -#}
{% macro source_label(source_system) -%}
    case {{ source_system }}
        when 'rees46' then 'web shop'
        when 'retailrocket' then 'app'
        else {{ source_system }}
    end
{%- endmacro %}


{#- A category as a chart names it: the web shop's codes are words (`electronics`); the app's categories
    are bare ids (`1101`), shown with their source (`app category 1101`). -#}
{% macro category_display_name(source_system, category) -%}
    case
        when {{ category }} is null or {{ category }} = '' then null
        when {{ source_system }} = 'retailrocket' then concat('app category ', {{ category }})
        else {{ category }}
    end
{%- endmacro %}
