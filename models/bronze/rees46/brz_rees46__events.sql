-- Bronze: every line of every REES46-layout file in the landing zone, exactly as delivered, plus
-- ingestion metadata. Header lines are not records and are left out; everything else stays, even
-- lines that will not parse (Silver quarantines them with a reason).
-- Append-only. A file already ingested (same name and size) is recognised and skipped.

with landing as (

    select
        value as raw_line,  -- noqa: RF03
        _metadata.file_path as source_file_path,  -- noqa: RF03
        _metadata.file_name as source_file_name,  -- noqa: RF03
        _metadata.file_size as source_file_size,  -- noqa: RF03
        _metadata.file_modification_time as source_file_modified_at  -- noqa: RF03
    from {{ landing_lines('rees46') }}

),

already_ingested as (

    {% if is_incremental() %}
        select distinct
            source_file_name,
            source_file_size
        from {{ this }}
    {% else %}
        select
            cast(null as string) as source_file_name,
            cast(null as bigint) as source_file_size
        where false
    {% endif %}

),

new_lines as (

    select landing.*
    from landing
    left anti join already_ingested
        on
            landing.source_file_name = already_ingested.source_file_name
            and landing.source_file_size = already_ingested.source_file_size
    -- the header line (a UTF-8 byte order mark before it is tolerated)
    where not regexp_replace(landing.raw_line, '^\\x{FEFF}', '') like 'event_time,%'

),

final as (

    select
        raw_line,
        source_file_path,
        source_file_name,
        source_file_size,
        source_file_modified_at,
        current_timestamp() as ingested_at,
        '{{ invocation_id }}' as batch_id
    from new_lines

)

select * from final
