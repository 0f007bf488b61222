{%- set lookback = var('feature_lookback_days') | int -%}
{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['as_of_date', 'user_id', 'product_id'],
        liquid_clustered_by=databricks_only(['as_of_date']),
        partition_by=local_only(['as_of_date']),
        on_schema_change='fail',
        tblproperties=data_skipping_properties(
            ['as_of_date', 'user_id', 'product_id'], local_only(['as_of_date'])
        ),
    )
}}
{#- The feature mart's features, one row per (as_of_date, user, product) candidate pair, point in time.
    A run computes the snapshots whose input fingerprint (ml_feature_snapshot_inputs) differs from the
    stored one, and keeps the others (see the yml). -#}

with daily as (

    select * from {{ ref('ml_user_item_daily') }}

),

source_bounds as (

    {{ source_snapshot_range() }}

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

),

daily_pairs as (

    -- the (user, product, day) rows the computed snapshots' lookback windows need
    select daily.*
    from daily
    where daily.event_date >= (select date_sub(min(snapshots.as_of_date), {{ lookback }}) from snapshots)

),

pair_history as (

    -- fan-out by design: each daily pair row goes to every computed snapshot whose lookback window holds it
    -- (of the {{ lookback }} days after its event day, those from the first computed snapshot to the last);
    -- pair_features restores the grain. An equi-join on the exploded dates instead of a range join against
    -- the snapshot list.
    select
        daily_pairs.*,
        explode(
            sequence(
                greatest(
                    date_add(daily_pairs.event_date, 1),
                    first_computed.first_snapshot_computed,
                    source_bounds.first_snapshot
                ),
                least(date_add(daily_pairs.event_date, {{ lookback }}), source_bounds.last_snapshot),
                interval 1 day
            )
        ) as as_of_date
    from daily_pairs
    -- many-to-one: one row per source in each
    inner join source_bounds
        on daily_pairs.source_system = source_bounds.source_system
    inner join first_computed
        on daily_pairs.source_system = first_computed.source_system
    -- the row reaches at least one computed snapshot of its source's range
    where
        greatest(
            date_add(daily_pairs.event_date, 1),
            first_computed.first_snapshot_computed,
            source_bounds.first_snapshot
        )
        <= least(date_add(daily_pairs.event_date, {{ lookback }}), source_bounds.last_snapshot)

),

pair_features as (

    -- the one pass over the fan-out; the user, product and category aggregates below are computed from
    -- this pair grain (a pair counts in the top-level category of its latest interaction)
    select
        pair_history.as_of_date,
        pair_history.user_id,
        pair_history.product_id,
        max(pair_history.source_system) as source_system,
        sum(pair_history.interaction_score) as interaction_score,
        max(pair_history.funnel_stage) as funnel_depth,
        sum(pair_history.views) as views_30d,
        sum(
            case when datediff(pair_history.as_of_date, pair_history.event_date) <= 7 then pair_history.views else 0 end
        ) as views_7d,
        sum(
            case when datediff(pair_history.as_of_date, pair_history.event_date) = 1 then pair_history.views else 0 end
        ) as views_1d,
        sum(pair_history.carts) as carts_30d,
        sum(pair_history.removes) as removes_30d,
        sum(pair_history.purchases) as purchases_30d,
        sum(pair_history.sessions) as sessions_with_item_30d,
        min(datediff(pair_history.as_of_date, pair_history.event_date)) as days_since_last_interaction,
        count(*) as active_days_30d,
        (unix_timestamp(cast(pair_history.as_of_date as timestamp)) - unix_timestamp(max(pair_history.last_view_at)))
        / 3600.0 as hours_since_last_view,
        max(pair_history.last_event_at) as last_event_at,
        max_by(pair_history.last_price, pair_history.last_event_at) as last_price,
        max_by(pair_history.category_key, pair_history.last_event_at) as category_key
    from pair_history
    inner join snapshots
        on pair_history.as_of_date = snapshots.as_of_date
    group by pair_history.as_of_date, pair_history.user_id, pair_history.product_id

),

pair_scopes as (

    -- the user and user-category aggregates as windows over the one pair stream: both partitionings share
    -- one shuffle on (as_of_date, user_id), where separate group-bys joined back would recompute the fan-out
    -- and shuffle it again for each join
    select
        pair_features.*,
        sum(pair_features.views_30d) over by_user as user_views_30d,
        sum(pair_features.carts_30d) over by_user as user_carts_30d,
        sum(pair_features.purchases_30d) over by_user as user_purchases_30d,
        count(*) over by_user as user_products_30d,
        sum(pair_features.views_30d) over (
            partition by pair_features.as_of_date, pair_features.user_id, pair_features.category_key
        ) as user_category_views_30d
    from pair_features
    window by_user as (partition by pair_features.as_of_date, pair_features.user_id)

),

product_features as (

    select
        as_of_date,
        product_id,
        max_by(category_key, last_event_at) as category_key,
        count(*) as product_users_30d,
        sum(views_30d) as product_views_30d,
        sum(purchases_30d) as product_purchases_30d,
        -- the product's price at its latest event before the snapshot
        max_by(last_price, last_event_at) as product_price
    from pair_features
    group by as_of_date, product_id

),

category_prices as (

    select
        as_of_date,
        category_key,
        percentile_approx(product_price, 0.5) as category_median_price
    from product_features
    group by as_of_date, category_key

),

computed as (

    -- the snapshots computed whole

    select
        pair_scopes.as_of_date,
        pair_scopes.user_id,
        pair_scopes.product_id,
        pair_scopes.source_system,
        pair_scopes.interaction_score,
        pair_scopes.funnel_depth,
        case
            when pair_scopes.interaction_score >= {{ var('engagement_high_min', 8) }} then 3
            when pair_scopes.interaction_score >= {{ var('engagement_medium_min', 3) }} then 2
            when pair_scopes.interaction_score >= 1 then 1
            else 0
        end as engagement_score,
        pair_scopes.views_30d,
        pair_scopes.views_7d,
        pair_scopes.views_1d,
        pair_scopes.carts_30d,
        pair_scopes.removes_30d,
        pair_scopes.purchases_30d,
        pair_scopes.sessions_with_item_30d,
        pair_scopes.days_since_last_interaction,
        pair_scopes.active_days_30d,
        pair_scopes.hours_since_last_view,
        hour(pair_scopes.last_event_at) as last_interaction_hour,
        weekday(pair_scopes.as_of_date) + 1 as as_of_weekday,
        pair_scopes.user_category_views_30d,
        pair_scopes.user_category_views_30d
        / nullif(pair_scopes.user_views_30d, 0) as user_category_share_30d,
        product_features.product_price / nullif(category_prices.category_median_price, 0)
            as price_to_category_median,
        pair_scopes.user_views_30d,
        pair_scopes.user_carts_30d,
        pair_scopes.user_purchases_30d,
        pair_scopes.user_products_30d,
        pair_scopes.user_purchases_30d / nullif(pair_scopes.user_views_30d, 0) as user_conversion_rate_30d,
        product_features.product_users_30d,
        product_features.product_views_30d,
        product_features.product_purchases_30d,
        product_features.product_purchases_30d
        / nullif(product_features.product_views_30d, 0) as product_conversion_rate_30d,
        snapshots.input_fingerprint
    from pair_scopes
    -- each join below is many-to-one on the snapshot grain: no fan-out
    inner join product_features
        on
            pair_scopes.as_of_date = product_features.as_of_date
            and pair_scopes.product_id = product_features.product_id
    inner join category_prices
        on
            product_features.as_of_date = category_prices.as_of_date
            and product_features.category_key = category_prices.category_key
    inner join snapshots
        on pair_scopes.as_of_date = snapshots.as_of_date

)

select * from computed
