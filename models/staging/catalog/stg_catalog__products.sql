{#- Silver staging: the web shop's product catalog feed, one row per Bronze line (JSON), decoded by the
    folder's encoding and typed. Each record is a product's state from `updated_at` on. Lines that are not
    JSON objects with a product id and an update time get a quarantine reason; a price that is missing or
    not positive is unknown (null), not a reason. Nothing is dropped. -#}

with bronze as (

    select * from {{ ref('brz_catalog__products') }}

),

decoded as (

    select
        *,
        {{ decoded_line('raw_line', 'catalog') }} as line_text,
        {{ undecoded_bytes('raw_line') }} as raw_bytes
    from bronze

),

parsed as (

    select
        from_json(
            line_text,
            'product_id bigint, category_id decimal(20, 0), category_code string, brand string, '
            || 'price decimal(12, 2), currency string, updated_at string, _corrupt_record string',
            map('mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '_corrupt_record')
        ) as fields,
        line_text,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from decoded

),

typed as (

    select
        'rees46' as source_system,
        fields.product_id,
        fields.category_id,
        nullif(trim(fields.category_code), '') as category_code,
        nullif(trim(fields.brand), '') as brand,
        case when fields.price > 0 then fields.price end as price,
        upper(fields.currency) as currency,
        try_to_timestamp(fields.updated_at) as updated_at,
        fields._corrupt_record is not null or fields.product_id is null and fields.updated_at is null as is_malformed,
        greatest(length(fields.category_code), length(fields.brand), length(fields.currency), length(fields.updated_at))
        > {{ var('max_field_length') | int }} as has_long_field,
        parsed.line_text,
        parsed.raw_bytes,
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
            when line_text is null then 'invalid_encoding'
            when is_malformed then 'malformed_record'
            when coalesce(has_long_field, false) then 'field_too_long'
            when product_id is null then 'missing_product_id'
            when updated_at is null then 'invalid_updated_at'
        end as quarantine_reason,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from typed

)

select * from final
