{%- set max_pairs = var('ml_snapshot_max_pairs') | int -%}
{%- set max_converters = var('ml_snapshot_max_converter_pairs') | int -%}
{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['as_of_date', 'user_id', 'product_id'],
        liquid_clustered_by=databricks_only(['as_of_date']),
        partition_by=local_only(['as_of_date']),
        on_schema_change='append_new_columns',
        post_hook="{{ delete_redrawn_snapshot_rows() }}",
        tblproperties=data_skipping_properties(
            ['as_of_date', 'user_id', 'product_id'], local_only(['as_of_date'])
        ),
    )
}}
{#- The feature mart's features, one row per (as_of_date, user, product) candidate pair of the users each
    snapshot draws (every converter up to var `ml_snapshot_max_converter_pairs`, the others up to var
    `ml_snapshot_max_pairs`), point in time. A run computes the snapshots whose input fingerprint
    (ml_feature_snapshot_inputs) differs from the stored one, and keeps the others (see the yml); each
    source's latest snapshot is drawn from the whole one (ml_user_item_latest_features). -#}

with daily as (

    select * from {{ ref('ml_user_item_daily') }}

),

source_bounds as (

    {{ source_snapshot_range() }}

),

earlier_bounds as (

    -- the snapshots computed here: each source's but its latest, which comes from the whole one
    select
        source_system,
        first_snapshot,
        date_sub(last_snapshot, 1) as last_snapshot
    from source_bounds

),

candidate_fingerprints as (

    -- every candidate snapshot with the fingerprint of its window's days (ml_feature_snapshot_inputs)
    select * from {{ ref('ml_feature_snapshot_inputs') }}

),

stored_fingerprints as (

    -- the input each stored snapshot was computed from (none on a full build)
    {% if is_incremental() -%}
        select
            this_run.as_of_date,
            max(this_run.input_fingerprint) as input_fingerprint
        from {{ this }} as this_run
        group by this_run.as_of_date
    {%- else -%}
        select
            cast(null as date) as as_of_date,
            cast(null as bigint) as input_fingerprint
    {%- endif %}

),

snapshots as (

    -- the snapshots computed whole: the new ones and the stored ones whose input changed (a late event in
    -- a day of their window); a stored one whose input came out the same is kept as it is. A changed day
    -- changes every later snapshot whose window holds it, so these are the newest snapshots from the first
    -- changed one on.
    select
        candidate_fingerprints.as_of_date,
        candidate_fingerprints.is_label_complete,
        candidate_fingerprints.input_fingerprint
    from candidate_fingerprints
    left join stored_fingerprints
        on candidate_fingerprints.as_of_date = stored_fingerprints.as_of_date
    where
        stored_fingerprints.input_fingerprint is null
        or stored_fingerprints.input_fingerprint != candidate_fingerprints.input_fingerprint

),

first_computed as (

    -- per source, its first snapshot computed whole (no row when none is: nothing of it changed). A changed
    -- day changes every later snapshot of its source whose window holds it, so the source's pair days are
    -- exploded from there on only
    select
        source_bounds.source_system,
        min(snapshots.as_of_date) as first_snapshot_computed
    from source_bounds
    inner join snapshots
        on snapshots.as_of_date between source_bounds.first_snapshot and source_bounds.last_snapshot
    group by source_bounds.source_system

)

{{ user_item_snapshot_features(max_pairs=max_pairs, max_converters=max_converters, bounds='earlier_bounds') }},

latest_drawn as (

    -- each source's latest snapshot, when computed in this run: the drawn users' rows of the whole one, the
    -- same rows and values the macro would give (a test compares them), at the cost of a filter. It has no
    -- converters: its label window starts the day after its source's last event
    select {{ latest_snapshot_drawn_columns('latest', max_pairs) }}
    from {{ ref('ml_user_item_latest_features') }} as latest
    where
        latest.as_of_date in (select snapshots.as_of_date from snapshots)
        and {{ is_drawn_user(
            'latest.as_of_date', 'latest.user_id', snapshot_draw_modulus('latest.snapshot_pairs', max_pairs)
        ) }}

)

select * from computed
union all
select * from latest_drawn
