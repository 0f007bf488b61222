{#-
    Reading raw landing files: the one place where the engines differ.

    Bronze keeps every line exactly as delivered (text), so nothing can be lost to a parser; Silver
    parses the lines with `from_csv` (the same on both engines).

    * local Spark: the `text` file source over the landing folder, with options;
    * Databricks: the `read_files` table function (format text) over a Unity Catalog volume.

    Both expose `_metadata` (file path, name, size, modification time) for lineage and for recognising a
    file that was already ingested. Lines are split on \n, \r\n or \r, so CRLF files read the same.
-#}

{% macro landing_path(source_dir) -%}
    {{ var('landing_root') }}/{{ source_dir }}
{%- endmacro %}

{% macro landing_lines(source_dir, glob='*.csv*') -%}
    {{ return(adapter.dispatch('landing_lines')(source_dir, glob)) }}
{%- endmacro %}

{% macro default__landing_lines(source_dir, glob) -%}
    text.`{{ landing_path(source_dir) }}` with ('pathGlobFilter' = '{{ glob }}', 'recursiveFileLookup' = 'true')
{%- endmacro %}

{% macro databricks__landing_lines(source_dir, glob) -%}
    read_files(
        '{{ landing_path(source_dir) }}',
        format => 'text',
        pathGlobFilter => '{{ glob }}',
        recursiveFileLookup => true
    )
{%- endmacro %}

{#- Parse one CSV line into a struct of text columns plus `_corrupt_record` (the raw line when the
    number of fields is wrong or the quoting is broken). -#}
{% macro parse_csv_line(line_column, columns) -%}
    from_csv(
        {{ line_column }},
        '{% for column in columns %}{{ column }} string, {% endfor %}_corrupt_record string',
        map('mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '_corrupt_record')
    )
{%- endmacro %}
