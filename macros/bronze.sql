{#-
    The one Bronze ingestion pattern, shared by every landed file type: each line of each new file,
    exactly as delivered, plus ingestion metadata (file path, name, size, modification time,
    ingested_at, batch id). Append-only (the models are incremental with the append strategy).

    * new files only: a file whose (name, size) was ingested before is skipped, and a file delivered twice
      in the same drop is read once (its earliest copy);
    * readable files only: `brz_landing_files` opened every file first; one it rejected (a corrupted gzip)
      is left out here, with its problem on record there, and the other files are ingested;
    * the file's header line (as that register found it; a UTF-8 byte order mark before it does not
      matter) is left out; every other line stays, even one that will not parse: Silver quarantines it
      with a reason;
    * `glob` picks the source's files inside its landing folder (sub-folders included).
-#}

{% macro bronze_from_landing(source_dir, glob) -%}

with landing as (

    select
        value as raw_line,
        _metadata.file_path as source_file_path,
        _metadata.file_name as source_file_name,
        _metadata.file_size as source_file_size,
        _metadata.file_modification_time as source_file_modified_at
    from {{ landing_lines(source_dir, glob) }}

),

registered_files as (

    -- the latest inspection of each (name, size): status and header line
    select
        file_name as source_file_name,
        file_size as source_file_size,
        status,
        header_line
    from (
        select
            *,
            row_number() over (
                partition by file_name, file_size order by inspected_at desc, file_path
            ) as inspection_rank
        from {{ ref('brz_landing_files') }}
        where source_dir = '{{ source_dir }}'
    ) as inspections
    where inspection_rank = 1

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
    -- many-to-one: one inspection per (name, size)
    inner join registered_files
        on
            landing.source_file_name = registered_files.source_file_name
            and landing.source_file_size = registered_files.source_file_size
    where
        registered_files.status = 'ok'
        and (
            registered_files.header_line is null
            or {{ without_bom('landing.raw_line') }} != registered_files.header_line
        )

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

{%- endmacro %}
