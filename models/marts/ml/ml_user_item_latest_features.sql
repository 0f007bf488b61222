{{
    config(
        materialized='table',
        tblproperties=data_skipping_properties(['as_of_date', 'source_system', 'user_id', 'product_id']),
    )
}}
{#- Delta's file statistics only on the snapshot, the source and the keys, not on the first 32 of 34 columns -#}
{#- Each source's latest snapshot whole: every candidate pair's features, what scoring and marketing's
    targeting act on. The feature mart draws its snapshots; this one snapshot per source it does not. Built
    whole on every run (one snapshot's worth of work). -#}

with daily as (

    select * from {{ ref('ml_user_item_daily') }}

),

source_bounds as (

    {{ source_snapshot_range() }}

),

snapshots as (

    -- the latest snapshot of each source, with the fingerprint the mart stores for it
    select distinct
        inputs.as_of_date,
        inputs.input_fingerprint
    from {{ ref('ml_feature_snapshot_inputs') }} as inputs
    inner join source_bounds
        on inputs.as_of_date = source_bounds.last_snapshot

),

first_computed as (

    -- each source from its latest snapshot on: a source's pairs reach no other snapshot
    select
        source_bounds.source_system,
        source_bounds.last_snapshot as first_snapshot_computed
    from source_bounds
    inner join snapshots
        on source_bounds.last_snapshot = snapshots.as_of_date

)

{{ user_item_snapshot_features(max_pairs=0) }}

select * from computed
