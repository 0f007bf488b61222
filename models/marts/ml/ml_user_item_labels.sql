{%- set horizon = var('label_horizon_days') | int -%}
{#- days ml_user_item_daily recomputes on an incremental run, back from its newest day -#}
{%- set recompute_days = var('fct_events_lookback_days') | int -%}
{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['as_of_date', 'user_id', 'product_id'],
        liquid_clustered_by=databricks_only(['as_of_date']),
        partition_by=local_only(['as_of_date']),
        on_schema_change='fail',
    )
}}
-- The feature mart's labels: one row per (as_of_date, user, product) where the user bought the product in
-- the label window [as_of_date, as_of_date + {{ horizon }}), for every snapshot date from the first one
-- (the day `min_history_days` after the data starts) on. Only the pairs that bought: a candidate pair of
-- ml_user_item_feature_snapshots with no row here did not convert (the view ml_user_item_features joins
-- them). A purchase on day d labels the {{ horizon }} snapshots d - {{ horizon - 1 }} to d.
-- Kept apart from the features because labels change after the features are final: each new day completes
-- the label windows of the {{ horizon }} snapshots before it. Stored with the features, that rewrote those
-- snapshots' every pair (most of the daily mart's writes) to change a few labels; here a day writes only
-- its purchases' rows.
-- Incremental: ml_user_item_daily recomputes the days from {{ recompute_days }} before its previous newest
-- day on (a late purchase can land there), and no purchase is newer than that day, so every label a run
-- can change belongs to a snapshot from (the newest stored here) - {{ recompute_days + horizon - 1 }} on:
-- the run computes those snapshots whole from the purchases and each replaces the stored one (locally its
-- as_of_date partition is overwritten; on Databricks a merge on the grain: purchases are only added, so no
-- stored row has to go).

with daily as (

    select * from {{ ref('ml_user_item_daily') }}

),

bounds as (

    select date_add(min(daily.event_date), {{ var('min_history_days') | int }}) as first_snapshot
    from daily

),

recomputed as (

    -- the first snapshot this run computes: the first one on a full build
    select
        greatest(
            bounds.first_snapshot,
            {% if is_incremental() -%}
                coalesce(
                    (
                        select date_sub(max(this_run.as_of_date), {{ recompute_days + horizon - 1 }})
                        from {{ this }} as this_run
                    ),
                    bounds.first_snapshot
                )
            {%- else -%}
                bounds.first_snapshot
            {%- endif %}
        ) as first_snapshot_computed
    from bounds

),

purchases as (

    -- the pair days with a purchase that label a computed snapshot (the same day or up to
    -- {{ horizon - 1 }} days before it)
    select
        daily.event_date,
        daily.user_id,
        daily.product_id,
        daily.purchases
    from daily
    where
        daily.purchases > 0
        and daily.event_date >= (select recomputed.first_snapshot_computed from recomputed)

),

labelled as (

    -- fan-out by design: each purchase day goes to the computed snapshots whose label window holds it
    select
        purchases.user_id,
        purchases.product_id,
        purchases.purchases,
        explode(
            sequence(
                greatest(date_sub(purchases.event_date, {{ horizon - 1 }}), recomputed.first_snapshot_computed),
                purchases.event_date,
                interval 1 day
            )
        ) as as_of_date
    from purchases
    cross join recomputed

)

select
    as_of_date,
    user_id,
    product_id,
    sum(purchases) as purchases_in_horizon
from labelled
group by as_of_date, user_id, product_id
