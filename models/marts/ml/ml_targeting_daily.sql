-- Marketing's daily high-intent list: the `targeting_top_n` most likely purchases of each scored
-- snapshot, with what marketing needs to act on them (product category, brand, current price) and the
-- model version that scored them.

with predictions as (

    select * from {{ ref('ml_conversion_predictions') }}
    where probability_rank <= {{ var('targeting_top_n') | int }}

),

products as (

    select * from {{ ref('dim_products') }}

),

final as (

    select
        predictions.as_of_date,
        predictions.probability_rank,
        predictions.user_id,
        predictions.product_id,
        predictions.probability,
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

)

select * from final
