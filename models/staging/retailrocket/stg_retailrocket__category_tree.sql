-- Silver staging: the RetailRocket category tree, one row per Bronze line (categoryid, parentid; roots
-- have no parent).

with bronze as (

    select * from {{ ref('brz_retailrocket__category_tree') }}

),

parsed as (

    select
        {{ parse_csv_line('raw_line', ['categoryid', 'parentid']) }} as fields,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from bronze

),

final as (

    select
        try_cast(trim(fields.categoryid) as bigint) as category_id,
        try_cast(nullif(trim(fields.parentid), '') as bigint) as parent_category_id,
        case
            when fields._corrupt_record is not null then 'malformed_line'
            when try_cast(trim(fields.categoryid) as bigint) is null then 'missing_category_id'
            when nullif(trim(fields.parentid), '') is not null
                and try_cast(trim(fields.parentid) as bigint) is null then 'invalid_parent_id'
        end as quarantine_reason,
        parsed.raw_line,
        parsed.source_file_name,
        parsed.batch_id,
        parsed.ingested_at
    from parsed

)

select * from final
