{#-
    Reading raw landing files: the one place where the engines differ.

    Bronze keeps every line exactly as delivered (text), so nothing can be lost to a parser; Silver
    parses the lines with `from_csv` (the same on both engines).

    * local Spark: the `text` file source over the landing folder, with options;
    * Databricks: the `read_files` table function (format text) over a Unity Catalog volume.

    Both expose `_metadata` (file path, name, size, modification time) for lineage and for recognising a
    file that was already ingested. Lines are split on \n, \r\n or \r, so CRLF files read the same.
    A corrupted file does not fail the read (`ignoreCorruptFiles`): `brz_landing_files` has already
    rejected it, with the problem on record, and Bronze leaves it out.
-#}

{% macro landing_path(source_dir) -%}
    {{ var('landing_root') }}/{{ source_dir }}
{%- endmacro %}

{% macro landing_lines(source_dir, glob='*.csv*') -%}
    {{ return(adapter.dispatch('landing_lines')(source_dir, glob)) }}
{%- endmacro %}

{% macro default__landing_lines(source_dir, glob) -%}
    text.`{{ landing_path(source_dir) }}` with (
        'pathGlobFilter' = '{{ glob }}', 'recursiveFileLookup' = 'true', 'ignoreCorruptFiles' = 'true'
    )
{%- endmacro %}

{% macro databricks__landing_lines(source_dir, glob) -%}
    read_files(
        '{{ landing_path(source_dir) }}',
        format => 'text',
        pathGlobFilter => '{{ glob }}',
        recursiveFileLookup => true,
        ignoreCorruptFiles => true
    )
{%- endmacro %}

{#-
    Header-aware CSV parsing, the same on both engines.

    Each line is parsed into up to `landed_csv_width()` text fields (`from_csv`, permissive), after a
    sentinel field is appended: where the sentinel lands gives the line's field count, and a broken quote
    swallows it, so `token_count` is -1 then. Fields are picked by the file's header names
    (`brz_landing_files.header_columns`, normalised: lower case, `_` for other characters), so columns may
    come in any order; an alias list per column accepts a renamed one. A file without a header line is read
    in the documented column order.
-#}

{% macro landed_csv_width() -%}32{%- endmacro %}

{#- Bronze lines with the file's header columns (`header_columns`, null when the file had none) and the
    parsed fields (`field_values`, an array of text) and their count (`token_count`). -#}
{% macro landed_csv_lines(bronze_relation, source_dir) -%}
    select
        lines.*,
        array_position(lines.field_values, '\u0001') - 1 as token_count
    from (
        select
            bronze.*,
            files.header_columns,
            array(
                {%- for i in range(landed_csv_width() | int) %}
                    csv.c{{ i }}{{ "," if not loop.last }}
                {%- endfor %}
            ) as field_values
        from (
            select
                *,
                from_csv(
                    concat({{ without_bom('raw_line') }}, ',\u0001'),
                    '{% for i in range(landed_csv_width() | int) %}c{{ i }} string{{ ", " if not loop.last }}{% endfor %}',
                    map('mode', 'PERMISSIVE')
                ) as csv
            from {{ bronze_relation }}
        ) as bronze
        -- many-to-one: the latest inspection of each (name, size)
        left join (
            select
                file_name,
                file_size,
                max_by(header_columns, inspected_at) as header_columns
            from {{ ref('brz_landing_files') }}
            where source_dir = '{{ source_dir }}'
            group by file_name, file_size
        ) as files
            on
                bronze.source_file_name = files.file_name
                and bronze.source_file_size = files.file_size
    ) as lines
{%- endmacro %}

{#- 1-based position of a column in the file's header (0 when missing, null when the file has none). -#}
{% macro landed_column_position(name, aliases=[]) -%}
    {%- if aliases -%}
        greatest(
            {%- for n in [name] + aliases %}
                array_position(header_columns, '{{ n }}'){{ "," if not loop.last }}
            {%- endfor %}
        )
    {%- else -%}
        array_position(header_columns, '{{ name }}')
    {%- endif -%}
{%- endmacro %}

{#- One field, by header name (or by its documented position `index`, 0-based, when the file has no
    header). -#}
{% macro landed_field(name, index, aliases=[]) -%}
    case
        when header_columns is null then get(field_values, {{ index }})
        else get(field_values, {{ landed_column_position(name, aliases) }} - 1)
    end
{%- endmacro %}

{#- True when the line's field count is not the header's (or the documented layout's). -#}
{% macro landed_is_malformed(columns) -%}
    (token_count != if(header_columns is null, {{ columns | length }}, size(header_columns)))
{%- endmacro %}

{#- Required columns the file's header lacks, comma-separated (null when none is missing). -#}
{% macro landed_missing_columns(required, aliases={}) -%}
    nullif(concat_ws(
        ',',
        {%- for name in required %}
            if({{ landed_column_position(name, aliases.get(name, [])) }} = 0, '{{ name }}', null)
            {{- "," if not loop.last }}
        {%- endfor %}
    ), '')
{%- endmacro %}

{#- The file's columns this model does not know, as a map name -> text (kept, not dropped; null when
    there are none or the line is malformed). -#}
{% macro landed_extra_columns(columns, aliases={}) -%}
    {%- set known = [] -%}
    {%- for name in columns %}{% do known.extend([name] + aliases.get(name, [])) %}{% endfor -%}
    case
        when
            header_columns is not null
            and token_count = size(header_columns)
            and exists(header_columns, h -> not array_contains(array('{{ known | join("', '") }}'), h))
            then map_filter(
                map_from_arrays(header_columns, slice(field_values, 1, size(header_columns))),
                (k, v) -> not array_contains(array('{{ known | join("', '") }}'), k)
            )
    end
{%- endmacro %}

{#- The select list a staging model's `parsed` step needs from `landed_csv_lines`: `fields` (a struct of
    the layout's columns, text), `is_malformed`, `missing_columns`, `extra_columns`. -#}
{% macro landed_csv_fields(columns, required=[], aliases={}) -%}
        named_struct(
            {%- for column in columns %}
                '{{ column }}', {{ landed_field(column, loop.index0, aliases.get(column, [])) }}
                {{- "," if not loop.last }}
            {%- endfor %}
        ) as fields,
        {{ landed_is_malformed(columns) }} as is_malformed,
        {{ landed_missing_columns(required, aliases) }} as missing_columns,
        {{ landed_extra_columns(columns, aliases) }} as extra_columns
{%- endmacro %}

{#- A line without a leading UTF-8 byte order mark (readers differ on whether they drop it). -#}
{% macro without_bom(line) -%}
    if(startswith({{ line }}, '\uFEFF'), substr({{ line }}, 2), {{ line }})
{%- endmacro %}
