{%- set columns = ['categoryid', 'parentid'] -%}
{%- set aliases = {'categoryid': ['category_id'], 'parentid': ['parent_id', 'parent_category_id']} -%}
{#- Silver staging: the RetailRocket category tree, one row per Bronze line (categoryid, parentid; roots
    have no parent). -#}

with bronze as (

    select * from {{ ref('brz_retailrocket__category_tree') }}

),

lines as (

    {{ landed_csv_lines('bronze', 'retailrocket') }}

),

parsed as (

    select
        {{ landed_csv_fields(columns, ['categoryid'], aliases) }},
        line_text,
        has_long_field,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from lines

),

final as (

    select
        try_cast(trim(fields.categoryid) as bigint) as category_id,
        try_cast(nullif(trim(fields.parentid), '') as bigint) as parent_category_id,
        case
            when parsed.missing_columns is not null then 'missing_required_column'
            when parsed.line_text is null then 'invalid_encoding'
            when parsed.is_malformed then 'malformed_line'
            when parsed.has_long_field then 'field_too_long'
            when try_cast(trim(fields.categoryid) as bigint) is null then 'missing_category_id'
            when nullif(trim(fields.parentid), '') is not null
                and try_cast(trim(fields.parentid) as bigint) is null then 'invalid_parent_id'
        end as quarantine_reason,
        parsed.raw_bytes,
        parsed.raw_line,
        parsed.source_file_name,
        parsed.batch_id,
        parsed.ingested_at
    from parsed

)

select * from final
