{%- set horizon = var('label_horizon_days') | int -%}
{{ config(materialized='view') }}
-- ML feature mart: one row per (as_of_date, user, product) candidate pair, its features and its label. A
-- view joining the stored features (ml_user_item_feature_snapshots) and the stored labels
-- (ml_user_item_labels), so the label of a snapshot can change as purchases arrive without rewriting the
-- snapshot's features. A reader's filter on as_of_date prunes both tables (locally their partitions). Read it
-- for the labels; a reader of features alone (scoring, the drift check and its profile) reads
-- ml_user_item_feature_snapshots and skips the join.
-- Point in time: every feature uses events with event_date < as_of_date only (strictly before); the label
-- `converted` looks only at [as_of_date, as_of_date + {{ horizon }}), complete once the pair's source has
-- delivered every day of it (dim_sources: each source over its own range).

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
