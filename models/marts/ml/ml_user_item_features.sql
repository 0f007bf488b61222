{%- set horizon = var('label_horizon_days') | int -%}
{{ config(materialized='view') }}
{#- ML feature mart: one row per (as_of_date, user, product) candidate pair, its features and its label; a
    view joining the stored features and the stored labels, so a label can change as purchases arrive
    without rewriting the features. Features see events before as_of_date only; the label looks at
    [as_of_date, as_of_date + horizon) (see the yml). -#}

with features as (

    select * from {{ ref('ml_user_item_feature_snapshots') }}

),

labels as (

    select * from {{ ref('ml_user_item_labels') }}

)

-- (the features' columns, then the label's: the linter cannot count the stored table's columns)
select
    features.*,  -- noqa: AM04
    labels.as_of_date is not null as converted,
    -- the label window [as_of_date, as_of_date + {{ horizon }}) ends by the source's last complete day. A
    -- scalar subquery (the macro), not a join: a reader that uses no label column then reads the features
    -- alone, Spark dropping the left join
    coalesce(features.as_of_date <= {{ last_label_complete_snapshot('features.source_system') }}, false)
        as is_label_complete
from features
-- many-to-one on the pair key: no fan-out
left join labels
    on
        features.as_of_date = labels.as_of_date
        and features.user_id = labels.user_id
        and features.product_id = labels.product_id
