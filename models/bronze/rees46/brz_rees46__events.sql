-- Bronze: every line of every REES46-layout file in the landing zone, exactly as delivered, plus
-- ingestion metadata. Header lines are not records and are left out; everything else stays, even
-- lines that will not parse (Silver quarantines them with a reason).
-- Append-only. A file already ingested (same name and size) is recognised and skipped.

with landing as (

    select
        value as raw_line,
        _metadata.file_path as source_file_path,
        _metadata.file_name as source_file_name,
        _metadata.file_size as source_file_size,
        _metadata.file_modification_time as source_file_modified_at
    from {{ landing_lines('rees46') }}

),

{% if is_incremental() %}
already_ingested as (

    select distinct
        source_file_name,
        source_file_size
    from {{ this }}

),
{% endif %}

new_lines as (

    select landing.*
    from landing
    {% if is_incremental() -%}
    left anti join already_ingested
        on
            landing.source_file_name = already_ingested.source_file_name
            and landing.source_file_size = already_ingested.source_file_size
    {%- endif %}
    -- the header line (a UTF-8 byte order mark before it is tolerated)
    where not regexp_replace(raw_line, '^\\x{FEFF}', '') like 'event_time,%'

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
