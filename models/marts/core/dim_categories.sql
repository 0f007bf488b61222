{#- Gold: one row per category (namespaced id), with its dotted code split into levels, the name charts show
    for it (the app's categories are bare ids: `app category 1101.313`), and how many products it holds now. -#}

with products as (

    select * from {{ ref('dim_products') }}
    where category_id is not null

),

final as (

    select
        category_id,
        max(source_system) as source_system,
        -- a category id carries one code; max() also fills a code some rows lack
        max(category_code) as category_code,
        max(category_level_1) as category_level_1,
        max(category_level_2) as category_level_2,
        max(category_level_3) as category_level_3,
        max(category_display_name) as category_display_name,
        count(*) as products_count,
        sum(purchases_count) as purchases_count
    from products
    group by category_id

)

select * from final
