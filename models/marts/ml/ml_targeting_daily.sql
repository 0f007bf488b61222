{#- Marketing's daily high-intent list: the `targeting_top_n` best pairs of each snapshot scored whole,
    ranked by expected revenue (probability x the product's current price) or by probability (var
    `targeting_rank_by`), with what marketing needs to act on them. -#}

with scored as (

    select * from {{ ref('ml_conversion_predictions') }}

),

predictions as (

    -- the snapshots scored whole, every row at share 1 (a latest snapshot; null: scored before draws
    -- existed, whole then). A snapshot scored from the mart's draw is for monitoring, not a list to act on,
    -- even where its converters' stratum was kept whole.
    select *
    from scored
    where
        as_of_date in (
            select whole.as_of_date
            from scored as whole
            group by whole.as_of_date
            having min(coalesce(whole.draw_share, 1)) = 1
        )

),

products as (

    select * from {{ ref('dim_products') }}

),

valued as (

    select
        predictions.as_of_date,
        predictions.probability_rank,
        predictions.user_id,
        predictions.product_id,
        predictions.probability,
        -- unknown when the price is: such pairs rank after every pair of known value
        cast(predictions.probability * products.current_price as decimal(18, 2)) as expected_revenue,
        products.category_code,
        products.brand,
        products.current_price,
        predictions.model_name,
        predictions.model_version,
        predictions.scored_at
    from predictions
    -- many-to-one: dim_products has one row per product_id (tested unique)
    left join products
        on predictions.product_id = products.product_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by as_of_date
            order by expected_revenue desc nulls last, probability_rank asc
        ) as expected_revenue_rank
    from valued

),

final as (

    select
        as_of_date,
        {{ targeting_rank_column() }} as target_rank,
        probability_rank,
        expected_revenue_rank,
        user_id,
        product_id,
        probability,
        expected_revenue,
        category_code,
        brand,
        current_price,
        model_name,
        model_version,
        scored_at
    from ranked
    where {{ targeting_rank_column() }} <= {{ var('targeting_top_n') | int }}

)

select * from final
