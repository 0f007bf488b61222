-- Silver staging: the web shop's product catalog feed, one row per Bronze line (JSON), typed. Each record
-- is a product's state from `updated_at` on. Lines that are not JSON objects with a product id and an
-- update time, or that carry a non-positive price, get a quarantine reason; nothing is dropped.

with bronze as (

    select * from {{ ref('brz_catalog__products') }}

),

parsed as (

    select
        from_json(
            raw_line,
            'product_id bigint, category_id decimal(20, 0), category_code string, brand string, '
            || 'price decimal(12, 2), currency string, updated_at string, _corrupt_record string',
            map('mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '_corrupt_record')
        ) as fields,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from bronze

),

typed as (

    select
        'rees46' as source_system,
        fields.product_id,
        fields.category_id,
        nullif(trim(fields.category_code), '') as category_code,
        nullif(trim(fields.brand), '') as brand,
        fields.price,
        upper(fields.currency) as currency,
        try_to_timestamp(fields.updated_at) as updated_at,
        fields._corrupt_record is not null or fields.product_id is null and fields.updated_at is null as is_malformed,
        parsed.raw_line,
        parsed.source_file_name,
        parsed.batch_id,
        parsed.ingested_at
    from parsed

),

final as (

    select
        source_system,
        product_id,
        category_id,
        category_code,
        brand,
        price,
        currency,
        updated_at,
        case
            when is_malformed then 'malformed_record'
            when product_id is null then 'missing_product_id'
            when updated_at is null then 'invalid_updated_at'
            when price is null then 'invalid_price'
            when price <= 0 then 'non_positive_price'
        end as quarantine_reason,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from typed

)

select * from final
