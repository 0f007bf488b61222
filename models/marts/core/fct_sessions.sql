{#- Gold: one row per session (delivered by the web shop, derived from 30-minute inactivity for the app):
    when it started and ended, what happened in it, and whether it converted or left a cart behind. Its
    revenue is known only when every purchase in it has a known price (else null). -#}

with events as (

    select * from {{ ref('fct_events') }}

),

final as (

    select
        user_session_id,
        max(source_system) as source_system,
        max(user_id) as user_id,
        min(event_at) as session_started_at,
        max(event_at) as session_ended_at,
        cast(min(event_at) as date) as session_date,
        unix_timestamp(max(event_at)) - unix_timestamp(min(event_at)) as duration_seconds,
        count(*) as events_count,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        count(distinct product_id) as products_count,
        -- revenue is 0 for events other than purchases and null for a purchase of unknown price
        case when count(revenue) = count(*) then cast(sum(revenue) as decimal(18, 2)) end as revenue,
        count(revenue) = count(*) as is_value_known,
        max(case when event_type = 'cart' then 1 else 0 end) = 1 as has_cart,
        max(case when event_type = 'purchase' then 1 else 0 end) = 1 as is_converting,
        max(case when event_type = 'cart' then 1 else 0 end) = 1
        and max(case when event_type = 'purchase' then 1 else 0 end) = 0 as is_cart_abandoned,
        max(is_session_derived) as is_session_derived
    from events
    group by user_session_id

)

select * from final
