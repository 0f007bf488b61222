{#- Silver: the web shop's catalog as it stands now, one row per product: the latest valid record of the
    catalog feed (by updated_at; on a tie, the later delivered). The source of the SCD2 snapshot
    snp_catalog_products, which keeps every version it has seen. -#}

with catalog as (

    select * from {{ ref('stg_catalog__products') }}
    where quarantine_reason is null

),

ranked as (

    select
        *,
        row_number() over (
            partition by source_system, product_id
            order by updated_at desc, ingested_at desc, source_file_name desc, raw_line desc
        ) as recency_rank
    from catalog

),

final as (

    select
        {{ namespaced_id('source_system', 'product_id') }} as product_id,
        source_system,
        product_id as source_product_id,
        {{ namespaced_id('source_system', 'category_id') }} as category_id,
        category_code,
        brand,
        price,
        currency,
        updated_at
    from ranked
    where recency_rank = 1

)

select * from final
