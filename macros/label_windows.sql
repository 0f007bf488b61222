{#-
    The last snapshot whose label window [as_of_date, as_of_date + label_horizon_days) has closed: the
    window must end by the data's last day, the day before the newest feature snapshot (which is the day
    after the data ends). A scalar subquery: used in a projection it adds no join, so Spark can still drop
    ml_user_item_features' label join for a reader of dates only; locally the newest date is a
    metadata-only query on the Delta log. The one definition of `is_label_complete` (ml_user_item_features)
    and of monitoring's labelled range (ml_conversion_monitoring).
-#}
{% macro last_label_complete_snapshot() -%}
    date_sub(
        (select max(snapshots.as_of_date) from {{ ref('ml_user_item_feature_snapshots') }} as snapshots),
        {{ var('label_horizon_days') | int }}
    )
{%- endmacro %}
