{%- set lookback = var('feature_lookback_days') | int -%}
{%- set horizon = var('label_horizon_days') | int -%}

{#- The feature mart's candidate snapshots and what each is computed from: every snapshot date of each
    source's own range, whether its label window has closed, and the combined fingerprint of the days in
    its lookback window, of the days in its label window once that has closed (the draw keeps the
    converters of a label-complete snapshot), and of the draw's caps. The mart recomputes a snapshot when
    this fingerprint differs from the one it stored (see the yml). A table, not a view: the mart reads it in
    several places of one statement and in its post-hook, and a view would aggregate ml_user_item_daily
    again at each read. -#}

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

source_dates as (

    -- every snapshot date of each source's range (a day of any age can change: a late event)
    select
        explode(sequence(source_bounds.first_snapshot, source_bounds.last_snapshot, interval 1 day)) as as_of_date,
        {{ last_label_complete_snapshot('source_bounds.source_system') }} as last_labelled_snapshot
    from source_bounds

),

candidate_snapshots as (

    -- a date is label-complete when the label window of every source it is a snapshot of has closed
    -- (sources that overlap in time share the date's draw)
    select
        as_of_date,
        coalesce(bool_and(as_of_date <= last_labelled_snapshot), false) as is_label_complete
    from source_dates
    group by as_of_date

),

candidate_fingerprints as (

    -- the days in each candidate's lookback window [as_of_date - {{ lookback }}, as_of_date) and, once it
    -- is label-complete, in its label window [as_of_date, as_of_date + {{ horizon }}), combined order-free; a
    -- day with no interaction has no row, the same on every run. An open label window is not read: a new
    -- day in it changes nothing the snapshot draws, so it recomputes nothing
    select
        candidate_snapshots.as_of_date,
        candidate_snapshots.is_label_complete,
        xxhash64(
            sum(cast(xxhash64(day_fingerprints.event_date, day_fingerprints.day_fingerprint) as decimal(38, 0))),
            candidate_snapshots.is_label_complete,
            -- the draw's caps: a new cap draws every snapshot again
            cast({{ var('ml_snapshot_max_pairs') | int }} as bigint),
            cast({{ var('ml_snapshot_max_converter_pairs') | int }} as bigint)
        ) as input_fingerprint
    from candidate_snapshots
    inner join day_fingerprints
        on
            date_add(
                candidate_snapshots.as_of_date,
                case when candidate_snapshots.is_label_complete then {{ horizon }} else 0 end
            ) > day_fingerprints.event_date
            and date_sub(candidate_snapshots.as_of_date, {{ lookback }}) <= day_fingerprints.event_date
    group by candidate_snapshots.as_of_date, candidate_snapshots.is_label_complete

)

select * from candidate_fingerprints
