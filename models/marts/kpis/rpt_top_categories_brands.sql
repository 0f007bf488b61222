-- Gold report: top-level categories and brands side by side, ranked by revenue within their kind
-- (dimension_type 'category' or 'brand'); events without a category or brand are left out of that kind.

with events as (

    select * from {{ ref('fct_events') }}

),

by_dimension as (

    select
        'category' as dimension_type,
        category_level_1 as dimension_value,
        user_id,
        event_type,
        revenue
    from events
    where nullif(category_level_1, '') is not null
    union all
    select
        'brand' as dimension_type,
        brand as dimension_value,
        user_id,
        event_type,
        revenue
    from events
    where nullif(brand, '') is not null

),

totals as (

    select
        dimension_type,
        dimension_value,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        count(distinct case when event_type = 'purchase' then user_id end) as buyers,
        sum(revenue) as revenue
    from by_dimension
    group by dimension_type, dimension_value

),

final as (

    select
        dimension_type,
        dimension_value,
        views,
        purchases,
        buyers,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(revenue / sum(revenue) over (partition by dimension_type) as double) as revenue_share,
        dense_rank() over (partition by dimension_type order by revenue desc) as revenue_rank
    from totals

)

select * from final
