{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='user_id',
        on_schema_change='append_new_columns',
        pre_hook=["{{ add_missing_mark_column() }}"],
    )
}}
{#- Gold: one row per user: where they come from, when they were first and last active, and what they
    have done and bought so far. Lifetime revenue adds the orders of known value (orders_unknown_value
    counts the others); null for a buyer none of whose orders has a known value. Incremental: a run
    recomputes the users with events written since its last run, from all their events and orders. -#}

with events as (

    select * from {{ ref('fct_events') }}
    {%- if is_incremental() %}
        where user_id in ({{ users_with_new_events() }})
    {%- endif %}

),

orders as (

    select * from {{ ref('fct_orders') }}
    {%- if is_incremental() %}
        where user_id in ({{ users_with_new_events() }})
    {%- endif %}

),

activity as (

    select
        user_id,
        source_system,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        count(distinct event_date) as active_days,
        count(distinct user_session_id) as sessions_count,
        count(*) as events_count,
        sum(case when event_type = 'view' then 1 else 0 end) as views_count,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts_count,
        max(updated_at) as events_updated_at
    from events
    -- a user id is namespaced by its source (`rees46:512345`): grouping by the source too makes the same
    -- groups, and keeps a string out of the aggregation buffers (one would make Spark sort every event)
    group by user_id, source_system

),

purchasing as (

    select
        user_id,
        count(*) as orders_count,
        sum(items_count) as items_purchased,
        sum(case when is_value_known then 0 else 1 end) as orders_unknown_value,
        cast(sum(order_revenue) as decimal(18, 2)) as lifetime_revenue,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at
    from orders
    group by user_id

),

final as (

    select
        activity.user_id,
        activity.source_system,
        substring_index(activity.user_id, ':', -1) as source_user_id,
        activity.first_seen_at,
        activity.last_seen_at,
        cast(date_trunc('week', activity.first_seen_at) as date) as cohort_week,
        activity.active_days,
        activity.sessions_count,
        activity.events_count,
        activity.views_count,
        activity.carts_count,
        coalesce(purchasing.orders_count, 0) as orders_count,
        coalesce(purchasing.items_purchased, 0) as items_purchased,
        coalesce(purchasing.orders_unknown_value, 0) as orders_unknown_value,
        -- no order: nothing spent (0); orders of unknown value only: unknown (null)
        case when purchasing.user_id is null then 0 else purchasing.lifetime_revenue end as lifetime_revenue,
        purchasing.first_ordered_at,
        purchasing.last_ordered_at,
        purchasing.user_id is not null as is_buyer,
        -- the newest fct_events write among the user's events: the next run's mark
        activity.events_updated_at
    from activity
    -- one-to-one: both sides are grouped by user_id
    left join purchasing
        on activity.user_id = purchasing.user_id

)

select * from final
