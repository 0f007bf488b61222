{#- EDA: the share of nulls per column and source in the valid Silver events (derived sessions count as
    "no delivered session id"). -#}

with events as (

    select * from {{ ref('int_events_validated') }}

),

final as (

    select
        source_system,
        count(*) as events,
        avg(case when user_id is null then 1.0 else 0.0 end) as user_id_null_share,
        avg(case when product_id is null then 1.0 else 0.0 end) as product_id_null_share,
        avg(case when event_at is null then 1.0 else 0.0 end) as event_at_null_share,
        avg(case when price is null then 1.0 else 0.0 end) as price_null_share,
        avg(case when category_id is null then 1.0 else 0.0 end) as category_id_null_share,
        avg(case when category_code is null then 1.0 else 0.0 end) as category_code_null_share,
        avg(case when brand is null then 1.0 else 0.0 end) as brand_null_share,
        avg(case when is_session_derived then 1.0 else 0.0 end) as session_id_missing_share
    from events
    group by source_system

)

select * from final
