{#- Gold report: one row per product with activity: totals over all days, conversion, and ranks by revenue
    within its source and within its top-level category (1 = best; ties share a rank). Revenue is of the
    purchases of known price; those of unknown price are counted in purchases_unknown_price. -#}

with daily as (

    select * from {{ ref('agg_daily_product_stats') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

totals as (

    select
        product_id,
        sum(views) as views,
        sum(carts) as carts,
        sum(purchases) as purchases,
        sum(purchases_unknown_price) as purchases_unknown_price,
        sum(revenue) as revenue,
        count(*) as active_days
    from daily
    group by product_id

),

final as (

    select
        totals.product_id,
        products.source_system,
        products.category_code,
        coalesce(nullif(products.category_level_1, ''), '(unknown)') as category_level_1,
        products.category_display_name,
        products.brand,
        products.current_price,
        totals.views,
        totals.carts,
        totals.purchases,
        totals.purchases_unknown_price,
        cast(totals.revenue as decimal(18, 2)) as revenue,
        totals.active_days,
        cast(totals.purchases / nullif(totals.views, 0) as double) as view_to_purchase_rate,
        dense_rank() over (partition by products.source_system order by totals.revenue desc nulls last)
            as revenue_rank,
        dense_rank() over (
            partition by products.source_system, coalesce(nullif(products.category_level_1, ''), '(unknown)')
            order by totals.revenue desc nulls last
        ) as revenue_rank_in_category,
        dense_rank() over (partition by products.source_system order by totals.purchases desc) as purchases_rank
    from totals
    -- many-to-one: dim_products has one row per product (tested unique)
    left join products
        on totals.product_id = products.product_id

)

select * from final
