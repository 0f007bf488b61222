{#-
    Incremental Silver: each run processes only the Bronze rows delivered since the model's last run.
    Bronze stamps every row of a run with the run's `ingested_at`, and a dbt run refuses to start while
    another holds the lakehouse, so "newer than the newest `ingested_at` already here" is exactly "the
    batches this model has not seen". A batch that left no row here (e.g. no duplicate in it) is read again
    next run and again leaves none: correct, and cheap because its rows are few.
    The same high-water mark on another run-time column: fct_events passes Silver's `updated_at` (the rows
    written since its last run), ml_feature_drift `scored_at` (the snapshots scored since its last run).
-#}

{% macro delivered_since_last_run(column='ingested_at') -%}
    {%- if is_incremental() -%}
        {{ column }} > (
            select coalesce(max(this_run.{{ column }}), timestamp '1900-01-01') from {{ this }} as this_run
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    Incremental Gold by day: the days of the events fct_events merged since this model's last run. Each daily
    model (agg_daily_product_stats, agg_funnel_daily, ml_user_item_daily) stores per row the newest
    `updated_at` of the events it was computed from (`events_updated_at`); a run recomputes every day with
    an event merged after the newest of those, whatever the day's age, and replaces each such day whole.
    `true` on a full build.
-#}
{% macro days_fct_events_merged() -%}
    {%- if is_incremental() -%}
        event_date in (
            select distinct merged.event_date
            from {{ ref('fct_events') }} as merged
            where merged.updated_at > (
                select coalesce(max(this_run.events_updated_at), timestamp '1900-01-01') from {{ this }} as this_run
            )
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    Duplicates across batches (int_events_ranked): the valid rows already stored, counted per event key,
    for the keys of the new batch. A new row's rank among its duplicates is that count plus its rank within
    the batch, so an event re-delivered in a later batch ranks after the copy kept earlier, exactly as a
    full rebuild ranks it (the earliest delivered wins). Only stored rows from the new batch's first event
    date on are read. keys: SQL expressions over the model's columns (the duplicate key), all not null for
    valid rows.
-#}
{% macro earlier_deliveries(keys, new_rows) -%}
    select
        {% for key in keys -%}
            {{ key }} as delivered_key_{{ loop.index }},
        {% endfor -%}
        count(*) as rows_delivered
    from {{ this }}
    where
        quarantine_reason is null
        and event_date >= (
            select min(cast(event_at as date)) from {{ new_rows }} where quarantine_reason is null
        )
    group by {% for key in keys %}{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}


{% macro earlier_deliveries_match(keys, alias='delivered') -%}
    {%- for key in keys -%}
        {{ key }} = {{ alias }}.delivered_key_{{ loop.index }}{% if not loop.last %} and {% endif %}
    {%- endfor -%}
{%- endmacro %}
