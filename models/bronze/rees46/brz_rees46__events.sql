-- Bronze: every line of every REES46-layout file in the landing zone, exactly as delivered, plus
-- ingestion metadata. Header lines are not records and are left out; everything else stays, even
-- lines that will not parse (Silver quarantines them with a reason).
-- Append-only. A file already ingested (same name and size) is recognised and skipped, and a file
-- delivered twice in the same drop is read once.

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

delivered_files as (

    select distinct
        source_file_path,
        source_file_name,
        source_file_size,
        source_file_modified_at
    from landing

),

new_files as (

    -- one copy of each (name, size) not ingested before: a file delivered twice, even within one drop,
    -- is read once (the earliest copy)
    select
        delivered_files.source_file_path,
        row_number() over (
            partition by delivered_files.source_file_name, delivered_files.source_file_size
            order by delivered_files.source_file_modified_at, delivered_files.source_file_path
        ) as copy_rank
    from delivered_files
    left anti join already_ingested
        on
            delivered_files.source_file_name = already_ingested.source_file_name
            and delivered_files.source_file_size = already_ingested.source_file_size

),

new_lines as (

    select landing.*
    from landing
    left semi join new_files
        on
            landing.source_file_path = new_files.source_file_path
            and new_files.copy_rank = 1
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
