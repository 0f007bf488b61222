{#- EDA: known prices per source and event type: range, quartiles, and a log10 histogram (bucket = floor of
    log10(price) * 4, so four buckets per power of ten), and how many events of the type have no known price. -#}

with events as (

    select * from {{ ref('int_events_validated') }}
    where price is not null

),

unknown_prices as (

    select
        source_system,
        event_type,
        sum(case when price is null then 1 else 0 end) as events_unknown_price
    from {{ ref('int_events_validated') }}
    group by source_system, event_type

),

buckets as (

    select
        source_system,
        event_type,
        floor(log10(greatest(price, 0.01)) * 4) / 4 as log10_price_bucket,
        count(*) as events,
        min(min(price)) over (partition by source_system, event_type) as min_price,
        percentile_approx(price, 0.5) as bucket_median_price,
        max(max(price)) over (partition by source_system, event_type) as max_price
    from events
    group by source_system, event_type, floor(log10(greatest(price, 0.01)) * 4) / 4

),

final as (

    select
        unknown_prices.source_system,
        unknown_prices.event_type,
        buckets.log10_price_bucket,
        coalesce(buckets.events, 0) as events,
        buckets.min_price,
        buckets.bucket_median_price,
        buckets.max_price,
        unknown_prices.events_unknown_price
    from unknown_prices
    -- one-to-many: the buckets of the type (none when no price of it is known)
    left join buckets
        on
            unknown_prices.source_system = buckets.source_system
            and unknown_prices.event_type = buckets.event_type

)

select * from final
