{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['event_date', 'product_id'],
        liquid_clustered_by=databricks_only(['event_date']),
        partition_by=local_only(['event_date']),
        on_schema_change='append_new_columns',
        pre_hook="{{ recompute_days_without_columns(['first_event_at', 'last_event_at', 'last_event', 'events']) }}",
    )
}}
{#- Gold: one row per product and day with activity: views, carts, removes, purchases, revenue (of the
    purchases of known price; the others are counted apart), users, the day's first and last event and the
    attributes of that last one. Incremental by day: the days fct_events merged since the last run are
    recomputed and replace the stored days (see the yml). The product dimensions aggregate these rows, a
    tenth as many as the events, instead of every event. -#}

with events as (

    select * from {{ ref('fct_events') }}
    -- on an incremental run, the days fct_events merged
    where {{ days_fct_events_merged() }}

),

product_users as (

    -- the day's distinct users per product, hash-aggregated on their own: Spark computes the string
    -- aggregates below by sorting, and a distinct count beside them would sort the events a second time
    select
        day_users.event_date,
        day_users.product_id,
        count(day_users.user_id) as users
    from (
        select distinct
            events.event_date,
            events.product_id,
            events.user_id
        from events
    ) as day_users
    group by day_users.event_date, day_users.product_id

),

aggregated as (

    select
        event_date,
        product_id,
        max(category_level_1) as category_level_1,
        max(brand) as brand,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(case when event_type = 'purchase' and price is null then 1 else 0 end) as purchases_unknown_price,
        {{ known_revenue() }} as revenue,
        avg(price) as average_price,
        count(*) as events,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        -- ties by event id: the same event wins whichever days a run recomputes
        max_by(
            named_struct(
                'source_system', source_system,
                'category_id', category_id,
                'category_code', category_code,
                'brand', brand,
                'price', price
            ),
            named_struct('event_at', event_at, 'event_id', event_id)
        ) as last_event,
        max(updated_at) as events_updated_at
    from events
    group by event_date, product_id

),

final as (

    select
        aggregated.event_date,
        aggregated.product_id,
        aggregated.category_level_1,
        aggregated.brand,
        aggregated.views,
        aggregated.carts,
        aggregated.removes,
        aggregated.purchases,
        aggregated.purchases_unknown_price,
        aggregated.revenue,
        product_users.users,
        aggregated.average_price,
        aggregated.events,
        aggregated.first_event_at,
        aggregated.last_event_at,
        aggregated.last_event,
        aggregated.events_updated_at
    from aggregated
    -- one-to-one: both have a row per (event_date, product_id) of the same events
    inner join product_users
        on
            aggregated.event_date = product_users.event_date
            and aggregated.product_id = product_users.product_id

)

select * from final
