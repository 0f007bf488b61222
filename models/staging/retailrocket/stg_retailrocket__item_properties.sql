{%- set columns = ['timestamp', 'itemid', 'property', 'value'] -%}
{%- set aliases = {'itemid': ['item_id', 'product_id']} -%}
{#- Silver staging: RetailRocket item properties, one row per Bronze line, typed. The app publishes an
    item's state as (timestamp, item, property, value) rows: `categoryid`, `available` and `790` (the price,
    written like n5520.000) are readable; the other properties are hashed by the publisher and kept as text. -#}

with bronze as (

    select * from {{ ref('brz_retailrocket__item_properties') }}

),

lines as (

    {{ landed_csv_lines('bronze', 'retailrocket') }}

),

parsed as (

    select
        {{ landed_csv_fields(columns, columns, aliases) }},
        line_text,
        has_long_field,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from lines

),

typed as (

    select
        timestamp_millis(try_cast(trim(fields.timestamp) as bigint)) as property_at,
        try_cast(trim(fields.itemid) as bigint) as product_id,
        trim(fields.property) as property,
        fields.value as property_value,
        parsed.line_text,
        parsed.is_malformed,
        parsed.has_long_field,
        parsed.missing_columns,
        parsed.raw_bytes,
        parsed.raw_line,
        parsed.source_file_name,
        parsed.batch_id,
        parsed.ingested_at
    from parsed

),

final as (

    select
        property_at,
        product_id,
        property,
        property_value,
        case
            when missing_columns is not null then 'missing_required_column'
            when line_text is null then 'invalid_encoding'
            when is_malformed then 'malformed_line'
            when has_long_field then 'field_too_long'
            when property_at is null then 'invalid_property_time'
            when product_id is null then 'missing_product_id'
            when property is null or property = '' then 'missing_property'
        end as quarantine_reason,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from typed

)

select * from final
