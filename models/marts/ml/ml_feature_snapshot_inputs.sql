{{ config(materialized='view') }}
{%- set lookback = var('feature_lookback_days') | int -%}
{%- set horizon = var('label_horizon_days') | int -%}

{#- The feature mart's candidate snapshots and what each is computed from: every snapshot date of each
    source's own range, with the combined fingerprint of the days in its lookback window and its label
    window (the draw keeps the converters) and of the draw's caps. The mart recomputes a snapshot when this
    fingerprint differs from the one it stored (see the yml). -#}

with day_fingerprints as (

    -- one row per day of ml_user_item_daily: its rows' fingerprint
    select
        event_date,
        max(day_fingerprint) as day_fingerprint
    from {{ ref('ml_user_item_daily') }}
    group by event_date

),

source_bounds as (

    {{ source_snapshot_range() }}

),

candidate_snapshots as (

    -- every snapshot date of each source's range (a day of any age can change: a late event)
    select distinct explode(sequence(first_snapshot, last_snapshot, interval 1 day)) as as_of_date
    from source_bounds

),

candidate_fingerprints as (

    -- the days in each candidate's lookback and label windows [as_of_date - {{ lookback }}, as_of_date +
    -- {{ horizon }}), combined order-free; a day with no interaction has no row, the same on every run
    select
        candidate_snapshots.as_of_date,
        xxhash64(
            sum(cast(xxhash64(day_fingerprints.event_date, day_fingerprints.day_fingerprint) as decimal(38, 0))),
            -- the draw's caps: a new cap draws every snapshot again
            cast({{ var('ml_snapshot_max_pairs') | int }} as bigint),
            cast({{ var('ml_snapshot_max_converter_pairs') | int }} as bigint)
        ) as input_fingerprint
    from candidate_snapshots
    inner join day_fingerprints
        on
            date_add(candidate_snapshots.as_of_date, {{ horizon }}) > day_fingerprints.event_date
            and date_sub(candidate_snapshots.as_of_date, {{ lookback }}) <= day_fingerprints.event_date
    group by candidate_snapshots.as_of_date

)

select * from candidate_fingerprints
