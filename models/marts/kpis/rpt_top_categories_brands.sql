{#- Gold report: top-level categories and brands side by side, per source, ranked by revenue within their
    source and kind (dimension_type 'category' or 'brand'); events without a category or brand are left
    out of that kind. Revenue is of purchases of known price; display_name is what a chart shows. -#}

with events as (

    select * from {{ ref('fct_events') }}

),

by_dimension as (

    select
        source_system,
        'category' as dimension_type,
        category_level_1 as dimension_value,
        {{ category_display_name('source_system', 'category_level_1') }} as display_name,
        user_id,
        event_type,
        price
    from events
    where nullif(category_level_1, '') is not null
    union all
    select
        source_system,
        'brand' as dimension_type,
        brand as dimension_value,
        brand as display_name,
        user_id,
        event_type,
        price
    from events
    where nullif(brand, '') is not null

),

totals as (

    select
        source_system,
        dimension_type,
        dimension_value,
        max(display_name) as display_name,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(case when event_type = 'purchase' and price is null then 1 else 0 end) as purchases_unknown_price,
        count(distinct case when event_type = 'purchase' then user_id end) as buyers,
        {{ known_revenue() }} as revenue
    from by_dimension
    group by source_system, dimension_type, dimension_value

),

final as (

    select
        source_system,
        dimension_type,
        dimension_value,
        display_name,
        views,
        purchases,
        purchases_unknown_price,
        buyers,
        revenue,
        cast(revenue / sum(revenue) over (partition by source_system, dimension_type) as double) as revenue_share,
        dense_rank() over (partition by source_system, dimension_type order by revenue desc nulls last)
            as revenue_rank
    from totals

)

select * from final
