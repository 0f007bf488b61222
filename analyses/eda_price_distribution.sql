-- EDA: prices per source and event type: range, quartiles, and a log10 histogram (bucket = floor of
-- log10(price) * 4, so four buckets per power of ten).

with events as (

    select * from {{ ref('int_events_validated') }}
    where price is not null

),

final as (

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

)

select * from final
