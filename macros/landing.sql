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

{#- the root is the Bronze models' meta `landing_root` (dbt_project.yml), so SQL and Python read one definition -#}
{% macro landing_path(source_dir) -%}
    {{ (config.get('meta') or {}).get('landing_root', '') }}/{{ source_dir }}
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

    Each line is first decoded by its feed's encoding (var `landing_encodings`, per landing folder: `utf-8`,
    the default, `latin-1` or `cp1252`); a line that is not valid in it (bytes that are not UTF-8, where
    UTF-8 is declared) decodes to null, and Silver quarantines it as `invalid_encoding` with its delivered
    bytes: no byte is replaced. The text is then parsed into up to `landed_csv_width()` text fields
    (`from_csv`, permissive, with the feed's delimiter: var `csv_delimiters`), after a sentinel field is
    appended: where the sentinel lands gives the line's field count, and a broken quote swallows it, so
    `token_count` is -1 then. Fields are picked by the file's header names
    (`brz_landing_files.header_columns`, normalised: lower case, `_` for other characters), so columns may
    come in any order; an alias list per column accepts a renamed one. A file without a header line is read
    in the documented column order.
-#}

{% macro landed_csv_width() -%}32{%- endmacro %}

{#- The encoding of a landing folder's files (var `landing_encodings`), checked. -#}
{% macro landing_encoding(source_dir) -%}
    {%- set encoding = (var('landing_encodings', {}).get(source_dir, 'utf-8') or 'utf-8') | lower | replace('_', '-') -%}
    {%- set known = {'utf-8': 'utf-8', 'utf8': 'utf-8', 'latin-1': 'latin-1', 'latin1': 'latin-1',
        'iso-8859-1': 'latin-1', 'cp1252': 'cp1252', 'windows-1252': 'cp1252'} -%}
    {%- if encoding not in known -%}
        {{ exceptions.raise_compiler_error(
            "var landing_encodings: '" ~ encoding ~ "' for " ~ source_dir ~ " is not supported (utf-8, latin-1, cp1252)"
        ) }}
    {%- endif -%}
    {{ return(known[encoding]) }}
{%- endmacro %}

{#- The delimiter of a landing folder's CSV files (var `csv_delimiters`, default a comma). -#}
{% macro csv_delimiter(source_dir) -%}
    {%- set delimiter = var('csv_delimiters', {}).get(source_dir, ',') or ',' -%}
    {%- if delimiter not in [',', ';', '\t', '|'] -%}
        {{ exceptions.raise_compiler_error(
            "var csv_delimiters: " ~ (delimiter | tojson) ~ " for " ~ source_dir ~ " is not supported (',', ';', tab, '|')"
        ) }}
    {%- endif -%}
    {{ return(delimiter) }}
{%- endmacro %}

{#- A delivered line as text in the feed's encoding: null where its bytes are not valid in it (only UTF-8
    can be invalid: every byte is a character in latin-1 and, as WHATWG reads it, in cp1252). -#}
{% macro decoded_line(line, source_dir) -%}
    {%- set encoding = landing_encoding(source_dir) -%}
    {%- if encoding == 'utf-8' -%}
        if(is_valid_utf8({{ line }}), {{ without_bom(line) }}, null)
    {%- elif encoding == 'latin-1' -%}
        decode(cast({{ line }} as binary), 'ISO-8859-1')
    {%- else -%}
        {#- cp1252 is latin-1 but for 0x80-0x9F: those bytes are mapped to their characters (the five bytes
            cp1252 leaves undefined stay the control characters latin-1 gives them) -#}
        translate(
            decode(cast({{ line }} as binary), 'ISO-8859-1'),
            '\u0080\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008E\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009E\u009F',
            '\u20AC\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u017D\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u017E\u0178'
        )
    {%- endif -%}
{%- endmacro %}

{#- The delivered bytes of a line, kept where they are not plain UTF-8 text (null otherwise): a row
    quarantined for its encoding, or decoded from another one, can always be traced to its bytes. -#}
{% macro undecoded_bytes(line) -%}
    if(is_valid_utf8({{ line }}), null, cast({{ line }} as binary))
{%- endmacro %}

{#- Bronze lines with the file's header columns (`header_columns`, null when the file had none), the
    decoded text (`line_text`, null when the bytes are not valid in the feed's encoding), the delivered
    bytes where they are not UTF-8 (`raw_bytes`), the parsed fields (`field_values`, an array of text),
    their count (`token_count`) and whether one is longer than var `max_field_length`
    (`has_long_field`). -#}
{% macro landed_csv_lines(bronze_relation, source_dir) -%}
    {%- set delimiter = csv_delimiter(source_dir) -%}
    select
        lines.*,
        array_position(lines.field_values, '\u0001') - 1 as token_count,
        -- a null field (past the line's last) is not a long one: the flag is true or false, never null
        coalesce(exists(lines.field_values, value -> length(value) > {{ var('max_field_length') | int }}), false)
            as has_long_field
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
                decoded.*,
                from_csv(
                    concat(decoded.line_text, '{{ delimiter }}\u0001'),
                    '{% for i in range(landed_csv_width() | int) %}c{{ i }} string{{ ", " if not loop.last }}{% endfor %}',
                    map('mode', 'PERMISSIVE', 'sep', '{{ delimiter }}')
                ) as csv
            from (
                select
                    *,
                    {{ decoded_line('raw_line', source_dir) }} as line_text,
                    {{ undecoded_bytes('raw_line') }} as raw_bytes
                from {{ bronze_relation }}
            ) as decoded
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
