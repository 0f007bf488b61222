{#-
    The one Bronze ingestion pattern, shared by every landed file type: each line of each new file,
    exactly as delivered, plus ingestion metadata (file path, name, size, modification time,
    ingested_at, batch id). Append-only (the models are incremental with the append strategy).

    * the file register decides what is read: `brz_landing_files` opened every file first, and this run
      reads the lines of its `ok` files of the feed (folder `source_dir`, names matching `glob`, sub-folders
      included) whose name and size Bronze does not hold yet; a file delivered twice in the same drop is
      read once (its earliest copy). No other landing line is read, and a feed without files (a folder
      that is absent or empty) is an empty input, not an error;
    * a file the register rejected (a corrupted gzip, another delimiter) is left out here, with its problem
      on record there, and the other files are ingested;
    * the file's header line (as that register found it; a UTF-8 byte order mark before it does not
      matter) is left out; every other line stays, even one that will not parse: Silver quarantines it
      with a reason. Lines keep their delivered bytes (Silver decodes them by the feed's encoding).
-#}

{% macro bronze_from_landing(source_dir, glob) -%}
{%- set files = bronze_new_files(source_dir, glob) -%}

with registered_files as (

    select * from {{ ref('brz_landing_files') }}

),

landing as (

    {% if files -%}
        select
            value as raw_line,
            _metadata.file_path as source_file_path,
            _metadata.file_size as source_file_size,
            _metadata.file_modification_time as source_file_modified_at
        from {{ landing_lines(source_dir, glob) }}
        -- file pruning: only these files are opened
        where _metadata.file_path in (
            {%- for file in files %}
                '{{ file.file_uri | replace("\\", "\\\\") | replace("'", "\\'") }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
    {%- else -%}
        -- no new file of this feed: nothing to read
        select
            cast(null as string) as raw_line,
            cast(null as string) as source_file_path,
            cast(null as bigint) as source_file_size,
            cast(null as timestamp) as source_file_modified_at
        where false
    {%- endif %}

),

new_files as (

    -- the latest inspection of each file read
    select
        file_uri,
        file_name,
        header_line,
        row_number() over (partition by file_uri order by inspected_at desc) as inspection_rank
    from registered_files
    where source_dir = '{{ source_dir }}'

),

final as (

    select
        landing.raw_line,
        landing.source_file_path,
        new_files.file_name as source_file_name,
        landing.source_file_size,
        landing.source_file_modified_at,
        current_timestamp() as ingested_at,
        '{{ invocation_id }}' as batch_id
    from landing
    -- many-to-one: one latest inspection per file
    inner join new_files
        on
            landing.source_file_path = new_files.file_uri
            and new_files.inspection_rank = 1
    where
        new_files.header_line is null
        or {{ without_bom('landing.raw_line') }} != new_files.header_line

)

select * from final

{%- endmacro %}


{#- The files of one feed this Bronze run reads, from the register (a list of rows with `file_uri`): its
    latest `ok` inspection of each file of the feed whose (name, size) Bronze does not hold yet, the
    earliest modified copy where the same name and size came twice. Empty while dbt only parses, and
    when the register does not exist yet (a `dbt compile` on a fresh lakehouse). -#}
{% macro bronze_new_files(source_dir, glob) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set register = load_relation(ref('brz_landing_files')) -%}
    {%- if register is none -%}{{ return([]) }}{%- endif -%}
    {%- set name_pattern = glob | replace('%', '\\%') | replace('_', '\\_') | replace('*', '%') | replace('?', '_') -%}
    {%- set query -%}
        with latest as (
            select
                *,
                row_number() over (partition by file_path order by inspected_at desc) as inspection_rank
            from {{ register }}
            where source_dir = '{{ source_dir }}' and file_name like '{{ name_pattern }}'
        ),
        {%- if is_incremental() %}
        already_ingested as (
            select distinct source_file_name, source_file_size from {{ this }}
        ),
        {%- endif %}
        candidates as (
            select
                latest.file_uri,
                row_number() over (
                    partition by latest.file_name, latest.file_size
                    order by latest.file_modified_at, latest.file_path
                ) as copy_rank
            from latest
            {%- if is_incremental() %}
            left anti join already_ingested
                on
                    latest.file_name = already_ingested.source_file_name
                    and latest.file_size = already_ingested.source_file_size
            {%- endif %}
            where latest.inspection_rank = 1 and latest.status = 'ok'
        )
        select file_uri from candidates where copy_rank = 1 order by file_uri
    {%- endset -%}
    {%- set files = run_query(query).rows -%}
    {%- if not files -%}
        {%- set delivered = run_query(
            "select count(*) from " ~ register ~ " where source_dir = '" ~ source_dir ~ "' and file_name like '"
            ~ name_pattern ~ "'"
        ).columns[0].values()[0] -%}
        {#- said once per run: by the commands that build, not by those that only compile -#}
        {%- if delivered == 0 and flags.WHICH in ['run', 'build'] -%}
            {{ log(
                "note: " ~ this.identifier ~ ": no " ~ glob ~ " file in the landing folder " ~ source_dir
                ~ "/ (absent or empty): built as an empty input", info=true
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(files) }}
{%- endmacro %}
