{#- Gold: one row per order. The app delivers a transaction id; the web shop does not, so there an order is
    the purchases of one session (REES46 has no order id: one checkout per session is the documented
    rule). An order's value is known only when every item's price is (else order_revenue is null). -#}

with purchases as (

    select * from {{ ref('fct_events') }}
    where event_type = 'purchase'

),

keyed as (

    select
        *,
        coalesce(transaction_id, concat('session:', user_session_id)) as order_key
    from purchases

),

final as (

    select
        sha2(order_key, 256) as order_id,
        max(source_system) as source_system,
        max(transaction_id) as transaction_id,
        max(user_id) as user_id,
        min(user_session_id) as user_session_id,
        min(event_at) as ordered_at,
        cast(min(event_at) as date) as order_date,
        count(*) as items_count,
        count(distinct product_id) as products_count,
        sum(case when price is null then 1 else 0 end) as items_unknown_price,
        -- null when any item's price is unknown: a partial sum is not the order's value
        case when count(price) = count(*) then cast(sum(price) as decimal(18, 2)) end as order_revenue,
        count(price) = count(*) as is_value_known
    from keyed
    group by order_key

)

select * from final
