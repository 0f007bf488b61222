{%- set horizon = var('label_horizon_days') | int -%}
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
{#- The feature mart's labels: the pairs that bought within each snapshot's label window, computed only for
    the snapshots whose window's days changed (a label fingerprint per snapshot; see the yml). -#}

with daily as (

    select * from {{ ref('ml_user_item_daily') }}

),

source_bounds as (

    {{ source_snapshot_range() }}

),

day_fingerprints as (

    -- one row per day of ml_user_item_daily: its rows' fingerprint
    select
        event_date,
        max(day_fingerprint) as day_fingerprint
    from daily
    group by event_date

),

candidate_snapshots as (

    select distinct explode(sequence(first_snapshot, last_snapshot, interval 1 day)) as as_of_date
    from source_bounds

),

label_fingerprints as (

    -- each snapshot's label input: the fingerprints of the days of its window [as_of_date, as_of_date +
    -- {{ horizon }}), combined (order-free); a window without any day has no row
    select
        candidate_snapshots.as_of_date,
        xxhash64(
            sum(cast(xxhash64(day_fingerprints.event_date, day_fingerprints.day_fingerprint) as decimal(38, 0)))
        ) as label_fingerprint
    from candidate_snapshots
    inner join day_fingerprints
        on
            candidate_snapshots.as_of_date <= day_fingerprints.event_date
            and day_fingerprints.event_date < date_add(candidate_snapshots.as_of_date, {{ horizon }})
    group by candidate_snapshots.as_of_date

),

stored_fingerprints as (

    {% if is_incremental() -%}
        select
            this_run.as_of_date,
            max(this_run.label_fingerprint) as label_fingerprint
        from {{ this }} as this_run
        group by this_run.as_of_date
    {%- else -%}
        select
            cast(null as date) as as_of_date,
            cast(null as bigint) as label_fingerprint
    {%- endif %}

),

snapshots as (

    -- the snapshots computed whole: those whose window's days changed, or that hold no label yet (a window
    -- without purchases writes nothing, so it is looked at again, at the cost of its few pair days)
    select
        label_fingerprints.as_of_date,
        label_fingerprints.label_fingerprint
    from label_fingerprints
    left join stored_fingerprints
        on label_fingerprints.as_of_date = stored_fingerprints.as_of_date
    where
        stored_fingerprints.label_fingerprint is null
        or stored_fingerprints.label_fingerprint != label_fingerprints.label_fingerprint

),

purchases as (

    -- the pair days with a purchase
    select
        daily.event_date,
        daily.source_system,
        daily.user_id,
        daily.product_id,
        daily.purchases
    from daily
    where
        daily.purchases > 0
        and daily.event_date >= (select min(snapshots.as_of_date) from snapshots)

),

labelled as (

    -- fan-out by design: each purchase day goes to the snapshots of its source whose label window holds
    -- it (the {{ horizon }} days up to and including the purchase day); the group by restores the grain
    select
        purchases.user_id,
        purchases.product_id,
        purchases.purchases,
        explode(
            sequence(
                greatest(date_sub(purchases.event_date, {{ horizon - 1 }}), source_bounds.first_snapshot),
                purchases.event_date,
                interval 1 day
            )
        ) as as_of_date
    from purchases
    -- many-to-one: one row per source
    inner join source_bounds
        on purchases.source_system = source_bounds.source_system
    where purchases.event_date >= source_bounds.first_snapshot

),

final as (

    select
        labelled.as_of_date,
        labelled.user_id,
        labelled.product_id,
        sum(labelled.purchases) as purchases_in_horizon,
        max(snapshots.label_fingerprint) as label_fingerprint
    from labelled
    -- many-to-one: one row per computed snapshot
    inner join snapshots
        on labelled.as_of_date = snapshots.as_of_date
    group by labelled.as_of_date, labelled.user_id, labelled.product_id

)

select * from final
