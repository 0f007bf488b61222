{#-
    Shared by the drift check's two models (ml_feature_training_profile, ml_feature_drift).

    * `drift_feature_values(alias)`: select-list items turning a feature-mart row into one row per key
      feature (var `drift_features`): as_of_date, feature_name, feature_value (as double);
    * `decile_bucket(value, edges)`: the bucket of a value among nine decile edges: -1 when null, else the
      number of edges below it (0 to 9).
-#}

{% macro drift_feature_values(alias) -%}
    {%- set features = var('drift_features') -%}
    {{ alias }}.as_of_date,
    stack(
        {{ features | length }},
        {%- for feature in features %}
            '{{ feature }}', cast({{ alias }}.{{ feature }} as double){{ ',' if not loop.last }}
        {%- endfor %}
    ) as (feature_name, feature_value)
{%- endmacro %}

{% macro decile_bucket(value, edges) -%}
    {#- the count `size(filter(edges, edge -> edge < value))` gives, as nine comparisons that Spark's code
        generation compiles (a higher-order function's lambda is interpreted row by row) -#}
    case
        when {{ value }} is null then -1
        else
            {%- for i in range(9) %}
                {{ '+ ' if not loop.first }}cast({{ edges }}[{{ i }}] < {{ value }} as int)
            {%- endfor %}
    end
{%- endmacro %}
